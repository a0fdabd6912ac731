// The request scenarios (bootstrap-endpoint, x5c-sign): each iteration is one device asking for
// one credential or certificate. Every device's request is made ready before the run (keys,
// CSR, credential, token: k6's setup()), so the run measures the servers, not the lab signing
// its inputs; each iteration is then timed for its request alone. The executor decides when iterations start; every failure and every
// timeout is counted by its cause. The report has the same form as a fleet run's.
import { generateIdentities } from '../simulators/device/identity.ts';
import type { DeviceIdentity } from '../simulators/device/device-identity.ts';
import { CpuMeter } from './cpu-meter.ts';
import { causeOf } from '../simulators/fleet/device-pool.ts';
import type { FleetLab } from './fleet-lab.ts';
import type { FleetProgress } from './fleet-metrics.ts';
import type { ExecutorPlan, RunResult, Segment, TimelinePoint } from '../evidence/perf/summary-schema.ts';
import { finishRun } from './finish-run.ts';
import { LatencyHistograms, type Phase } from '../evidence/perf/latency-histograms.ts';
import { segmentShare } from './segment.ts';
import type { ProvisioningAdminClient } from '../simulators/client/admin-client.ts';
import pLimit from 'p-limit';
import { runExecutor } from './executors.ts';
import { segmentExecutor } from './plan.ts';

/** Preparing thousands of requests: a few at a time keeps the event loop free. */
const PREPARE_CONCURRENCY = 8;

export interface RequestScenario<Prepared> {
  /** The histogram phase the request is timed in. */
  phase: Phase;
  /** Where each scenario's identities start, so scenarios sharing a lab never claim each other's. */
  identityOffset: number;
  /** Before the run: what the engineer opens (white list, ON), if anything. */
  open?(admin: ProvisioningAdminClient, shared: boolean): Promise<void>;
  /** Keys, CSR, token, credentials: made before the run starts. */
  prepare(device: { identity: DeviceIdentity; globalIndex: number }): Promise<Prepared>;
  /** The one timed request; throws with the cause when refused. */
  request(prepared: Prepared, signal: AbortSignal): Promise<void>;
}

export interface RequestRunOptions {
  executor: ExecutorPlan;
  devices: number;
  segment: Segment;
  seed: number;
  gracefulStopMs: number;
  signal?: AbortSignal;
  onProgress?: (progress: FleetProgress) => void;
}

export async function runRequests<P>(lab: FleetLab, admin: ProvisioningAdminClient, scenario: RequestScenario<P>, options: RequestRunOptions): Promise<RunResult> {
  const share = segmentShare(options.devices, options.executor.ratePerSecond, options.segment);
  const spec = segmentExecutor(options.executor, options.devices, options.segment);
  const identities = generateIdentities({ count: share.devices, seed: options.seed, offset: scenario.identityOffset + share.firstDevice });
  await scenario.open?.(admin, !lab.owned);
  const prepared = await pLimit(PREPARE_CONCURRENCY).map(identities, (identity, k) => scenario.prepare({ identity, globalIndex: share.firstDevice + k }));

  const histograms = new LatencyHistograms();
  const errorsByCause: Record<string, number> = {};
  const error = (cause: string) => (errorsByCause[cause] = (errorsByCause[cause] ?? 0) + 1);
  let timeouts = 0;
  const counts = { started: 0, completed: 0, failed: 0 };
  const timeline: TimelinePoint[] = [];
  const cpu = new CpuMeter(() => lab.pids());
  const startedAt = new Date();
  const t0 = performance.now();
  const elapsed = () => performance.now() - t0;
  const point = () => timeline.push({ t: Math.round(elapsed() / 100) / 10, provisioned: counts.completed, connected: 0, failed: counts.failed, sent: 0, received: 0 });
  let last = { t: 0, completed: 0 };
  const sampler = setInterval(() => {
    point();
    const t = elapsed();
    const rate = ((counts.completed - last.completed) * 1000) / Math.max(1, t - last.t);
    last = { t, completed: counts.completed };
    options.onProgress?.({ elapsedMs: t, started: counts.started, provisioned: counts.completed, connected: 0, failed: counts.failed, legacy: 0, sent: 0, received: 0, msgsPerSec: Math.round(rate), deliveryP99Ms: histograms.summary(scenario.phase).p99 });
  }, 1000);
  // A sampler never keeps the process alive: a run that failed half-way still exits.
  sampler.unref();

  const executor = await runExecutor(
    spec,
    async (k, signal) => {
      counts.started++;
      const t = performance.now();
      await scenario.request(prepared[k]!, signal);
      histograms.record(scenario.phase, performance.now() - t);
      counts.completed++;
    },
    {
      signal: options.signal,
      gracefulStopMs: options.gracefulStopMs,
      onError: (_k, err) => {
        counts.failed++;
        error(causeOf(err));
      },
      onTimeout: (_k, err) => {
        counts.failed++;
        timeouts++;
        error(causeOf(err));
      },
    },
  );
  clearInterval(sampler);
  point();
  const cpuRun = await cpu.window();
  const elapsedMs = elapsed();
  const sink = {
    error,
    timeout: (err: unknown) => {
      timeouts++;
      error(causeOf(err));
    },
  };
  const start = await finishRun(lab, admin, { startedAt, elapsedMs, firstDevice: share.firstDevice, executor, signal: options.signal }, sink);
  return {
    ...start,
    devices: { requested: share.devices, started: executor.started, provisioned: executor.completed, connected: 0, failed: executor.failed + executor.interrupted, legacy: 0 },
    messages: { sent: 0, received: 0, lost: 0, duplicates: 0, excludedAfterRevocation: 0, lostByDevice: {} },
    renewals: 0,
    errorsByCause,
    timeouts,
    timeline,
    histograms,
    cpu: { run: cpuRun },
    faults: [],
    distinctIdentities: executor.completed,
  };
}
