// A typed client of a provisioning service's admin REST API, for steps, tests, the load engine and
// the simulated application. Its request and answer types are written against the contract,
// services/provisioning/openapi.yaml, never taken from the reference service's internals: a
// target runs another implementation (test/unit/admin-client-contract.test.ts holds each type's
// keys to the schema of the operation that uses it).
import { request, type HttpResponse } from '../../net/https-client.ts';

/** components/schemas/State: ON/OFF, its timer and the white list. */
export interface ServiceState {
  enabled: boolean;
  enabledAt: string | null;
  autoOffAt: string | null;
  /** Whole seconds left; null without a timer. */
  remainingSeconds: number | null;
  whitelist: string[];
}

/** PUT /api/v1/admin/state. */
export interface StateChange {
  enabled: boolean;
  autoOffSeconds?: number;
}

/** components/schemas/Whitelist; also the body of PUT /api/v1/admin/whitelist. */
export interface Whitelist {
  entries: string[];
}

export type CertificateState = 'active' | 'expiring' | 'expired' | 'revoked';

/** components/schemas/Certificate: one certificate of the inventory. */
export interface InventoryEntry {
  /** Lowercase hex. */
  serial: string;
  /** The device id (operational) or the source address (ACME bootstrap). */
  deviceId: string;
  subject: string;
  issuer: string;
  notBefore: string;
  notAfter: string;
  sha256: string;
  kind: 'bootstrap' | 'operational';
  /** How it was issued: acme, bootstrap-endpoint, serverkeygen, x5c, renewal, rekey, service-team. */
  via?: string | null;
  status: 'active' | 'revoked';
  state: CertificateState;
  revokedAt?: string | null;
  revocationReason?: string | null;
  /** When the service recorded it (ISO 8601). */
  recordedAt?: string;
}

/** components/schemas/Inventory. */
export interface InventoryPage {
  expiringWithinSeconds: number;
  certificates: InventoryEntry[];
}

/** components/schemas/Enrolment: an identity bound to a bootstrap credential. */
export interface Enrolment {
  identity: string;
  role: 'device' | 'application';
  /** The bootstrap credential the identity is bound to; service-team:<identity> for one the service team holds. */
  bootstrapSerial: string;
  address: string | null;
  source: 'first-use' | 'white-list' | 'service-team';
  enrolledAt: string;
}

/** components/schemas/Enrolments. */
export interface Enrolments {
  enrolments: Enrolment[];
}

/** POST /api/v1/admin/revocations. */
export interface RevocationRequest {
  serial: string;
  reason?: string;
}

/** POST /api/v1/admin/certificates: from the device's CSR, or with a key the service makes. */
export interface CertificateRequest {
  identity: string;
  csr?: string;
  keyGeneration?: 'server';
  lifetimeSeconds?: number;
}

/** components/schemas/IssuedCertificate: the inventory entry, the chain and the root, and the key when the service made it. */
export interface IssuedByServiceTeam extends InventoryEntry {
  certificateChainPem: string;
  caPem: string;
  privateKeyPem?: string;
}

/** POST /api/v1/admin/legacy-credentials. */
export interface LegacyCredentialRequest {
  identity: string;
  firmwareVersion: string;
}

/** components/schemas/LegacyCredential: shown once, in the answer that created it. */
export interface LegacyCredentialIssued {
  identity: string;
  username: string;
  password: string;
  firmwareVersion: string;
}

/** What every audit record carries (components/schemas/AuditLog); each event adds fields of its own. */
export interface AuditRecordFields {
  time: string;
  event: string;
  decision: string;
}

export type AuditRecord = AuditRecordFields & Record<string, unknown>;

/** components/schemas/AuditLog: newest first. */
export interface AuditLog {
  records: AuditRecord[];
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

  state(): Promise<ServiceState> {
    return this.call('GET', '/api/v1/admin/state');
  }

  turnOn(autoOffSeconds?: number): Promise<ServiceState> {
    const change: StateChange = autoOffSeconds === undefined ? { enabled: true } : { enabled: true, autoOffSeconds };
    return this.call('PUT', '/api/v1/admin/state', change);
  }

  turnOff(): Promise<ServiceState> {
    const change: StateChange = { enabled: false };
    return this.call('PUT', '/api/v1/admin/state', change);
  }

  async whitelist(): Promise<string[]> {
    return (await this.call<Whitelist>('GET', '/api/v1/admin/whitelist')).entries;
  }

  /** Entries: "127.0.0.5", "10.0.0.0/24", ..., or "127.0.0.5=RVS-0042" to name the identity of that address. */
  async setWhitelist(entries: string[]): Promise<string[]> {
    const change: Whitelist = { entries };
    return (await this.call<Whitelist>('PUT', '/api/v1/admin/whitelist', change)).entries;
  }

  async enrolments(): Promise<Enrolment[]> {
    return (await this.call<Enrolments>('GET', '/api/v1/admin/enrolments')).enrolments;
  }

  /** Releases an enrolled identity (the device was replaced): any new credential may enrol it again. */
  async releaseEnrolment(identity: string): Promise<void> {
    await this.call('DELETE', `/api/v1/admin/enrolments/${encodeURIComponent(identity)}`);
  }

  async inventory(deviceId?: string): Promise<InventoryEntry[]> {
    const query = deviceId ? `?deviceId=${encodeURIComponent(deviceId)}` : '';
    return (await this.call<InventoryPage>('GET', `/api/v1/admin/inventory${query}`)).certificates;
  }

  revoke(serial: string, reason = 'keyCompromise'): Promise<InventoryEntry> {
    const revocation: RevocationRequest = { serial, reason };
    return this.call('POST', '/api/v1/admin/revocations', revocation);
  }

  /** seed 000's manual intervention: a certificate for `identity`, from the device's CSR or with a key the service makes. */
  issueCertificate(request: CertificateRequest): Promise<IssuedByServiceTeam> {
    return this.call('POST', '/api/v1/admin/certificates', request);
  }

  /** A password for the broker's legacy listener, for firmware below the installation's "x". */
  createLegacyCredential(identity: string, firmwareVersion: string): Promise<LegacyCredentialIssued> {
    const credential: LegacyCredentialRequest = { identity, firmwareVersion };
    return this.call('POST', '/api/v1/admin/legacy-credentials', credential);
  }

  async deleteLegacyCredential(identity: string): Promise<void> {
    await this.call('DELETE', `/api/v1/admin/legacy-credentials/${encodeURIComponent(identity)}`);
  }

  async audit(limit = 100): Promise<AuditRecord[]> {
    return (await this.call<AuditLog>('GET', `/api/v1/admin/audit?limit=${limit}`)).records;
  }
}
