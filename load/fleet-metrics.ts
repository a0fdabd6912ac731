// What a fleet run counts and times: device outcomes from the pool's events, every telemetry
// message the application receives (sequence numbers, so losses and duplicates are exact), errors
// by cause, the timeline, and the final message accounting. No I/O here beyond the progress hook.
import type { ReceivedTelemetry } from '../simulators/app/lumia-application.ts';
import { causeOf, type DevicePoolEvent, type DeviceTally, type RetiredDevice } from '../simulators/fleet/device-pool.ts';
import { LatencyHistograms } from '../evidence/perf/latency-histograms.ts';
import type { TimelinePoint } from '../evidence/perf/summary-schema.ts';

export interface FleetProgress {
  elapsedMs: number;
  started: number;
  provisioned: number;
  connected: number;
  failed: number;
  legacy: number;
  sent: number;
  received: number;
  /** Messages per second over the last sample interval. */
  msgsPerSec: number;
  deliveryP99Ms: number;
}

export interface MessageAccounting {
  sent: number;
  received: number;
  lost: number;
  duplicates: number;
  /** Messages of revoked devices above what the broker had acknowledged at their revocation: neither sent nor lost. */
  excludedAfterRevocation: number;
  lostByDevice: Record<string, number>;
}

/** Recovery after a fault: an affected device recovers at its first delivered message. */
interface AwaitingDelivery {
  since: number;
  record: LatencyHistograms;
}

export class FleetMetrics {
  readonly histograms = new LatencyHistograms();
  readonly errorsByCause: Record<string, number> = {};
  readonly counts = { started: 0, provisioned: 0, failed: 0, legacy: 0, renewals: 0, renewalFailures: 0, equipped: 0, received: 0, duplicates: 0, revoked: 0, timeouts: 0 };
  /** Devices that renewed at least once. */
  readonly renewedDevices = new Set<string>();
  readonly timeline: TimelinePoint[] = [];
  /** Devices whose power-up needed retries, and when (epoch ms) they finally connected. */
  readonly retriedAt = new Map<string, number>();
  /** Devices waiting for their first delivery after a fault. */
  readonly awaitingDelivery = new Map<string, AwaitingDelivery>();
  readonly #seen = new Map<string, Set<number>>();
  /** Devices given up on after the executor's graceful stop: a late success does not count. */
  readonly #abandoned = new Set<string>();
  readonly #deliveryPhase: 'deliveryQos0' | 'deliveryQos1';
  /** The deliveries since the last timeline point, for a p99 per second: a whole-run p99 hides a bad minute. */
  #deliveriesSincePoint = new LatencyHistograms();

  constructor(qos: 0 | 1) {
    this.#deliveryPhase = qos === 1 ? 'deliveryQos1' : 'deliveryQos0';
  }

  /** Devices up: those that provisioned themselves and those the service team equipped (`equipped`, the mixed fleet's other classes). */
  get connected(): number {
    return this.counts.provisioned + this.counts.equipped - this.counts.revoked;
  }

  /** An error that is not a device's failure (a fault's recovery, the end of the run). */
  error(cause: string): void {
    this.errorsByCause[cause] = (this.errorsByCause[cause] ?? 0) + 1;
  }

  /** A timeout: an error with its cause, counted apart so a threshold can see it. */
  timeout(error: unknown): void {
    this.counts.timeouts++;
    this.error(causeOf(error));
  }

  deviceFailed(error: unknown): void {
    this.counts.failed++;
    this.error(causeOf(error));
  }

  /** A device still provisioning after the graceful stop. */
  abandon(deviceId: string, error: unknown): void {
    this.#abandoned.add(deviceId);
    this.counts.failed++;
    this.timeout(error);
  }

