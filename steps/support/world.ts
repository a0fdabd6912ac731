// The World of a scenario: the clients it created, the outcomes it observed, and the cleanups
// that must run whatever happens. The lab itself is shared (lab-session.ts). It is the one place
// of scenario state (cucumber-js's model), so it holds every scenario's facts: hence its length.
import assert from 'node:assert/strict';
import path from 'node:path';
import { setWorldConstructor, World, type IWorldOptions } from '@cucumber/cucumber';
import { LumiaApplication, type ReceivedTelemetry } from '../../simulators/app/lumia-application.ts';
import { ReveosDevice, type DeviceIdentity, type DevicePowerUpOutcome, type DevicePowerUpSettings } from '../../simulators/device/reveos-device.ts';
import type { PowerUpOutcome } from '../../simulators/client/power-up.ts';
import { applicationAddress, loopbackAddress, workerAddressRange } from '../../simulators/client/addresses.ts';
import type { ConnectionOutcome } from '../../simulators/adversary/mqtt-probe.ts';
import { markLog, waitForLogLine, type LogMark } from '../../environments/log-watch.ts';
import { waitFor } from '../../environments/wait.ts';
import type { AcmeAnswer, RawAcmeClient, SignedAcmeRequest } from '../../simulators/adversary/acme-raw.ts';
import type { ForgedPublish } from '../../simulators/adversary/forged-publish.ts';
import type { ListeningSession } from '../../simulators/adversary/listening-session.ts';
import type { ClientHelloAnswer, TlsProbeOutcome } from '../../simulators/adversary/tls-probe.ts';
import type { ImpostorBroker } from '../../simulators/adversary/impostor-broker.ts';
import type { AttemptOutcome } from '../../simulators/adversary/issuance-attempts.ts';
import type { AuditRecord } from '../../services/provisioning/audit-log.ts';
import { inspectCertificate, type CertificateFacts } from '../../x509/certificates.ts';
import { peerCertificateChain } from '../../net/peer-certificates.ts';
import { request } from '../../net/https-client.ts';
import type { CertificateClient } from '../../simulators/client/certificate-client.ts';
import type { CertificateDriver, DriverKind } from '../../simulators/client/certificate-driver.ts';
import { STEP_CLI_SOURCE, StepCliDriver } from '../../simulators/client/step-cli-driver.ts';
import { CommandLineDriver } from '../../simulators/client/command-line-driver.ts';
import type { StoredPair } from '../../simulators/client/certificate-store.ts';
import { ProvisioningAdminClient, type InventoryEntry } from '../../services/provisioning/admin-client.ts';
import { firmwarePolicy, type LabConfigInput } from '../../config/config.ts';
import { currentLabSession, openLabSession, type LabSession } from './lab-session.ts';
import type { AttemptedRequest, DamagedStore, InterruptedRenewal } from './scenario-facts.ts';
import { CAPABILITY_DESCRIPTIONS, CapabilityError, type Capability } from '../../conformance/target/capabilities.ts';
import type { LogEvidence } from '../../conformance/target/target-lab.ts';
import type { StartedLocalLab } from '../../environments/local/local-environment.ts';

/** step-ca's default minimum certificate duration: shorter lifetimes are a lab's setting (@needs:clock). */
const SHORTEST_DEFAULT_LIFETIME_SECONDS = 5 * 60;

let nextClientIndex = 0;

/** Component logs cause assertions read. */
const COMPONENT_LOGS = ['step-ca', 'bootstrap-ca', 'mosquitto'] as const;
export type ComponentLog = (typeof COMPONENT_LOGS)[number];

/** Retries in scenarios back off quickly: the components are local. */
const FAST_BACKOFF = { initialMs: 100, maxMs: 1000, maxAttempts: 6 };

