// A swarm of simulated devices against a started lab (the fleet scenarios: full-flow,
// mqtt-connect-storm, mqtt-publish): devices come up as the executor starts them, each with
// its own address, store and identity, then the connected fleet publishes (or holds its
// sessions) for the steady state while one application receives everything. The parts:
// fleet-setup (provisioning window, application), the executor (arrivals), the device pool,
// the fault injector and the metrics. Bounded in count and in time.
import path from 'node:path';
import pLimit from 'p-limit';
import { ProvisioningAdminClient } from '../simulators/client/admin-client.ts';
import { TimeoutError, waitFor } from '../environments/wait.ts';
import { generateIdentities } from '../simulators/device/identity.ts';
import type { FirmwarePolicy } from '../config/firmware-policy.ts';
import type { LabEndpoints } from '../simulators/client/lab-endpoints.ts';
import { realClock, runExecutor } from './executors.ts';
import type { ExecutorStats, RunConfig, RunResult } from '../evidence/perf/summary-schema.ts';
import { segmentExecutor } from './plan.ts';
import { CpuMeter } from './cpu-meter.ts';
import { causeOf, LocalDevicePool, type DevicePool, type DevicePoolSpec } from '../simulators/fleet/device-pool.ts';
import { FaultInjector } from './faults/fault-injector.ts';
import type { FleetLab } from './fleet-lab.ts';
import { FleetMetrics, type FleetProgress } from './fleet-metrics.ts';
import { FleetAddresses, openProvisioning, startApplication } from './fleet-setup.ts';
import { finishRun } from './finish-run.ts';
import { segmentShare } from './segment.ts';
import { WorkerDevicePool } from '../simulators/fleet/worker-device-pool.ts';
import { NativeDevicePool } from '../simulators/fleet/native-device-pool.ts';
import { LabThreads } from './lab-threads.ts';
import { classLauncher, FleetClasses } from './mixed-fleet.ts';

export type { FleetProgress };

/** The run's part of the command line, and what the lab and the command add to it. */
export type FleetOptions = Pick<RunConfig, 'scenario' | 'executor' | 'devices' | 'mix' | 'durationMs' | 'qos' | 'telemetryIntervalMs' | 'certLifetimeSeconds' | 'segment' | 'seed' | 'workers' | 'preMadeKeys' | 'deviceClient'> &
  Partial<Pick<RunConfig, 'faults' | 'certificates'>> & {
    /** Connected devices publish telemetry, or only hold their sessions (the connect storm). */
    operate: 'telemetry' | 'hold';
    topicRoot: string;
    /** The managing application's identity (broker.applicationIdentity); segments append their number. */
    applicationIdentity: string;
    /** seed 000's mixed fleet: which firmware provisions itself, which the service team certifies, which is legacy. */
    firmware: FirmwarePolicy;
    /** How long to wait for in-flight messages after telemetry stops. */
    drainTimeoutMs: number;
    /** How long devices still coming up may take after the executor's window. */
    gracefulStopMs: number;
    /** `--client-addresses`: the block (or one per segment, comma-separated) the devices and applications bind; the default loopback blocks when absent. */
    clientAddresses?: string;
    /** Where ecm-device is (`--device-client native`): the lab's tools directory. */
    toolsBinDir?: string;
    /** Pass/fail limits; seed 001's NFR-PERF-001/002 (30 s, 1 s) by default. */
    thresholds?: Pick<RunConfig['thresholds'], 'provisioningP99Ms' | 'deliveryP99Ms'>;
    signal?: AbortSignal;
    onProgress?: (progress: FleetProgress) => void;
  };

/** What a fleet run measured: the same shape as a request scenario's (one report for both). */
export type FleetResult = RunResult;

/** Issuing thousands of certificates: a few at a time keeps the event loop free for the rest. */
const ISSUE_CONCURRENCY = 8;

