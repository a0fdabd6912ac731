// The mixed fleet under load (seed 000, `--mix 2.1:80,2.0:20`): every device goes the way its
// firmware goes, and none is skipped. 2.1 provisions itself (ACME + X5C); 2.0 must authenticate
// with a certificate, which the service team gives it: the engineer has one issued through the
// admin API from the device's own CSR (the key never leaves the device) and the device installs
// it; below "x" the engineer gives the device a legacy credential for the broker's legacy
// listener. The classes are counted apart: devices started, connected, failed (each once), how
// they authenticated, their messages, and the engineer's admin requests timed.
import { certificateTrack, type FirmwarePolicy } from '../config/firmware-policy.ts';
import { DEVICE_CLASSES, emptyClass, type ClassFigures, type DeviceClass } from '../evidence/perf/fleet-classes.ts';
import type { LatencyHistograms } from '../evidence/perf/latency-histograms.ts';
import type { ProvisioningAdminClient } from '../services/provisioning/admin-client.ts';
import type { ReceivedTelemetry } from '../simulators/app/lumia-application.ts';
import type { DeviceIdentity } from '../simulators/device/device-identity.ts';
import type { DevicePool, DevicePoolEvent, DeviceTally } from '../simulators/fleet/device-pool.ts';
import type { MessageAccounting } from './fleet-metrics.ts';

export class FleetClasses {
  readonly #classOf = new Map<string, DeviceClass>();
  readonly #figures: Record<DeviceClass, ReturnType<typeof emptyClass>>;
  readonly #failed = new Set<string>();

  constructor(identities: readonly DeviceIdentity[], policy: FirmwarePolicy) {
    const firmware = (c: DeviceClass) => [...new Set(identities.filter((i) => certificateTrack(i.firmwareVersion, policy) === c).map((i) => i.firmwareVersion))].sort();
    this.#figures = Object.fromEntries(DEVICE_CLASSES.map((c) => [c, emptyClass(firmware(c))])) as Record<DeviceClass, ReturnType<typeof emptyClass>>;
    for (const identity of identities) {
      const c = certificateTrack(identity.firmwareVersion, policy);
      this.#classOf.set(identity.deviceId, c);
      this.#figures[c].requested++;
    }
  }

  classOf(deviceId: string): DeviceClass {
    const c = this.#classOf.get(deviceId);
    if (!c) throw new Error(`${deviceId} is not a device of this run`);
    return c;
  }

  started(deviceId: string): void {
    this.#figures[this.classOf(deviceId)].started++;
  }

  /** A device's failure, counted once however many parts report it (the pool, then the executor); true the first time. */
  failed(deviceId: string): boolean {
    if (this.#failed.has(deviceId)) return false;
    this.#failed.add(deviceId);
    this.#figures[this.classOf(deviceId)].failed++;
    return true;
  }

  hasFailed(deviceId: string): boolean {
    return this.#failed.has(deviceId);
  }

  /**
   * The pool's events that are a class's: a device that came up, with how it authenticated and
   * its power-up time. Returns true for those it took (the fleet's metrics take the rest).
   */
  onPoolEvent(event: DevicePoolEvent, metrics: { histograms: LatencyHistograms; counts: { equipped: number } }): boolean {
    if (event.type === 'provisioned') this.#came(event.deviceId, 'certificate');
    if (event.type !== 'connected') return false;
    this.#came(event.deviceId, event.authentication);
    metrics.counts.equipped++;
    metrics.histograms.record(event.track === 'legacy' ? 'legacyConnect' : 'manualConnect', event.connectMs);
    return true;
  }

  #came(deviceId: string, authentication: string): void {
    const f = this.#figures[this.classOf(deviceId)];
    f.connectedWith[authentication] = (f.connectedWith[authentication] ?? 0) + 1;
  }

  /** One message at the application, by the authentication of the tree it came on. */
  onTelemetry(entry: ReceivedTelemetry): void {
    const c = this.#classOf.get(entry.message.deviceId);
    if (!c) return; // another segment's device on a shared lab
    const by = this.#figures[c].receivedBy;
    by[entry.authentication] = (by[entry.authentication] ?? 0) + 1;
  }

  /**
   * The end of the run: which devices were still connected, and each class's messages by the
   * same sequence-number accounting as the whole fleet's (`account` is FleetMetrics.account).
   */
  finish(connectedIds: readonly string[], tally: Record<string, DeviceTally>, account: (tally: Record<string, DeviceTally>) => MessageAccounting): ClassFigures {
    for (const id of connectedIds) {
      const c = this.#classOf.get(id);
      if (c) this.#figures[c].connected++;
    }
    const out: ClassFigures = {};
    for (const c of DEVICE_CLASSES) {
      const f = this.#figures[c];
      if (f.requested === 0) continue;
      const mine = Object.fromEntries(Object.entries(tally).filter(([id]) => this.#classOf.get(id) === c));
      const { sent, received, lost } = account(mine);
      out[c] = { ...f, messages: { sent, received, lost } };
    }
    return out;
  }
}

/**
 * How the run brings device k up, by its class: the device's own workflow, or the engineer's
 * admin request (timed) followed by the device's installation and power-up.
 */
export function classLauncher(deps: { pool: DevicePool; admin: ProvisioningAdminClient; classes: FleetClasses; histograms: LatencyHistograms }) {
  const { pool, admin, classes, histograms } = deps;
  const timed = async <T>(phase: 'manualIssuance' | 'legacyCredential', request: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    const answer = await request();
    histograms.record(phase, performance.now() - started);
    return answer;
  };
  return async (identity: DeviceIdentity, globalIndex: number): Promise<void> => {
    const id = identity.deviceId;
    classes.started(id);
    const c = classes.classOf(id);
    if (c === 'self-provisioning') return pool.launch(identity, globalIndex);
    if (c === 'manual-certificate') {
      const csr = await pool.requestCertificate(identity, globalIndex);
      const issued = await timed('manualIssuance', () => admin.issueCertificate({ identity: id, csr }));
      return pool.launchCertified(identity, globalIndex, issued.certificateChainPem);
    }
    const credential = await timed('legacyCredential', () => admin.createLegacyCredential(id, identity.firmwareVersion));
    return pool.launchLegacy(identity, globalIndex, { username: credential.username, password: credential.password });
  };
}