export class LabWorld extends World {
  readonly devices: ReveosDevice[] = [];
  application: LumiaApplication | undefined;
  lastConnection: ConnectionOutcome | undefined;
  /** The last TLS probe of a listener: where it came from, where the logs stood, what it got. */
  tlsAttempt: { listener: string; address: string; logMark: LogMark | undefined; probe?: TlsProbeOutcome; hello?: ClientHelloAnswer } | undefined;
  /** The application's store as a scenario damaged it before power-up. */
  damagedStore: DamagedStore | undefined;
  /** A renewal the device process died in, between step-ca's issuance and the store. */
  interruptedRenewal: InterruptedRenewal | undefined;
  /** The address the last probe connection came from. */
  probeAddress: string | undefined;
  brokerLogMark: LogMark | undefined;
  /** The outcome of the last request a step expected might be refused. */
  lastError: Error | undefined;
  /** The last provisioning request a step expected might be refused: when it began, how it ended. */
  lastRequest: AttemptedRequest | undefined;
  readonly inventoryDevices = new Map<string, ReveosDevice>();
  /** Devices already running before the scenario's action (UC-02). */
  readonly installed: ReveosDevice[] = [];
  certificateBefore: CertificateFacts | undefined;
  readonly powerUps = new Map<CertificateClient, DevicePowerUpOutcome | PowerUpOutcome>();
  certificatesBeforeRotation = new Map<CertificateClient, StoredPair>();
  inventoryBeforeRestart = 0;
  /** The attacker of an @attack scenario: a device on a white-listed address holding its own bootstrap credential. */
  attacker: ReveosDevice | undefined;
  /** A command the application queued for an offline device, and what an attacker's connection received meanwhile. */
  queuedCommandId: string | undefined;
  attackerSession: ListeningSession | undefined;
  /** A credential the attacker presents instead of its own bootstrap credential (one that expired, say). */
  attackerCredential: { certificateChainPem: string; privateKeyPem: string } | undefined;
  /** A one-time token the attacker kept after step-ca honoured it. */
  capturedToken: string | undefined;
  /** Devices whose operational certificate the engineer revoked: when, and how long until the broker closed their connection. */
  readonly revoked = new Map<CertificateClient, { at: number; disconnectMs?: number }>();
  /** The device an attack is aimed at. */
  victim: ReveosDevice | undefined;
  /** A forged publish and the connection it went over. */
  forged: ForgedPublish | undefined;
  impostor: ImpostorBroker | undefined;
  /** A second application instance the service team certified by hand. */
  standby: LumiaApplication | undefined;
  /** A certificate a client held before the service team installed another. */
  replacedCertificate: StoredPair | undefined;
  /** A raw ACME client, the signed requests it kept, what the server answered to them. */
  acme: RawAcmeClient | undefined;
  captured: SignedAcmeRequest[] | undefined;
  acmeAnswers: AcmeAnswer[] | undefined;
  acmeOrderUrl: string | undefined;
  operationalBefore = 0;
  /** A lab of the scenario's own, when it needs other settings than the shared one; every step then works on it. */
  scenarioLab: LabSession | undefined;
  /** UC-04 with an external CA: when its operator revoked the intermediate, and which one. */
  externalRevocation: { at: number; since: string; serial: string } | undefined;
  /** Where the service's audit log stood when an external-CA fault or attack began, and the intermediate then. */
  externalFaultSince: string | undefined;
  intermediateSerialBefore: string | undefined;
  /** What the external CA answered to the last attack on it. */
  externalAnswer: { status: number; code: string; detail: string } | undefined;
  /** What the last attack got back. */
  attack: AttemptOutcome | undefined;
  /** What the service's x5c-identity webhook answered when a scenario asked it as step-ca would. */
  webhookAnswer: { allow: boolean; error?: { code: string; message: string } } | undefined;
  /** A certificate a scenario made on purpose, and what the broker did with it. */
  madeCertificate: { certificateChainPem: string; privateKeyPem: string } | undefined;
  brokerSession: { connected: boolean; logLine?: string } | undefined;
  /** Where the device's log stood when its CRL distribution point went away (and, later, came back). */
  crlCutAt: number | undefined;
  /** Where the components' logs stood when the last attack began. */
  private attackMarks: { logs: Record<string, LogMark>; auditSince: string; inventory: Set<string> | undefined } | undefined;
  private readonly cleanups: Array<() => Promise<unknown>> = [];

  constructor(options: IWorldOptions) {
    super(options);
  }

