// Fault injection during a fleet run (`ecm-lab load --faults`): component restarts while devices
// arrive or publish, a tenth of the devices restarting their process, and the engineer revoking
// a tenth of the connected devices' certificates. Each fault records who it affected and how long
// recovery (or the disconnect) took; a wait that times out is recorded with its cause. The
// steady-state faults run one at a time, so each one's effects are its own.
import pLimit from 'p-limit';
import type { ProvisioningAdminClient } from '../../simulators/client/admin-client.ts';
import { TimeoutError, waitFor } from '../../environments/wait.ts';
import type { CpuMeter } from '../cpu-meter.ts';
import { causeOf, type DevicePool, type DeviceTally, type RetiredDevice } from '../../simulators/fleet/device-pool.ts';
import { faultPhase, type FaultKind, type RestartKind } from './faults.ts';
import type { FaultRecord, RevocationRecord } from '../../evidence/perf/summary-schema.ts';
import type { FleetLab } from '../fleet-lab.ts';
import type { FleetMetrics } from '../fleet-metrics.ts';
import { LatencyHistograms } from '../../evidence/perf/latency-histograms.ts';

/** How long a revoked device may take to be disconnected before that counts as a timeout. */
const DISCONNECT_TIMEOUT_MS = 10_000;
const RECOVERY_TIMEOUT_MS = 60_000;

export interface FaultContext {
  lab: FleetLab;
  pool: DevicePool;
  metrics: FleetMetrics;
  admin: ProvisioningAdminClient;
  cpu: CpuMeter;
  /** performance.now() at the run's start. */
  t0: number;
  /** Aborts at the end of the steady state, or on Ctrl-C. */
  runEnd: AbortSignal;
  /** Settles once every device launched has provisioned or failed. */
  arrivalsSettled: () => Promise<unknown>;
}

const epochNow = () => performance.timeOrigin + performance.now();
const share = (ids: string[]) => {
  const count = Math.min(ids.length, Math.max(1, Math.ceil(ids.length / 10)));
  return Array.from({ length: count }, (_, i) => ids[Math.floor((i * ids.length) / count)]!);
};

export class FaultInjector {
  readonly records: FaultRecord[] = [];
  /** Devices revoked by the revocation fault, and when (epoch ms) their revocation was asked for. */
  readonly revokedAt = new Map<string, number>();
  readonly retired: Record<string, RetiredDevice> = {};
  readonly #ctx: FaultContext;
  readonly #tasks: Promise<void>[] = [];
  readonly #steady = pLimit(1);
  /** When (epoch ms) each fault began, to bound the window in which others' disconnects count. */
  readonly #began: Array<{ kind: FaultKind; at: number }> = [];
  #revocation: { disconnected: number; histogram: LatencyHistograms } | undefined;

  constructor(ctx: FaultContext) {
    this.#ctx = ctx;
  }

