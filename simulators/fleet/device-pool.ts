// The devices of a fleet run, behind one interface whether they live in this thread
// (LocalDevicePool) or are spread over worker threads (WorkerDevicePool, device-worker.ts).
// The pool runs each device's own workflow; the fleet runner only launches, counts and stops.
import path from 'node:path';
import type { KeyAlgorithm } from '../../config/config.ts';
import { issueLeaf, type Issuer } from '../../environments/pki/certificate-authority.ts';
import { generateKeyObjects, importPrivateKeyPem } from '../../x509/keys.ts';
import { createKeyAndCsr } from '../../x509/csr.ts';
import type { PreMadeKeys } from '../client/certificate-driver.ts';
import { x509 } from '../../x509/x509.ts';
import { deviceSan } from '../device/device-identity.ts';
import type { PhaseTimings } from '../client/acme-bootstrap.ts';
import type { ChallengePublisher } from '../acme/http01-responder.ts';
import type { DeviceIdentity } from '../device/device-identity.ts';
import { ReveosDevice } from '../device/reveos-device.ts';
import { loopbackAddress } from '../client/addresses.ts';
import { inspectCertificate } from '../../x509/certificates.ts';
import type { LabEndpoints } from '../client/lab-endpoints.ts';
import { waitFor } from '../../environments/wait.ts';
import type { ThreadStats } from './thread-stats.ts';
import { flushClientLogs } from '../client/client-log.ts';
import { certificateTrack, DEFAULT_FIRMWARE_POLICY, type CertificateTrack, type FirmwarePolicy } from '../../config/firmware-policy.ts';
import type { LegacyCredential } from '../client/certificate-store.ts';
import { keepRenewing, type RenewalEvent } from './renewal-loop.ts';

/** Devices retry refusals and errors quickly in a lab run, and give up after a bounded time. */
export const FLEET_BACKOFF = { initialMs: 250, maxMs: 4000, maxAttempts: 10, jitter: 0.3 };
/** The fleet's devices' key algorithm (the client's default; the lab's own PKI follows its configuration). */
const FLEET_KEY_ALGORITHM = 'ecdsa-p256';

/** Devices reconnect by themselves after the broker went away. */
export const RECONNECT_MS = 500;

/** Everything a pool needs, as plain data so it can cross to a worker thread. */
export interface DevicePoolSpec {
  endpoints: Omit<LabEndpoints, 'responder'>;
  topicRoot: string;
  logFile: string;
  storeRoot: string;
  qos: 0 | 1;
  telemetryIntervalMs: number;
  /** Connected devices publish telemetry, or only hold their session (a connect storm). */
  operate: 'telemetry' | 'hold';
  certLifetimeSeconds?: number;
  /** seed 000's mixed fleet: which firmware provisions (and renews) itself; the lab's devices.* settings. */
  firmware?: FirmwarePolicy;
  /**
   * MQTT-scale runs: devices get their certificate straight from the lab's issuing CA instead of
   * ACME + X5C, so thousands of distinct identities connect in seconds. PEMs, so a worker thread
   * can issue too; the key never leaves the lab's process.
   */
  directIssuer?: DirectIssuer;
  /** full-flow with `--pre-made-keys`: each device's keys and CSRs made by prepare(), before the clock starts. */
  preMadeKeys?: boolean;
}

/** The lab's issuing CA, for `--certificates issued`. */
export interface DirectIssuer {
  certificatePem: string;
  privateKeyPem: string;
  rootPem: string;
  algorithm: KeyAlgorithm;
  crlUrl: string;
}

export type DevicePoolEvent =
  /** `at`: epoch milliseconds (timeOrigin + now), comparable across threads. */
  | { type: 'provisioned'; deviceId: string; timings: PhaseTimings; totalMs: number; retried: boolean; at: number }
  | { type: 'failed'; deviceId: string; cause: string }
  /** A device that does not provision itself came up: with the service team's certificate, or on the legacy listener. */
  | { type: 'connected'; deviceId: string; track: Exclude<CertificateTrack, 'self-provisioning'>; authentication: 'certificate' | 'legacy-credential'; connectMs: number; at: number }
  | RenewalEvent;

/** What the pool knows of each device at the end of a run. */
export interface DeviceTally {
  /** The last sequence number that counts: the last sent, or for a retired device the last acknowledged. */
  lastSeq: number;
  /** When (epoch ms) the broker or the network closed its connection, not the device itself. */
  unexpectedDisconnects: number[];
}

export interface PoolTally {
  devices: Record<string, DeviceTally>;
  errors: string[];
}

