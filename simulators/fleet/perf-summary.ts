// summary.json of a fleet run: stable key names (documented in README "Performance report"),
// thresholds from seed 001, baselines measured in the same run and the ratios against them.
import os from 'node:os';
import type { FaultRecord } from './faults.ts';
import type { FleetOptions, FleetResult, TimelinePoint } from './fleet-run.ts';
import { LatencyHistograms, PHASES, type LatencySummaryMs, type Phase } from './latency-histograms.ts';

export const SUMMARY_SCHEMA = 'ecm-lab/perf-summary@1';

export interface Baselines {
  /** step-ca signing alone: pre-made CSRs and tokens, N requests at a fixed concurrency. */
  caSigning?: { requests: number; concurrency: number; perSec: number; latencyMs: LatencySummaryMs; stepCaCpuMsPerCert: number };
  /** Mosquitto's own clients (mosquitto_pub -> mosquitto_sub), QoS 0, same broker and TLS. */
  mosquittoClients?: { messages: number; perSec: number; elapsedMs: number };
  /** The lab's MQTT path (mqtt.js) for the same messages, QoS 0, same broker: the comparison. */
  labClients?: { messages: number; perSec: number; elapsedMs: number };
  /** CPU per mutual-TLS connect + disconnect, lab client (mqtt.js) and broker, distinct certificates. */
  handshakes?: { connections: number; concurrency: number; perSec: number; latencyMs: LatencySummaryMs; labCpuMsPerHandshake: number; brokerCpuMsPerHandshake: number };
}

export interface ThresholdResult {
  name: string;
  requirement: string;
  limit: number;
  value: number;
  ok: boolean;
}

export interface PerfSummary {
  schema: string;
  runId: string;
  partial: boolean;
  startedAt: string;
  finishedAt: string;
  elapsedMs: number;
  config: Omit<FleetOptions, 'signal' | 'onProgress'>;
  segment: { index: number; count: number; firstDevice: number };
  machine: { cpus: number; cpuModel: string; memoryGiB: number; platform: string; node: string };
  tools: Record<string, string>;
  devices: { requested: number; started: number; provisioned: number; connected: number; failed: number; legacy: number; distinctIdentities: number };
  /** Faults injected (ecm-lab load --faults), each with the devices it affected and their recovery. */
  faults: FaultRecord[];
  provisioning: { latencyMs: LatencySummaryMs; phases: Record<Phase, LatencySummaryMs>; devicesPerSec: number };
  renewals: { count: number; latencyMs: LatencySummaryMs };
  mqtt: {
    qos: 0 | 1;
    messages: { sent: number; received: number; lost: number; duplicates: number };
    lostByDevice: Record<string, number>;
    deliveryLatencyMs: LatencySummaryMs;
    throughputMsgsPerSec: number;
    connectLatencyMs: LatencySummaryMs;
  };
  errors: { total: number; byCause: Record<string, number> };
  /** The provisioning service is a process of its own (part of the system under test), not in labMs. Older summaries lack its figures. */
  cpu: {
    labMs: number;
    stepCaMs: number;
    mosquittoMs: number;
    provisioningServiceMs?: number;
    labMsPerDevice: number;
    stepCaMsPerDevice: number;
    provisioningServiceMsPerDevice?: number;
  };
  timeline: TimelinePoint[];
  curves: Partial<Record<Phase, Array<[number, number]>>>;
  baselines: Baselines;
  ratios: Record<string, number | null>;
  thresholds: ThresholdResult[];
  /** HDR histograms, compressed base64, for exact merges of segments and runs. */
  histograms: Partial<Record<Phase, string>>;
}

const per = (a: number, b: number) => (b > 0 ? Math.round((a / b) * 1000) / 1000 : 0);
const ratio = (a: number | undefined, b: number | undefined) => (a !== undefined && b ? Math.round((a / b) * 1000) / 1000 : null);

export function machineInfo(): PerfSummary['machine'] {
  const cpus = os.cpus();
  return { cpus: cpus.length, cpuModel: cpus[0]?.model ?? 'unknown', memoryGiB: Math.round(os.totalmem() / 2 ** 30), platform: `${os.platform()} ${os.release()}`, node: process.version };
}

/** NFR-PERF-001: provisioning within 30 s; NFR-PERF-002: sub-second delivery; QoS 1 loses nothing. */
export const DEFAULT_THRESHOLDS = { provisioningP99Ms: 30_000, deliveryP99Ms: 1000 };

