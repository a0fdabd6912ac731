// What a client trusts and how it learns of revocations: its trust anchor (the stored ca.crt, or
// the factory default before it has one, refreshed over the provisioning service's insecure
// channel), the CRLs its chain needs from the service's public endpoint, and, once it keeps one,
// its offline CRL cache (seed 002), without which it opens no new connection when stale.
import { request } from '../../net/https-client.ts';
import { stepCaErrorDetail } from '../../net/step-ca-api.ts';
import { splitPemCrls } from '../../x509/certificates.ts';
import { ProvisioningRefusedError } from './acme-bootstrap.ts';
import type { CertificateStore } from './certificate-store.ts';
import type { ClientLog } from './client-log.ts';
import { CrlCache, CrlStaleError, type CrlCachePolicy } from './crl-cache.ts';
import type { LabEndpoints } from './lab-endpoints.ts';

export interface ClientTrustOptions {
  store: CertificateStore;
  endpoints: LabEndpoints;
  /** The client's own loopback address: the service serves the anchor only to white-listed ones. */
  address: string;
  log: ClientLog;
  /** The client's idea of the time (its clock may be skewed). */
  now: () => Date;
}

export class ClientTrust {
  /** The offline CRL cache, once the client keeps one (keepCrlCache): new connections need it fresh. */
  crlCache: CrlCache | undefined;

  constructor(private readonly options: ClientTrustOptions) {}

  /** The root this client trusts: its stored ca.crt, or the factory default before it has one. */
  get rootPem(): string {
    return this.options.store.loadCaCertificate() ?? this.options.endpoints.trustedRootPem;
  }

  /**
   * Fetches the trust anchor over the provisioning service's insecure channel (only served to
   * white-listed addresses while the service is ON) and stores it; true when it changed.
   */
  async refreshAnchor(): Promise<boolean> {
    const { endpoints, address, store } = this.options;
    const res = await request(`${endpoints.insecureUrl}/api/v1/ca`, { localAddress: address });
    if (res.status !== 200) throw new ProvisioningRefusedError(res.status, stepCaErrorDetail(res.text()));
    const changed = res.text().trim() !== this.rootPem.trim();
    if (changed) store.saveCaCertificate(res.text());
    return changed;
  }

  /** Every CRL needed to check this client's chain (public; signed, so plain HTTP is fine). */
  async fetchCrls(): Promise<string[]> {
    const res = await request(`${this.options.endpoints.insecureUrl}/api/v1/crl`, { localAddress: this.options.address });
    if (res.status !== 200) throw new Error(`CRL download failed with HTTP ${res.status}`);
    return splitPemCrls(res.text());
  }

  /** Keeps an offline CRL cache on `policy`'s schedule (seed 002), in the certificate store's directory. */
  keepCrlCache(policy: CrlCachePolicy): CrlCache {
    const { store, log, now } = this.options;
    this.crlCache ??= new CrlCache({ dir: store.dir, fetch: () => this.fetchCrls(), log, now, policy });
    this.crlCache.start();
    return this.crlCache;
  }

  /** Before a new connection to `broker`: a kept CRL cache must be fresh; a stale one is logged as the failure's cause and thrown. */
  assertCrlsFresh(broker: string): void {
    try {
      this.crlCache?.trusted();
    } catch (err) {
      if (err instanceof CrlStaleError) this.options.log.write('connect-failed', { cause: err.reason, detail: err.message, broker });
      throw err;
    }
  }
}
