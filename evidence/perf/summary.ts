// summary.json of a load run: stable key names (documented in README "Performance report"),
// what was measured (counts, HDR histograms, CPU milliseconds), and what is derived from it
// (latency summaries, rates, ratios against the same-run baselines, thresholds). Merges re-derive
// from the measured part, so a merged report is computed exactly as a single one.
import os from 'node:os';
import type { FirmwareMix } from '../../simulators/device/identity.ts';
import type { ExecutorStats } from '../../load/executors.ts';
import type { ExecutorPlan } from '../../load/plan.ts';
import { SCENARIOS, type ScenarioName } from '../../load/scenarios.ts';
import type { FaultKind, FaultRecord, RevocationRecord } from '../../load/faults/faults.ts';
import type { TimelinePoint } from '../../load/fleet-metrics.ts';
import type { InventoryCheck } from '../../load/inventory-check.ts';
import { LatencyHistograms, PHASES, type LatencySummaryMs, type Phase } from './latency-histograms.ts';
import { evaluateThresholds, type ThresholdResult } from './thresholds.ts';
import { deriveClasses, type ClassFigures, type ClassSummary, type DeviceClass } from './fleet-classes.ts';
import type { Segment } from '../../load/segment.ts';
import { cpuFigures, type CpuFigures, type CpuMeasurement } from './cpu-readings.ts';

export type { CpuFigures };
import { preMadeFigures } from './pre-made.ts';
import type { LoopDelayMs } from '../../simulators/fleet/thread-stats.ts';

export type { LoopDelayMs };

/**
 * @2: scenarios and executors; step-ca's CPU is both authorities'; inventory and revocation checks.
 * @3: CPU as absolute readings per process (a shared lab merges once), the provisioning window,
 * the lab's CPU by thread, event-loop delay, the figures measured with pre-made keys; a
 * threshold on an empty histogram is "no data" (value null) and fails.
 */
export const SUMMARY_SCHEMA = 'ecm-lab/perf-summary@3';

export interface Baselines {
  /** step-ca signing alone: pre-made CSRs and tokens, N requests at a fixed concurrency. */
  caSigning?: { requests: number; concurrency: number; perSec: number; latencyMs: LatencySummaryMs; stepCaCpuMsPerCert: number };
  /**
   * The CA's own limit: step-ca alone serves each device's whole ACME + X5C flow (both
   * authorities, their webhooks included) from pre-made keys and CSRs, at a fixed concurrency.
   */
  caFlow?: {
    devices: number;
    concurrency: number;
    perSec: number;
    latencyMs: LatencySummaryMs;
    stepCaCpuMsPerDevice: number;
    provisioningServiceCpuMsPerDevice: number;
    labCpuMsPerDevice: number;
    /** What step-ca's CPU per device would allow with every core of this machine to itself. */
    cpuBoundPerSec: number;
  };
  /** Mosquitto's own clients (mosquitto_pub -> mosquitto_sub), QoS 0, same broker and TLS. */
  mosquittoClients?: { messages: number; perSec: number; elapsedMs: number };
  /** The lab's MQTT path (mqtt.js) for the same messages, QoS 0, same broker: the comparison. */
  labClients?: { messages: number; perSec: number; elapsedMs: number };
  /** CPU per mutual-TLS connect + disconnect, lab client (mqtt.js) and broker, distinct certificates. */
  handshakes?: {
    connections: number;
    concurrency: number;
    perSec: number;
    latencyMs: LatencySummaryMs;
    labCpuMsPerHandshake: number;
    brokerCpuMsPerHandshake: number;
    /** Loading a certificate and key into a TLS context (once per certificate, before the handshakes are timed). */
    labCpuMsPerContext?: number;
  };
}


/** What a run was asked to do (the parsed command line). */
export interface RunConfig {
  scenario: ScenarioName;
  executor: ExecutorPlan;
  devices: number;
  mix: FirmwareMix;
  /** Fleet scenarios: the steady state; 0 for request scenarios. */
  durationMs: number;
  qos: 0 | 1;
  telemetryIntervalMs: number;
  certLifetimeSeconds?: number;
  segment: Segment;
  seed: number;
  faults: FaultKind[];
  workers: number;
  certificates: 'provisioned' | 'issued';
  /** x5c-sign: through the provisioning service's CA URL (what devices use) or at step-ca itself. */
  target?: 'service' | 'step-ca';
  /** full-flow: every device's keys and CSRs made before the clock starts (`--pre-made-keys`). */
  preMadeKeys?: boolean;
  thresholds: { provisioningP99Ms: number; deliveryP99Ms: number; connectP99Ms: number; renewalP99Ms?: number };
}

