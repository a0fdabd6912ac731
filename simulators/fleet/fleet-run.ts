// A swarm of simulated devices against a started lab: arrivals ramped at a fixed rate, each
// device running the full workflow (ACME bootstrap through the provisioning service, X5C
// operational certificate, mutual-TLS MQTT, periodic telemetry, renewals when lifetimes are
// short) and one application receiving everything. Bounded in count and in time.
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { processCpuMs, ownCpuMs } from '../../environments/local/process-cpu.ts';
import { waitFor } from '../../environments/wait.ts';
import { ProvisioningAdminClient } from '../../services/provisioning/admin-client.ts';
import { LumiaApplication, type ReceivedTelemetry } from '../app/lumia-application.ts';
import { generateIdentities, supportsCertificates, type FirmwareMix } from '../device/identity.ts';
import { loopbackAddress } from '../client/addresses.ts';
import type { LabEndpoints } from '../client/lab-endpoints.ts';
import { LocalDevicePool, RECONNECT_MS, type DevicePool, type DevicePoolEvent, type DevicePoolSpec } from './device-pool.ts';
import { faultPhase, type FaultKind, type FaultRecord } from './faults.ts';
import type { FleetLab } from './fleet-lab.ts';
import { WorkerDevicePool } from './worker-device-pool.ts';
import { LatencyHistograms } from './latency-histograms.ts';
import { segmentShare, type Segment } from './segment.ts';

export interface FleetOptions {
  devices: number;
  mix: FirmwareMix;
  /** Device arrivals per second (whole fleet; a segment runs its share). */
  ratePerSecond: number;
  /** Steady state: how long the whole fleet publishes after the last device was provisioned. */
  durationMs: number;
  qos: 0 | 1;
  telemetryIntervalMs: number;
  /** Operational certificate lifetime; renewals happen during the run when it is short. */
  certLifetimeSeconds?: number;
  segment: Segment;
  topicRoot: string;
  /** The managing application's identity (broker.applicationIdentity); segments append their number. */
  applicationIdentity: string;
  seed: number;
  minimumCertificateFirmware: string;
  /** How long to wait for in-flight messages after telemetry stops. */
  drainTimeoutMs: number;
  /** Cap on concurrent device workflows, so arrivals cannot outrun the machine unboundedly. */
  maxConcurrentProvisioning: number;
  /** Components to restart during the run (fault injection). */
  faults?: FaultKind[];
  /** Worker threads the devices are spread over; 1 = all in this thread. */
  workers: number;
  /**
   * 'provisioned': every device runs ACME + X5C (the default); 'issued': certificates straight
   * from the lab CA, to measure MQTT with thousands of distinct identities.
   */
  certificates?: 'provisioned' | 'issued';
  /** Pass/fail limits; seed 001's NFR-PERF-001/002 (30 s, 1 s) by default. */
  thresholds?: { provisioningP99Ms: number; deliveryP99Ms: number };
  signal?: AbortSignal;
  onProgress?: (progress: FleetProgress) => void;
}

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

export interface TimelinePoint {
  t: number;
  provisioned: number;
  connected: number;
  failed: number;
  sent: number;
  received: number;
}

export interface FleetResult {
  partial: boolean;
  startedAt: string;
  finishedAt: string;
  elapsedMs: number;
  firstDevice: number;
  devices: { requested: number; started: number; provisioned: number; connected: number; failed: number; legacy: number };
  messages: { sent: number; received: number; lost: number; duplicates: number; lostByDevice: Record<string, number> };
  renewals: number;
  errorsByCause: Record<string, number>;
  timeline: TimelinePoint[];
  histograms: LatencyHistograms;
  cpuMs: { lab: number; stepCa: number; mosquitto: number; provisioningService: number };
  faults: FaultRecord[];
  /** Distinct certificate identities among connected devices (a duplicate would break ACLs). */
  distinctIdentities: number;
}