  /** The scenario's own lab once it started one (startScenarioLab), the shared lab otherwise. */
  get session(): LabSession {
    return this.scenarioLab ?? currentLabSession();
  }

  /** The service engineer's view: the admin API with the lab's token. */
  get admin(): ProvisioningAdminClient {
    return this.adminOf(this.session);
  }

  adminOf({ lab, endpoints }: LabSession): ProvisioningAdminClient {
    return new ProvisioningAdminClient(lab.provisioning.url, lab.provisioning.adminToken, endpoints.trustedRootPem);
  }

  /**
   * The white list of the installation: every address of this worker's block, and the
   * application's own address naming its identity (the only way a reserved identity is enrolled).
   */
  get installationWhitelist(): string[] {
    const { worker, config, clients } = this.session;
    // A device client other than the lab's may not bind the device's address (the step CLI's requests come from 127.0.0.1).
    const driverSource = clients.device === 'lab' ? [] : [STEP_CLI_SOURCE];
    return [workerAddressRange(worker), `${applicationAddress(worker)}=${config.broker.applicationIdentity}`, ...driverSource];
  }

  /** A fresh loopback address, unique within this cucumber process and worker. */
  nextAddress(): string {
    return loopbackAddress(nextClientIndex++, this.session.worker);
  }

  private storeDir(name: string): string {
    return path.join(this.session.lab.workDir, 'clients', name);
  }

  /** Every simulated client of the run logs to one JSON-lines file next to the components' logs. */
  get clientLogFile(): string {
    return this.session.clientLogFile;
  }

  /** Which certificate client new devices use: the lab's Node client or the step CLI. */
  driverKind: DriverKind = 'node';

  private driverFor(on: LabSession, role: 'device' | 'application' = 'device'): CertificateDriver | undefined {
    // A scenario that picks the step CLI gets it; otherwise the target says which client (the lab's by default).
    const spec = this.driverKind === 'step-cli' ? 'step-cli' : on.clients[role];
    if (spec === 'step-cli') return new StepCliDriver({ http01: { mode: 'webroot', dir: on.acmeWebroot }, toolsBinDir: on.config.toolsBinDir });
    if (spec === 'lab') return undefined;
    return new CommandLineDriver({ command: spec.command, env: spec.env, http01Webroot: on.acmeWebroot });
  }

  /** The addresses the provisioning service sees a device's requests come from (the step CLI's come from 127.0.0.1). */
  sourceAddressesOf(device: CertificateClient): string[] {
    // A command line the team supplies may not bind the device's address either.
    return device.driver.kind === 'node' ? [device.address] : [device.address, STEP_CLI_SOURCE];
  }

  /** A new device of the shared lab, or of `on` (a lab of the scenario's own). */
  createDevice(identity?: Partial<DeviceIdentity>, on: LabSession = this.session): ReveosDevice {
    const index = nextClientIndex;
    const deviceId = identity?.deviceId ?? `RVS-${String(index).padStart(5, '0')}`;
    const device = new ReveosDevice(
      { deviceId, serialNumber: `SN${index}`, model: 'Reveos', firmwareVersion: '2.1', ...identity },
      {
        address: this.nextAddress(),
        storeDir: path.join(on.lab.workDir, 'clients', deviceId),
        endpoints: on.endpoints,
        topicRoot: on.config.broker.topicRoot,
        logFile: this.clientLogFile,
        driver: this.driverFor(on),
        // Seed 001 §6.3: the profile's key algorithm for the device's own keys and CSRs too.
        keyAlgorithm: on.config.pki.keyAlgorithm,
      },
    );
    this.devices.push(device);
    this.onCleanup(() => device.disconnect());
    return device;
  }

  async startScenarioLab(overrides: LabConfigInput): Promise<LabSession> {
    this.declared('own-lab');
    const lab = await openLabSession(overrides);
    this.onCleanup(() => lab.stop());
    this.scenarioLab = lab;
    return lab;
  }

