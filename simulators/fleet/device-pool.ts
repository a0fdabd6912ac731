// The devices of a fleet run, behind one interface whether they live in this thread
// (LocalDevicePool) or are spread over worker threads (WorkerDevicePool, device-workers.ts).
// The pool runs each device's own workflow; the fleet runner only launches, counts and stops.
import path from 'node:path';
import type { KeyAlgorithm } from '../../environments/config.ts';
import { issueLeaf, type Issuer } from '../../environments/pki/certificate-authority.ts';
import { importPrivateKeyPem } from '../../x509/keys.ts';
import { x509 } from '../../x509/x509.ts';
import { deviceSan } from '../device/device-identity.ts';
import type { PhaseTimings } from '../client/acme-bootstrap.ts';
import type { ChallengePublisher } from '../acme/http01-responder.ts';
import type { DeviceIdentity } from '../device/device-identity.ts';
import { ReveosDevice } from '../device/reveos-device.ts';
import { loopbackAddress } from '../client/addresses.ts';
import type { LabEndpoints } from '../client/lab-endpoints.ts';

/** Devices retry refusals and errors quickly in a lab run, and give up after a bounded time. */
export const FLEET_BACKOFF = { initialMs: 250, maxMs: 4000, maxAttempts: 10, jitter: 0.3 };
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
  certLifetimeSeconds?: number;
  /**
   * MQTT-scale runs: devices get their certificate straight from the lab's issuing CA instead of
   * ACME + X5C, so thousands of distinct identities connect in seconds. PEMs, so a worker thread
   * can issue too; the key never leaves the lab's process.
   */
  directIssuer?: DirectIssuer;
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
  | { type: 'renewed'; deviceId: string; ms: number };

export interface DevicePool {
  launch(identity: DeviceIdentity, globalIndex: number): void;
  /** Messages published so far (at most a fraction of a second old for worker pools). */
  sent(): number;
  connectedIds(): Promise<string[]>;
  /** A tenth of the connected devices (at least one) restart their process; resolves with their ids once back. */
  restartSome(): Promise<string[]>;
  /** Stops telemetry and renewals, disconnects, and returns each device's last sequence number. */
  stop(): Promise<Record<string, number>>;
}

/** An error's cause as a short, stable label for "errors by cause". */
export function causeOf(error: unknown): string {
  const e = error as { name?: string; message?: string };
  const message = (e?.message ?? String(error)).replace(/\s+/g, ' ');
  const short = message.replace(/\b[0-9a-f]{16,}\b/gi, '…').replace(/127\.\d+\.\d+\.\d+(:\d+)?/g, '<addr>').slice(0, 120);
  return `${e?.name ?? 'Error'}: ${short}`;
}

export class LocalDevicePool implements DevicePool {
  private readonly devices: ReveosDevice[] = [];
  private readonly renewalLoops: Promise<void>[] = [];
  private readonly stopping = new AbortController();

  constructor(
    private readonly spec: DevicePoolSpec,
    private readonly responder: ChallengePublisher,
    private readonly emit: (event: DevicePoolEvent) => void,
  ) {}

  private create(identity: DeviceIdentity, address: string, lastSeq?: number): ReveosDevice {
    return new ReveosDevice(identity, {
      address,
      storeDir: path.join(this.spec.storeRoot, identity.deviceId),
      endpoints: { ...this.spec.endpoints, responder: this.responder },
      topicRoot: this.spec.topicRoot,
      logFile: this.spec.logFile,
      reconnectPeriodMs: RECONNECT_MS,
      lastSeq,
    });
  }

  /** The device's own power-up workflow: validation, ACME, X5C, connect, with retries and backoff. */
  private async bringUp(device: ReveosDevice): Promise<boolean> {
    const outcome = await device.powerUp({ backoff: FLEET_BACKOFF, lifetimeSeconds: this.spec.certLifetimeSeconds });
    if (outcome.state !== 'connected') throw new Error('error' in outcome && outcome.error ? outcome.error : `power-up ended in ${outcome.state}`);
    return 'attempts' in outcome && Object.values(outcome.attempts).some((a) => a.refusals + a.errors > 0);
  }

