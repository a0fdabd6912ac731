// Merges the summaries of a run's segments into one: counts add up, HDR histograms merge exactly,
// timelines add point by point (by second), and everything derived is computed again from the
// merged measurements, as for a single run. Segments must be of one scenario and schema.
import type { ExecutorStats, InventoryCheck, MeasuredSummary, PerfSummary, RevocationRecord, TimelinePoint } from './summary-schema.ts';
import { LatencyHistograms } from './latency-histograms.ts';
import { derive, SUMMARY_SCHEMA } from './summary.ts';
import { mergeWindows } from './cpu-readings.ts';
import type { LoopDelayMs } from '../../simulators/fleet/thread-stats.ts';
import { measuredOf, mergeClasses } from './fleet-classes.ts';

export class MergeError extends Error {
  override name = 'MergeError';
}

function sum<K extends string>(parts: PerfSummary[], pick: (p: PerfSummary) => Record<K, number>): Record<K, number> {
  const out = {} as Record<K, number>;
  for (const p of parts) for (const [k, v] of Object.entries(pick(p)) as Array<[K, number]>) out[k] = (out[k] ?? 0) + v;
  return out;
}

function mergeExecutors(parts: PerfSummary[]): ExecutorStats {
  const counts = sum(parts, (p) => ({ planned: p.executor.planned, started: p.executor.started, completed: p.executor.completed, failed: p.executor.failed, interrupted: p.executor.interrupted, notStarted: p.executor.notStarted, delayed: p.executor.delayed }));
  // Segments run side by side: the merged run lasts as long as the longest segment.
  return { kind: parts[0]!.executor.kind, ...counts, maxStartDelayMs: Math.max(...parts.map((p) => p.executor.maxStartDelayMs)), elapsedMs: Math.max(...parts.map((p) => p.executor.elapsedMs)) };
}

function mergeTimelines(parts: PerfSummary[]): TimelinePoint[] {
  const bySecond = new Map<number, TimelinePoint>();
  for (const p of parts) {
    for (const point of p.timeline) {
      const t = Math.round(point.t);
      const acc = bySecond.get(t) ?? { t, provisioned: 0, connected: 0, failed: 0, sent: 0, received: 0 };
      for (const k of ['provisioned', 'connected', 'failed', 'sent', 'received'] as const) acc[k] += point[k];
      // p99s do not add; the highest segment's bounds the merged one from above (TimelinePoint).
      if (point.deliveryP99Ms !== undefined) acc.deliveryP99Ms = Math.max(acc.deliveryP99Ms ?? 0, point.deliveryP99Ms);
      bySecond.set(t, acc);
    }
  }
  return [...bySecond.values()].sort((a, b) => a.t - b.t);
}

/** Segments attached to one lab share its inventory (count it once); segments with labs of their own add up. */
function mergeInventories(parts: PerfSummary[]): InventoryCheck | undefined {
  const byLab = new Map<string, InventoryCheck>();
  for (const p of parts) if (p.inventory) byLab.set(p.lab.id, p.inventory);
  if (byLab.size === 0) return undefined;
  const checks = [...byLab.values()];
  const total = (k: 'inventory' | 'issuedOnLogs' | 'notInInventory' | 'notOnLogs') => checks.reduce((a, c) => a + c[k], 0);
  const timeouts = checks.flatMap((c) => (c.timeout ? [c.timeout] : []));
  return {
    inventory: total('inventory'),
    issuedOnLogs: total('issuedOnLogs'),
    notInInventory: total('notInInventory'),
    notOnLogs: total('notOnLogs'),
    ...(timeouts.length > 0 ? { timeout: timeouts.join('; ') } : {}),
  };
}

function mergeRevocations(parts: PerfSummary[], histograms: LatencyHistograms): RevocationRecord | undefined {
  const records = parts.flatMap((p) => (p.revocation ? [p.revocation] : []));
  if (records.length === 0) return undefined;
  const s = histograms.summary('revocationToDisconnect');
  return {
    revoked: records.reduce((a, r) => a + r.revoked, 0),
    disconnected: records.reduce((a, r) => a + r.disconnected, 0),
    revocationToDisconnectMs: { p50: s.p50, p99: s.p99, max: s.max },
    otherDevicesDisconnected: records.reduce((a, r) => a + r.otherDevicesDisconnected, 0),
    excludedMessages: records.reduce((a, r) => a + r.excludedMessages, 0),
  };
}

/**
 * CPU of the segments: a lab the segments share counted once (its processes from the earliest
 * start to the latest end), every segment's client process added (cpu-readings.ts).
 */
function mergeCpu(parts: PerfSummary[]): MeasuredSummary['cpu'] {
  const windows = (pick: (p: PerfSummary) => MeasuredSummary['cpu']['provisioning']) =>
    parts.flatMap((p) => {
      const window = pick(p);
      return window ? [{ labId: p.lab.id, window }] : [];
    });
  const provisioning = windows((p) => p.measured.cpu.provisioning);
  return {
    run: mergeWindows(windows((p) => p.measured.cpu.run)),
    ...(provisioning.length === parts.length ? { provisioning: mergeWindows(provisioning) } : {}),
  };
}