  /**
   * The same device after its process restarted: a new object with the same identity, address
   * and certificate store, remembering nothing but what is on disk (NFR-REL-002); with new
   * firmware after an update.
   */
  restartDevice(device: ReveosDevice, changes: Partial<DeviceIdentity> = {}): ReveosDevice {
    const restarted = new ReveosDevice({ ...device.identity, ...changes }, {
      driver: device.driver,
      address: device.address,
      storeDir: device.store.dir,
      endpoints: this.session.endpoints,
      topicRoot: this.session.config.broker.topicRoot,
      logFile: this.clientLogFile,
      keyAlgorithm: this.session.config.pki.keyAlgorithm,
    });
    this.devices[this.devices.indexOf(device)] = restarted;
    this.onCleanup(() => restarted.disconnect());
    return restarted;
  }

  /** A managing application instance of the shared lab, not yet provisioned; disconnected after the scenario. */
  createApplication(commonName: string, address: string): LumiaApplication {
    const app = new LumiaApplication({
      commonName,
      address,
      storeDir: this.storeDir(commonName),
      endpoints: this.session.endpoints,
      topicRoot: this.session.config.broker.topicRoot,
      logFile: this.clientLogFile,
      firmware: firmwarePolicy(this.session.config.devices),
      keyAlgorithm: this.session.config.pki.keyAlgorithm,
      driver: this.driverFor(this.session, 'application'),
    });
    this.onCleanup(() => app.disconnect());
    return app;
  }

  /** The managing application, provisioned (ACME, X5C), connected and subscribed to all telemetry. */
  async runningApplication(options: { lifetimeSeconds?: number } = {}): Promise<LumiaApplication> {
    if (this.application) return this.application;
    const app = this.createApplication(this.session.config.broker.applicationIdentity, applicationAddress(this.session.worker));
    await app.join(options);
    this.application = app;
    return app;
  }

  /**
   * Powers a client up with the lab's firmware policy and a fast backoff, and keeps (and attaches)
   * its outcome: the path it took is what the scenario asserts.
   */
  async recordPowerUp(client: CertificateClient): Promise<DevicePowerUpOutcome | PowerUpOutcome> {
    // The application ignores the firmware policy: it is for devices.
    const settings: DevicePowerUpSettings = { firmware: firmwarePolicy(this.session.config.devices), backoff: FAST_BACKOFF };
    const outcome = await client.powerUp(settings);
    this.powerUps.set(client, outcome);
    this.attach(JSON.stringify({ client: client.commonName, state: outcome.state, path: outcome.path }, null, 1), { mediaType: 'application/json', fileName: `power-up-${client.commonName}.json` });
    return outcome;
  }

  /** Every component of the installation is up: the lab's processes run, or the target's endpoints answer. */
  async installationAnswers(): Promise<void> {
    const { owned, lab } = this.session;
    if (owned) {
      assert.ok(owned.stepCa.running && owned.bootstrapStepCa.running && owned.mosquitto.running && owned.provisioningService.running, 'every component of the lab must be running');
      return;
    }
    for (const url of [`${lab.ca.url}/health`, `${lab.bootstrapCa.url}/health`, `${lab.provisioning.url}/health`]) {
      const res = await request(url, { ca: [this.session.endpoints.trustedRootPem, this.session.endpoints.bootstrapRootPem] });
      assert.equal(res.status, 200, `${url} answered HTTP ${res.status}`);
    }
    await peerCertificateChain({ host: lab.broker.host, port: lab.broker.port, ca: this.session.endpoints.trustedRootPem }).catch((err: Error) => {
      // A broker that requires a client certificate may end the handshake for its want; it answered.
      if (!/certificate required|alert|socket hang up|ECONNRESET/i.test(err.message)) throw err;
    });
  }

  /**
   * The subject CN of the intermediate the operational step-ca signs with now: the issuer of its
   * own TLS certificate, read from a handshake (true of any installation, and after a rotation).
   */
  async currentIssuerName(): Promise<string> {
    const url = new URL(this.session.lab.ca.url);
    const [leaf] = await peerCertificateChain({ host: url.hostname, port: Number(url.port), ca: this.session.endpoints.trustedRootPem });
    return inspectCertificate(leaf!).issuerCommonName!;
  }

