// The certificate workflow every simulated client shares (device and application alike):
// bootstrap certificate by ACME, operational certificate by X5C, mutual-TLS MQTT connection.
// Longer than most modules on purpose: it is the seed's client wrapper (provision,
// getCertificate, renewCertificate, validateCertificate) and the one place a session moves to a
// renewed certificate without losing a message; the work itself is in the modules it imports.
import { statSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import type { MqttClient } from 'mqtt';
import { chainsToRoot, inspectCertificate } from '../../x509/certificates.ts';
import type { KeyAlgorithm } from '../../config/config.ts';
import { request } from '../../net/https-client.ts';
import { stepCaErrorDetail } from '../../net/step-ca-api.ts';
import { ProvisioningRefusedError, type PhaseTimings } from './acme-bootstrap.ts';
import { NodeCertificateDriver, type CertificateDriver, type DriverContext, type PreMadeKeys, type RenewalHooks } from './certificate-driver.ts';
import { ClockSkewError, classifyConnectionFailure, explainConnectionFailure } from './connection-errors.ts';
import { createKeyAndCsr } from '../../x509/csr.ts';
import { ClientLog } from './client-log.ts';
import { CertificateStore } from './certificate-store.ts';
import type { LabEndpoints } from './lab-endpoints.ts';
import { connectMqtt, TlsIdentity } from './mqtt-connection.ts';
import { splitPemCrls } from '../../x509/certificates.ts';
import { DEFAULT_CLOCK_SKEW_TOLERANCE_MS, validateCertificateStore, type ValidCertificateFacts, type ValidationReason, type ValidationResult } from './certificate-validation.ts';
import { CrlCache, CrlStaleError, type CrlCachePolicy } from './crl-cache.ts';
import { DEFAULT_RENEWAL_POLICY, renewalAlerts, renewalDueAt, type RenewalPolicy } from './renewal-policy.ts';
import { powerUp, type BackoffPolicy, type PowerUpOutcome, type TransitionEvent } from './power-up.ts';

/** A broker to dial: host and port, and the name its certificate must carry when not the host. */
export interface BrokerTarget {
  host: string;
  port: number;
  servername?: string;
}

export interface PowerUpSettings {
  /** False: firmware that does not provision itself (seed 000); it waits for the service team's certificate. */
  selfProvisioning?: boolean;
  backoff?: Partial<BackoffPolicy>;
  onTransition?: (event: TransitionEvent) => void;
  /** Lifetime requested for a newly obtained operational certificate. */
  lifetimeSeconds?: number;
}

export interface CertificateClientOptions {
  /** Certificate CN and MQTT identity. */
  commonName: string;
  /** SANs of the operational certificate (the identity binding, seed 003). */
  sans: string[];
  /** The client's own loopback address. */
  address: string;
  storeDir: string;
  endpoints: LabEndpoints;
  keyAlgorithm?: KeyAlgorithm;
  /** JSON-lines file for this client's log (e.g. under the lab's logs); in memory only when absent. */
  logFile?: string;
  /**
   * Reconnect by itself after the broker went away (0 = never). With a persistent session,
   * unacknowledged QoS 1 messages are sent again on reconnect: nothing is lost.
   */
  reconnectPeriodMs?: number;
  /** MQTT client id; the CN by default (the broker replaces it by the certificate's identity anyway). */
  mqttClientId?: string;
  /** Who obtains and renews the certificates: the lab's Node client (default) or the step CLI. */
  driver?: CertificateDriver;
  /** How far this client's clock is off the true time (a simulated clock skew), ms; 0 by default. */
  clockOffsetMs?: number;
  /** Keys and CSRs made before the clock started (load runs with `--pre-made-keys`): used once, for the first certificates. */
  preMadeKeys?: PreMadeKeys;
}

/** What the certificate management service delivers for installation (seed 000 "installation of certificates"). */
export interface CertificateBundle {
  certificateChainPem: string;
  /** Absent when the client made the key itself (createCertificateRequest): it never left the client. */
  privateKeyPem?: string;
}

/** A bundle the client would not install, with the validation's reason (never the bundle's contents). */
export class CertificateInstallationError extends Error {
  override name = 'CertificateInstallationError';
  constructor(
    readonly reason: ValidationReason | 'no-key',
    message: string,
  ) {
    super(message);
  }
}

export class CertificateClient {
  readonly commonName: string;
  readonly address: string;
  readonly store: CertificateStore;
  readonly timings: PhaseTimings = {};
  readonly log: ClientLog;
  protected readonly endpoints: LabEndpoints;
  protected readonly keyAlgorithm: KeyAlgorithm;
  protected readonly sans: string[];
  private readonly reconnectPeriodMs: number;
  private readonly mqttClientId: string;
  protected mqtt: MqttClient | undefined;
  /** Connections the broker or the network closed, not this client: "undisturbed" means 0. */
  unexpectedDisconnects = 0;
  /** When each of those closes happened (performance.now()). */
  readonly disconnectedAt: number[] = [];
  private closingOnPurpose = false;
  /** Set while the MQTT session moves to a renewed certificate; publishers wait for it. */
  protected swapping: Promise<void> | undefined;
  #preMade: Partial<PreMadeKeys> | undefined;
  /** The operational certificate loaded into a TLS context, with its session: rebuilt only when the certificate changes. */
  #tls: TlsIdentity | undefined;

  constructor(options: CertificateClientOptions) {
    this.commonName = options.commonName;
    this.mqttClientId = options.mqttClientId ?? options.commonName;
    this.sans = options.sans;
    this.address = options.address;
    this.endpoints = options.endpoints;
    this.keyAlgorithm = options.keyAlgorithm ?? 'ecdsa-p256';
    this.store = new CertificateStore(options.storeDir);
    this.log = new ClientLog(options.commonName, options.logFile);
    this.reconnectPeriodMs = options.reconnectPeriodMs ?? 0;
    this.driver = options.driver ?? new NodeCertificateDriver();
    this.clockOffsetMs = options.clockOffsetMs ?? 0;
    this.#preMade = options.preMadeKeys ? { ...options.preMadeKeys } : undefined;
  }

  /** A pre-made key, handed out once. */
  #takePreMade(kind: 'bootstrap' | 'operational') {
    const p = this.#preMade;
    if (!p) return undefined;
    if (kind === 'operational') {
      const operational = p.operational;
      delete p.operational;
      return operational;
    }
    const bootstrap = p.accountKey && p.bootstrap ? { accountKey: p.accountKey, bootstrap: p.bootstrap } : undefined;
    delete p.accountKey;
    delete p.bootstrap;
    return bootstrap;
  }

  /** How far this client's clock is off; a scenario may set it (NTP gone wrong) and set it back. */
  clockOffsetMs: number;

  /** This client's idea of the time. */
  now(): Date {
    return new Date(Date.now() + this.clockOffsetMs);
  }

  /** The root this client trusts: its stored ca.crt, or the factory default before it has one. */
  get trustedRootPem(): string {
    return this.store.loadCaCertificate() ?? this.endpoints.trustedRootPem;
  }

  /**
   * Fetches the trust anchor over the provisioning service's insecure channel (only served to
   * white-listed addresses while the service is ON) and stores it; true when it changed.
   */
  async refreshTrustAnchor(): Promise<boolean> {
    const res = await request(`${this.endpoints.insecureUrl}/api/v1/ca`, { localAddress: this.address });
    if (res.status !== 200) throw new ProvisioningRefusedError(res.status, stepCaErrorDetail(res.text()));
    const changed = res.text().trim() !== this.trustedRootPem.trim();
    if (changed) this.store.saveCaCertificate(res.text());
    return changed;
  }

  /** Every CRL needed to check this client's chain (public; signed, so plain HTTP is fine). */
  async fetchCrls(): Promise<string[]> {
    const res = await request(`${this.endpoints.insecureUrl}/api/v1/crl`, { localAddress: this.address });
    if (res.status !== 200) throw new Error(`CRL download failed with HTTP ${res.status}`);
    return splitPemCrls(res.text());
  }

  readonly driver: CertificateDriver;

  /** The offline CRL cache, once the client keeps one (keepCrlCache): new connections need it fresh. */
  crlCache: CrlCache | undefined;

  /** Keeps an offline CRL cache on `policy`'s schedule (seed 002), in the certificate store's directory. */
  keepCrlCache(policy: CrlCachePolicy): CrlCache {
    this.crlCache ??= new CrlCache({ dir: this.store.dir, fetch: () => this.fetchCrls(), log: this.log, now: () => this.now(), policy });
    this.crlCache.start();
    return this.crlCache;
  }

  private get driverContext(): DriverContext {
    return {
      commonName: this.commonName,
      sans: this.sans,
      address: this.address,
      store: this.store,
      endpoints: this.endpoints,
      keyAlgorithm: this.keyAlgorithm,
      trustedRootPem: () => this.trustedRootPem,
      preMade: ((kind: 'bootstrap' | 'operational') => this.#takePreMade(kind)) as DriverContext['preMade'],
    };
  }

  /**
   * The first-time workflow (UC-01, UC-02): bootstrap credential, operational certificate, and
   * the broker unless `connect` is false.
   */
  async join(options: { lifetimeSeconds?: number; connect?: boolean } = {}): Promise<void> {
    await this.provision();
    await this.getCertificate({ lifetimeSeconds: options.lifetimeSeconds });
    if (options.connect !== false) await this.connect();
  }

  /** Bootstrap certificate by ACME http-01 for this client's IP. */
  async provision(): Promise<void> {
    const trusted = this.trustedRootPem;
    Object.assign(this.timings, await this.driver.provision(this.driverContext));
    this.log.write('bootstrap-obtained', { serial: inspectCertificate(this.store.loadBootstrap()!.certificateChainPem).serialNumber });
    this.store.saveCaCertificate(trusted);
  }

  /** Operational certificate from the X5C provisioner, authorized by the bootstrap certificate. */
  async getCertificate(options: { lifetimeSeconds?: number } = {}): Promise<void> {
    this.timings.x5cSign = await this.driver.getCertificate(this.driverContext, options);
    const chainPem = this.store.loadOperational()!.certificateChainPem;
    // A store that lost its ca.crt gets back the anchor the new certificate verifies against;
    // without it the next power-up would discard the certificate again (missing-files).
    if (this.store.loadCaCertificate() === undefined && chainsToRoot(chainPem, this.trustedRootPem)) this.store.saveCaCertificate(this.trustedRootPem);
    const facts = inspectCertificate(chainPem);
    this.log.write('operational-obtained', { serial: facts.serialNumber, notAfter: facts.notAfter.toISOString() });
  }

  /**
   * Mutual-TLS MQTT to the lab's broker, or to `target` (another host, or the same one dialled
   * by another name, which the broker's certificate must carry).
   */
  async connect(target: BrokerTarget = this.endpoints.broker): Promise<MqttClient> {
    const operational = this.store.loadOperational();
    if (!operational) throw new Error(`${this.commonName} has no operational certificate: getCertificate() first`);
    try {
      this.crlCache?.trusted();
    } catch (err) {
      if (err instanceof CrlStaleError) this.log.write('connect-failed', { cause: err.reason, detail: err.message, broker: `${target.servername ?? target.host}:${target.port}` });
      throw err;
    }
    const started = performance.now();
    return this.openSession(target, { certificateChainPem: operational.certificateChainPem, privateKeyPem: operational.privateKeyPem }, started);
  }

  /** Connects with a certificate or a password (the legacy listener), logging a failure by its cause. */
  protected async openSession(target: BrokerTarget, credential: { certificateChainPem: string; privateKeyPem: string } | { username: string; password: string }, started = performance.now()): Promise<MqttClient> {
    const broker = `${target.servername ?? target.host}:${target.port}`;
    const trusted = this.trustedRootPem;
    if ('certificateChainPem' in credential) {
      const files = { ca: trusted, cert: credential.certificateChainPem, key: credential.privateKeyPem };
      if (!this.#tls?.holds(files)) this.#tls = new TlsIdentity(files);
    }
    this.mqtt = await connectMqtt({
      host: target.host,
      port: target.port,
      servername: target.servername,
      clientId: this.mqttClientId,
      trustedRootPem: trusted,
      ...credential,
      tlsIdentity: 'certificateChainPem' in credential ? this.#tls : undefined,
      localAddress: this.address,
      // A persistent session keeps QoS1 subscriptions and queued messages across a
      // reconnect, so moving to a renewed certificate loses nothing.
      clean: false,
      reconnectPeriodMs: this.reconnectPeriodMs,
      now: this.clockOffsetMs === 0 ? undefined : () => this.now(),
    }).catch(async (err: unknown) => {
      const error = await this.clockSkewBehind(err);
      // seed 000: connection failures are logged by cause (untrusted CA, expired, host name, clock...).
      this.log.write('connect-failed', { cause: classifyConnectionFailure(error), detail: error instanceof Error ? error.message.trim() : String(error), broker });
      throw explainConnectionFailure(error);
    });
    this.log.write('connected', { broker, authentication: 'username' in credential ? 'legacy-credential' : 'certificate' });
    this.timings.mqttConnect = performance.now() - started;
    const client = this.mqtt;
    client.on('close', () => {
      if (!this.closingOnPurpose && this.mqtt === client) {
        this.unexpectedDisconnects++;
        this.disconnectedAt.push(performance.now());
      }
    });
    await this.onConnected(client);
    return client;
  }

  /**
   * A server certificate that looks expired or not yet valid may be a wrong clock: asks the
   * provisioning service for the time (the Date header of its plain-HTTP health check). The answer
   * only names the failure's cause; it decides nothing about trust.
   */
  private async clockSkewBehind(err: unknown): Promise<unknown> {
    const cause = classifyConnectionFailure(err);
    const text = err instanceof Error ? err.message : String(err);
    if (cause !== 'broker-certificate-expired' && !(cause === 'broker-certificate-invalid' && /not yet valid/i.test(text))) return err;
    try {
      const res = await request(`${this.endpoints.insecureUrl}/health`, { localAddress: this.address });
      const serverTime = Date.parse(String(res.headers.date));
      const skewMs = this.now().getTime() - serverTime;
      return Number.isFinite(skewMs) && Math.abs(skewMs) > DEFAULT_CLOCK_SKEW_TOLERANCE_MS ? new ClockSkewError(skewMs, text.trim()) : err;
    } catch {
      return err; // no time reference: the certificate's own cause stands
    }
  }

  /** Subclasses subscribe here; called on every (re)connection. */
  protected async onConnected(_client: MqttClient): Promise<void> {}

  /**
   * Renews the operational certificate over mutual TLS and, if connected, moves the MQTT session
   * to it: in-flight QoS1 messages are acknowledged on the old connection first (the old
   * certificate stays in use until the swap), then the session resumes with the new one.
   */
  async renewCertificate(signal?: AbortSignal, hooks?: RenewalHooks): Promise<void> {
    const started = performance.now();
    this.timings.renewal = await this.driver.renew(this.driverContext, signal, hooks);
    // NFR-PERF-001 is the client's wait: from its request to the renewed certificate in its store.
    this.timings.renewalToStored = performance.now() - started;
    this.log.write('renewed', { serial: inspectCertificate(this.store.loadOperational()!.certificateChainPem).serialNumber });
    await this.moveSession();
  }

  /** Moves a connected session to the stored operational certificate; nothing when not connected. */
  private async moveSession(): Promise<void> {
    if (!this.mqtt) return;
    let release!: () => void;
    this.swapping = new Promise((resolve) => (release = resolve));
    try {
      const old = this.mqtt;
      this.mqtt = undefined;
      await old.endAsync();
      await this.connect();
    } finally {
      this.swapping = undefined;
      release();
    }
  }

  get connected(): boolean {
    return this.mqtt?.connected ?? false;
  }

  /**
   * Waits (the device's own timer) until the renewal policy says the operational certificate is
   * due, then renews it; returns when the renewal happened.
   */
  async renewWhenDue(policy: RenewalPolicy = DEFAULT_RENEWAL_POLICY, signal?: AbortSignal): Promise<Date> {
    const current = this.store.loadOperational();
    if (!current) throw new Error(`${this.commonName} has no operational certificate to renew`);
    const { notBefore, notAfter } = inspectCertificate(current.certificateChainPem);
    await delay(Math.max(0, renewalDueAt(notBefore, notAfter, policy).getTime() - Date.now()), undefined, { signal });
    const renewedAt = new Date();
    await this.renewCertificate();
    return renewedAt;
  }

  /**
   * Seed 002's renewal policy as the client runs it on its own timer: logs `renewal-alert` at each
   * alert threshold the certificate reaches before renewal is due (days counted in `dayMs`, the
   * lab's scaled day), then `renewal-due` and renews. Returns when the renewal happened.
   */
  async followRenewalPolicy(policy: RenewalPolicy, options: { dayMs: number; signal?: AbortSignal }): Promise<Date> {
    const current = this.store.loadOperational();
    if (!current) throw new Error(`${this.commonName} has no operational certificate to renew`);
    const { notBefore, notAfter, serialNumber: serial } = inspectCertificate(current.certificateChainPem);
    const daysLeft = () => Math.round(((notAfter.getTime() - this.now().getTime()) / options.dayMs) * 100) / 100;
    for (const alert of renewalAlerts(notBefore, notAfter, policy)) {
      await delay(Math.max(0, alert.at.getTime() - this.now().getTime()), undefined, { signal: options.signal });
      this.log.write('renewal-alert', { serial, thresholdDays: alert.beforeMs / options.dayMs, daysLeft: daysLeft(), notAfter: notAfter.toISOString() });
    }
    await delay(Math.max(0, renewalDueAt(notBefore, notAfter, policy).getTime() - this.now().getTime()), undefined, { signal: options.signal });
    const renewedAt = this.now();
    this.log.write('renewal-due', { serial, daysLeft: daysLeft(), renewBeforeDays: policy.renewBeforeMs === undefined ? null : policy.renewBeforeMs / options.dayMs });
    await this.renewCertificate(options.signal);
    return renewedAt;
  }

  /**
   * A key made here and a CSR for this client's identity, for the service team to certify (seed
   * 000's manual path): the key waits in the store (0600) for the certificate and never leaves.
   */
  async createCertificateRequest(): Promise<string> {
    const { privateKeyPem, csrPem } = await createKeyAndCsr({ commonName: this.commonName, uris: this.sans }, this.keyAlgorithm);
    this.store.savePendingKey(privateKeyPem);
    this.log.write('certificate-requested', { identity: this.commonName });
    return csrPem;
  }

  /**
   * Installs a certificate the certificate management service delivered (seed 000: installation
   * and update): checked like a stored one (chain to the trusted root, key, identity, dates,
   * client-only) before it replaces anything; a connected session moves to it. A bundle that
   * fails a check is refused with that reason, logged, and the store is left as it was.
   */
  async installCertificate(bundle: CertificateBundle): Promise<ValidCertificateFacts> {
    const privateKeyPem = bundle.privateKeyPem ?? this.store.loadPendingKey();
    if (!privateKeyPem) {
      this.log.write('certificate-installation-refused', { reason: 'no-key' });
      throw new CertificateInstallationError('no-key', 'the bundle has no key and no certificate request of this client is pending');
    }
    const result = validateCertificateStore({
      store: { certificateChainPem: bundle.certificateChainPem, privateKeyPem, caPem: this.trustedRootPem },
      deviceId: this.commonName,
      expectedSan: this.sans[0],
      now: this.now(),
    });
    if (!result.valid) {
      this.log.write('certificate-installation-refused', { reason: result.reason, detail: result.message });
      throw new CertificateInstallationError(result.reason, `${result.reason}: ${result.message}`);
    }
    const replaced = this.store.loadOperational();
    this.store.saveOperational({ certificateChainPem: bundle.certificateChainPem, privateKeyPem });
    // The anchor it was checked against becomes the store's ca.crt (a client that never ran ACME has none yet).
    this.store.saveCaCertificate(this.trustedRootPem);
    this.store.discardPendingKey();
    this.log.write('certificate-installed', { serial: result.facts.serial, notAfter: result.facts.notAfter.toISOString(), replaced: replaced ? inspectCertificate(replaced.certificateChainPem).serialNumber : null });
    await this.moveSession();
    return result.facts;
  }

  /** Removes the operational certificate (seed 000: "removal of certificates"): the session ends, the files go. */
  async removeCertificate(): Promise<void> {
    const current = this.store.loadOperational();
    await this.disconnect();
    this.store.discardOperational();
    this.store.discardPendingKey();
    this.log.write('certificate-removed', { serial: current ? inspectCertificate(current.certificateChainPem).serialNumber : null });
  }

  /** Validates the stored operational certificate (seed 003 "Certificate Validation"). */
  validateStore(crlPems: string[] = [], now = this.now()): ValidationResult {
    const operational = this.store.loadOperationalFiles();
    let keyFileMode: number | undefined;
    try {
      keyFileMode = statSync(this.store.file('operationalKey')).mode;
    } catch {
      // missing: reported as missing-files
    }
    return validateCertificateStore({
      store: { ...operational, caPem: this.store.loadCaCertificate(), keyFileMode },
      deviceId: this.commonName,
      expectedSan: this.sans[0],
      now,
      crlPems,
    });
  }

  /**
   * Whether the bootstrap certificate can still authorize X5C requests: every check of the
   * operational one except the device-id SAN, since a bootstrap certificate names the address,
   * against the bootstrap root it chains to.
   */
  hasValidBootstrap(crlPems: string[] = [], now = this.now()): boolean {
    const bootstrap = this.store.loadBootstrap();
    if (!bootstrap) return false;
    const result = validateCertificateStore({
      store: { certificateChainPem: bootstrap.certificateChainPem, privateKeyPem: bootstrap.privateKeyPem, caPem: this.endpoints.bootstrapRootPem },
      deviceId: this.commonName,
      expectedSan: this.sans[0],
      now,
      crlPems,
    });
    return result.valid || result.reason === 'identity-mismatch';
  }

  /**
   * The power-up workflow: validate the store, discard what is invalid, re-acquire (X5C with a
   * valid bootstrap certificate, else ACME), renew when due, connect; retries with backoff.
   */
  async powerUp(settings: PowerUpSettings = {}): Promise<PowerUpOutcome> {
    // Revocation data is best effort: a device that cannot fetch CRLs validates without them
    // and learns of a revocation from the broker's refusal instead.
    let crls: string[] = [];
    const refreshCrls = async () => {
      crls = await this.fetchCrls().catch(() => crls);
    };
    // Only a stored certificate is checked against CRLs: a first boot, with nothing stored, stops
    // at "missing files" before any CRL would be read, and fetches none.
    if (this.store.loadOperational() || this.store.loadBootstrap()) await refreshCrls();
    return powerUp(
      {
        validate: () => this.validateStore(crls),
        discardOperational: () => this.store.discardOperational(),
        hasValidBootstrap: () => this.hasValidBootstrap(crls),
        provision: () => this.provision(),
        getCertificate: () => this.getCertificate({ lifetimeSeconds: settings.lifetimeSeconds }),
        connect: async () => {
          await this.connect();
        },
        renew: () => this.renewCertificate(),
        refreshTrustAnchor: async () => {
          const changed = await this.refreshTrustAnchor();
          if (changed) await refreshCrls();
          return changed;
        },
      },
      {
        sleep: (ms) => delay(ms),
        random: Math.random,
        now: () => this.now(),
        backoff: settings.backoff,
        selfProvisioning: settings.selfProvisioning,
        onTransition: (event) => {
          // Each step of the workflow with its reason code: why a certificate was discarded,
          // why a retry happened.
          this.log.write('power-up', { from: event.from, to: event.to, reason: event.reason });
          settings.onTransition?.(event);
        },
      },
    );
  }

  /** The connected client, waiting out a certificate swap in progress. */
  protected async client(): Promise<MqttClient> {
    await this.swapping;
    if (!this.mqtt) throw new Error(`${this.commonName} is not connected`);
    return this.mqtt;
  }

  /**
   * Ends the session at once and stops reconnecting, without waiting for in-flight messages or a
   * closed socket (a revoked client may be offline, where mqtt.js would wait for ever).
   */
  dropSession(): void {
    const client = this.mqtt;
    this.mqtt = undefined;
    client?.end(true);
  }

  async disconnect(): Promise<void> {
    const client = this.mqtt;
    this.mqtt = undefined;
    this.closingOnPurpose = true;
    try {
      await client?.endAsync();
    } finally {
      this.closingOnPurpose = false;
    }
  }
}
