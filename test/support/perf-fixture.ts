// Measured-shaped inputs of the real summary code, for the report's tests without a lab: a run's
// configuration and measurements as `ecm-lab load` records them, and a perf summary as a
// full-flow run with every phase and a long tail produces it.
import { LatencyHistograms } from '../../evidence/perf/latency-histograms.ts';
import { buildSummary } from '../../evidence/perf/summary.ts';
import type { PerfSummary, RunConfig, RunResult } from '../../evidence/perf/summary-schema.ts';
import type { CpuMeasurement, CpuWindowReadings } from '../../evidence/perf/cpu-readings.ts';

/** A full flow of 20 devices as `ecm-lab load` configures it, with `extra` over it. */
export const runConfig = (extra: Partial<RunConfig> = {}): RunConfig => ({
  scenario: 'full-flow',
  executor: { kind: 'arrival-rate', ratePerSecond: 10, maxConcurrent: 50, vus: 1, vusDurationMs: 0 },
  devices: 20,
  mix: { '2.1': 100 },
  durationMs: 5000,
  qos: 1,
  telemetryIntervalMs: 1000,
  segment: { index: 1, count: 1 },
  seed: 1,
  faults: [],
  workers: 1,
  certificates: 'provisioned',
  thresholds: { provisioningP99Ms: 30_000, deliveryP99Ms: 1000, connectP99Ms: 10_000 },
  ...extra,
});

/** A run of `devices` devices that all provisioned and connected, 10 messages each delivered, `histograms` as measured; `extra` over it. */
export function runResult(devices: number, histograms: LatencyHistograms, extra: Partial<RunResult> = {}): RunResult {
  return {
    partial: false,
    startedAt: '2026-12-01T10:00:00.000Z',
    finishedAt: '2026-12-01T10:00:10.000Z',
    elapsedMs: 10_000,
    firstDevice: 0,
    executor: { kind: 'arrival-rate', planned: devices, started: devices, completed: devices, failed: 0, interrupted: 0, notStarted: 0, delayed: 0, maxStartDelayMs: 0, elapsedMs: 2000 },
    devices: { requested: devices, started: devices, provisioned: devices, connected: devices, failed: 0, legacy: 0 },
    messages: { sent: devices * 10, received: devices * 10, lost: 0, duplicates: 0, excludedAfterRevocation: 0, lostByDevice: {} },
    renewals: 0,
    errorsByCause: {},
    timeouts: 0,
    timeline: [{ t: 1, provisioned: devices, connected: devices, failed: 0, sent: devices * 10, received: devices * 10 }],
    histograms,
    cpu: cpuRun({ lab: devices * 100, stepCa: devices * 40, mosquitto: devices * 5, provisioningService: devices * 60 }),
    faults: [],
    distinctIdentities: devices,
    inventory: { inventory: devices * 2, issuedOnLogs: devices * 2, notInInventory: 0, notOnLogs: 0 },
    ...extra,
  };
}

/**
 * A CPU window as the meter records it: one process per role (`pid@1`), counters from `start`
 * on, each role's process having used the given milliseconds; the lab process on the main thread.
 */
export function cpuWindow(ms: { lab: number; stepCa: number; mosquitto: number; provisioningService: number }, start = 1000, pid = 100): CpuWindowReadings {
  const one = (n: number, used: number) => ({ [`${n}@1`]: { start, end: start + used } });
  return {
    components: { stepCa: one(pid, ms.stepCa), mosquitto: one(pid + 1, ms.mosquitto), provisioningService: one(pid + 2, ms.provisioningService) },
    lab: { processMs: ms.lab, threads: { main: ms.lab } },
  };
}

export const cpuRun = (ms: Parameters<typeof cpuWindow>[0]): CpuMeasurement => ({ run: cpuWindow(ms) });

const PHASES = ['acmeOrder', 'challengeValidation', 'finalize', 'x5cSign', 'firstConnack', 'provisioningTotal', 'renewal'] as const;

export function fullFlowSummary(devices = 500): PerfSummary {
  const histograms = new LatencyHistograms();
  for (let i = 0; i < devices; i++) {
    // One slow device: the maximum far above p99, as after a restart.
    for (const p of PHASES) histograms.record(p, 50 + (i % 97) * 30 + (i === devices - 1 ? 28_000 : 0));
    for (let m = 0; m < 10; m++) histograms.record('deliveryQos1', 1 + ((m * i) % 40));
  }
  const config = runConfig({ devices });
  const result = runResult(devices, histograms, {
    finishedAt: '2026-12-01T10:05:00.000Z',
    elapsedMs: 300_000,
    renewals: 3,
    timeline: Array.from({ length: 30 }, (_, i) => ({ t: i * 10, provisioned: Math.min(devices, i * 17), connected: Math.min(devices, i * 17), failed: 0, sent: i * 1600, received: i * 1600 })),
  });
  result.executor.elapsedMs = 50_000;
  const caFlow = { devices: 10, concurrency: 8, perSec: 20, latencyMs: { count: 10, p50: 300, p95: 400, p99: 400, max: 400, mean: 300 }, stepCaCpuMsPerDevice: 40, provisioningServiceCpuMsPerDevice: 10, labCpuMsPerDevice: 20, cpuBoundPerSec: 50 };
  return buildSummary(result, { runId: 'layout', config, lab: { id: 'layout', owned: true }, tools: { 'step-ca': '0.30.2' }, baselines: { caFlow } });
}
