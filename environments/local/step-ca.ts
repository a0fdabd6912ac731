// A step-ca authority as a child process: generated ca.json, free port, readiness by GET /health.
// The lab runs two (docs/trust-model.md): the bootstrap authority and the operational one.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { LabConfig } from '../../config/config.ts';
import type { AuthorityFiles } from '../pki/ca-json.ts';
import { startReady, type ComponentRuntime, type RunningComponent } from '../components.ts';
import { request } from '../../net/https-client.ts';
import { freePort } from './ports.ts';

export interface StepCaOptions {
  /** Process and log name: 'step-ca' (operational) or 'bootstrap-ca'. */
  name: string;
  config: LabConfig;
  /** 0 picks a free port. */
  port: number;
  /** The PEM file of the root this authority's TLS certificate chains to (read at every start). */
  rootCertFile: string;
  /** Renders ca.json from the PKI files as they are at each (re)start: a rotation rewrites them first. */
  renderCaJson(port: number, files: AuthorityFiles): Record<string, unknown>;
  files: Omit<AuthorityFiles, 'database'>;
  /** Serve ACME http-01 validation on this port (the bootstrap authority only). */
  acmeHttpPort?: number;
  /** Extra environment, e.g. SSL_CERT_FILE: the trust store of step-ca's webhook client. */
  env?: Record<string, string>;
  /** Directory for ca.json and the database. */
  dir: string;
  logFile: string;
  /** Where the process runs: a child process or a container (environments/components.ts). */
  runtime: ComponentRuntime;
}

export interface StartedStepCa {
  name: string;
  url: string;
  port: number;
  caJsonFile: string;
  logFile: string;
  pid: number;
  readonly running: boolean;
  /** Restarts the process on the same port, database and configuration (fault injection, rotation). */
  restart(): Promise<void>;
  /** Idempotent. */
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export async function startStepCa(options: StepCaOptions): Promise<StartedStepCa> {
  const { config } = options;
  const port = options.port || (await freePort(config.ca.host));
  mkdirSync(options.dir, { recursive: true, mode: 0o700 });
  const caJsonFile = path.join(options.dir, 'ca.json');
  const files: AuthorityFiles = { ...options.files, database: path.join(options.dir, 'db.bolt') };

  // Ports other than 80 for http-01 are an "insecure" option in step-ca; it lets the lab run
  // without root and pick a free port per run.
  const args = [caJsonFile];
  if (options.acmeHttpPort !== undefined && options.acmeHttpPort !== 80) args.push('--insecure', '--acme-http-port', String(options.acmeHttpPort));

  const url = `https://${config.ca.host}:${port}`;
  let process_ = await launch();

  async function launch(): Promise<RunningComponent> {
    writeFileSync(caJsonFile, JSON.stringify(options.renderCaJson(port, files), null, 2), { mode: 0o600 });
    const rootPem = readFileSync(options.rootCertFile, 'utf8');
    return startReady(
      options.runtime,
      { name: options.name, program: 'step-ca', args, logFile: options.logFile, cwd: options.dir, env: options.env },
      {
        what: `${options.name} at ${url}/health`,
        ready: async () => {
          const res = await request(`${url}/health`, { ca: rootPem, timeoutMs: 2000 });
          return res.status === 200 && res.json<{ status?: string }>().status === 'ok';
        },
        timeoutMs: config.readinessTimeoutMs,
      },
    );
  }

  return {
    name: options.name,
    url,
    port,
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
    [Symbol.asyncDispose]: () => process_.stop(),
  };
}