  launch(identity: DeviceIdentity, globalIndex: number): void {
    const device = this.create(identity, loopbackAddress(globalIndex));
    this.devices.push(device);
    void this.run(device);
  }

  private issuer: Promise<Issuer> | undefined;

  /** A client-only certificate from the lab CA, as the X5C template would make it. */
  private async issueDirectly(device: ReveosDevice): Promise<void> {
    const spec = this.spec.directIssuer!;
    this.issuer ??= (async () => {
      const certificate = new x509.X509Certificate(spec.certificatePem);
      const publicKey = await certificate.publicKey.export();
      return { certificate, keys: { privateKey: await importPrivateKeyPem(spec.privateKeyPem, spec.algorithm), publicKey }, algorithm: spec.algorithm };
    })();
    const id = device.identity.deviceId;
    const leaf = await issueLeaf(await this.issuer, { commonName: id, uris: [deviceSan(id)], extendedKeyUsages: ['clientAuth'], crlDistributionPoints: [spec.crlUrl] });
    device.store.saveCaCertificate(spec.rootPem);
    device.store.saveOperational({ certificateChainPem: `${leaf.certificatePem}\n${spec.certificatePem}\n`, privateKeyPem: leaf.privateKeyPem });
    await device.connect();
  }

  private async run(device: ReveosDevice): Promise<void> {
    const started = performance.now();
    let retried = false;
    try {
      if (this.spec.directIssuer) await this.issueDirectly(device);
      else retried = await this.bringUp(device);
    } catch (error) {
      this.emit({ type: 'failed', deviceId: device.identity.deviceId, cause: causeOf(error) });
      return;
    }
    this.emit({ type: 'provisioned', deviceId: device.identity.deviceId, timings: { ...device.timings }, totalMs: performance.now() - started, retried, at: performance.timeOrigin + performance.now() });
    this.startOperation(device);
  }

  private startOperation(device: ReveosDevice): void {
    device.startTelemetry(this.spec.telemetryIntervalMs, this.spec.qos);
    if (!this.spec.certLifetimeSeconds) return;
    this.renewalLoops.push(
      (async () => {
        // Renew at 2/3 of each lifetime until the run ends; each renewal moves the session.
        while (!this.stopping.signal.aborted) {
          try {
            await device.renewWhenDue(undefined, this.stopping.signal);
          } catch (error) {
            if (!this.stopping.signal.aborted) this.emit({ type: 'failed', deviceId: device.identity.deviceId, cause: causeOf(error) });
            return;
          }
          this.emit({ type: 'renewed', deviceId: device.identity.deviceId, ms: device.timings.renewal ?? 0 });
        }
      })(),
    );
  }

  sent(): number {
    return this.devices.reduce((sum, d) => sum + d.lastSeq, 0);
  }

  async connectedIds(): Promise<string[]> {
    return this.devices.filter((d) => d.connected).map((d) => d.identity.deviceId);
  }

  async restartSome(): Promise<string[]> {
    // A new object on the same store, with its persisted telemetry counter, through the full
    // power-up workflow: what a device whose process restarted does.
    const connected = this.devices.filter((d) => d.connected);
    const count = Math.min(connected.length, Math.max(1, Math.ceil(connected.length / 10)));
    const victims = Array.from({ length: count }, (_, i) => connected[Math.floor((i * connected.length) / count)]!);
    const back = await Promise.all(
      victims.map(async (old) => {
        await old.disconnect();
        const restarted = this.create(old.identity, old.address, old.lastSeq);
        this.devices[this.devices.indexOf(old)] = restarted;
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

  async stop(): Promise<Record<string, number>> {
    this.stopping.abort();
    await Promise.all(this.devices.map((d) => d.stopTelemetry()));
    await Promise.all(this.renewalLoops);
    const lastSeq = Object.fromEntries(this.devices.map((d) => [d.identity.deviceId, d.lastSeq]));
    await Promise.allSettled(this.devices.map((d) => d.disconnect()));
    return lastSeq;
  }
}