/** A device taken off the fleet because its certificate was revoked. */
export interface RetiredDevice {
  /** The last sequence number the broker acknowledged: what the application may expect. */
  acknowledged: number;
  /** The last one it sent: those above `acknowledged` are excluded from the accounting. */
  sent: number;
}

export interface DevicePool {
  /** `--certificates issued`: the device's certificate from the lab CA; `--pre-made-keys`: its keys and CSRs; before the run is measured. */
  prepare(identity: DeviceIdentity, globalIndex: number): Promise<void>;
  /** Brings a device up; resolves once it is connected, rejects with the cause when it gave up (the event says so too). */
  launch(identity: DeviceIdentity, globalIndex: number): Promise<void>;
  /** Firmware the service team certifies: the device makes a key (kept in its store) and a CSR for the engineer. */
  requestCertificate(identity: DeviceIdentity, globalIndex: number): Promise<string>;
  /** Installs the certificate the engineer had issued, powers up with it and operates; resolves once connected. */
  launchCertified(identity: DeviceIdentity, globalIndex: number, certificateChainPem: string): Promise<void>;
  /** Below "x": keeps the engineer's legacy credential (0600), powers up on the legacy listener and operates. */
  launchLegacy(identity: DeviceIdentity, globalIndex: number, credential: LegacyCredential): Promise<void>;
  /** Messages published so far (at most a fraction of a second old for worker pools). */
  sent(): number;
  connectedIds(): Promise<string[]>;
  /** A tenth of the connected devices (at least one) restart their process; resolves with their ids once back. */
  restartSome(): Promise<string[]>;
  /** Serial numbers (hex) of these devices' operational certificates. */
  operationalSerials(ids: string[]): Promise<Record<string, string>>;
  /** Resolves with the epoch ms at which the broker closed the device's connection after `sinceEpochMs`. */
  disconnectedAfter(id: string, sinceEpochMs: number, timeoutMs: number): Promise<number>;
  /** Takes revoked devices off the fleet: no telemetry, no reconnects. */
  retire(ids: string[]): Promise<Record<string, RetiredDevice>>;
  /** Stops telemetry and renewals, disconnects, and tallies each device; `errors`: causes of disconnects that failed. */
  stop(): Promise<PoolTally>;
  /**
   * CPU and event-loop delay of the pool's own threads by label (devices-1, ...); none when the
   * devices run in the caller's thread. `reset`: the delay histograms start anew (the clock starts).
   */
  threadStats(reset?: boolean): Promise<Record<string, ThreadStats>>;
}

/** An error's cause as a short, stable label for "errors by cause". */
export function causeOf(error: unknown): string {
  const e = error as { name?: string; message?: string };
  const message = (e?.message ?? String(error)).replace(/\s+/g, ' ');
  const short = message.replace(/\b[0-9a-f]{16,}\b/gi, '…').replace(/127\.\d+\.\d+\.\d+(:\d+)?/g, '<addr>').slice(0, 120);
  return `${e?.name ?? 'Error'}: ${short}`;
}

/** performance.now() of this thread as epoch milliseconds, comparable across threads. */
const epoch = (t: number) => performance.timeOrigin + t;

export class LocalDevicePool implements DevicePool {
  private readonly devices = new Map<string, ReveosDevice>();
  private readonly retired = new Map<string, RetiredDevice>();
  private readonly renewalLoops: Promise<void>[] = [];
  private readonly stopping = new AbortController();

  constructor(
    private readonly spec: DevicePoolSpec,
    private readonly responder: ChallengePublisher,
    private readonly emit: (event: DevicePoolEvent) => void,
  ) {}

  private create(identity: DeviceIdentity, address: string, lastSeq?: number, preMadeKeys?: PreMadeKeys): ReveosDevice {
    return new ReveosDevice(identity, {
      keyAlgorithm: FLEET_KEY_ALGORITHM,
      preMadeKeys,
      address,
      storeDir: path.join(this.spec.storeRoot, identity.deviceId),
      endpoints: { ...this.spec.endpoints, responder: this.responder },
      topicRoot: this.spec.topicRoot,
      logFile: this.spec.logFile,
      reconnectPeriodMs: RECONNECT_MS,
      lastSeq,
    });
  }

  private device(identity: DeviceIdentity, globalIndex: number, preMadeKeys?: PreMadeKeys): ReveosDevice {
    let device = this.devices.get(identity.deviceId);
    if (!device) this.devices.set(identity.deviceId, (device = this.create(identity, loopbackAddress(globalIndex), undefined, preMadeKeys)));
    return device;
  }