  /** Schedules every fault of `phase` at its fraction of the phase's window. */
  schedule(kinds: FaultKind[], phase: 'arrivals' | 'steady', windowMs: number): void {
    for (const kind of kinds) {
      const plan = faultPhase(kind);
      if (plan.phase !== phase) continue;
      const timer = setTimeout(() => this.#tasks.push(phase === 'steady' ? this.#steady(() => this.#run(kind)) : this.#run(kind)), windowMs * plan.fraction);
      this.#ctx.runEnd.addEventListener('abort', () => clearTimeout(timer), { once: true });
    }
  }

  /** Every fault that struck has finished recovering (each wait is bounded). */
  async settled(): Promise<void> {
    await Promise.all(this.#tasks);
  }

  async #run(kind: FaultKind): Promise<void> {
    if (this.#ctx.runEnd.aborted) return;
    const since = performance.now();
    this.#began.push({ kind, at: performance.timeOrigin + since });
    const record: FaultRecord = { kind, atS: Math.round((since - this.#ctx.t0) / 100) / 10, restartMs: 0, devicesAffected: 0, recoveryMs: { p50: 0, p99: 0, max: 0 } };
    try {
      if (kind === 'revocation') await this.#revoke(record);
      else if (kind === 'device-restart' || kind === 'broker-restart') await this.#disturbDeliveries(kind, record, since);
      else await this.#restartDuringArrivals(kind, record, since);
    } catch (err) {
      // A fault that could not be carried out is an error of the run, with its cause.
      record.timeout = err instanceof TimeoutError ? err.message : undefined;
      if (err instanceof TimeoutError) this.#ctx.metrics.timeout(err);
      else this.#ctx.metrics.error(`fault ${kind}: ${causeOf(err)}`);
    }
    this.records.push(record);
  }

  async #restart(kind: RestartKind): Promise<void> {
    // The process is replaced: read its CPU before it goes.
    this.#ctx.cpu.sample();
    await this.#ctx.lab.owned!.restart(kind);
    this.#ctx.cpu.sample();
  }

  /** CA and service restarts while devices arrive: affected are the devices whose power-up had to retry after it. */
  async #restartDuringArrivals(kind: RestartKind, record: FaultRecord, since: number): Promise<void> {
    await this.#restart(kind);
    record.restartMs = Math.round(performance.now() - since);
    await this.#ctx.arrivalsSettled();
    const recovery = new LatencyHistograms();
    const sinceEpoch = performance.timeOrigin + since;
    for (const at of this.#ctx.metrics.retriedAt.values()) {
      if (at < sinceEpoch) continue;
      recovery.record('recovery', at - sinceEpoch);
      record.devicesAffected++;
    }
    this.#finish(record, recovery);
  }

  /** Broker restart or device process restarts: affected devices recover at their next delivered message. */
  async #disturbDeliveries(kind: 'broker-restart' | 'device-restart', record: FaultRecord, since: number): Promise<void> {
    const { pool, metrics } = this.#ctx;
    const recovery = new LatencyHistograms();
    const affected = kind === 'broker-restart' ? await pool.connectedIds() : [];
    for (const id of affected) metrics.awaitingDelivery.set(id, { since, record: recovery });
    if (kind === 'device-restart') {
      const restarted = await pool.restartSome();
      for (const id of restarted) metrics.awaitingDelivery.set(id, { since, record: recovery });
      record.devicesAffected = restarted.length;
    } else {
      await this.#restart(kind);
      record.devicesAffected = affected.length;
    }
    record.restartMs = Math.round(performance.now() - since);
    try {
      await waitFor(`affected devices to deliver again after ${kind}`, () => [...metrics.awaitingDelivery.values()].every((w) => w.record !== recovery), {
        timeoutMs: RECOVERY_TIMEOUT_MS,
        intervalMs: 100,
        signal: this.#ctx.runEnd,
      });
    } catch (err) {
      // Ctrl-C or the end of the run: no verdict on recovery, and no timeout either.
      if (!this.#ctx.runEnd.aborted) throw err;
    } finally {
      this.#finish(record, recovery);
    }
  }

  /**
   * The engineer revokes a tenth of the connected devices' operational certificates through the
   * admin API, one after the other; each revoked device must be disconnected by the broker, and
   * nobody else. Revoked devices then leave the fleet.
   */
  async #revoke(record: FaultRecord): Promise<void> {
    const { pool, admin, metrics } = this.#ctx;
    const victims = share(await pool.connectedIds());
    const serials = await pool.operationalSerials(victims);
    const histogram = new LatencyHistograms();
    this.#revocation = { disconnected: 0, histogram };
    const started = performance.now();
    const disconnects: Promise<void>[] = [];
    for (const id of victims) {
      const serial = serials[id];
      if (!serial) {
        metrics.error(`revocation: ${id} holds no operational certificate`);
        continue;
      }
      const at = epochNow();
      try {
        await admin.revoke(serial, 'keyCompromise');
      } catch (err) {
        metrics.error(`revocation of ${id}: ${causeOf(err)}`);
        continue;
      }
      this.revokedAt.set(id, at);
      disconnects.push(
        pool.disconnectedAfter(id, at, DISCONNECT_TIMEOUT_MS).then(
          (closedAt) => {
            histogram.record('revocationToDisconnect', closedAt - at);
            this.#revocation!.disconnected++;
          },
          (err: unknown) => metrics.timeout(err),
        ),
      );
    }
    record.restartMs = Math.round(performance.now() - started);
    await Promise.all(disconnects);
    Object.assign(this.retired, await pool.retire([...this.revokedAt.keys()]));
    metrics.counts.revoked = this.revokedAt.size;
    record.devicesAffected = this.revokedAt.size;
    const s = histogram.summary('revocationToDisconnect');
    record.recoveryMs = { p50: s.p50, p99: s.p99, max: s.max };
    metrics.histograms.addEncoded(histogram.encode());
  }

  #finish(record: FaultRecord, recovery: LatencyHistograms): void {
    const r = recovery.summary('recovery');
    record.recoveryMs = { p50: r.p50, p99: r.p99, max: r.max };
    this.#ctx.metrics.histograms.addEncoded(recovery.encode());
  }

  /**
   * The revocation fault's outcome, once the run's devices are tallied: every other device's
   * unexpected disconnects from the first revocation to the next fault (or `endEpochMs`).
   */
  revocationOutcome(tally: Record<string, DeviceTally>, excludedMessages: number, endEpochMs: number): RevocationRecord | undefined {
    if (!this.#revocation) return undefined;
    const from = Math.min(...this.revokedAt.values());
    const next = this.#began.filter((b) => b.kind !== 'revocation' && b.at > from).map((b) => b.at);
    const to = Math.min(endEpochMs, ...next);
    let others = 0;
    for (const [id, t] of Object.entries(tally)) {
      if (this.revokedAt.has(id)) continue;
      others += t.unexpectedDisconnects.filter((at) => at >= from && at <= to).length;
    }
    const s = this.#revocation.histogram.summary('revocationToDisconnect');
    return {
      revoked: this.revokedAt.size,
      disconnected: this.#revocation.disconnected,
      revocationToDisconnectMs: { p50: s.p50, p99: s.p99, max: s.max },
      otherDevicesDisconnected: Number.isFinite(from) ? others : 0,
      excludedMessages,
    };
  }
}
