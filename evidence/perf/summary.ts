// summary.json of a load run: stable key names (documented in README "Performance report"),
// what was measured (counts, HDR histograms, CPU milliseconds), and what is derived from it
// (latency summaries, rates, ratios against the same-run baselines, thresholds). Merges re-derive
// from the measured part, so a merged report is computed exactly as a single one.
import os from 'node:os';
import { LatencyHistograms, PHASES, type Phase } from './latency-histograms.ts';
import { evaluateThresholds } from './thresholds.ts';
import { deriveClasses } from './fleet-classes.ts';
import { SCENARIO_REPORTS, type Baselines, type MeasuredSummary, type PerfSummary, type RunConfig, type RunResult, type ScenarioName, type TimelinePoint } from './summary-schema.ts';
import { cpuFigures } from './cpu-readings.ts';
import { preMadeFigures } from './pre-made.ts';

/**
 * @2: scenarios and executors; step-ca's CPU is both authorities'; inventory and revocation checks.
 * @3: CPU as absolute readings per process (a shared lab merges once), the provisioning window,
 * the lab's CPU by thread, event-loop delay, the figures measured with pre-made keys; a
 * threshold on an empty histogram is "no data" (value null) and fails.
 */
export const SUMMARY_SCHEMA = 'ecm-lab/perf-summary@3';

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
  const phase = SCENARIO_REPORTS[scenario].phase;
  return phase === 'deliveryQos1' && qos === 0 ? 'deliveryQos0' : phase;
}

/** Everything derived from what was measured: latency summaries, rates, CPU per device, ratios, thresholds. */
export function derive(m: MeasuredSummary): PerfSummary {
  const h = LatencyHistograms.decode(m.histograms);
  const scenario = { name: m.config.scenario, ...SCENARIO_REPORTS[m.config.scenario] };
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
    ...(b.handshakesNative ? { nativeCpuPerHandshakeOverBroker: ratio(b.handshakesNative.labCpuMsPerHandshake, b.handshakesNative.brokerCpuMsPerHandshake) } : {}),
  };
  const cpuOverStepCa = {
    labCpuPerDeviceOverStepCa: stepCaIssued ? ratio(s.cpu.labMsPerDevice, s.cpu.stepCaMsPerDevice) : null,
    provisioningServiceCpuPerDeviceOverStepCa: stepCaIssued ? ratio(s.cpu.provisioningServiceMsPerDevice, s.cpu.stepCaMsPerDevice) : null,
  };
  const w = s.cpu.provisioningWindow;
  const provisioningWindow = {
    provisioningWindowLabCpuPerDeviceOverStepCa: stepCaIssued && w ? ratio(w.labMsPerDevice, w.stepCaMsPerDevice) : null,
    // Only where the device clients have threads (or a process) of their own: in the main thread they share it with the runner and the responder.
    ...(stepCaIssued && w?.deviceClientMsPerDevice !== undefined ? { provisioningWindowDeviceClientCpuPerDeviceOverStepCa: ratio(w.deviceClientMsPerDevice, w.stepCaMsPerDevice) } : {}),
  };
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
