// Mosquitto as a child process with a generated config; ready once it completes a TLS handshake.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { LabConfig } from '../../config/config.ts';
import { peerCertificateChain } from '../../net/peer-certificates.ts';
import { startReady, type ComponentRuntime, type RunningComponent } from '../components.ts';
import { markLog, waitForLogLine } from '../log-watch.ts';
import { renderAcl, renderDynamicSecurityConfig, renderMosquittoConf, type MosquittoFiles } from './mosquitto-config.ts';
import { freePort } from './ports.ts';

export interface ClientCredentials {
  cert: string;
  key: string;
}

export interface MosquittoOptions {
  config: LabConfig;
  dir: string;
  logFile: string;
  files: Omit<MosquittoFiles, 'aclFile' | 'dynamicSecurity'>;
  /** A client certificate the readiness probe presents (the listener requires one); mutable. */
  probe: ClientCredentials;
  /** Where the broker runs: a child process or a container (environments/components.ts). */
  runtime: ComponentRuntime;
}

export interface StartedMosquitto {
  host: string;
  port: number;
  /** The legacy (password) listener. */
  legacyPort: number;
  url: string;
  configFile: string;
  logFile: string;
  pid: number;
  readonly running: boolean;
  /** SIGHUP: Mosquitto re-reads its CRL and ACL for new connections; resolves once it has. */
  reload(): Promise<void>;
  /** Gives these identities (beyond the configured one) the application's topic rights, then reloads. */
  setApplicationIdentities(identities: readonly string[]): Promise<void>;
  restart(): Promise<void>;
  /** Idempotent. */
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Ready means a mutual-TLS handshake completes with the probe's certificate. */
async function tlsHandshake(host: string, port: number, ca: string, probe: ClientCredentials): Promise<true> {
  await peerCertificateChain({ host, port, ca, cert: probe.cert, key: probe.key, servername: 'localhost', timeoutMs: 2000 });
  return true;
}

export async function startMosquitto(options: MosquittoOptions): Promise<StartedMosquitto> {
  const { config } = options;
  const port = config.broker.port || (await freePort(config.broker.host));
  const legacyPort = config.broker.legacyPort || (await freePort(config.broker.host));
  const aclFile = path.join(options.dir, 'acl');
  const configFile = path.join(options.dir, 'mosquitto.conf');
  const dynamicSecurity = { plugin: options.runtime.dynamicSecurityPlugin(), configFile: path.join(options.dir, 'dynamic-security.json') };
  writeAcl();
  writeFileSync(dynamicSecurity.configFile, renderDynamicSecurityConfig(), { mode: 0o600 });
  writeFileSync(
    configFile,
    renderMosquittoConf({
      broker: config.broker,
      port,
      legacyPort,
      files: { ...options.files, aclFile, dynamicSecurity },
      runAsUser: os.userInfo().username,
      logFile: options.logFile,
      persistenceDir: options.dir,
    }),
    { mode: 0o600 },
  );
  let process_ = await launch();

  // The reload runs in the broker's main loop right after it logs "Reloading config.", so a
  // handshake answered after that line is answered under the new configuration.
  // One reload at a time: Mosquitto clears its reload flag only after reloading, so a SIGHUP that
  // arrives during a reload is lost, and the change it was sent for never applied (an application
  // enrolled then received nothing: the broker checks read access at every delivery).
  let reloading: Promise<void> = Promise.resolve();
  function reload(): Promise<void> {
    const next = reloading.then(async () => {
      const mark = markLog(options.logFile);
      process_.signal('SIGHUP');
      await waitForLogLine(mark, /Reloading config\./, config.readinessTimeoutMs);
      await tlsHandshake(config.broker.host, port, readFileSync(options.files.caBundle, 'utf8'), options.probe);
    });
    reloading = next.catch(() => undefined);
    return next;
  }

  // Written whole and renamed, so a reload under way never reads half a file.
  function writeAcl(identities: readonly string[] = []): void {
    writeFileSync(`${aclFile}.tmp`, renderAcl(config.broker, identities), { mode: 0o600 });
    renameSync(`${aclFile}.tmp`, aclFile);
  }

  // The CA bundle and the probe's credentials are read at every (re)start: a PKI rotation
  // replaces both before restarting the broker.
  async function launch(): Promise<RunningComponent> {
    const ca = readFileSync(options.files.caBundle, 'utf8');
    return startReady(
      options.runtime,
      { name: 'mosquitto', program: 'mosquitto', args: ['-c', configFile], logFile: options.logFile },
      { what: `mosquitto TLS listener on ${config.broker.host}:${port}`, ready: () => tlsHandshake(config.broker.host, port, ca, options.probe), timeoutMs: config.readinessTimeoutMs },
    );
  }

  return {
    host: config.broker.host,
    port,
    legacyPort,
    url: `mqtts://${config.broker.host}:${port}`,
    configFile,
    logFile: options.logFile,
    get pid() {
      return process_.pid;
    },
    get running() {
      return process_.running;
    },
    reload,
    setApplicationIdentities(identities) {
      writeAcl(identities);
      return reload();
    },
    async restart() {
      await process_.stop();
      process_ = await launch();
    },
    stop: () => process_.stop(),
    [Symbol.asyncDispose]: () => process_.stop(),
  };
}
