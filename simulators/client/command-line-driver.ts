// A certificate client the team supplies (issue: "a command line the team supplies, run per
// device"): the lab runs it once per operation and client, with the operation as its last
// argument and everything it needs in the environment, and reads the result from the client's
// store. The contract, as README "Drivers" documents it:
//
//   <command...> provision|get-certificate|renew
//   ECM_IDENTITY, ECM_SANS (comma-separated), ECM_ADDRESS (the client's loopback address)
//   ECM_ACME_DIRECTORY, ECM_HTTP01_WEBROOT (write .well-known/acme-challenge/<token> there)
//   ECM_CA_URL, ECM_X5C_PROVISIONER, ECM_ROOT (the trusted root, a file)
//   ECM_BOOTSTRAP_CERT, ECM_BOOTSTRAP_KEY, ECM_CERT, ECM_KEY (the store's files; keys 0600)
//   ECM_KEY_ALGORITHM (ecdsa-p256, rsa-2048, ...), ECM_LIFETIME_SECONDS (get-certificate, optional)
//   exit 0: done; exit 3: refused by the CA or the service (stderr says why); other: failed.
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { ProvisioningRefusedError, type PhaseTimings } from './acme-bootstrap.ts';
import type { CertificateDriver, DriverContext } from './certificate-driver.ts';
import { CaRefusalError } from './x5c-sign.ts';

const run = promisify(execFile);

export type DriverOperation = 'provision' | 'get-certificate' | 'renew';

/** Exit status a driver uses for "the CA or the service said no" (not a crash, not a network error). */
export const DRIVER_REFUSED = 3;

export interface CommandLineDriverOptions {
  command: string[];
  env?: Record<string, string>;
  /** Where http-01 key authorizations are served from (the suite's responder reads it). */
  http01Webroot: string;
  timeoutMs?: number;
}

export class CommandLineDriverError extends Error {
  override name = 'CommandLineDriverError';
}

export class CommandLineDriver implements CertificateDriver {
  readonly kind = 'command';
  readonly #options: CommandLineDriverOptions;

  constructor(options: CommandLineDriverOptions) {
    if (options.command.length === 0) throw new CommandLineDriverError('the driver command is empty');
    this.#options = options;
  }

  async #run(ctx: DriverContext, operation: DriverOperation, extra: Record<string, string>, refusal: (message: string) => Error, signal?: AbortSignal): Promise<number> {
    const root = path.join(ctx.store.dir, 'trusted-root.crt');
    writeFileSync(root, ctx.trustedRootPem());
    const env = {
      ...process.env,
      ...this.#options.env,
      ECM_IDENTITY: ctx.commonName,
      ECM_SANS: ctx.sans.join(','),
      ECM_ADDRESS: ctx.address,
      ECM_ACME_DIRECTORY: ctx.endpoints.acmeDirectoryUrl,
      ECM_HTTP01_WEBROOT: this.#options.http01Webroot,
      ECM_CA_URL: ctx.endpoints.signUrl,
      ECM_X5C_PROVISIONER: ctx.endpoints.x5c.provisioner,
      ECM_ROOT: root,
      ECM_BOOTSTRAP_CERT: ctx.store.file('bootstrapCert'),
      ECM_BOOTSTRAP_KEY: ctx.store.file('bootstrapKey'),
      ECM_CERT: ctx.store.file('operationalCert'),
      ECM_KEY: ctx.store.file('operationalKey'),
      ECM_KEY_ALGORITHM: ctx.keyAlgorithm,
      ...extra,
    };
    const [command, ...args] = this.#options.command as [string, ...string[]];
    const started = performance.now();
    try {
      await run(command, [...args, operation], { env, timeout: this.#options.timeoutMs ?? 60_000, signal });
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      const e = err as { code?: number | string; stderr?: string; message: string };
      const message = (e.stderr || e.message).trim().split('\n').slice(-3).join(' ');
      if (e.code === DRIVER_REFUSED) throw refusal(message);
      throw new CommandLineDriverError(`${operation} by ${command} failed (${typeof e.code === 'number' ? `exit ${e.code}` : e.code ?? 'error'}): ${message}`);
    }
    // Whatever the command did, the store's keys stay private.
    for (const key of [ctx.store.file('bootstrapKey'), ctx.store.file('operationalKey')]) if (existsSync(key)) chmodSync(key, 0o600);
    return performance.now() - started;
  }

  async provision(ctx: DriverContext): Promise<PhaseTimings> {
    mkdirSync(path.join(this.#options.http01Webroot, '.well-known', 'acme-challenge'), { recursive: true });
    const ms = await this.#run(ctx, 'provision', {}, (message) => new ProvisioningRefusedError(403, message));
    if (!ctx.store.loadBootstrap()) throw new CommandLineDriverError(`provision by ${this.#options.command[0]} exited 0 but wrote no bootstrap credential to ${ctx.store.file('bootstrapCert')}`);
    return { commandProvision: ms };
  }

  async getCertificate(ctx: DriverContext, options: { lifetimeSeconds?: number }): Promise<number> {
    const ms = await this.#run(ctx, 'get-certificate', options.lifetimeSeconds ? { ECM_LIFETIME_SECONDS: String(options.lifetimeSeconds) } : {}, (message) => new CaRefusalError(403, message));
    if (!ctx.store.loadOperational()) throw new CommandLineDriverError(`get-certificate by ${this.#options.command[0]} exited 0 but wrote no certificate to ${ctx.store.file('operationalCert')}`);
    return ms;
  }

  async renew(ctx: DriverContext, signal?: AbortSignal): Promise<number> {
    return this.#run(ctx, 'renew', {}, (message) => new CaRefusalError(401, message), signal);
  }
}
