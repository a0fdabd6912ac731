// The simulated external CA (services/external-ca/) as a module of the local placement: a child
// process of the lab in both backends (it stands for a third party, not for a component under
// test), with a generated config file in a directory of its own (0700). It binds its ports itself
// (0 at the first start) and says which in its readiness line; a restart listens on the same ones.
// The lab reads back only what any relying party of a real external CA gets out of band: its root
// certificate, and the operator's token for the operator's console (the scenarios). The root key
// never enters the lab's process.
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { JWK } from 'jose';
import { goDurationMs, parseConfig, type LabConfig } from '../../config/config.ts';
import { EXTERNAL_CA_PATHS } from '../../net/external-ca-api.ts';
import { EXTERNAL_CA_FILES, type ExternalCaConfig } from '../../services/external-ca/process-config.ts';
import { DEFAULT_STARTUP_TIMEOUT_MS, type RestartableComponent } from '../modules/module.ts';
import { ManagedProcess } from './child-process.ts';

const ENTRY = fileURLToPath(new URL('../../services/external-ca/process-entry.js', import.meta.url));

/** services/external-ca/main.ts once both listeners are bound. */
const READY = /ready \(a simulated third party.*public (\S+) \(root, CRL\), API (\S+);/;

/** restart(): on the same ports and directory (after stop(), too: an outage that ends). */
export interface StartedExternalCa extends RestartableComponent {
  readonly componentName: 'external-ca';
  /** Plain HTTP: GET /root.crt, GET /crl (DER), GET /crl.pem. */
  readonly publicUrl: string;
  readonly crlUrl: string;
  /** HTTPS (its root is the trust anchor): intermediate orders, revocations. */
  readonly apiUrl: string;
  /** Its root certificate (PEM): the operational trust anchor when ca.issuer is 'external'. */
  readonly rootPem: string;
  readonly rootCertFile: string;
  /** The operator's bearer token, read from the CA's directory (for the operator's console only). */
  operatorToken(): string;
}

export class ExternalCaProcess {
  #dir: string | undefined;
  #logFile = '/dev/null';
  #clients: Array<{ name: string; publicJwk: JWK }> = [];
  #config: LabConfig = parseConfig({});

  /** Its own directory: root key, state, operator token. */
  withDirectory(dir: string): this {
    this.#dir = dir;
    return this;
  }

  withLogFile(file: string): this {
    this.#logFile = file;
    return this;
  }

  /** Who may order intermediates: the certificate management service's public key. */
  withClients(clients: Array<{ name: string; publicJwk: JWK }>): this {
    if (clients.length === 0) throw new Error('withClients: at least one client');
    this.#clients = clients;
    return this;
  }

  /** Its address, organisation, key algorithm, validities and timeouts, from the lab's config. */
  withLabConfig(config: LabConfig): this {
    this.#config = config;
    return this;
  }

  async start(): Promise<StartedExternalCa> {
    const dir = this.#dir;
    if (!dir) throw new Error('external-ca: withDirectory() is required');
    if (this.#clients.length === 0) throw new Error('external-ca: withClients() is required');
    const { externalCa, pki } = this.#config;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
    const caConfig: ExternalCaConfig = {
      // A third party on this host: the service reaches it on loopback, whatever the lab listens on.
      host: externalCa.host,
      publicPort: externalCa.publicPort,
      apiPort: externalCa.apiPort,
      keyAlgorithm: pki.keyAlgorithm,
      organization: externalCa.organization,
      rootValidityDays: pki.rootValidityDays,
      intermediateValidityDays: pki.intermediateValidityDays,
      crlValidityMs: goDurationMs(externalCa.crlValidity),
      clients: this.#clients.map((c) => ({ name: c.name, publicJwk: c.publicJwk as Record<string, unknown> })),
    };
    writeFileSync(path.join(dir, EXTERNAL_CA_FILES.config), JSON.stringify(caConfig, null, 2), { mode: 0o600 });
    const launch = () =>
      ManagedProcess.start({
        name: 'external-ca',
        command: process.execPath,
        args: [ENTRY, dir],
        logFile: this.#logFile,
        cwd: path.dirname(ENTRY),
        readiness: { logMessage: READY, timeoutMs: this.#config.readinessTimeoutMs || DEFAULT_STARTUP_TIMEOUT_MS },
      });
    let proc = await launch();
    const [, publicUrl, apiUrl] = READY.exec(proc.readyLine!)!;
    const rootCertFile = path.join(dir, EXTERNAL_CA_FILES.rootCert);
    const stop = () => proc.stop();
    return {
      componentName: 'external-ca',
      publicUrl: publicUrl!,
      crlUrl: `${publicUrl}${EXTERNAL_CA_PATHS.crl}`,
      apiUrl: apiUrl!,
      rootPem: readFileSync(rootCertFile, 'utf8'),
      rootCertFile,
      operatorToken: () => readFileSync(path.join(dir, EXTERNAL_CA_FILES.operatorToken), 'utf8').trim(),
      logFile: this.#logFile,
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
}
