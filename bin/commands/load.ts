// ecm-lab load: a fleet of simulated devices against a fresh local lab, with baselines measured
// in the same run; writes reports/perf/<run id>/{summary.json,index.html} and reports/perf/latest.
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { loadConfig } from '../../environments/config.ts';
import { startLocalLab } from '../../environments/local/local-environment.ts';
import { versionPins } from '../../environments/tools/tools.ts';
import { startChallengeResponder, type ChallengePublisher } from '../../simulators/acme/http01-responder.ts';
import { parseFirmwareMix } from '../../simulators/device/identity.ts';
import { measureCaSigning, measureHandshakes, measureMqttThroughput } from '../../simulators/fleet/baselines.ts';
import { runFleet, type FleetProgress } from '../../simulators/fleet/fleet-run.ts';
import { renderPerfHtml } from '../../simulators/fleet/perf-html.ts';
import { buildSummary, mergeSummaries, type Baselines, type PerfSummary } from '../../simulators/fleet/perf-summary.ts';
import { parseSegment } from '../../simulators/fleet/segment.ts';
import { parseFaults } from '../../simulators/fleet/faults.ts';
import { labEndpoints, type LabEndpoints } from '../../simulators/client/lab-endpoints.ts';
import { attachedEndpoints, attachedFleetLab, ownedFleetLab, readLabDescription, webrootPublisher, type FleetLab, type LabDescription } from '../../simulators/fleet/fleet-lab.ts';

/** "30s", "2m", "1h", "1500ms" or plain seconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!match) throw new Error(`"${text}" is not a duration (e.g. 30s, 2m, 1500ms)`);
  const factor = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(match[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  return Math.round(Number(match[1]) * factor);
}

const HOUR_MS = 3_600_000;

/** A zod transform from a parser that throws a readable error. */
function parsedBy<T>(parse: (text: string) => T) {
  return (value: string, ctx: z.RefinementCtx): T => {
    try {
      return parse(value);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
      return z.NEVER;
    }
  };
}

function boundedDuration(text: string): number {
  const ms = parseDuration(text);
  if (ms <= 0 || ms > HOUR_MS) throw new Error('must be between 1 ms and 1 h');
  return ms;
}

// Every load is bounded: at most 100k devices, one hour, 1000 arrivals per second.
const loadOptionsSchema = z.object({
  devices: z.coerce.number().int().min(1).max(100_000),
  mix: z.string().transform(parsedBy(parseFirmwareMix)),
  rate: z.coerce.number().positive().max(1000),
  duration: z.string().transform(parsedBy(boundedDuration)),
  qos: z.enum(['0', '1']).transform((v) => Number(v) as 0 | 1),
  interval: z.coerce.number().int().min(10).max(HOUR_MS),
  certLifetime: z
    .string()
    .optional()
    .transform((v) => (v === undefined ? undefined : Math.round(parseDuration(v) / 1000))),
  segment: z.string().transform(parsedBy(parseSegment)),
  seed: z.coerce.number().int(),
  maxConcurrent: z.coerce.number().int().min(1).max(5000),
  workers: z.coerce.number().int().min(1).max(64),
  certificates: z.enum(['provisioned', 'issued']),
  maxProvisioningP99: z.coerce.number().positive(),
  maxDeliveryP99: z.coerce.number().positive(),
  baselines: z.boolean(),
  baselineSigns: z.coerce.number().int().min(1).max(10_000),
  baselineMessages: z.coerce.number().int().min(100).max(1_000_000),
  baselineHandshakes: z.coerce.number().int().min(10).max(10_000),
  faults: z.string().optional().transform((v, ctx) => parsedBy(parseFaults)(v ?? '', ctx)),
  out: z.string().min(1),
  lab: z.string().min(1).optional(),
  runId: z.string().regex(/^[A-Za-z0-9._-]+$/).optional(),
});

export type LoadCliOptions = z.input<typeof loadOptionsSchema>;

function writeReport(summary: PerfSummary, outRoot: string): string {
  const dir = path.resolve(outRoot, summary.runId);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
  writeFileSync(path.join(dir, 'index.html'), renderPerfHtml(summary));
  const latest = path.resolve(outRoot, 'latest');
  rmSync(latest, { force: true });
  symlinkSync(summary.runId, latest);
  return dir;
}

