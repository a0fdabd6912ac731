// The step CLI as a device's certificate client, as seed 000 designs the device ("This component
// will use the step client"): ACME http-01 through the provisioning service's gate, X5C with the
// bootstrap credential and renewal through the CA URL the lab publishes (the service's). It writes
// straight into the client's certificate store. Its requests come from 127.0.0.1 (the step CLI
// cannot bind a source address); the ACME identifier, proven by http-01, is the device's own.
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import type { KeyAlgorithm } from '../../x509/keys.ts';
import { locateTool } from '../../environments/tools/tools.ts';
import { ProvisioningRefusedError, type PhaseTimings } from './acme-bootstrap.ts';
import type { CertificateDriver, DriverContext } from './certificate-driver.ts';
import { CaRefusalError } from './x5c-sign.ts';

const run = promisify(execFile);

/** Where the step CLI's requests come from: it cannot bind a source address of its own. */
export const STEP_CLI_SOURCE = '127.0.0.1';

/** Where step-ca's http-01 validation finds the key authorization. */
export type Http01Mode =
  /** The step CLI listens on the device's address itself (the port must be free there). */
  | { mode: 'standalone'; port: number }
  /** The step CLI writes <dir>/.well-known/acme-challenge/<token>, which a responder on the port serves. */
  | { mode: 'webroot'; dir: string };

export interface StepCliDriverOptions {
  http01: Http01Mode;
  /** Directory of the pinned tools (.tools/bin). */
  toolsBinDir?: string;
  timeoutMs?: number;
}

function keyFlags(algorithm: KeyAlgorithm): string[] {
  if (algorithm.startsWith('rsa-')) return ['--kty', 'RSA', '--size', algorithm.slice(4)];
  return ['--kty', 'EC', '--curve', algorithm === 'ecdsa-p384' ? 'P-384' : 'P-256'];
}

/** The step CLI's own words, without its colours and its "Re-run with STEPDEBUG=1" hint. */
function stepMessage(err: { stderr?: string; message: string }): string {
  const text = (err.stderr || err.message).replace(/\x1b\[[0-9;]*m/g, '');
  return text.split('\n').filter((l) => l.trim() && !/STEPDEBUG|^✔/.test(l.trim())).join(' ').trim();
}

export class StepCliDriver implements CertificateDriver {
  readonly kind = 'step-cli';
  readonly #options: StepCliDriverOptions;
  readonly #binary: string;

  constructor(options: StepCliDriverOptions) {
    this.#options = options;
    this.#binary = locateTool('step', options.toolsBinDir);
  }

  async #step(ctx: DriverContext, args: string[], refusal: (message: string) => Error, signal?: AbortSignal): Promise<number> {
    // A STEPPATH of the device's own: no configuration or cache is shared with anything else.
    const stepPath = path.join(ctx.store.dir, '.step');
    mkdirSync(stepPath, { recursive: true, mode: 0o700 });
    const root = path.join(stepPath, 'trusted-root.crt');
    writeFileSync(root, ctx.trustedRootPem());
    const started = performance.now();
    try {
      await run(this.#binary, [...args, '--root', root, '--force'], { env: { ...process.env, STEPPATH: stepPath }, timeout: this.#options.timeoutMs ?? 60_000, signal });
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      throw refusal(stepMessage(err as { stderr?: string; message: string }));
    }
    return performance.now() - started;
  }

  async provision(ctx: DriverContext): Promise<PhaseTimings> {
    const { http01 } = this.#options;
    const challenge = http01.mode === 'standalone' ? ['--standalone', '--http-listen', `${ctx.address}:${http01.port}`] : ['--webroot', http01.dir];
    const ms = await this.#step(
      ctx,
      ['ca', 'certificate', ctx.address, ctx.store.file('bootstrapCert'), ctx.store.file('bootstrapKey'), '--acme', ctx.endpoints.acmeDirectoryUrl, ...challenge, ...keyFlags(ctx.keyAlgorithm)],
      (message) => new ProvisioningRefusedError(/forbidden|OFF|white list|unauthorized/i.test(message) ? 403 : 0, message),
    );
    return { stepAcme: ms };
  }

  async getCertificate(ctx: DriverContext, options: { lifetimeSeconds?: number }): Promise<number> {
    return this.#step(
      ctx,
      [
        'ca', 'certificate', ctx.commonName, ctx.store.file('operationalCert'), ctx.store.file('operationalKey'),
        '--provisioner', ctx.endpoints.x5c.provisioner,
        '--x5c-cert', ctx.store.file('bootstrapCert'),
        '--x5c-key', ctx.store.file('bootstrapKey'),
        ...ctx.sans.flatMap((san) => ['--san', san]),
        '--ca-url', ctx.endpoints.signUrl,
        ...(options.lifetimeSeconds ? ['--not-after', `${options.lifetimeSeconds}s`] : []),
        ...keyFlags(ctx.keyAlgorithm),
      ],
      (message) => new CaRefusalError(/forbidden/i.test(message) ? 403 : /unauthori[sz]ed|not authorized/i.test(message) ? 401 : 0, message),
    );
  }

  /** Token-authenticated renewal (--mtls=false) through the service: a TLS terminator cannot pass a client certificate on. */
  async renew(ctx: DriverContext, signal?: AbortSignal): Promise<number> {
    return this.#step(
      ctx,
      ['ca', 'renew', ctx.store.file('operationalCert'), ctx.store.file('operationalKey'), '--ca-url', ctx.endpoints.signUrl, '--mtls=false'],
      (message) => new CaRefusalError(/revoked|unauthori[sz]ed/i.test(message) ? 401 : 0, message),
      signal,
    );
  }
}
