// The certificate workflow every simulated client shares (device and application alike):
// bootstrap certificate by ACME, operational certificate by X5C, mutual-TLS MQTT connection. It
// is the seed's client wrapper (provision, getCertificate, renewCertificate, validateCertificate)
// and the one place a session moves to a renewed certificate without losing a message; what it
// trusts (client-trust.ts), its checks (store-checks.ts), its power-up (client-power-up.ts) and
// its renewal timer (renewal-timer.ts) are modules of their own.
import type { MqttClient } from 'mqtt';
import { chainsToRoot, inspectCertificate } from '../../x509/certificates.ts';
import type { KeyAlgorithm } from '../../x509/keys.ts';
import type { PhaseTimings } from './acme-bootstrap.ts';
import { NodeCertificateDriver, type CertificateDriver, type DriverContext, type PreMadeKeys, type RenewalHooks } from './certificate-driver.ts';
import { classifyConnectionFailure, clockSkewBehind, explainConnectionFailure } from './connection-errors.ts';
import { createKeyAndCsr } from '../../x509/csr.ts';
import { ClientLog } from './client-log.ts';
import { CertificateStore } from './certificate-store.ts';
import type { LabEndpoints } from './lab-endpoints.ts';
import { connectMqtt, TlsIdentity } from '../../net/mqtt-connection.ts';
import { preMadeKeyHandout } from './pre-made-keys.ts';
import type { ValidCertificateFacts, ValidationResult } from './certificate-validation.ts';
import { ClientTrust } from './client-trust.ts';
import { checkBundle, hasValidBootstrap, validateStored, type CertificateBundle, type CheckingClient } from './store-checks.ts';
import { powerUpClient, type PowerUpSettings } from './client-power-up.ts';
import { followRenewalPolicy, renewWhenDue } from './renewal-timer.ts';
import type { RenewalPolicy } from './renewal-policy.ts';
import type { PowerUpOutcome } from './power-up.ts';

export type { PowerUpSettings } from './client-power-up.ts';

/** A broker to dial: host and port, and the name its certificate must carry when not the host. */
export interface BrokerTarget {
  host: string;
  port: number;
  servername?: string;
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
  /** Its trust anchor, the CRLs it checks with, its offline CRL cache. */
  readonly trust: ClientTrust;
  readonly #preMade: DriverContext['preMade'];
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
    this.trust = new ClientTrust({ store: this.store, endpoints: this.endpoints, address: this.address, log: this.log, now: () => this.now() });
    this.#preMade = preMadeKeyHandout(options.preMadeKeys);
  }

  /** How far this client's clock is off; a scenario may set it (NTP gone wrong) and set it back. */
  clockOffsetMs: number;

  /** This client's idea of the time. */
  now(): Date {
    return new Date(Date.now() + this.clockOffsetMs);
  }

  /** The root this client trusts: its stored ca.crt, or the factory default before it has one. */
  get trustedRootPem(): string {
    return this.trust.rootPem;
  }

  readonly driver: CertificateDriver;

  private get driverContext(): DriverContext {
    return {
      commonName: this.commonName,
      sans: this.sans,
      address: this.address,
      store: this.store,
      endpoints: this.endpoints,
      keyAlgorithm: this.keyAlgorithm,
      trustedRootPem: () => this.trustedRootPem,
      preMade: this.#preMade,
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
    this.trust.assertCrlsFresh(`${target.servername ?? target.host}:${target.port}`);
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
      const error = await clockSkewBehind(err, { insecureUrl: this.endpoints.insecureUrl, address: this.address, now: () => this.now() });
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

  /** Waits (the client's own timer) until the renewal policy says the certificate is due, then renews it; returns when. */
  renewWhenDue(policy?: RenewalPolicy, signal?: AbortSignal): Promise<Date> {
    return renewWhenDue(this, policy, signal);
  }

  /** Seed 002's renewal policy on the client's own timer: its alerts logged, then the renewal (renewal-timer.ts). */
  followRenewalPolicy(policy: RenewalPolicy, options: { dayMs: number; signal?: AbortSignal }): Promise<Date> {
    return followRenewalPolicy(this, policy, options);
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
    const { privateKeyPem, facts } = checkBundle(this.checking, bundle, this.now());
    const replaced = this.store.loadOperational();
    this.store.saveOperational({ certificateChainPem: bundle.certificateChainPem, privateKeyPem });
    // The anchor it was checked against becomes the store's ca.crt (a client that never ran ACME has none yet).
    this.store.saveCaCertificate(this.trustedRootPem);
    this.store.discardPendingKey();
    this.log.write('certificate-installed', { serial: facts.serial, notAfter: facts.notAfter.toISOString(), replaced: replaced ? inspectCertificate(replaced.certificateChainPem).serialNumber : null });
    await this.moveSession();
    return facts;
  }

  /** Removes the operational certificate (seed 000: "removal of certificates"): the session ends, the files go. */
  async removeCertificate(): Promise<void> {
    const current = this.store.loadOperational();
    await this.disconnect();
    this.store.discardOperational();
    this.store.discardPendingKey();
    this.log.write('certificate-removed', { serial: current ? inspectCertificate(current.certificateChainPem).serialNumber : null });
  }

  /** What the checks of store-checks.ts read of this client. */
  private get checking(): CheckingClient {
    return { commonName: this.commonName, store: this.store, log: this.log, expectedSan: this.sans[0], trustedRootPem: this.trustedRootPem, bootstrapRootPem: this.endpoints.bootstrapRootPem };
  }

  /** Validates the stored operational certificate (seed 003 "Certificate Validation"). */
  validateStore(crlPems: string[] = [], now = this.now()): ValidationResult {
    return validateStored(this.checking, crlPems, now);
  }

  /** Whether the bootstrap certificate can still authorize X5C requests (store-checks.ts). */
  hasValidBootstrap(crlPems: string[] = [], now = this.now()): boolean {
    return hasValidBootstrap(this.checking, crlPems, now);
  }

  /**
   * The power-up workflow: validate the store, discard what is invalid, re-acquire (X5C with a
   * valid bootstrap certificate, else ACME), renew when due, connect; retries with backoff.
   */
  powerUp(settings: PowerUpSettings = {}): Promise<PowerUpOutcome> {
    return powerUpClient(this, settings);
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