/** What a run measured; the runners of both scenario families return it. */
export interface RunResult {
  partial: boolean;
  startedAt: string;
  finishedAt: string;
  elapsedMs: number;
  firstDevice: number;
  executor: ExecutorStats;
  devices: { requested: number; started: number; provisioned: number; connected: number; failed: number; legacy: number };
  messages: { sent: number; received: number; lost: number; duplicates: number; excludedAfterRevocation: number; lostByDevice: Record<string, number> };
  renewals: number;
  /** Renewal attempts that failed (each retried while the run lasts), devices that renewed at least once. */
  renewalFailures?: number;
  devicesRenewed?: number;
  /** MQTT connections the broker or the network closed, not the device (a renewal's handover is the device's own). */
  sessionsDropped?: number;
  /** The mixed fleet by class (firmware track); every started device is in one. */
  classes?: ClassFigures;
  errorsByCause: Record<string, number>;
  timeouts: number;
  timeline: TimelinePoint[];
  histograms: LatencyHistograms;
  cpu: CpuMeasurement;
  /** By thread label (main, devices-N, application). */
  eventLoopDelayMs?: Record<string, LoopDelayMs>;
  faults: FaultRecord[];
  revocation?: RevocationRecord;
  distinctIdentities: number;
  inventory?: InventoryCheck;
}

/** The measured part of a summary: what merges add up. */
export interface MeasuredSummary {
  schema: string;
  runId: string;
  partial: boolean;
  startedAt: string;
  finishedAt: string;
  elapsedMs: number;
  config: RunConfig;
  segment: { index: number; count: number; firstDevice: number };
  /** Which lab the run used; segments attached to one lab share its inventory. */
  lab: { id: string; owned: boolean };
  machine: { cpus: number; cpuModel: string; memoryGiB: number; platform: string; node: string };
  tools: Record<string, string>;
  executor: ExecutorStats;
  devices: { requested: number; started: number; provisioned: number; connected: number; failed: number; legacy: number; distinctIdentities: number };
  faults: FaultRecord[];
  revocation?: RevocationRecord;
  inventory?: InventoryCheck;
  errors: { total: number; timeouts: number; byCause: Record<string, number> };
  timeline: TimelinePoint[];
  baselines: Baselines;
  /** HDR histograms, compressed base64, for exact merges of segments and runs. */
  histograms: Partial<Record<Phase, string>>;
  mqttMessages: RunResult['messages'];
  renewalCount: number;
  renewalFailures?: number;
  devicesRenewed?: number;
  sessionsDropped?: number;
  classes?: ClassFigures;
  cpu: CpuMeasurement;
  /** By thread label; a merge keeps each label's worst segment. */
  eventLoopDelayMs: Record<string, LoopDelayMs>;
}

export interface PerfSummary extends Omit<MeasuredSummary, 'mqttMessages' | 'renewalCount' | 'renewalFailures' | 'devicesRenewed' | 'sessionsDropped' | 'classes' | 'cpu'> {
  scenario: { name: ScenarioName; family: 'fleet' | 'requests'; measures: string; phase: Phase };
  /** One iteration of the scenario: a device provisioned, a credential or certificate issued, a connection. */
  iterations: { started: number; completed: number; failed: number; interrupted: number; notStarted: number; delayed: number; maxStartDelayMs: number; perSec: number; latencyMs: LatencySummaryMs };
  provisioning: { latencyMs: LatencySummaryMs; phases: Record<Phase, LatencySummaryMs>; devicesPerSec: number };
  /** `latencyMs`: the renewal request (NFR-PERF-001); `handoverMs`: from its start to the session on the renewed certificate. */
  renewals: { count: number; failed: number; devicesRenewed: number; latencyMs: LatencySummaryMs; handoverMs: LatencySummaryMs };
  /** Per class of the mixed fleet (absent in summaries of before). */
  classes?: Partial<Record<DeviceClass, ClassSummary>>;
  mqtt: {
    qos: 0 | 1;
    messages: { sent: number; received: number; lost: number; duplicates: number; excludedAfterRevocation: number };
    lostByDevice: Record<string, number>;
    deliveryLatencyMs: LatencySummaryMs;
    throughputMsgsPerSec: number;
    connectLatencyMs: LatencySummaryMs;
    /** Connections closed by the broker or the network, not by the device. */
    sessionsDropped: number;
  };
  /**
   * CPU milliseconds over the measured run (executor start to the end of the drain); step-ca is
   * both authorities. Per device = per completed iteration. `provisioningWindow`: from the
   * executor's start to the last device up (fleet scenarios).
   */
  cpu: CpuFigures & { provisioningWindow?: CpuFigures };
  curves: Partial<Record<Phase, Array<[number, number]>>>;
  ratios: Record<string, number | null>;
  thresholds: ThresholdResult[];
  /** Which figures were measured with keys (and CSRs, certificates) made before the clock started. */
  measuredWithPreMadeKeys: string[];
  /** Measured figures kept for merges. */
  measured: { cpu: CpuMeasurement };
}

