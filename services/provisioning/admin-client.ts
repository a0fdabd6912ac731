// A typed client of the provisioning service's admin REST API, for steps, tests and scripts.
import { request, type HttpResponse } from '../../net/https-client.ts';
import type { ServiceSnapshot } from './service-state.ts';
import type { CertificateState } from './inventory.ts';
import type { AuditRecord } from './audit-log.ts';

export interface InventoryEntry {
  serial: string;
  deviceId: string;
  subject: string;
  kind: string;
  /** How it was issued: acme, bootstrap-endpoint, serverkeygen, x5c, renewal, service-team. */
  via: string | null;
  notBefore: string;
  notAfter: string;
  sha256: string;
  status: 'active' | 'revoked';
  state: CertificateState;
  revocationReason: string | null;
  revokedAt: string | null;
  /** When the service recorded it (ISO 8601). */
  recordedAt: string;
}

/** A certificate the service team issued: the inventory entry, the chain and the root, and the key when the service made it. */
export interface IssuedByServiceTeam extends InventoryEntry {
  certificateChainPem: string;
  caPem: string;
  privateKeyPem?: string;
}

/** Shown once, in the answer that created it. */
export interface LegacyCredentialIssued {
  identity: string;
  username: string;
  password: string;
  firmwareVersion: string;
}

export class AdminApiError extends Error {
  override name = 'AdminApiError';
  constructor(
    readonly status: number,
    readonly body: { error?: string; message?: string; title?: string; detail?: string },
  ) {
    super(`admin API answered HTTP ${status}: ${body.message ?? body.error ?? 'no detail'}`);
  }
}

export class ProvisioningAdminClient {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
    private readonly rootPem: string,
  ) {}

  /** A request with any token, or none (`null`): for tests of the authentication itself. */
  async raw(method: string, path: string, body?: unknown, token: string | null = this.token): Promise<HttpResponse> {
    const headers: Record<string, string> = body === undefined ? {} : { 'content-type': 'application/json' };
    if (token !== null) headers.authorization = `Bearer ${token}`;
    return request(`${this.baseUrl}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), ca: this.rootPem });
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.raw(method, path, body);
    const parsed = res.body.length > 0 ? res.json<T & { message?: string }>() : ({} as T);
    if (res.status >= 300) throw new AdminApiError(res.status, parsed as { message?: string });
    return parsed;
  }

  state(): Promise<ServiceSnapshot> {
    return this.call('GET', '/api/v1/admin/state');
  }

  turnOn(autoOffSeconds?: number): Promise<ServiceSnapshot> {
    return this.call('PUT', '/api/v1/admin/state', autoOffSeconds === undefined ? { enabled: true } : { enabled: true, autoOffSeconds });
  }

  turnOff(): Promise<ServiceSnapshot> {
    return this.call('PUT', '/api/v1/admin/state', { enabled: false });
  }

  async whitelist(): Promise<string[]> {
    return (await this.call<{ entries: string[] }>('GET', '/api/v1/admin/whitelist')).entries;
  }

  /** Entries: "127.0.0.5", "10.0.0.0/24", ..., or "127.0.0.5=RVS-0042" to name the identity of that address. */
  async setWhitelist(entries: string[]): Promise<string[]> {
    return (await this.call<{ entries: string[] }>('PUT', '/api/v1/admin/whitelist', { entries })).entries;
  }

  async enrolments(): Promise<Array<{ identity: string; role: string; bootstrapSerial: string; address: string | null; source: string; enrolledAt: string }>> {
    return (await this.call<{ enrolments: Array<{ identity: string; role: string; bootstrapSerial: string; address: string | null; source: string; enrolledAt: string }> }>('GET', '/api/v1/admin/enrolments')).enrolments;
  }

  /** Releases an enrolled identity (the device was replaced): any new credential may enrol it again. */
  async releaseEnrolment(identity: string): Promise<void> {
    await this.call('DELETE', `/api/v1/admin/enrolments/${encodeURIComponent(identity)}`);
  }

  async inventory(deviceId?: string): Promise<InventoryEntry[]> {
    const query = deviceId ? `?deviceId=${encodeURIComponent(deviceId)}` : '';
    return (await this.call<{ certificates: InventoryEntry[] }>('GET', `/api/v1/admin/inventory${query}`)).certificates;
  }

  revoke(serial: string, reason = 'keyCompromise'): Promise<InventoryEntry> {
    return this.call('POST', '/api/v1/admin/revocations', { serial, reason });
  }

  /** seed 000's manual intervention: a certificate for `identity`, from the device's CSR or with a key the service makes. */
  issueCertificate(request: { identity: string; csr?: string; keyGeneration?: 'server'; lifetimeSeconds?: number }): Promise<IssuedByServiceTeam> {
    return this.call('POST', '/api/v1/admin/certificates', request);
  }

  /** A password for the broker's legacy listener, for firmware below the installation's "x". */
  createLegacyCredential(identity: string, firmwareVersion: string): Promise<LegacyCredentialIssued> {
    return this.call('POST', '/api/v1/admin/legacy-credentials', { identity, firmwareVersion });
  }

  async deleteLegacyCredential(identity: string): Promise<void> {
    await this.call('DELETE', `/api/v1/admin/legacy-credentials/${encodeURIComponent(identity)}`);
  }

  async audit(limit = 100): Promise<AuditRecord[]> {
    return (await this.call<{ records: AuditRecord[] }>('GET', `/api/v1/admin/audit?limit=${limit}`)).records;
  }
}
