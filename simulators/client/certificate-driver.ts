// The certificate half of a client (seed 000's "ACME client" and "step client"): obtain the
// bootstrap credential, trade it for an operational certificate, renew. Two drivers: the lab's
// own Node implementation, and the step CLI the seed's devices use (step-cli-driver.ts). Both
// write the same certificate store; the rest of the client (validation, MQTT) is the same.
import type { KeyObject } from 'node:crypto';
import type https from 'node:https';
import type { KeyAlgorithm } from '../../x509/keys.ts';
import type { KeyObjectAndCsr } from '../../x509/csr.ts';
import { clientHttpsAgent, obtainBootstrapCertificate, type PhaseTimings, type PreMadeBootstrapKeys } from './acme-bootstrap.ts';
import type { CertificateStore } from './certificate-store.ts';
import type { LabEndpoints } from './lab-endpoints.ts';
import { renewOperationalCertificate } from './renewal.ts';
import { obtainOperationalCertificate } from './x5c-sign.ts';

export type DriverKind = 'node' | 'step-cli' | 'command';

/** What a driver needs to know of its client. */
export interface DriverContext {
  commonName: string;
  sans: string[];
  /** The client's own loopback address. */
  address: string;
  store: CertificateStore;
  endpoints: LabEndpoints;
  keyAlgorithm: KeyAlgorithm;
  /** The root the client trusts now (its ca.crt, or the factory one). */
  trustedRootPem(): string;
  /** Keys made before the clock started (`--pre-made-keys`), each handed out once; undefined when there are none (left). */
  preMade?(kind: 'bootstrap'): PreMadeBootstrapKeys | undefined;
  preMade?(kind: 'operational'): KeyObjectAndCsr | undefined;
}

/** A client's keys made before the run is timed: the ACME account key, the bootstrap and the operational key with their CSRs. */
export interface PreMadeKeys {
  accountKey: KeyObject;
  bootstrap: KeyObjectAndCsr;
  operational: KeyObjectAndCsr;
}

/** Points inside a renewal a caller may hold on to (a scenario that kills the process there). */
export interface RenewalHooks {
  /** step-ca's answer is in memory and not yet stored: resolves before the driver writes it (or the signal aborts the write). */
  answered?(certificateChainPem: string): Promise<void>;
}

export interface CertificateDriver {
  readonly kind: DriverKind;
  /** Bootstrap credential by ACME http-01 for the client's address, saved in the store; returns phase timings. */
  provision(ctx: DriverContext): Promise<PhaseTimings>;
  /** Operational certificate by X5C with the stored bootstrap credential, saved in the store; returns its duration (ms). */
  getCertificate(ctx: DriverContext, options: { lifetimeSeconds?: number }): Promise<number>;
  /** Renews the stored operational certificate (same key), saved in the store; returns its duration (ms). An aborted renewal writes nothing. */
  renew(ctx: DriverContext, signal?: AbortSignal, hooks?: RenewalHooks): Promise<number>;
}

/** The lab's own client: acme-client for ACME, jose for the X5C token, node:https for renewal over mutual TLS. */
export class NodeCertificateDriver implements CertificateDriver {
  readonly kind = 'node';
  /**
   * One keep-alive connection to the provisioning service for the ACME requests and the X5C
   * request that follows them: a TLS handshake fewer per device on both sides. Closed once the
   * operational certificate is in (renewal goes to step-ca itself, over mutual TLS).
   */
  #agent: https.Agent | undefined;
  /** The bootstrap key as a key object, while it is the one in the store (its PEM is then never decoded again). */
  #bootstrapKey: { pem: string; key: KeyObject } | undefined;

  #close(): void {
    this.#agent?.destroy();
    this.#agent = undefined;
  }

  async provision(ctx: DriverContext): Promise<PhaseTimings> {
    this.#agent ??= clientHttpsAgent(ctx.address, ctx.trustedRootPem());
    try {
      const bootstrap = await obtainBootstrapCertificate({
        directoryUrl: ctx.endpoints.acmeDirectoryUrl,
        trustedCaPem: ctx.trustedRootPem(),
        address: ctx.address,
        responder: ctx.endpoints.responder,
        keyAlgorithm: ctx.keyAlgorithm,
        httpsAgent: this.#agent,
        preMade: ctx.preMade?.('bootstrap'),
      });
      ctx.store.saveBootstrap(bootstrap);
      this.#bootstrapKey = { pem: bootstrap.privateKeyPem, key: bootstrap.privateKey };
      return bootstrap.timings;
    } catch (err) {
      this.#close();
      throw err;
    }
  }

  async getCertificate(ctx: DriverContext, options: { lifetimeSeconds?: number }): Promise<number> {
    const bootstrap = ctx.store.loadBootstrap();
    if (!bootstrap) throw new Error(`${ctx.commonName} has no bootstrap certificate: provision() first`);
    try {
      const operational = await obtainOperationalCertificate({
        caUrl: ctx.endpoints.signUrl,
        trustedCaPem: ctx.trustedRootPem(),
        provisioner: ctx.endpoints.x5c.provisioner,
        audience: ctx.endpoints.x5c.audience,
        bootstrap: { ...bootstrap, privateKey: this.#bootstrapKey?.pem === bootstrap.privateKeyPem ? this.#bootstrapKey.key : undefined },
        commonName: ctx.commonName,
        sans: ctx.sans,
        keyAlgorithm: ctx.keyAlgorithm,
        localAddress: ctx.address,
        lifetimeSeconds: options.lifetimeSeconds,
        agent: this.#agent,
        preMade: ctx.preMade?.('operational'),
      });
      ctx.store.saveOperational(operational);
      return operational.durationMs;
    } finally {
      this.#close();
    }
  }

  async renew(ctx: DriverContext, signal?: AbortSignal, hooks?: RenewalHooks): Promise<number> {
    const current = ctx.store.loadOperational();
    if (!current) throw new Error(`${ctx.commonName} has no operational certificate to renew`);
    const renewed = await renewOperationalCertificate({ caUrl: ctx.endpoints.caUrl, trustedCaPem: ctx.trustedRootPem(), current, localAddress: ctx.address, signal });
    await hooks?.answered?.(renewed.certificateChainPem);
    signal?.throwIfAborted();
    ctx.store.saveOperational({ certificateChainPem: renewed.certificateChainPem, privateKeyPem: current.privateKeyPem });
    return renewed.durationMs;
  }
}