const per = (a: number, b: number) => (b > 0 ? Math.round((a / b) * 1000) / 1000 : 0);
const ratio = (a: number | undefined, b: number | undefined) => (a !== undefined && b ? Math.round((a / b) * 1000) / 1000 : null);

export function machineInfo(): MeasuredSummary['machine'] {
  const cpus = os.cpus();
  return { cpus: cpus.length, cpuModel: cpus[0]?.model ?? 'unknown', memoryGiB: Math.round(os.totalmem() / 2 ** 30), platform: `${os.platform()} ${os.release()}`, node: process.version };
}

function throughput(timeline: TimelinePoint[], elapsedMs: number, received: number): number {
  // Messages per second over the telemetry phase: from the first connected device to the end.
  const firstConnected = timeline.find((p) => p.connected > 0)?.t ?? 0;
  const seconds = elapsedMs / 1000 - firstConnected;
  return seconds > 0 ? Math.round(received / seconds) : 0;
}

/** The phase an iteration of the scenario is timed by (delivery follows the run's QoS). */
export function iterationPhase(scenario: ScenarioName, qos: 0 | 1): Phase {
  const phase = SCENARIOS[scenario].phase;
  return phase === 'deliveryQos1' && qos === 0 ? 'deliveryQos0' : phase;
}

/** Everything derived from what was measured: latency summaries, rates, CPU per device, ratios, thresholds. */
export function derive(m: MeasuredSummary): PerfSummary {
  const h = LatencyHistograms.decode(m.histograms);
  const scenario = SCENARIOS[m.config.scenario];
  const qos = m.config.qos;
  const phase = iterationPhase(m.config.scenario, qos);
  const { mqttMessages, renewalCount, renewalFailures, devicesRenewed, sessionsDropped, classes, cpu, ...rest } = m;
  const { lostByDevice, ...messages } = mqttMessages;
  const completed = scenario.family === 'fleet' ? m.devices.provisioned : m.executor.completed;
  const out: PerfSummary = {
    ...rest,
    scenario: { name: scenario.name, family: scenario.family, measures: scenario.measures, phase },
    iterations: {
      started: m.executor.started,
      completed: m.executor.completed,
      failed: m.executor.failed,
      interrupted: m.executor.interrupted,
      notStarted: m.executor.notStarted,
      delayed: m.executor.delayed,
      maxStartDelayMs: Math.round(m.executor.maxStartDelayMs),
      perSec: per(m.executor.completed, m.executor.elapsedMs / 1000),
      latencyMs: h.summary(phase),
    },
    provisioning: {
      latencyMs: h.summary('provisioningTotal'),
      phases: h.summaries(),
      // From the first arrival to the last device up (the executor's span), not the 1 s timeline.
      devicesPerSec: per(completed, m.executor.elapsedMs / 1000),
    },
    renewals: { count: renewalCount, failed: renewalFailures ?? 0, devicesRenewed: devicesRenewed ?? 0, latencyMs: h.summary('renewal'), handoverMs: h.summary('renewalHandover') },
    ...(classes ? { classes: deriveClasses(classes, h) } : {}),
    mqtt: {
      qos,
      messages,
      lostByDevice,
      deliveryLatencyMs: h.summary(qos === 1 ? 'deliveryQos1' : 'deliveryQos0'),
      throughputMsgsPerSec: throughput(m.timeline, m.elapsedMs, messages.received),
      connectLatencyMs: h.summary('firstConnack'),
      sessionsDropped: sessionsDropped ?? 0,
    },
    cpu: { ...cpuFigures(cpu.run, completed), ...(cpu.provisioning ? { provisioningWindow: cpuFigures(cpu.provisioning, completed) } : {}) },
    curves: Object.fromEntries(PHASES.map((p) => [p, h.curve(p)]).filter(([, c]) => (c as unknown[]).length > 0)),
    ratios: {},
    thresholds: [],
    measuredWithPreMadeKeys: [],
    measured: { cpu },
  };
  out.ratios = ratiosFor(out);
  out.thresholds = evaluateThresholds(out);
  out.measuredWithPreMadeKeys = preMadeFigures(out);
  return out;
}

