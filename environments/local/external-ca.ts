// The simulated external CA (services/external-ca/) as a child process of the lab, like step-ca:
// a generated config file in a directory of its own (0700), fixed ports across restarts, readiness
// by GET /health. The lab writes its configuration and reads back only what any relying party of a
// real external CA gets out of band: its root certificate, and the operator's token for the
// operator's console (the scenarios). The root key never enters the lab's process.
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { JWK } from 'jose';
import { goDurationMs, type LabConfig } from '../../config/config.ts';
import { EXTERNAL_CA_PATHS } from '../../net/external-ca-api.ts';
import { request } from '../../net/https-client.ts';
import { EXTERNAL_CA_FILES, type ExternalCaConfig } from '../../services/external-ca/process-config.ts';
import { ManagedProcess } from './child-process.ts';
import { freePort } from './ports.ts';

const ENTRY = fileURLToPath(new URL('../../services/external-ca/process-entry.js', import.meta.url));

export interface ExternalCaOptions {
  config: LabConfig;
  /** Its own directory: root key, state, operator token. */
  dir: string;
  logFile: string;
  /** Who may order intermediates: the certificate management service's public key. */
  clients: Array<{ name: string; publicJwk: JWK }>;
}

export interface StartedExternalCa {
  name: 'external-ca';
  /** Plain HTTP: GET /root.crt, GET /crl (DER), GET /crl.pem. */
  publicUrl: string;
  crlUrl: string;
  /** HTTPS (its root is the trust anchor): intermediate orders, revocations. */
  apiUrl: string;
  /** Its root certificate (PEM): the operational trust anchor when ca.issuer is 'external'. */
  rootPem: string;
  rootCertFile: string;
  /** The operator's bearer token, read from the CA's directory (for the operator's console only). */
  operatorToken(): string;
  logFile: string;
  readonly pid: number;
  readonly running: boolean;
  /** Starts it again on the same ports and directory (after stop(), too: an outage that ends). */
  restart(): Promise<void>;
  /** Idempotent. */
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export async function startExternalCa(options: ExternalCaOptions): Promise<StartedExternalCa> {
  const { config } = options;
  const host = config.externalCa.host;
  const publicPort = config.externalCa.publicPort || (await freePort(host));
  const apiPort = config.externalCa.apiPort || (await freePort(host));
  mkdirSync(options.dir, { recursive: true, mode: 0o700 });
  chmodSync(options.dir, 0o700);
  const caConfig: ExternalCaConfig = {
    host,
    publicPort,
    apiPort,
    keyAlgorithm: config.pki.keyAlgorithm,
    organization: config.externalCa.organization,
    rootValidityDays: config.pki.rootValidityDays,
    intermediateValidityDays: config.pki.intermediateValidityDays,
    crlValidityMs: goDurationMs(config.externalCa.crlValidity),
    clients: options.clients.map((c) => ({ name: c.name, publicJwk: c.publicJwk as Record<string, unknown> })),
  };
  writeFileSync(path.join(options.dir, EXTERNAL_CA_FILES.config), JSON.stringify(caConfig, null, 2), { mode: 0o600 });
  const publicUrl = `http://${host}:${publicPort}`;

  const launch = () =>
    ManagedProcess.startReady(
      { name: 'external-ca', command: process.execPath, args: [ENTRY, options.dir], logFile: options.logFile, cwd: path.dirname(ENTRY) },
      {
        what: `the external CA at ${publicUrl}${EXTERNAL_CA_PATHS.health}`,
        ready: async () => (await request(`${publicUrl}${EXTERNAL_CA_PATHS.health}`, { timeoutMs: 2000 })).status === 200,
        timeoutMs: config.readinessTimeoutMs,
      },
    );
  let proc = await launch();
  const rootCertFile = path.join(options.dir, EXTERNAL_CA_FILES.rootCert);
  const stop = () => proc.stop();
  return {
    name: 'external-ca',
    publicUrl,
    crlUrl: `${publicUrl}${EXTERNAL_CA_PATHS.crl}`,
    apiUrl: `https://${host}:${apiPort}`,
    rootPem: readFileSync(rootCertFile, 'utf8'),
    rootCertFile,
    operatorToken: () => readFileSync(path.join(options.dir, EXTERNAL_CA_FILES.operatorToken), 'utf8').trim(),
    logFile: options.logFile,
    get pid() {
      return proc.pid;
    },
    get running() {
      return proc.running;
    },
    async restart() {
      await proc.stop();
      proc = await launch();
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