export async function runFleet(lab: FleetLab, endpoints: LabEndpoints, options: FleetOptions): Promise<FleetResult> {
  if (!lab.owned && (options.faults?.length || options.certificates === 'issued')) {
    throw new Error('fault injection and --certificates issued need a lab this command started (its processes and CA), not an attached one');
  }
  const share = segmentShare(options.devices, options.ratePerSecond, options.segment);
  const histograms = new LatencyHistograms();
  const errorsByCause: Record<string, number> = {};
  const counts = { started: 0, provisioned: 0, connected: 0, failed: 0, legacy: 0, renewals: 0, received: 0, duplicates: 0 };
  const seen = new Map<string, Set<number>>();
  const timeline: TimelinePoint[] = [];
  const { index, count } = options.segment;
  const logFile = path.join(lab.logDir, count > 1 ? `fleet-clients-seg${index}of${count}.log` : 'fleet-clients.log');
  const storeRoot = lab.storeRoot;
  const fail = (cause: string) => {
    counts.failed++;
    errorsByCause[cause] = (errorsByCause[cause] ?? 0) + 1;
  };

  const pids = lab.pids();
  const cpuAtStart = { lab: ownCpuMs(), stepCa: processCpuMs(pids.stepCa), mosquitto: processCpuMs(pids.mosquitto) };
  // The provisioning service gets a new process (pid) when a fault restarts it: count each one's share.
  let serviceCpu = { pid: pids.provisioningService, atStart: processCpuMs(pids.provisioningService), before: 0 };
  const provisioningServiceCpuMs = () => serviceCpu.before + processCpuMs(serviceCpu.pid) - serviceCpu.atStart;
  const startedAt = new Date();
  const t0 = performance.now();
  const elapsed = () => performance.now() - t0;
  // Ends renewal waits and the telemetry phase: at the end of the duration, or on Ctrl-C.
  const runEnd = new AbortController();
  options.signal?.addEventListener('abort', () => runEnd.abort(), { once: true });

  // The engineer opens provisioning for exactly the fleet's addresses and its applications'
  // (one per segment). Every segment sets the same list, so segments sharing a lab agree. A
  // shared lab turns itself off after the longest a segment may run (arrivals, the duration,
  // 10 min of grace); a lab of its own is turned off at the end.
  const admin = new ProvisioningAdminClient(lab.admin.url, lab.admin.token, endpoints.trustedRootPem);
  const appAddress = loopbackAddress(index - 1, 120);
  await admin.turnOn(!lab.owned ? Math.ceil(share.devices / share.ratePerSecond + options.durationMs / 1000 + 600) : undefined);
  // Segments sharing a lab each run an application of their own identity: the broker gives every
  // connection its certificate's identity as client id, so one identity is one session.
  const segmentApp = (i: number) => (count > 1 ? `${options.applicationIdentity}-seg${i}of${count}` : options.applicationIdentity);
  const appIdentity = segmentApp(index);
  await admin.setWhitelist([
    ...Array.from({ length: count }, (_, i) => `${loopbackAddress(i, 120)}=${segmentApp(i + 1)}`),
    `${loopbackAddress(0)}-${loopbackAddress(Math.max(0, options.devices - 1))}`,
  ]);
  const ownDevices = new Set<string>();

  const app = new LumiaApplication({
    address: appAddress,
    storeDir: path.join(storeRoot, 'lumia'),
    endpoints,
    topicRoot: options.topicRoot,
    logFile,
    reconnectPeriodMs: RECONNECT_MS,
    keepReceived: false,
    qos: options.qos,
    commonName: appIdentity,
    onTelemetry: (entry: ReceivedTelemetry) => {
      const { deviceId, seq, sentAt } = entry.message;
      if (!lab.owned && !ownDevices.has(deviceId)) return; // another segment's device
      let set = seen.get(deviceId);
      if (!set) seen.set(deviceId, (set = new Set()));
      if (set.has(seq)) {
        counts.duplicates++;
        return;
      }
      set.add(seq);
      counts.received++;
      const waiting = awaitingDelivery.get(deviceId);
      if (waiting) {
        awaitingDelivery.delete(deviceId);
        waiting.record.record('recovery', entry.receivedAt - performance.timeOrigin - waiting.since);
      }
      histograms.record(options.qos === 1 ? 'deliveryQos1' : 'deliveryQos0', entry.receivedAt - sentAt);
    },
  });
  await app.provision();
  await app.getCertificate();
  await app.connect();

  // The devices: in this thread, or spread over worker threads (same events either way).
  let inFlight = 0;
  const provisionedIds = new Set<string>();
  /** Devices whose power-up needed retries, and when (epoch ms) they finally connected. */
  const retriedAt = new Map<string, number>();
  const onPoolEvent = (event: DevicePoolEvent) => {
    if (event.type === 'provisioned') {
      inFlight--;
      counts.provisioned++;
      counts.connected++;
      provisionedIds.add(event.deviceId);
      if (event.retried) retriedAt.set(event.deviceId, event.at);
      const t = event.timings;
      for (const phase of ['acmeOrder', 'challengeValidation', 'finalize', 'x5cSign'] as const) if (t[phase] !== undefined) histograms.record(phase, t[phase]!);
      if (t.mqttConnect !== undefined) histograms.record('firstConnack', t.mqttConnect);
      histograms.record('provisioningTotal', event.totalMs);
    } else if (event.type === 'failed') {
      if (!provisionedIds.has(event.deviceId)) inFlight--;
      fail(event.cause);
    } else {
      counts.renewals++;
      histograms.record('renewal', event.ms);
    }
  };
  // The responder stays in this thread; worker threads reach it through messages.
  const { responder, ...poolEndpoints } = endpoints;
  const spec: DevicePoolSpec = {
    endpoints: poolEndpoints,
    topicRoot: options.topicRoot,
    logFile,
    storeRoot,
    qos: options.qos,
    telemetryIntervalMs: options.telemetryIntervalMs,
    certLifetimeSeconds: options.certLifetimeSeconds,
    directIssuer: options.certificates === 'issued' ? lab.owned!.directIssuer : undefined,
  };
  const pool: DevicePool = options.workers > 1 ? new WorkerDevicePool(spec, options.workers, responder, onPoolEvent) : new LocalDevicePool(spec, responder, onPoolEvent);

  let lastSample = { t: 0, received: 0 };
  const sampler = setInterval(() => {
    const t = elapsed();
    const point = { t: Math.round(t / 100) / 10, provisioned: counts.provisioned, connected: counts.connected, failed: counts.failed, sent: pool.sent(), received: counts.received };
    timeline.push(point);
    const rate = ((counts.received - lastSample.received) * 1000) / Math.max(1, t - lastSample.t);
    lastSample = { t, received: counts.received };
    options.onProgress?.({
      elapsedMs: t,
      started: counts.started,
      provisioned: counts.provisioned,
      connected: counts.connected,
      failed: counts.failed,
      legacy: counts.legacy,
      sent: point.sent,
      received: counts.received,
      msgsPerSec: Math.round(rate),
      deliveryP99Ms: histograms.summary(options.qos === 1 ? 'deliveryQos1' : 'deliveryQos0').p99,
    });
  }, 1000);

  // --- fault injection -------------------------------------------------------------------
  const faultRecords: FaultRecord[] = [];
  /** Devices waiting for their first delivery after a fault, with the fault's start. */
  const awaitingDelivery = new Map<string, { since: number; record: LatencyHistograms }>();
  const faultTasks: Promise<void>[] = [];

  const restartComponent = async (kind: Exclude<FaultKind, 'device-restart'>): Promise<void> => {
    const before = provisioningServiceCpuMs();
    await lab.owned!.restart(kind);
    if (kind === 'provisioning-restart') serviceCpu = { pid: lab.pids().provisioningService, atStart: 0, before };
  };

  const inject = (kind: FaultKind) => {
    faultTasks.push(
      (async () => {
        const since = performance.now();
        const recovery = new LatencyHistograms();
        let affected = 0;
        if (kind === 'broker-restart') {
          for (const id of await pool.connectedIds()) awaitingDelivery.set(id, { since, record: recovery });
          affected = awaitingDelivery.size;
        }
        if (kind === 'device-restart') {
          const restarted = await pool.restartSome();
          for (const id of restarted) awaitingDelivery.set(id, { since, record: recovery });
          affected = restarted.length;
        } else {
          await restartComponent(kind);
        }
        const restartMs = performance.now() - since;
        if (kind === 'ca-restart' || kind === 'provisioning-restart') {
          // Affected: devices whose power-up had to retry after the fault began.
          await waitFor(`devices to recover from ${kind}`, () => inFlight === 0 || runEnd.signal.aborted, { timeoutMs: 120_000, intervalMs: 100 }).catch(() => undefined);
          const sinceEpoch = performance.timeOrigin + since;
          for (const at of retriedAt.values()) if (at >= sinceEpoch) recovery.record('recovery', at - sinceEpoch), affected++;
        } else {
          await waitFor(`affected devices to deliver again after ${kind}`, () => [...awaitingDelivery.values()].every((w) => w.record !== recovery) || runEnd.signal.aborted, { timeoutMs: 60_000, intervalMs: 100 }).catch(() => undefined);
        }
        const r = recovery.summary('recovery');
        faultRecords.push({ kind, atS: Math.round((since - t0) / 100) / 10, restartMs: Math.round(restartMs), devicesAffected: affected, recoveryMs: { p50: r.p50, p99: r.p99, max: r.max } });
        histograms.addEncoded(recovery.encode());
      })(),
    );
  };

  const scheduleFaults = (phase: 'arrivals' | 'steady', windowMs: number) => {
    for (const kind of options.faults ?? []) {
      const plan = faultPhase(kind);
      if (plan.phase !== phase) continue;
      const timer = setTimeout(() => inject(kind), windowMs * plan.fraction);
      runEnd.signal.addEventListener('abort', () => clearTimeout(timer), { once: true });
    }
  };
  scheduleFaults('arrivals', (share.devices * 1000) / share.ratePerSecond);

  // Arrivals: device k starts at k / rate seconds; never more than the cap provisioning at once.
  const identities = generateIdentities({ count: share.devices, seed: options.seed, firmwareMix: options.mix, offset: share.firstDevice });
  for (let k = 0; k < identities.length; k++) {
    if (options.signal?.aborted) break;
    const due = (k * 1000) / share.ratePerSecond;
    if (due > elapsed()) await delay(due - elapsed(), undefined, { signal: options.signal }).catch(() => undefined);
    if (inFlight >= options.maxConcurrentProvisioning) {
      await waitFor('a provisioning slot', () => inFlight < options.maxConcurrentProvisioning || options.signal?.aborted, { timeoutMs: 600_000, intervalMs: 20 }).catch(() => undefined);
    }
    if (options.signal?.aborted) break;
    const identity = identities[k]!;
    counts.started++;
    if (!supportsCertificates(identity.firmwareVersion, options.minimumCertificateFirmware)) {
      counts.legacy++;
      continue;
    }
    inFlight++;
    ownDevices.add(identity.deviceId);
    pool.launch(identity, share.firstDevice + k);
  }
  // Every launched device has provisioned or failed (each has a bounded backoff).
  await waitFor('every device to finish provisioning', () => inFlight <= 0 || options.signal?.aborted, { timeoutMs: 600_000, intervalMs: 50 }).catch(() => undefined);

  // Steady state: the whole fleet publishes for the duration (bounded), or until Ctrl-C.
  scheduleFaults('steady', options.durationMs);
  if (!options.signal?.aborted) await delay(options.durationMs, undefined, { signal: options.signal }).catch(() => undefined);
  // A fault still recovering at the end keeps the run going until it has (bounded by its waits).
  await Promise.all(faultTasks);
  runEnd.abort();
  const lastSeq = await pool.stop();

  const totalSent = Object.values(lastSeq).reduce((a, b) => a + b, 0);
  await waitFor(`all ${totalSent} messages to reach the application`, () => counts.received >= totalSent, { timeoutMs: options.drainTimeoutMs }).catch(() => undefined);
  clearInterval(sampler);
  timeline.push({ t: Math.round(elapsed() / 100) / 10, provisioned: counts.provisioned, connected: counts.connected, failed: counts.failed, sent: totalSent, received: counts.received });

  const lostByDevice: Record<string, number> = {};
  for (const [deviceId, last] of Object.entries(lastSeq)) {
    const got = seen.get(deviceId)?.size ?? 0;
    if (got < last) lostByDevice[deviceId] = last - got;
  }
  await app.disconnect().catch(() => undefined);
  if (lab.owned) await admin.turnOff().catch(() => undefined);

  return {
    partial: options.signal?.aborted ?? false,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    elapsedMs: elapsed(),
    firstDevice: share.firstDevice,
    devices: { requested: share.devices, started: counts.started, provisioned: counts.provisioned, connected: counts.connected, failed: counts.failed, legacy: counts.legacy },
    messages: { sent: totalSent, received: counts.received, lost: Object.values(lostByDevice).reduce((a, b) => a + b, 0), duplicates: counts.duplicates, lostByDevice },
    renewals: counts.renewals,
    errorsByCause,
    timeline,
    histograms,
    faults: faultRecords,
    distinctIdentities: Object.keys(lastSeq).length,
    cpuMs: {
      lab: ownCpuMs() - cpuAtStart.lab,
      stepCa: processCpuMs(lab.pids().stepCa) - cpuAtStart.stepCa,
      mosquitto: processCpuMs(lab.pids().mosquitto) - cpuAtStart.mosquitto,
      provisioningService: provisioningServiceCpuMs(),
    },
  };
}