  /** Publishes one telemetry message from `device` and waits until the application has it. */
  async telemetryReachesApplication(device: ReveosDevice, readings?: Record<string, number>): Promise<ReceivedTelemetry> {
    const app = await this.runningApplication();
    const sent = await device.publishTelemetry(readings);
    return app.waitForTelemetry((t) => t.message.deviceId === device.identity.deviceId && t.message.seq === sent.seq);
  }

  /** A device provisioned (bootstrap and operational certificate) and connected to the broker. */
  async connectedDevice(identity?: Partial<DeviceIdentity>, on: LabSession = this.session): Promise<ReveosDevice> {
    const device = this.createDevice(identity, on);
    await device.join();
    return device;
  }

  /** The attacker: a device of the installation's network that obtained its own bootstrap credential by ACME. */
  async provisionedAttacker(): Promise<ReveosDevice> {
    const attacker = this.createDevice({ deviceId: `RVS-ATTACKER-${nextClientIndex}` });
    await attacker.provision();
    this.attacker = attacker;
    return attacker;
  }

  /** Marks every component log the suite can read, the audit log's clock and the inventory before an attack. */
  async beginAttack(): Promise<void> {
    const logs = Object.fromEntries(Object.values(this.session.evidence).filter((e) => COMPONENT_LOGS.includes(e.component as ComponentLog)).map((e) => [e.component, markLog(e.path)]));
    // An attack may run while the service is down (then nothing can be asked of its inventory).
    const inventory = this.session.owned?.provisioningService.running !== false ? new Set((await this.admin.inventory()).map((c) => c.serial)) : undefined;
    this.attackMarks = { logs, auditSince: new Date().toISOString(), inventory };
  }

  /** The scenario's tags (set before it runs): what it declares it needs. */
  scenarioTags: readonly string[] = [];
  /** The logs the scenario's assertions read, and where from: attached to the report after it. */
  readonly evidenceUsed = new Map<string, LogEvidence>();

  /** A step may only use what its scenario declares: a forgotten @needs tag fails loudly on every target, the lab's own included. */
  private declared(capability: Capability): void {
    if (!this.scenarioTags.includes(`@needs:${capability}`)) throw new Error(`this scenario uses "${capability}" (${CAPABILITY_DESCRIPTIONS[capability]}) without declaring it: tag it @needs:${capability}`);
    if (!this.session.grants.has(capability)) throw new CapabilityError(capability);
  }

  /** A step that relies on more than the endpoints without reaching into the lab (a short lifetime, the legacy listener). */
  uses(capability: Capability): void {
    this.declared(capability);
  }

  /** A certificate lifetime a scenario asks for: one below step-ca's default minimum (5 min) needs @needs:clock. */
  lifetime(seconds: number): number;
  lifetime(seconds: number | undefined): number | undefined;
  lifetime(seconds: number | undefined): number | undefined {
    if (seconds !== undefined && seconds < SHORTEST_DEFAULT_LIFETIME_SECONDS) this.uses('clock');
    return seconds;
  }

  /** The broker's password listener for firmware below "x" (@needs:legacy-listener). */
  legacyBroker(): { host: string; port: number } {
    this.uses('legacy-listener');
    const { host, legacyPort } = this.session.lab.broker;
    if (!legacyPort) throw new CapabilityError('legacy-listener');
    return { host, port: legacyPort };
  }

  /** The lab this process started, for what only it can do (its CAs, its processes, its configuration). */
  owned(capability: Capability): StartedLocalLab {
    this.declared(capability);
    const lab = this.session.owned;
    if (!lab) throw new CapabilityError(capability);
    return lab;
  }

  /** The log file of a component for a cause assertion (the broker's needs broker-log, step-ca's ca-log). */
  logFile(component: ComponentLog): string {
    this.declared(component === 'mosquitto' ? 'broker-log' : 'ca-log');
    const evidence = this.session.evidence[component];
    if (!evidence) throw new CapabilityError(component === 'mosquitto' ? 'broker-log' : 'ca-log');
    this.evidenceUsed.set(component, evidence);
    return evidence.path;
  }

  /** A lab of this scenario's own, with other settings than the shared one; stopped after the scenario. */