export function evaluateThresholds(summary: Pick<PerfSummary, 'provisioning' | 'mqtt' | 'devices' | 'faults' | 'config'>): ThresholdResult[] {
  const limits = summary.config.thresholds ?? DEFAULT_THRESHOLDS;
  const results: ThresholdResult[] = [
    { name: 'provisioning p99', requirement: 'NFR-PERF-001', limit: limits.provisioningP99Ms, value: summary.provisioning.latencyMs.p99, ok: summary.provisioning.latencyMs.p99 < limits.provisioningP99Ms },
    { name: 'delivery p99', requirement: 'NFR-PERF-002', limit: limits.deliveryP99Ms, value: summary.mqtt.deliveryLatencyMs.p99, ok: summary.mqtt.deliveryLatencyMs.p99 < limits.deliveryP99Ms },
    { name: 'failed devices', requirement: 'NFR-REL-001', limit: 0, value: summary.devices.failed, ok: summary.devices.failed === 0 },
  ];
  if (summary.faults.length > 0) {
    const expected = summary.devices.started - summary.devices.legacy;
    results.push({ name: 'devices connected after faults', requirement: 'NFR-REL-002', limit: expected, value: summary.devices.connected, ok: summary.devices.connected === expected });
    results.push({ name: 'duplicate identities', requirement: 'FR-MB-002', limit: 0, value: summary.devices.provisioned - summary.devices.distinctIdentities, ok: summary.devices.provisioned === summary.devices.distinctIdentities });
  }
  if (summary.mqtt.qos === 1) results.push({ name: 'QoS 1 messages lost', requirement: 'FR-DS-003', limit: 0, value: summary.mqtt.messages.lost, ok: summary.mqtt.messages.lost === 0 });
  return results;
}

/** Devices provisioned per second, up to the moment the last one was (timeline resolution 1 s). */
function provisioningRate(timeline: TimelinePoint[], provisioned: number, elapsedMs: number): number {
  const done = timeline.find((p) => p.provisioned >= provisioned && provisioned > 0);
  return per(provisioned, done ? done.t : elapsedMs / 1000);
}

function throughput(timeline: TimelinePoint[], elapsedMs: number, received: number): number {
  // Messages per second over the telemetry phase: from the first connected device to the end.
  const firstConnected = timeline.find((p) => p.connected > 0)?.t ?? 0;
  const seconds = elapsedMs / 1000 - firstConnected;
  return seconds > 0 ? Math.round(received / seconds) : 0;
}

export function derive(summary: Omit<PerfSummary, 'ratios' | 'thresholds' | 'curves' | 'provisioning' | 'renewals' | 'mqtt' | 'cpu'> & {
  qos: 0 | 1;
  messages: PerfSummary['mqtt']['messages'];
  lostByDevice: Record<string, number>;
  renewalCount: number;
  cpuMs: { lab: number; stepCa: number; mosquitto: number; provisioningService?: number };
}): PerfSummary {
  const h = LatencyHistograms.decode(summary.histograms);
  const delivery = h.summary(summary.qos === 1 ? 'deliveryQos1' : 'deliveryQos0');
  const provisioned = summary.devices.provisioned;
  const { qos, messages, lostByDevice, renewalCount, cpuMs, ...rest } = summary;
  const out: PerfSummary = {
    ...rest,
    provisioning: {
      latencyMs: h.summary('provisioningTotal'),
      phases: h.summaries(),
      devicesPerSec: provisioningRate(summary.timeline, provisioned, summary.elapsedMs),
    },
    renewals: { count: renewalCount, latencyMs: h.summary('renewal') },
    mqtt: {
      qos,
      messages,
      lostByDevice,
      deliveryLatencyMs: delivery,
      throughputMsgsPerSec: throughput(summary.timeline, summary.elapsedMs, messages.received),
      connectLatencyMs: h.summary('firstConnack'),
    },
    cpu: {
      labMs: Math.round(cpuMs.lab),
      stepCaMs: Math.round(cpuMs.stepCa),
      mosquittoMs: Math.round(cpuMs.mosquitto),
      provisioningServiceMs: cpuMs.provisioningService === undefined ? undefined : Math.round(cpuMs.provisioningService),
      labMsPerDevice: per(cpuMs.lab, provisioned),
      stepCaMsPerDevice: per(cpuMs.stepCa, provisioned),
      provisioningServiceMsPerDevice: cpuMs.provisioningService === undefined ? undefined : per(cpuMs.provisioningService, provisioned),
    },
    curves: Object.fromEntries(PHASES.map((p) => [p, h.curve(p)]).filter(([, c]) => (c as unknown[]).length > 0)),
    ratios: {},
    thresholds: [],
  };
  const b = out.baselines;
  out.ratios = {
    // Certificates issued straight from the lab CA never reach step-ca: no ratio to speak of.
    labCpuPerDeviceOverStepCa: out.config.certificates === 'issued' ? null : ratio(out.cpu.labMsPerDevice, out.cpu.stepCaMsPerDevice),
    labMqttThroughputOverMosquittoClients: ratio(b.labClients?.perSec, b.mosquittoClients?.perSec),
    labCpuPerHandshakeOverBroker: ratio(b.handshakes?.labCpuMsPerHandshake, b.handshakes?.brokerCpuMsPerHandshake),
    provisioningP50OverCaSignP50: ratio(out.provisioning.latencyMs.p50, b.caSigning?.latencyMs.p50),
    devicesPerSecOverCaSignsPerSec: ratio(out.provisioning.devicesPerSec, b.caSigning?.perSec),
  };
  out.thresholds = evaluateThresholds(out);
  return out;
}