  /** The keys and CSRs the device would make during its flow, made now. */
  private static async preMake(identity: DeviceIdentity, address: string): Promise<PreMadeKeys> {
    const [account, bootstrap, operational] = await Promise.all([
      generateKeyObjects('ecdsa-p256'),
      createKeyAndCsr({ commonName: address, ipAddresses: [address] }, FLEET_KEY_ALGORITHM),
      createKeyAndCsr({ commonName: identity.deviceId, uris: [deviceSan(identity.deviceId)] }, FLEET_KEY_ALGORITHM),
    ]);
    return { accountKey: account.privateKey, bootstrap, operational };
  }

  /** The device's own power-up workflow: validation, ACME, X5C, connect, with retries and backoff. */
  private async bringUp(device: ReveosDevice): Promise<boolean> {
    const outcome = await device.powerUp({ backoff: FLEET_BACKOFF, lifetimeSeconds: this.spec.certLifetimeSeconds, firmware: this.spec.firmware });
    if (outcome.state !== 'connected') throw new Error('error' in outcome && outcome.error ? outcome.error : `power-up ended in ${outcome.state}`);
    return 'attempts' in outcome && Object.values(outcome.attempts).some((a) => a.refusals + a.errors > 0);
  }

  private issuer: Promise<Issuer> | undefined;

  /** A client-only certificate from the lab CA, as the X5C template would make it. */
  async prepare(identity: DeviceIdentity, globalIndex: number): Promise<void> {
    if (this.spec.preMadeKeys && !this.spec.directIssuer) {
      this.device(identity, globalIndex, await LocalDevicePool.preMake(identity, loopbackAddress(globalIndex)));
      return;
    }
    const spec = this.spec.directIssuer;
    if (!spec) return;
    this.issuer ??= (async () => {
      const certificate = new x509.X509Certificate(spec.certificatePem);
      const publicKey = await certificate.publicKey.export();
      return { certificate, keys: { privateKey: await importPrivateKeyPem(spec.privateKeyPem, spec.algorithm), publicKey }, algorithm: spec.algorithm };
    })();
    const device = this.device(identity, globalIndex);
    const id = identity.deviceId;
    const leaf = await issueLeaf(await this.issuer, { commonName: id, uris: [deviceSan(id)], extendedKeyUsages: ['clientAuth'], crlDistributionPoints: [spec.crlUrl] });
    device.store.saveCaCertificate(spec.rootPem);
    device.store.saveOperational({ certificateChainPem: `${leaf.certificatePem}\n${spec.certificatePem}\n`, privateKeyPem: leaf.privateKeyPem });
  }

  async launch(identity: DeviceIdentity, globalIndex: number): Promise<void> {
    const device = this.device(identity, globalIndex);
    const started = performance.now();
    let retried = false;
    try {
      // Issued certificates were stored by prepare(): the device only connects.
      if (this.spec.directIssuer) await device.connect();
      else retried = await this.bringUp(device);
    } catch (error) {
      this.emit({ type: 'failed', deviceId: device.identity.deviceId, cause: causeOf(error) });
      throw error;
    }
    this.emit({ type: 'provisioned', deviceId: device.identity.deviceId, timings: { ...device.timings }, totalMs: performance.now() - started, retried, at: epoch(performance.now()) });
    this.startOperation(device);
  }

  /** The service team's path: the key stays in the device's store, the CSR goes to the engineer. */
  requestCertificate(identity: DeviceIdentity, globalIndex: number): Promise<string> {
    return this.device(identity, globalIndex).createCertificateRequest();
  }

  launchCertified(identity: DeviceIdentity, globalIndex: number, certificateChainPem: string): Promise<void> {
    return this.launchManaged(identity, globalIndex, 'manual-certificate', (device) => device.installCertificate({ certificateChainPem }));
  }

  launchLegacy(identity: DeviceIdentity, globalIndex: number, credential: LegacyCredential): Promise<void> {
    return this.launchManaged(identity, globalIndex, 'legacy', async (device) => device.installLegacyCredential(credential));
  }

  /** A device the service team equipped: its own power-up (validation, then the broker its credential opens). */
  private async launchManaged(identity: DeviceIdentity, globalIndex: number, track: 'manual-certificate' | 'legacy', install: (device: ReveosDevice) => Promise<unknown>): Promise<void> {
    const device = this.device(identity, globalIndex);
    try {
      await install(device);
      const started = performance.now();
      const outcome = await device.powerUp({ backoff: FLEET_BACKOFF, firmware: this.spec.firmware });
      if (outcome.state !== 'connected' || !outcome.authentication) throw new Error('error' in outcome && outcome.error ? outcome.error : `power-up ended in ${outcome.state}`);
      this.emit({ type: 'connected', deviceId: identity.deviceId, track, authentication: outcome.authentication, connectMs: performance.now() - started, at: epoch(performance.now()) });
    } catch (error) {
      this.emit({ type: 'failed', deviceId: identity.deviceId, cause: causeOf(error) });
      throw error;
    }
    this.startOperation(device);
  }