  /** Certificates the inventory gained since the attack began. */
  async issuedDuringAttack(): Promise<InventoryEntry[]> {
    const before = this.attackMarks?.inventory;
    if (!before) throw new Error('no attack was started in this scenario while the provisioning service ran');
    return (await this.admin.inventory()).filter((c) => !before.has(c.serial));
  }

  /** Runs an attack between beginAttack() and its outcome. */
  async runAttack(attempt: () => Promise<AttemptOutcome>): Promise<AttemptOutcome> {
    await this.beginAttack();
    this.attack = await attempt();
    return this.attack;
  }

  /** Where a component's log stood when the attack began. */
  attackMark(component: ComponentLog): LogMark {
    if (!this.attackMarks) throw new Error('no attack was started in this scenario');
    this.logFile(component);
    return this.attackMarks.logs[component]!;
  }

  /** The line a component wrote about the attack, containing `text`. */
  loggedDuringAttack(component: ComponentLog, text: string): Promise<string> {
    return this.loggedDuringAttackMatching(component, new RegExp(text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  }

  /** The line a component wrote about the attack, matching `pattern`. */
  async loggedDuringAttackMatching(component: ComponentLog, pattern: RegExp): Promise<string> {
    const line = await waitForLogLine(this.attackMark(component), pattern);
    this.attach(line, { mediaType: 'text/plain', fileName: `${component}.txt` });
    return line;
  }

  /** The provisioning service's audit record of a refusal with this reason, written during the attack. */
  async auditedDuringAttack(reason: string): Promise<AuditRecord> {
    const since = this.attackMarks?.auditSince;
    if (!since) throw new Error('no attack was started in this scenario');
    const record = await waitFor(
      `an audit record refusing with reason ${reason}`,
      async () => (await this.admin.audit(200)).find((r) => r.time >= since && r.decision === 'refused' && r.reason === reason),
      { timeoutMs: 5000 },
    );
    this.attach(JSON.stringify(record), { mediaType: 'application/json', fileName: 'audit.json' });
    return record;
  }

  /** The engineer revokes a client's current operational certificate by its serial (the attack marks start here). */
  async revokeOperational(client: CertificateClient): Promise<void> {
    const serial = inspectCertificate(client.store.loadOperational()!.certificateChainPem).serialNumber;
    await this.beginAttack();
    const at = performance.now();
    this.revoked.set(client, { at });
    await this.admin.revoke(serial, 'keyCompromise');
  }

  /** Waits until the broker has closed a revoked client's connection; returns how long that took after the revocation. */
  async disconnectedAfterRevocation(client: CertificateClient, timeoutMs: number): Promise<number> {
    const revocation = this.revoked.get(client);
    if (!revocation) throw new Error(`${client.commonName} was not revoked in this scenario`);
    const closedAt = await waitFor(`the broker to close ${client.commonName}'s connection`, () => client.disconnectedAt.find((t) => t >= revocation.at), { timeoutMs });
    revocation.disconnectMs = closedAt - revocation.at;
    return revocation.disconnectMs;
  }

  /** None of these clients lost its connection during the scenario. */
  assertUndisturbed(clients: CertificateClient[]): void {
    for (const client of clients) {
      assert.equal(client.unexpectedDisconnects, 0, `${client.commonName} was disconnected`);
      assert.equal(client.connected, true, `${client.commonName} is not connected`);
    }
  }

  /** The application (if started) and every device of the scenario. */
  allClients(): CertificateClient[] {
    return [...(this.application ? [this.application] : []), ...this.devices];
  }

  get lastDevice(): ReveosDevice {
    const device = this.devices.at(-1);
    if (!device) throw new Error('no device was created in this scenario');
    return device;
  }

  onCleanup(cleanup: () => Promise<unknown>): void {
    this.cleanups.push(cleanup);
  }

  /** Runs every cleanup, last registered first and one at a time, even if some fail; then reports the failures together. */
  async cleanup(): Promise<void> {
    const failures: unknown[] = [];
    while (this.cleanups.length > 0) {
      try {
        await this.cleanups.pop()!();
      } catch (err) {
        failures.push(err);
      }
    }
    if (failures.length > 0) throw new AggregateError(failures, 'scenario cleanup failed');
  }
}

setWorldConstructor(LabWorld);
