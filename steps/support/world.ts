// The World of a scenario: the clients it created, the facts it observed for later steps, and the
// helpers it owns for the scenario's concerns (attack marks, revocations, broker and TLS probes,
// external-CA faults). What every scenario has before that (its lab, its declared capabilities,
// its logs, its cleanups) is the ScenarioBase it extends. Fields are its one state mechanism.
import assert from 'node:assert/strict';
import path from 'node:path';
import { setWorldConstructor, type IWorldOptions } from '@cucumber/cucumber';
import { LumiaApplication, type ReceivedTelemetry } from '../../simulators/app/lumia-application.ts';
import { ReveosDevice, type DeviceIdentity, type DevicePowerUpOutcome, type DevicePowerUpSettings } from '../../simulators/device/reveos-device.ts';
import type { PowerUpOutcome } from '../../simulators/client/power-up.ts';
import type { AcmeAnswer, RawAcmeClient, SignedAcmeRequest } from '../../simulators/adversary/acme-raw.ts';
import type { ForgedPublish } from '../../simulators/adversary/forged-publish.ts';
import type { ListeningSession } from '../../simulators/adversary/listening-session.ts';
import type { ImpostorBroker } from '../../simulators/adversary/impostor-broker.ts';
import { inspectCertificate, type CertificateFacts } from '../../x509/certificates.ts';
import { peerCertificateChain } from '../../net/peer-certificates.ts';
import { request } from '../../net/https-client.ts';
import type { CertificateClient } from '../../simulators/client/certificate-client.ts';
import type { CertificateDriver, DriverKind } from '../../simulators/client/certificate-driver.ts';
import { STEP_CLI_SOURCE, StepCliDriver } from '../../simulators/client/step-cli-driver.ts';
import { CommandLineDriver } from '../../simulators/client/command-line-driver.ts';
import type { StoredPair } from '../../simulators/client/certificate-store.ts';
import { firmwarePolicy } from '../../config/config.ts';
import type { LabSession } from './lab-session.ts';
import type { AttemptedRequest, DamagedStore, ExternalCaFacts, InterruptedRenewal } from './scenario-facts.ts';
import { ScenarioBase } from './scenario-base.ts';
import { AttackMarks } from './attack-marks.ts';
import { Revocations } from './revocations.ts';
import { BrokerProbe } from './broker-probe.ts';
import { TlsProbes } from './tls-probes.ts';

/** Retries in scenarios back off quickly: the components are local. */
const FAST_BACKOFF = { initialMs: 100, maxMs: 1000, maxAttempts: 6 };

export class LabWorld extends ScenarioBase {
  readonly devices: ReveosDevice[] = [];
  application: LumiaApplication | undefined;
  /** The application's store as a scenario damaged it before power-up. */
  damagedStore: DamagedStore | undefined;
  /** A renewal the device process died in, between step-ca's issuance and the store. */
  interruptedRenewal: InterruptedRenewal | undefined;
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
  /** The issuing intermediate before the lab's own root revoked it (UC-05). */
  intermediateSerialBefore: string | undefined;
  /** What the service's x5c-identity webhook answered when a scenario asked it as step-ca would. */
  webhookAnswer: { allow: boolean; error?: { code: string; message: string } } | undefined;
  /** A certificate a scenario made on purpose, and what the broker did with it. */
  madeCertificate: { certificateChainPem: string; privateKeyPem: string } | undefined;
  brokerSession: { connected: boolean; logLine?: string } | undefined;
  /** Where the device's log stood when its CRL distribution point went away (and, later, came back). */
  crlCutAt: number | undefined;
  /** Which certificate client new devices use: the lab's Node client or the step CLI. */
  driverKind: DriverKind = 'node';

  /** Where the system stood when the last attack began, and what the attack got back. */
  readonly attack = new AttackMarks(this);
  readonly revocations = new Revocations(this, this.attack);
  /** MQTT connections that report how the broker answered (refusal scenarios). */
  readonly brokerProbe = new BrokerProbe(this);
  /** TLS probes of the listeners and what each recorded of a refusal. */
  readonly tls = new TlsProbes(this);
  /** UC-04 with an external CA: its operator's revocation, faults, its answers to attacks. */
  readonly externalCa: ExternalCaFacts = {};

  constructor(options: IWorldOptions) {
    super(options);
  }

  /**
   * The white list of the installation: every address of this worker's block, and the
   * application's own address naming its identity (the only way a reserved identity is enrolled).
   */
  get installationWhitelist(): string[] {
    const { worker, config, clients, addresses } = this.session;
    // A device client other than the lab's may not bind the device's address (the step CLI's requests come from 127.0.0.1).
    const driverSource = clients.device === 'lab' ? [] : [STEP_CLI_SOURCE];
    return [addresses.workerRange(worker), `${addresses.applicationAddress(worker)}=${config.broker.applicationIdentity}`, ...driverSource];
  }

  private storeDir(name: string): string {
    return path.join(this.session.lab.workDir, 'clients', name);
  }

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
  createDevice(identity?: Partial<DeviceIdentity>, on: LabSession = this.session, address = this.nextAddress()): ReveosDevice {
    const index = this.session.clientNumbers.upcoming;
    const deviceId = identity?.deviceId ?? `RVS-${String(index).padStart(5, '0')}`;
    const device = new ReveosDevice(
      { deviceId, serialNumber: `SN${index}`, model: 'Reveos', firmwareVersion: '2.1', ...identity },
      {
        address,
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
    const app = this.createApplication(this.session.config.broker.applicationIdentity, this.session.addresses.applicationAddress(this.session.worker));
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

  /** The attacker: a device of the installation's network (on `address`, e.g. one it shares) that obtained its own bootstrap credential by ACME. */
  async provisionedAttacker(address?: string): Promise<ReveosDevice> {
    const attacker = this.createDevice({ deviceId: `RVS-ATTACKER-${this.session.clientNumbers.upcoming}` }, this.session, address);
    await attacker.provision();
    this.attacker = attacker;
    return attacker;
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
}

setWorldConstructor(LabWorld);