  private startOperation(device: ReveosDevice): void {
    if (this.spec.operate === 'telemetry') device.startTelemetry(this.spec.telemetryIntervalMs, this.spec.qos);
    // Only firmware that provisions itself renews itself (seed 000); its timer runs until the run ends.
    if (!this.spec.certLifetimeSeconds || certificateTrack(device.identity.firmwareVersion, this.spec.firmware ?? DEFAULT_FIRMWARE_POLICY) !== 'self-provisioning') return;
    const id = device.identity.deviceId;
    this.renewalLoops.push(keepRenewing(device, { signal: this.stopping.signal, active: () => !this.retired.has(id) && this.devices.get(id) === device, emit: this.emit, causeOf }));
  }

  private live(): ReveosDevice[] {
    return [...this.devices.values()].filter((d) => !this.retired.has(d.identity.deviceId));
  }

  sent(): number {
    let sum = 0;
    for (const d of this.devices.values()) sum += this.retired.get(d.identity.deviceId)?.acknowledged ?? d.lastSeq;
    return sum;
  }

  async connectedIds(): Promise<string[]> {
    return this.live().filter((d) => d.connected).map((d) => d.identity.deviceId);
  }

  async restartSome(): Promise<string[]> {
    // A new object on the same store, with its persisted telemetry counter, through the full
    // power-up workflow: what a device whose process restarted does.
    const connected = this.live().filter((d) => d.connected);
    const count = Math.min(connected.length, Math.max(1, Math.ceil(connected.length / 10)));
    const victims = Array.from({ length: count }, (_, i) => connected[Math.floor((i * connected.length) / count)]!);
    const back = await Promise.all(
      victims.map(async (old) => {
        await old.disconnect();
        const restarted = this.create(old.identity, old.address, old.lastSeq);
        this.devices.set(old.identity.deviceId, restarted);
        try {
          await this.bringUp(restarted);
        } catch (error) {
          this.emit({ type: 'failed', deviceId: old.identity.deviceId, cause: causeOf(error) });
          return undefined;
        }
        this.startOperation(restarted);
        return restarted.identity.deviceId;
      }),
    );
    return back.filter((id): id is string => id !== undefined);
  }

  private known(id: string): ReveosDevice {
    const device = this.devices.get(id);
    if (!device) throw new Error(`no device ${id} in this pool`);
    return device;
  }

  async operationalSerials(ids: string[]): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const id of ids) {
      const operational = this.devices.get(id)?.store.loadOperational();
      if (operational) out[id] = inspectCertificate(operational.certificateChainPem).serialNumber;
    }
    return out;
  }

  async disconnectedAfter(id: string, sinceEpochMs: number, timeoutMs: number): Promise<number> {
    const device = this.known(id);
    // The close is timed by the device's own close handler; this only finds that record.
    const closedAt = await waitFor(`the broker to close ${id}'s connection`, () => device.disconnectedAt.map(epoch).find((t) => t >= sinceEpochMs), { timeoutMs, intervalMs: 5 });
    return closedAt;
  }

  async retire(ids: string[]): Promise<Record<string, RetiredDevice>> {
    const out: Record<string, RetiredDevice> = {};
    for (const id of ids) {
      const device = this.known(id);
      const retired = { sent: device.lastSeq, acknowledged: device.retire() };
      this.retired.set(id, retired);
      out[id] = retired;
    }
    return out;
  }

  /** The devices run in the caller's thread: it measures itself. */
  async threadStats(): Promise<Record<string, ThreadStats>> {
    return {};
  }

  async stop(): Promise<PoolTally> {
    this.stopping.abort();
    const live = this.live();
    await Promise.all(live.map((d) => d.stopTelemetry()));
    await Promise.all(this.renewalLoops);
    const tally = Object.fromEntries(
      [...this.devices.values()].map((d) => [
        d.identity.deviceId,
        { lastSeq: this.retired.get(d.identity.deviceId)?.acknowledged ?? d.lastSeq, unexpectedDisconnects: d.disconnectedAt.map(epoch) },
      ]),
    );
    const closed = await Promise.allSettled(live.map((d) => d.disconnect()));
    // A worker thread is terminated after this: its devices' log lines must be in the file first.
    await flushClientLogs();
    return { devices: tally, errors: closed.flatMap((c) => (c.status === 'rejected' ? [`disconnect: ${causeOf(c.reason)}`] : [])) };
  }
}