export async function runFleet(lab: FleetLab, endpoints: LabEndpoints, options: FleetOptions): Promise<FleetResult> {
  if (!lab.owned && (options.faults?.length || options.certificates === 'issued')) {
    throw new Error('fault injection and certificates issued by the lab CA need a lab this command started (its processes and CA), not an attached one');
  }
  const share = segmentShare(options.devices, options.executor.ratePerSecond, options.segment);
  const executorSpec = segmentExecutor(options.executor, options.devices, options.segment);
  const metrics = new FleetMetrics(options.qos);
  const identities = generateIdentities({ count: share.devices, seed: options.seed, firmwareMix: options.mix, offset: share.firstDevice });
  // Every device in its class (firmware track), each failure counted once: the pool reports a
  // device's failure before its launch rejects, and the executor's report of it is the same one.
  const classes = new FleetClasses(identities, options.firmware);
  const { index, count } = options.segment;
  const logFile = path.join(lab.logDir, count > 1 ? `fleet-clients-seg${index}of${count}.log` : 'fleet-clients.log');
  // Ends renewal waits, fault waits and the steady state: at the end of the duration, or on Ctrl-C.
  const runEnd = new AbortController();
  options.signal?.addEventListener('abort', () => runEnd.abort(), { once: true });

  const admin = new ProvisioningAdminClient(lab.admin.url, lab.admin.token, endpoints.trustedRootPem);
  const addresses = new FleetAddresses(options.clientAddresses, options.segment);
  await openProvisioning(admin, {
    addresses,
    shared: !lab.owned,
    devices: options.devices,
    segment: options.segment,
    applicationIdentity: options.applicationIdentity,
    longestRunSeconds: share.devices / share.ratePerSecond + options.durationMs / 1000,
  });
  const ownDevices = new Set<string>();
  const app = await startApplication({
    endpoints,
    storeRoot: lab.storeRoot,
    logFile,
    topicRoot: options.topicRoot,
    qos: options.qos,
    segment: options.segment,
    applicationIdentity: options.applicationIdentity,
    addresses,
    // Segments sharing a lab see each other's telemetry; each counts only its own devices.
    onTelemetry: (entry) => {
      if (!lab.owned && !ownDevices.has(entry.message.deviceId)) return;
      metrics.onTelemetry(entry);
      classes.onTelemetry(entry);
    },
  });

  // The devices: in this thread, or spread over worker threads (same events either way).
  const { responder, ...poolEndpoints } = endpoints;
  const spec: DevicePoolSpec = {
    endpoints: poolEndpoints,
    topicRoot: options.topicRoot,
    logFile,
    storeRoot: lab.storeRoot,
    qos: options.qos,
    telemetryIntervalMs: options.telemetryIntervalMs,
    operate: options.operate,
    certLifetimeSeconds: options.certLifetimeSeconds,
    firmware: options.firmware,
    directIssuer: options.certificates === 'issued' ? lab.owned!.directIssuer : undefined,
    preMadeKeys: options.preMadeKeys,
    clientAddresses: addresses.blocks?.own.block,
    clientAddressOffset: addresses.blocks?.deviceOffset(share.firstDevice),
  };
  const failed = (deviceId: string, error: unknown) => (classes.failed(deviceId) ? metrics.deviceFailed(error) : metrics.error(causeOf(error)));
  const onEvent = (event: Parameters<FleetMetrics['onPoolEvent']>[0]) => {
    if (classes.onPoolEvent(event, metrics)) return;
    if (event.type === 'failed') return failed(event.deviceId, Object.assign(new Error(event.cause), { name: 'DeviceFailure' }));
    metrics.onPoolEvent(event);
  };
  const pool: DevicePool =
    options.deviceClient === 'native'
      ? new NativeDevicePool(spec, responder, onEvent, { binDir: options.toolsBinDir })
      : options.workers > 1
        ? new WorkerDevicePool(spec, options.workers, responder, onEvent)
        : new LocalDevicePool(spec, responder, onEvent);
  // The native process ends with this run whatever happens below (its stop() is idempotent).
  try {
    return await runWithPool();
  } finally {
    if (pool instanceof NativeDevicePool) await pool.stop().catch(() => undefined);
  }

  async function runWithPool(): Promise<FleetResult> {
    const selfProvisioning = (k: number) => classes.classOf(identities[k]!.deviceId) === 'self-provisioning';
    if (spec.directIssuer || spec.preMadeKeys) {
      // Issuance is not what an MQTT scenario measures: every certificate exists before the clock
      // starts; with pre-made keys, every key and CSR.
      const limit = pLimit(ISSUE_CONCURRENCY);
      await Promise.all(identities.map((identity, k) => (selfProvisioning(k) ? limit(() => pool.prepare(identity, share.firstDevice + k)) : undefined)));
    }
    const launch = classLauncher({ pool, admin, classes, histograms: metrics.histograms });

    const threads = new LabThreads(pool, app);
    await threads.reset();
    const cpu = new CpuMeter(() => lab.pids(), undefined, () => threads.cpu());
    const startedAt = new Date();
    const t0 = performance.now();
    const elapsed = () => performance.now() - t0;
    const stopSampling = metrics.sample(elapsed, () => pool.sent(), options.onProgress);
    let arrivals: Promise<ExecutorStats> | undefined;
    const faults = new FaultInjector({ lab, pool, metrics, admin, cpu, t0, runEnd: runEnd.signal, arrivalsSettled: () => arrivals ?? Promise.resolve() });
    if (executorSpec.kind === 'arrival-rate') faults.schedule(options.faults ?? [], 'arrivals', (share.devices * 1000) / share.ratePerSecond);

    arrivals = runExecutor(
      executorSpec,
      async (k) => {
        metrics.counts.started++;
        const identity = identities[k]!;
        // Legacy firmware is run too, on the legacy listener; the count says how many there were.
        if (classes.classOf(identity.deviceId) === 'legacy') metrics.counts.legacy++;
        ownDevices.add(identity.deviceId);
        await launch(identity, share.firstDevice + k);
      },
      {
        signal: options.signal,
        gracefulStopMs: options.gracefulStopMs,
        onError: (k, err) => failed(identities[k]!.deviceId, err),
        onTimeout: (k, err) => (classes.failed(identities[k]!.deviceId) ? metrics.abandon(identities[k]!.deviceId, err) : metrics.timeout(err)),
      },
    );
    const executor = await arrivals;
    const provisioningCpu = await cpu.window();

    // Steady state: the whole fleet publishes for the duration (bounded), or until Ctrl-C.
    faults.schedule(options.faults ?? [], 'steady', options.durationMs);
    await realClock.sleep(options.durationMs, options.signal);
    // A fault still recovering at the end keeps the run going until it has (bounded by its waits).
    await faults.settled();
    const connectedIds = await pool.connectedIds();
    const steadyEnd = performance.timeOrigin + performance.now();
    runEnd.abort();
    const { devices: tally, errors } = await pool.stop();
    for (const error of errors) metrics.error(error);

    try {
      await waitFor('every message that counts to reach the application', () => metrics.allDelivered(tally), { timeoutMs: options.drainTimeoutMs, intervalMs: 50 });
    } catch (err) {
      if (!(err instanceof TimeoutError)) throw err;
      metrics.timeout(err);
    }
    stopSampling();
    const messages = metrics.account(tally, faults.retired);
    const classFigures = classes.finish(connectedIds, tally, (part) => metrics.account(part, faults.retired));
    metrics.point(elapsed(), messages.sent, messages.received);
    const cpuRun = await cpu.window();
    const eventLoopDelayMs = await threads.loopDelays();
    threads.stop();
    const elapsedMs = elapsed();

    await app.disconnect().catch((err: unknown) => metrics.error(`application disconnect: ${causeOf(err)}`));
    const start = await finishRun(lab, admin, { startedAt, elapsedMs, firstDevice: share.firstDevice, executor, signal: options.signal }, metrics);

    return {
      ...start,
      devices: {
        requested: share.devices,
        started: metrics.counts.started,
        provisioned: metrics.counts.provisioned,
        connected: connectedIds.length,
        failed: metrics.counts.failed,
        legacy: metrics.counts.legacy,
      },
      messages,
      renewals: metrics.counts.renewals,
      renewalFailures: metrics.counts.renewalFailures,
      devicesRenewed: metrics.renewedDevices.size,
      sessionsDropped: Object.values(tally).reduce((n, t) => n + t.unexpectedDisconnects.length, 0),
      classes: classFigures,
      errorsByCause: metrics.errorsByCause,
      timeouts: metrics.counts.timeouts,
      timeline: metrics.timeline,
      histograms: metrics.histograms,
      faults: faults.records,
      revocation: faults.revocationOutcome(tally, messages.excludedAfterRevocation, steadyEnd),
      distinctIdentities: Object.keys(tally).filter((id) => ownDevices.has(id) && !classes.hasFailed(id)).length,
      cpu: { run: cpuRun, provisioning: provisioningCpu },
      eventLoopDelayMs,
    };
  }
}