/**
 * The ratios that apply to the scenario: null where one applies but could not be measured in
 * this run (no baseline, or step-ca did no work because the lab CA issued the certificates).
 */
function ratiosFor(s: PerfSummary): Record<string, number | null> {
  const b = s.baselines;
  const name = s.scenario.name;
  const stepCaIssued = s.config.certificates !== 'issued';
  const mqttBaselines = {
    labMqttThroughputOverMosquittoClients: ratio(b.labClients?.perSec, b.mosquittoClients?.perSec),
    labCpuPerHandshakeOverBroker: ratio(b.handshakes?.labCpuMsPerHandshake, b.handshakes?.brokerCpuMsPerHandshake),
  };
  const cpuOverStepCa = {
    labCpuPerDeviceOverStepCa: stepCaIssued ? ratio(s.cpu.labMsPerDevice, s.cpu.stepCaMsPerDevice) : null,
    provisioningServiceCpuPerDeviceOverStepCa: stepCaIssued ? ratio(s.cpu.provisioningServiceMsPerDevice, s.cpu.stepCaMsPerDevice) : null,
  };
  const w = s.cpu.provisioningWindow;
  const provisioningWindow = { provisioningWindowLabCpuPerDeviceOverStepCa: stepCaIssued && w ? ratio(w.labMsPerDevice, w.stepCaMsPerDevice) : null };
  switch (name) {
    case 'full-flow':
      return {
        ...cpuOverStepCa,
        ...provisioningWindow,
        fractionOfCaLimit: stepCaIssued ? ratio(s.provisioning.devicesPerSec, b.caFlow?.perSec) : null,
        ...mqttBaselines,
        provisioningP50OverCaSignP50: ratio(s.provisioning.latencyMs.p50, b.caSigning?.latencyMs.p50),
        devicesPerSecOverCaSignsPerSec: ratio(s.provisioning.devicesPerSec, b.caSigning?.perSec),
      };
    case 'bootstrap-endpoint':
    case 'renewal-soak':
      return cpuOverStepCa;
    case 'x5c-sign':
      return { ...cpuOverStepCa, signsPerSecOverCaSigning: ratio(s.iterations.perSec, b.caSigning?.perSec) };
    case 'mqtt-connect-storm':
      return { labCpuPerConnectOverBroker: ratio(s.cpu.labMsPerDevice, s.cpu.mosquittoMsPerDevice), ...mqttBaselines };
    case 'mqtt-publish':
      return { labCpuPerDeviceOverStepCa: null, ...mqttBaselines };
  }
}

export function buildSummary(
  result: RunResult,
  context: { runId: string; config: RunConfig; lab: { id: string; owned: boolean }; tools: Record<string, string>; baselines: Baselines },
): PerfSummary {
  return derive({
    schema: SUMMARY_SCHEMA,
    runId: context.runId,
    partial: result.partial,
    startedAt: result.startedAt,
    finishedAt: result.finishedAt,
    elapsedMs: Math.round(result.elapsedMs),
    config: context.config,
    segment: { ...context.config.segment, firstDevice: result.firstDevice },
    lab: context.lab,
    machine: machineInfo(),
    tools: context.tools,
    executor: result.executor,
    devices: { ...result.devices, distinctIdentities: result.distinctIdentities },
    faults: result.faults,
    revocation: result.revocation,
    inventory: result.inventory,
    errors: { total: Object.values(result.errorsByCause).reduce((a, b) => a + b, 0), timeouts: result.timeouts, byCause: result.errorsByCause },
    timeline: result.timeline,
    baselines: context.baselines,
    histograms: result.histograms.encode(),
    mqttMessages: result.messages,
    renewalCount: result.renewals,
    renewalFailures: result.renewalFailures,
    devicesRenewed: result.devicesRenewed,
    sessionsDropped: result.sessionsDropped,
    classes: result.classes,
    cpu: result.cpu,
    eventLoopDelayMs: result.eventLoopDelayMs ?? {},
  });
}