/** Event-loop delay by thread: the worst segment's (delays of different processes do not add). */
function mergeLoopDelays(parts: PerfSummary[]): Record<string, LoopDelayMs> {
  const out: Record<string, LoopDelayMs> = {};
  for (const p of parts) {
    for (const [label, d] of Object.entries(p.eventLoopDelayMs ?? {})) {
      const known = out[label];
      out[label] = known ? { p50: Math.max(known.p50, d.p50), p99: Math.max(known.p99, d.p99), max: Math.max(known.max, d.max), mean: Math.max(known.mean, d.mean) } : { ...d };
    }
  }
  return out;
}

/** What must be the same in every segment of one run: everything but the segment itself. */
const SAME_RUN = ['devices', 'seed', 'mix', 'qos', 'telemetryIntervalMs', 'durationMs', 'executor', 'certificates', 'target', 'certLifetimeSeconds', 'preMadeKeys', 'deviceClient'] as const;

/**
 * Segments of one run (`--segment i/n`) must be of the same run and complete: each of 1..n
 * exactly once. Whole runs (1/1) of one scenario may be added up.
 */
function checkSegments(parts: PerfSummary[]): void {
  const counts = [...new Set(parts.map((p) => p.config.segment.count))];
  if (counts.length > 1) throw new MergeError(`segments of different splits cannot be merged: ${parts.map((p) => `${p.config.segment.index}/${p.config.segment.count}`).join(', ')}`);
  const n = counts[0]!;
  if (n === 1) return;
  const first = parts[0]!.config;
  for (const p of parts.slice(1)) {
    for (const key of SAME_RUN) {
      if (JSON.stringify(p.config[key]) !== JSON.stringify(first[key])) {
        throw new MergeError(`segment ${p.config.segment.index}/${n} (${p.runId}) is of another run: its ${key} is ${JSON.stringify(p.config[key])}, not ${JSON.stringify(first[key])}`);
      }
    }
  }
  const seen = new Map<number, string>();
  for (const p of parts) {
    const i = p.config.segment.index;
    if (seen.has(i)) throw new MergeError(`segment ${i}/${n} is there twice: ${seen.get(i)} and ${p.runId}`);
    seen.set(i, p.runId);
  }
  const missing = Array.from({ length: n }, (_, k) => k + 1).filter((i) => !seen.has(i));
  if (missing.length > 0) throw new MergeError(`segment${missing.length > 1 ? 's' : ''} ${missing.map((i) => `${i}/${n}`).join(', ')} missing`);
}

export function mergeSummaries(parts: PerfSummary[], runId: string): PerfSummary {
  if (parts.length === 0) throw new MergeError('nothing to merge');
  const first = parts[0]!;
  const schemas = [...new Set(parts.map((p) => p.schema))];
  if (schemas.length > 1 || schemas[0] !== SUMMARY_SCHEMA) throw new MergeError(`can only merge summaries of schema ${SUMMARY_SCHEMA}; got ${schemas.join(', ')}`);
  const scenarios = [...new Set(parts.map((p) => p.config.scenario))];
  if (scenarios.length > 1) throw new MergeError(`segments of different scenarios cannot be merged: ${scenarios.join(', ')}`);
  checkSegments(parts);
  const histograms = new LatencyHistograms();
  for (const p of parts) histograms.addEncoded(p.histograms);
  const measured: MeasuredSummary = {
    schema: SUMMARY_SCHEMA,
    runId,
    partial: parts.some((p) => p.partial),
    startedAt: parts.map((p) => p.startedAt).sort()[0]!,
    finishedAt: parts.map((p) => p.finishedAt).sort().at(-1)!,
    elapsedMs: Math.max(...parts.map((p) => p.elapsedMs)),
    config: { ...first.config, segment: { index: 1, count: 1 } },
    segment: { index: 1, count: 1, firstDevice: Math.min(...parts.map((p) => p.segment.firstDevice)) },
    lab: parts.every((p) => p.lab.id === first.lab.id) ? first.lab : { id: [...new Set(parts.map((p) => p.lab.id))].join('+'), owned: parts.every((p) => p.lab.owned) },
    machine: first.machine,
    tools: first.tools,
    executor: mergeExecutors(parts),
    devices: sum(parts, (p) => p.devices),
    faults: parts.flatMap((p) => p.faults),
    revocation: mergeRevocations(parts, histograms),
    inventory: mergeInventories(parts),
    errors: { total: parts.reduce((a, p) => a + p.errors.total, 0), timeouts: parts.reduce((a, p) => a + p.errors.timeouts, 0), byCause: sum(parts, (p) => p.errors.byCause) },
    timeline: mergeTimelines(parts),
    baselines: first.baselines,
    histograms: histograms.encode(),
    mqttMessages: { ...sum(parts, (p) => p.mqtt.messages), lostByDevice: Object.assign({}, ...parts.map((p) => p.mqtt.lostByDevice)) },
    renewalCount: parts.reduce((a, p) => a + p.renewals.count, 0),
    // Summaries of before these figures have none: they add as 0.
    renewalFailures: parts.reduce((a, p) => a + (p.renewals.failed ?? 0), 0),
    devicesRenewed: parts.reduce((a, p) => a + (p.renewals.devicesRenewed ?? 0), 0),
    sessionsDropped: parts.reduce((a, p) => a + (p.mqtt.sessionsDropped ?? 0), 0),
    classes: mergeClasses(parts.map((p) => measuredOf(p.classes))),
    cpu: mergeCpu(parts),
    eventLoopDelayMs: mergeLoopDelays(parts),
  };
  return derive(measured);
}