export function buildSummary(
  result: FleetResult,
  context: { runId: string; options: FleetOptions; tools: Record<string, string>; baselines: Baselines },
): PerfSummary {
  const { signal: _signal, onProgress: _onProgress, ...config } = context.options;
  return derive({
    schema: SUMMARY_SCHEMA,
    runId: context.runId,
    partial: result.partial,
    startedAt: result.startedAt,
    finishedAt: result.finishedAt,
    elapsedMs: Math.round(result.elapsedMs),
    config,
    segment: { ...context.options.segment, firstDevice: result.firstDevice },
    machine: machineInfo(),
    tools: context.tools,
    devices: { ...result.devices, distinctIdentities: result.distinctIdentities },
    faults: result.faults,
    errors: { total: Object.values(result.errorsByCause).reduce((a, b) => a + b, 0), byCause: result.errorsByCause },
    timeline: result.timeline,
    baselines: context.baselines,
    histograms: result.histograms.encode(),
    qos: context.options.qos,
    messages: { sent: result.messages.sent, received: result.messages.received, lost: result.messages.lost, duplicates: result.messages.duplicates },
    lostByDevice: result.messages.lostByDevice,
    renewalCount: result.renewals,
    cpuMs: result.cpuMs,
  });
}

/**
 * Merges segment summaries into one: counts add up, histograms merge exactly, timelines add
 * point by point (by second), baselines are those of the first segment.
 */
export function mergeSummaries(parts: PerfSummary[], runId: string): PerfSummary {
  if (parts.length === 0) throw new Error('nothing to merge');
  const first = parts[0]!;
  const histograms = new LatencyHistograms();
  for (const p of parts) histograms.addEncoded(p.histograms);
  const sum = <K extends string>(pick: (p: PerfSummary) => Record<K, number>): Record<K, number> => {
    const out = {} as Record<K, number>;
    for (const p of parts) for (const [k, v] of Object.entries(pick(p)) as Array<[K, number]>) out[k] = (out[k] ?? 0) + v;
    return out;
  };
  const bySecond = new Map<number, TimelinePoint>();
  for (const p of parts) {
    for (const point of p.timeline) {
      const t = Math.round(point.t);
      const acc = bySecond.get(t) ?? { t, provisioned: 0, connected: 0, failed: 0, sent: 0, received: 0 };
      for (const k of ['provisioned', 'connected', 'failed', 'sent', 'received'] as const) acc[k] += point[k];
      bySecond.set(t, acc);
    }
  }
  const cpu = sum((p) => ({ lab: p.cpu.labMs, stepCa: p.cpu.stepCaMs, mosquitto: p.cpu.mosquittoMs, provisioningService: p.cpu.provisioningServiceMs ?? 0 }));
  return derive({
    schema: SUMMARY_SCHEMA,
    runId,
    partial: parts.some((p) => p.partial),
    startedAt: parts.map((p) => p.startedAt).sort()[0]!,
    finishedAt: parts.map((p) => p.finishedAt).sort().at(-1)!,
    elapsedMs: Math.max(...parts.map((p) => p.elapsedMs)),
    config: { ...first.config, segment: { index: 1, count: 1 } },
    segment: { index: 1, count: 1, firstDevice: Math.min(...parts.map((p) => p.segment.firstDevice)) },
    machine: first.machine,
    tools: first.tools,
    devices: sum((p) => p.devices),
    faults: parts.flatMap((p) => p.faults ?? []),
    errors: { total: parts.reduce((a, p) => a + p.errors.total, 0), byCause: sum((p) => p.errors.byCause) },
    timeline: [...bySecond.values()].sort((a, b) => a.t - b.t),
    baselines: first.baselines,
    histograms: histograms.encode(),
    qos: first.mqtt.qos,
    messages: sum((p) => p.mqtt.messages),
    lostByDevice: Object.assign({}, ...parts.map((p) => p.mqtt.lostByDevice)),
    renewalCount: parts.reduce((a, p) => a + p.renewals.count, 0),
    cpuMs: cpu,
  });
}
