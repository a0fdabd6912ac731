// step-ca as a child process: generated ca.json, free port, readiness by GET /health.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { LabConfig } from '../config.ts';
import { renderCaJson } from '../pki/ca-json.ts';
import type { LabPkiFiles, ServiceSigningKey } from '../pki/lab-pki.ts';
import { locateTool } from '../tools/tools.ts';
import { GiveUp, waitFor } from '../wait.ts';
import { ManagedProcess } from './child-process.ts';
import { request } from './https-client.ts';
import { freePort } from './ports.ts';

export interface StepCaOptions {
  config: LabConfig;
  pki: LabPkiFiles;
  /** The provisioning service's JWK provisioner: its name and public key (the private key stays in the service). */
  serviceKey: Pick<ServiceSigningKey, 'provisioner' | 'publicJwk'>;
  /** Directory for ca.json and the database. */
  dir: string;
  logFile: string;
}

export interface StartedStepCa {
  url: string;
  port: number;
  acmeDirectoryUrl: string;
  /** Port step-ca connects to on each identifier's address for http-01 validation. */
  acmeHttpPort: number;
  x5cProvisioner: string;
  /** The `aud` an X5C sign token must carry. */
  x5cSignAudience: string;
  jwkProvisioner: string;
  caJsonFile: string;
  logFile: string;
  pid: number;
  readonly running: boolean;
  /** Restarts the process on the same port, database and configuration (fault injection, rotation). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function startStepCa(options: StepCaOptions): Promise<StartedStepCa> {
  const { config, pki } = options;
  const binary = locateTool('step-ca', config.toolsBinDir);
  const port = config.ca.port || (await freePort(config.ca.host));
  const acmeHttpPort = config.ca.acmeHttpPort || (await freePort(config.ca.host));
  mkdirSync(options.dir, { recursive: true, mode: 0o700 });
  const caJsonFile = path.join(options.dir, 'ca.json');
  // Rendered at every (re)start from the PKI files as they are then: a root or intermediate
  // rotation rewrites those files and restarts step-ca.
  const writeCaJson = () => {
    const caJson = renderCaJson({
      config: config.ca,
      port,
      files: {
        root: pki.rootCert,
        intermediateCert: pki.intermediateCert,
        intermediateKey: pki.intermediateKey,
        database: path.join(options.dir, 'db.bolt'),
      },
      // Only the current issuing intermediate may sign bootstrap certificates that X5C accepts:
      // after an intermediate is replaced, bootstrap certificates under the old one are refused.
      x5cRootsPem: readFileSync(pki.intermediateCert, 'utf8'),
      serviceJwk: { name: options.serviceKey.provisioner, publicKey: options.serviceKey.publicJwk },
    });
    writeFileSync(caJsonFile, JSON.stringify(caJson, null, 2), { mode: 0o600 });
  };

  // Ports other than 80 for http-01 are an "insecure" option in step-ca; it lets the lab run
  // without root and pick a free port per run.
  const args = [caJsonFile];
  if (acmeHttpPort !== 80) args.push('--insecure', '--acme-http-port', String(acmeHttpPort));

  const url = `https://${config.ca.host}:${port}`;
  let process_ = await launch();

  async function launch(): Promise<ManagedProcess> {
    writeCaJson();
    const rootPem = readFileSync(pki.rootCert, 'utf8');
    const proc = await ManagedProcess.start({ name: 'step-ca', command: binary, args, logFile: options.logFile, cwd: options.dir });
    try {
      await waitFor(
        `step-ca at ${url}/health (log: ${options.logFile})`,
        async () => {
          if (!proc.running) throw new GiveUp(`step-ca ${proc.exitDescription}; see ${options.logFile}`);
          const res = await request(`${url}/health`, { ca: rootPem, timeoutMs: 2000 });
          return res.status === 200 && res.json<{ status?: string }>().status === 'ok';
        },
        { timeoutMs: config.readinessTimeoutMs },
      );
    } catch (err) {
      await proc.stop();
      throw err;
    }
    return proc;
  }

  return {
    url,
    port,
    acmeDirectoryUrl: `${url}/acme/${config.ca.acmeProvisioner}/directory`,
    acmeHttpPort,
    x5cProvisioner: config.ca.x5cProvisioner,
    x5cSignAudience: `https://${config.ca.dnsNames[0]}/1.0/sign#x5c/${config.ca.x5cProvisioner}`,
    jwkProvisioner: options.serviceKey.provisioner,
    caJsonFile,
    logFile: options.logFile,
    get pid() {
      return process_.pid;
    },
    get running() {
      return process_.running;
    },
    async restart() {
      await process_.stop();
      process_ = await launch();
    },
    stop: () => process_.stop(),
  };
}