  onPoolEvent(event: DevicePoolEvent): void {
    if (event.type === 'provisioned') {
      if (this.#abandoned.has(event.deviceId)) return;
      this.counts.provisioned++;
      if (event.retried) this.retriedAt.set(event.deviceId, event.at);
      const t = event.timings;
      for (const phase of ['acmeOrder', 'challengeValidation', 'finalize', 'x5cSign'] as const) if (t[phase] !== undefined) this.histograms.record(phase, t[phase]!);
      if (t.mqttConnect !== undefined) this.histograms.record('firstConnack', t.mqttConnect);
      this.histograms.record('provisioningTotal', event.totalMs);
    } else if (event.type === 'failed') {
      this.deviceFailed(Object.assign(new Error(event.cause), { name: 'DeviceFailure' }));
    } else if (event.type === 'renewed') {
      this.counts.renewals++;
      this.renewedDevices.add(event.deviceId);
      this.histograms.record('renewal', event.ms);
      this.histograms.record('renewalHandover', event.handoverMs);
    } else if (event.type === 'renewal-failed') {
      this.counts.renewalFailures++;
      this.error(`renewal: ${event.cause}`);
    }
    // 'connected' (a device the service team equipped) is counted by its class (load/mixed-fleet.ts).
  }

  /** One telemetry message at the application (its receivedAt is epoch ms). */
  onTelemetry(entry: ReceivedTelemetry): void {
    const { deviceId, seq, sentAt } = entry.message;
    let set = this.#seen.get(deviceId);
    if (!set) this.#seen.set(deviceId, (set = new Set()));
    if (set.has(seq)) {
      this.counts.duplicates++;
      return;
    }
    set.add(seq);
    this.counts.received++;
    const waiting = this.awaitingDelivery.get(deviceId);
    if (waiting) {
      this.awaitingDelivery.delete(deviceId);
      waiting.record.record('recovery', entry.receivedAt - performance.timeOrigin - waiting.since);
    }
    this.histograms.record(this.#deliveryPhase, entry.receivedAt - sentAt);
    this.#deliveriesSincePoint.record(this.#deliveryPhase, entry.receivedAt - sentAt);
  }

  deliveryP99(): number {
    return this.histograms.summary(this.#deliveryPhase).p99;
  }

  /** Samples the run once a second for the timeline and the progress line; returns the stop function. */
  sample(elapsedMs: () => number, sent: () => number, onProgress?: (p: FleetProgress) => void): () => void {
    let last = { t: 0, received: 0 };
    const timer = setInterval(() => {
      const t = elapsedMs();
      this.point(t, sent());
      const rate = ((this.counts.received - last.received) * 1000) / Math.max(1, t - last.t);
      last = { t, received: this.counts.received };
      const c = this.counts;
      onProgress?.({ elapsedMs: t, started: c.started, provisioned: c.provisioned, connected: this.connected, failed: c.failed, legacy: c.legacy, sent: sent(), received: c.received, msgsPerSec: Math.round(rate), deliveryP99Ms: this.deliveryP99() });
    }, 1000);
    // A sampler never keeps the process alive: a run that failed half-way still exits.
    timer.unref();
    return () => clearInterval(timer);
  }

  point(elapsedMs: number, sent: number, received = this.counts.received): void {
    const window = this.#deliveriesSincePoint.summary(this.#deliveryPhase);
    const deliveryP99Ms = window.count > 0 ? { deliveryP99Ms: window.p99 } : {};
    this.#deliveriesSincePoint = new LatencyHistograms();
    this.timeline.push({ t: Math.round(elapsedMs / 100) / 10, provisioned: this.counts.provisioned, connected: this.connected, failed: this.counts.failed, sent, received, ...deliveryP99Ms });
  }

  /** Messages of `id` with sequence numbers 1..upTo that reached the application. */
  #delivered(id: string, upTo: number): number {
    const seen = this.#seen.get(id);
    if (!seen) return 0;
    if (seen.size <= upTo) {
      let beyond = 0;
      for (const seq of seen) if (seq > upTo) beyond++;
      return seen.size - beyond;
    }
    let n = 0;
    for (let seq = 1; seq <= upTo; seq++) if (seen.has(seq)) n++;
    return n;
  }

  /** Whether every message that counts has reached the application (the drain after telemetry stopped). */
  allDelivered(tally: Record<string, DeviceTally>): boolean {
    return Object.entries(tally).every(([id, t]) => this.#delivered(id, t.lastSeq) >= t.lastSeq);
  }

  /**
   * The exact accounting: for each device, 1..lastSeq should have arrived. A revoked device's
   * lastSeq is what the broker acknowledged before its revocation; what it sent after is
   * excluded, since the broker closed its session.
   */
  account(tally: Record<string, DeviceTally>, retired: Record<string, RetiredDevice>): MessageAccounting {
    const out: MessageAccounting = { sent: 0, received: 0, lost: 0, duplicates: this.counts.duplicates, excludedAfterRevocation: 0, lostByDevice: {} };
    for (const [id, { lastSeq }] of Object.entries(tally)) {
      const got = this.#delivered(id, lastSeq);
      out.sent += lastSeq;
      out.received += got;
      if (got < lastSeq) {
        out.lostByDevice[id] = lastSeq - got;
        out.lost += lastSeq - got;
      }
      const r = retired[id];
      if (r) out.excludedAfterRevocation += r.sent - r.acknowledged;
    }
    return out;
  }
}