function progressPrinter(): (p: FleetProgress) => void {
  const tty = process.stderr.isTTY;
  let lastPrinted = 0;
  return (p) => {
    const line = `[${(p.elapsedMs / 1000).toFixed(0).padStart(4)} s] devices ${p.provisioned}/${p.started} provisioned, ${p.connected} connected, ${p.failed} failed, ${p.legacy} legacy | ${p.msgsPerSec} msg/s, ${p.received}/${p.sent} received, delivery p99 ${p.deliveryP99Ms} ms`;
    if (tty) process.stderr.write(`\r${line.padEnd(150)}`);
    else if (p.elapsedMs - lastPrinted >= 5000) {
      lastPrinted = p.elapsedMs;
      process.stderr.write(`${line}\n`);
    }
  };
}

/** Runs the fleet and writes its report; returns the summary, or undefined when it never ran (bad options). */
export async function loadCommand(global: { config?: string }, raw: LoadCliOptions): Promise<PerfSummary | undefined> {
  const parsed = loadOptionsSchema.safeParse(raw);
  if (!parsed.success) {
    console.error(`ecm-lab load: invalid options:\n${parsed.error.issues.map((i) => `  --${String(i.path[0])}: ${i.message}`).join('\n')}`);
    process.exitCode = 2;
    return;
  }
  const o = parsed.data;
  // A broker restart must not lose queued QoS 1 messages: the broker keeps its sessions on disk.
  const config = loadConfig({ file: global.config, overrides: o.faults.includes('broker-restart') ? { broker: { persistence: true } } : undefined });
  const runId = o.runId ?? `${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '')}-seg${o.segment.index}of${o.segment.count}`;

  let attached: LabDescription | undefined;
  if (o.lab) {
    try {
      attached = readLabDescription(o.lab);
    } catch (err) {
      console.error(`ecm-lab load: --lab: ${(err as Error).message}`);
      process.exitCode = 2;
      return;
    }
    if (o.faults.length > 0 || o.certificates === 'issued') {
      console.error('ecm-lab load: --faults and --certificates issued need a lab this command starts (its processes and CA); drop --lab');
      process.exitCode = 2;
      return;
    }
  }

  // First Ctrl-C: stop arrivals and telemetry, write the partial report, stop the lab.
  // Second Ctrl-C: stop the lab now.
  const abort = new AbortController();
  let lab: Awaited<ReturnType<typeof startLocalLab>> | undefined;
  const onSignal = () => {
    if (!abort.signal.aborted) {
      process.stderr.write('\necm-lab load: interrupted; writing the partial report (Ctrl-C again to stop at once)\n');
      abort.abort();
      return;
    }
    void (lab?.stop() ?? Promise.resolve()).finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let fleetLab: FleetLab | undefined;
  try {
    let responder: ChallengePublisher & { stop(): Promise<void> };
    let endpoints: LabEndpoints;
    const baselines: Baselines = {};
    if (attached) {
      process.stderr.write(`attaching to the running lab ${attached.id} (segment ${o.segment.index}/${o.segment.count}); baselines need a lab of its own and are not measured\n`);
      fleetLab = attachedFleetLab(attached, `seg${o.segment.index}of${o.segment.count}`);
      responder = webrootPublisher(attached);
      endpoints = attachedEndpoints(attached, responder);
    } else {
      process.stderr.write('starting the lab (step-ca, Mosquitto, provisioning service)...\n');
      lab = await startLocalLab(config, { handleSignals: false });
      fleetLab = ownedFleetLab(lab);
      responder = await startChallengeResponder(lab.bootstrapCa.acmeHttpPort);
      endpoints = labEndpoints(lab, responder);
    }
    try {
      if (lab && o.baselines && !abort.signal.aborted) {
        process.stderr.write(`baselines: step-ca signing (${o.baselineSigns})...\n`);
        baselines.caSigning = await measureCaSigning(lab, o.baselineSigns, 8);
        const dir = path.join(lab.workDir, 'baseline');
        process.stderr.write(`baselines: Mosquitto clients vs lab clients (${o.baselineMessages} messages, QoS 0)...\n`);
        Object.assign(baselines, await measureMqttThroughput(lab, o.baselineMessages, dir));
        process.stderr.write(`baselines: CPU per mutual-TLS connection, lab client and broker (${o.baselineHandshakes} connections)...\n`);
        baselines.handshakes = await measureHandshakes(lab, o.baselineHandshakes, 10);
      }
      const options = {
        devices: o.devices,
        mix: o.mix,
        ratePerSecond: o.rate,
        durationMs: o.duration,
        qos: o.qos,
        telemetryIntervalMs: o.interval,
        certLifetimeSeconds: o.certLifetime,
        segment: o.segment,
        topicRoot: config.broker.topicRoot,
        applicationIdentity: config.broker.applicationIdentity,
        seed: o.seed,
        minimumCertificateFirmware: config.devices.minimumCertificateFirmware,
        drainTimeoutMs: 10_000,
        maxConcurrentProvisioning: o.maxConcurrent,
        faults: o.faults,
        workers: o.workers,
        certificates: o.certificates,
        thresholds: { provisioningP99Ms: o.maxProvisioningP99, deliveryP99Ms: o.maxDeliveryP99 },
        signal: abort.signal,
        onProgress: progressPrinter(),
      };
      const result = await runFleet(fleetLab, endpoints, options);
      process.stderr.write('\n');
      const tools = { 'step-ca': versionPins.go['step-ca']!.version, mosquitto: versionPins.debian.mosquitto!, node: process.version };
      const summary = buildSummary(result, { runId, options, tools, baselines });
      const dir = writeReport(summary, o.out);
      printSummary(summary, dir);
      const broken = summary.thresholds.filter((t) => !t.ok);
      if (summary.partial) process.exitCode = 130;
      else if (broken.length > 0) {
        console.error(`thresholds broken: ${broken.map((t) => `${t.name} (${t.requirement}) = ${t.value}, limit ${t.limit}`).join('; ')}`);
        process.exitCode = 3;
      }
      return summary;
    } finally {
      await responder.stop();
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    fleetLab?.cleanup();
    await lab?.stop();
  }
}

function printSummary(s: PerfSummary, dir: string): void {
  console.log(`run ${s.runId}${s.partial ? ' (partial)' : ''}
  devices      ${s.devices.provisioned}/${s.devices.requested} provisioned, ${s.devices.failed} failed, ${s.devices.legacy} legacy
  provisioning p50 ${s.provisioning.latencyMs.p50} ms, p95 ${s.provisioning.latencyMs.p95} ms, p99 ${s.provisioning.latencyMs.p99} ms, ${s.provisioning.devicesPerSec} devices/s
  mqtt         ${s.mqtt.messages.received}/${s.mqtt.messages.sent} received, ${s.mqtt.messages.lost} lost, delivery p50 ${s.mqtt.deliveryLatencyMs.p50} ms, p99 ${s.mqtt.deliveryLatencyMs.p99} ms, ${s.mqtt.throughputMsgsPerSec} msg/s
  renewals     ${s.renewals.count}
  ratios       ${Object.entries(s.ratios).map(([k, v]) => `${k}=${v ?? 'n/a'}`).join(', ')}
  thresholds   ${s.thresholds.map((t) => `${t.name} ${t.ok ? 'ok' : 'BROKEN'}`).join(', ')}
  report       ${path.join(dir, 'index.html')}`);
}

export async function reportMergeCommand(dirs: string[], opts: { out: string; runId?: string }): Promise<void> {
  const { readFileSync } = await import('node:fs');
  const parts = dirs.map((d) => {
    try {
      return JSON.parse(readFileSync(path.join(d, 'summary.json'), 'utf8')) as PerfSummary;
    } catch (err) {
      throw new Error(`cannot read ${path.join(d, 'summary.json')}: ${(err as Error).message}`);
    }
  });
  const runId = opts.runId ?? `merged-${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '')}`;
  const merged = mergeSummaries(parts, runId);
  const dir = writeReport(merged, opts.out);
  printSummary(merged, dir);
}
