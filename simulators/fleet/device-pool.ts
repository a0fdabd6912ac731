// The devices of a fleet run, behind one interface whether they live in this thread
// (LocalDevicePool) or are spread over worker threads (WorkerDevicePool, device-worker.ts).
// The pool runs each device's own workflow; the fleet runner only launches, counts and stops.
import path from 'node:path';
import { issueLeaf, type Issuer } from '../../x509/certificate-authority.ts';
import { generateKeyObjects, importPrivateKeyPem } from '../../x509/keys.ts';
import { createKeyAndCsr } from '../../x509/csr.ts';
import type { PreMadeKeys } from '../client/certificate-driver.ts';
import { decodeCertificate } from '../../x509/x509.ts';
import { deviceSan } from '../device/device-identity.ts';
import type { ChallengePublisher } from '../acme/http01-responder.ts';
import type { DeviceIdentity } from '../device/device-identity.ts';
import { ReveosDevice } from '../device/reveos-device.ts';
import { AddressPlan } from '../client/addresses.ts';
import { inspectCertificate } from '../../x509/certificates.ts';
import { waitFor } from '../../environments/wait.ts';
import type { ThreadStats } from './thread-stats.ts';
import { flushClientLogs } from '../client/client-log.ts';
import { certificateTrack, DEFAULT_FIRMWARE_POLICY } from '../../config/firmware-policy.ts';
import type { LegacyCredential } from '../client/certificate-store.ts';
import { keepRenewing } from './renewal-loop.ts';

/** Devices retry refusals and errors quickly in a lab run, and give up after a bounded time. */
export const FLEET_BACKOFF = { initialMs: 250, maxMs: 4000, maxAttempts: 10, jitter: 0.3 };
/** The fleet's devices' key algorithm (the client's default; the lab's own PKI follows its configuration). */
const FLEET_KEY_ALGORITHM = 'ecdsa-p256';

/** Devices reconnect by themselves after the broker went away. */
export const RECONNECT_MS = 500;

export type { DevicePool, DevicePoolEvent, DevicePoolSpec, DeviceTally, DirectIssuer, PoolTally, RetiredDevice } from './device-pool-contract.ts';
import type { DevicePool, DevicePoolEvent, DevicePoolSpec, PoolTally, RetiredDevice } from './device-pool-contract.ts';

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
  #addresses: AddressPlan | undefined;

  constructor(
    private readonly spec: DevicePoolSpec,
    private readonly responder: ChallengePublisher,
    private readonly emit: (event: DevicePoolEvent) => void,
  ) {}

  /** Device `globalIndex`'s address: the same in every thread and segment. */
  private address(globalIndex: number): string {
    this.#addresses ??= AddressPlan.fromCidr(this.spec.clientAddresses);
    return this.#addresses.address(globalIndex - (this.spec.clientAddressOffset ?? 0));
  }

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
    if (!device) this.devices.set(identity.deviceId, (device = this.create(identity, this.address(globalIndex), undefined, preMadeKeys)));
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
      this.device(identity, globalIndex, await LocalDevicePool.preMake(identity, this.address(globalIndex)));
      return;
    }
    const spec = this.spec.directIssuer;
    if (!spec) return;
    this.issuer ??= (async () => {
      const certificate = decodeCertificate(spec.certificatePem);
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
