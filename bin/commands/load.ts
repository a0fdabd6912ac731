// ecm-lab load: a named load scenario against a fresh local lab (or a running one, --lab), with
// the baselines that scenario is compared against measured in the same run; writes
// reports/perf/<run id>/{summary.json,index.html} and reports/perf/latest.
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { firmwarePolicy, loadConfig } from '../../config/config.ts';
import { startOwnedLab, type OwnedLab } from '../../environments/lab.ts';
import { locateTool, versionPins } from '../../environments/tools/tools.ts';
import { nativeDeviceBinary } from '../../simulators/fleet/native-device-pool.ts';
import { startChallengeResponder, type ChallengePublisher, type StartedChallengeResponder } from '../../simulators/acme/http01-responder.ts';
import { AddressPlanError, checkAddressPlan } from '../../simulators/client/addresses.ts';
import { ClientBlocks } from '../../load/client-blocks.ts';
import { segmentShare } from '../../load/segment.ts';
import { isLoopbackAddress } from '../../config/schema.ts';
import { labEndpoints, type LabEndpoints } from '../../simulators/client/lab-endpoints.ts';
import { measureCaSigning, measureMqttThroughput } from '../../load/baselines/baselines.ts';
import { measureHandshakes } from '../../load/baselines/handshake-baseline.ts';
import { measureCaFlow } from '../../load/baselines/ca-flow-baseline.ts';
import { attachedEndpoints, attachedFleetLab, isRemoteLab, ownedFleetLab, readLabDescription, webrootPublisher, type FleetLab, type LabDescription } from '../../load/fleet-lab.ts';
import type { FleetProgress } from '../../load/fleet-metrics.ts';
import { renderPerfHtml } from '../../evidence/perf/html.ts';
import { MergeError, mergeSummaries } from '../../evidence/perf/merge.ts';
import { buildSummary } from '../../evidence/perf/summary.ts';
import type { Baselines, PerfSummary } from '../../evidence/perf/summary-schema.ts';
import { runScenario } from '../../load/run-scenario.ts';
import { SCENARIOS, type ScenarioName } from '../../load/scenarios.ts';
import { EXIT } from '../exit-codes.ts';
import { HANDSHAKE_BASELINE_SCENARIOS, resolveLoadOptions, type LoadCliOptions, type LoadPlan } from './load-options.ts';

export { type LoadCliOptions } from './load-options.ts';

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

function progressPrinter(family: 'fleet' | 'requests'): (p: FleetProgress) => void {
  const tty = process.stderr.isTTY;
  let lastPrinted = 0;
  return (p) => {
    const head = `[${(p.elapsedMs / 1000).toFixed(0).padStart(4)} s]`;
    const line =
      family === 'fleet'
        ? `${head} devices ${p.provisioned}/${p.started} provisioned, ${p.connected} connected, ${p.failed} failed, ${p.legacy} legacy | ${p.msgsPerSec} msg/s, ${p.received}/${p.sent} received, delivery p99 ${p.deliveryP99Ms} ms`
        : `${head} requests ${p.provisioned}/${p.started} completed, ${p.failed} failed | ${p.msgsPerSec}/s, p99 ${p.deliveryP99Ms} ms`;
    if (tty) process.stderr.write(`\r${line.padEnd(150)}`);
    else if (p.elapsedMs - lastPrinted >= 5000) {
      lastPrinted = p.elapsedMs;
      process.stderr.write(`${line}\n`);
    }
  };
}

/** The baselines each scenario is compared against, measured on the lab before the run. */
async function measureBaselines(scenario: ScenarioName, lab: OwnedLab, responder: ChallengePublisher, b: LoadPlan['baselines'], signal: AbortSignal): Promise<Baselines> {
  const baselines: Baselines = {};
  const wants = {
    caSigning: scenario === 'full-flow' || scenario === 'x5c-sign',
    caFlow: scenario === 'full-flow',
    mqtt: scenario === 'full-flow' || scenario === 'mqtt-publish',
    handshakes: HANDSHAKE_BASELINE_SCENARIOS.includes(scenario),
  };
  if (wants.caSigning && !signal.aborted) {
    process.stderr.write(`baselines: step-ca signing (${b.signs})...\n`);
    baselines.caSigning = await measureCaSigning(lab, b.signs, 8);
  }
  if (wants.caFlow && !signal.aborted) {
    process.stderr.write(`baselines: the CA's own limit, ACME + X5C at step-ca alone (${b.flows} devices)...\n`);
    baselines.caFlow = await measureCaFlow(lab, responder, b.flows, 8);
  }
  if (wants.mqtt && !signal.aborted) {
    process.stderr.write(`baselines: Mosquitto clients vs lab clients (${b.messages} messages, QoS 0)...\n`);
    Object.assign(baselines, await measureMqttThroughput(lab, b.messages, path.join(lab.workDir, 'baseline')));
  }
  if (wants.handshakes && !signal.aborted) {
    const clients = b.handshakeClient === 'both' ? (['node', 'native'] as const) : ([b.handshakeClient] as const);
    for (const client of clients) {
      if (signal.aborted) break;
      process.stderr.write(`baselines: CPU per mutual-TLS connection, ${client === 'native' ? 'native client (ecm-connect)' : 'lab client (mqtt.js)'} and broker (${b.handshakes} connections)...\n`);
      const measured = await measureHandshakes(lab, b.handshakes, 10, client);
      if (b.handshakeClient === 'both' && client === 'native') baselines.handshakesNative = measured;
      else baselines.handshakes = measured;
    }
  }
  return baselines;
}

/** What `ecm-lab load --json` prints on stdout: the verdict and where the report is. */
function loadResult(s: PerfSummary, dir: string, exitCode: number) {
  const { runId, scenario, partial, thresholds, iterations, devices, errors, ratios } = s;
  return {
    schema: 'ecm-lab/load-result@1',
    exitCode,
    runId,
    scenario: scenario.name,
    partial,
    thresholds,
    iterations,
    devices,
    errors: { total: errors.total, timeouts: errors.timeouts, byCause: errors.byCause },
    ratios,
    report: { dir, summary: path.join(dir, 'summary.json'), html: path.join(dir, 'index.html') },
  };
}

/** Runs the scenario and writes its report; returns the summary, or undefined when it never ran (bad options). */
export async function loadCommand(global: { config?: string }, raw: LoadCliOptions & { json?: boolean }): Promise<PerfSummary | undefined> {
  const resolved = resolveLoadOptions(raw);
  if ('problems' in resolved) {
    console.error(`ecm-lab load: invalid options:\n${resolved.problems.map((p) => `  ${p}`).join('\n')}`);
    process.exitCode = EXIT.badInput;
    return;
  }
  const { plan } = resolved;
  const c = plan.config;
  const scenario = SCENARIOS[c.scenario];
  // A broker restart must not lose queued QoS 1 messages: the broker keeps its sessions on disk.
  const config = loadConfig({ file: global.config, overrides: c.faults.includes('broker-restart') ? { broker: { persistence: true } } : undefined });
  const runId = plan.runId ?? `${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '')}-${c.scenario}-seg${c.segment.index}of${c.segment.count}`;

  let attached: LabDescription | undefined;
  if (plan.lab) {
    try {
      attached = readLabDescription(plan.lab, { ownChallenges: plan.clientAddresses !== undefined });
    } catch (err) {
      console.error(`ecm-lab load: --lab: ${(err as Error).message}`);
      process.exitCode = EXIT.badInput;
      return;
    }
  }
  // The clients' block: outside loopback only towards a lab other machines reach, and on this host.
  const blocks = plan.clientAddresses === undefined ? undefined : ClientBlocks.of(plan.clientAddresses, c.segment);
  const addresses = blocks?.own;
  // With a block of its own a segment holds only its share of the devices.
  const ownDevices = blocks?.perSegment ? segmentShare(c.devices, 0, c.segment).devices : c.devices;
  const listenOn = blocks?.listenOn(ownDevices);
  if (blocks && addresses) {
    const remote = attached ? isRemoteLab(attached) : config.lab.allowRemote || !isLoopbackAddress(config.lab.listenAddress);
    const remoteFlag = attached
      ? `the lab ${attached.id} listens on ${attached.listenAddress ?? 'loopback'}: a block outside loopback needs a lab other machines reach (--lab with a non-loopback listenAddress or "allowRemote": true)`
      : 'the lab this command starts listens on loopback: a block outside it needs lab.allowRemote and a non-loopback lab.listenAddress, or --lab with a remote lab';
    try {
      checkAddressPlan(addresses, { name: '--client-addresses', remoteFlag }, { allowRemote: remote, clients: ownDevices });
    } catch (err) {
      if (!(err instanceof AddressPlanError)) throw err;
      console.error(`ecm-lab load: ${err.message}`);
      process.exitCode = EXIT.badInput;
      return;
    }
  }

  // First Ctrl-C: stop starting iterations, write the partial report, stop the lab.
  // Second Ctrl-C: stop the lab now.
  const abort = new AbortController();
  let lab: OwnedLab | undefined;
  const onSignal = () => {
    if (!abort.signal.aborted) {
      process.stderr.write('\necm-lab load: interrupted; writing the partial report (Ctrl-C again to stop at once)\n');
      abort.abort();
      return;
    }
    void (lab?.stop() ?? Promise.resolve()).finally(() => process.exit(EXIT.interrupted));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let fleetLab: FleetLab | undefined;
  try {
    let responder: ChallengePublisher & { stop(): Promise<void> };
    // The responder of this command's own (not the attached lab's webroot), whose figures it reports.
    let own: StartedChallengeResponder | undefined;
    let endpoints: LabEndpoints;
    if (attached) {
      process.stderr.write(`attaching to the running lab ${attached.id} (${c.scenario}, segment ${c.segment.index}/${c.segment.count}); baselines need a lab of its own and are not measured\n`);
      fleetLab = attachedFleetLab(attached, `seg${c.segment.index}of${c.segment.count}`);
      // With a block of its own the segment answers its devices' challenges itself, at the lab's
      // ACME http port on those addresses: the lab's webroot is only shared on one file system.
      responder = addresses ? (own = await startChallengeResponder(attached.bootstrapCa.acmeHttpPort, { clientAddresses: addresses, listenOn })) : webrootPublisher(attached);
      endpoints = attachedEndpoints(attached, responder);
    } else {
      // A missing native client fails now, with the command that builds it, not after the lab started.
      if (plan.baselines.enabled && plan.baselines.handshakeClient !== 'node') locateTool('ecm-connect', config.toolsBinDir);
      if (c.deviceClient === 'native') nativeDeviceBinary(config.toolsBinDir);
      process.stderr.write('starting the lab (two step-ca authorities, Mosquitto, provisioning service)...\n');
      lab = await startOwnedLab(config, { handleSignals: false });
      fleetLab = ownedFleetLab(lab);
      responder = own = await startChallengeResponder(lab.bootstrapCa.acmeHttpPort, { clientAddresses: addresses, listenOn });
      endpoints = labEndpoints(lab, responder);
    }
    try {
      const baselines = lab && plan.baselines.enabled ? await measureBaselines(c.scenario, lab, responder, plan.baselines, abort.signal) : {};
      process.stderr.write(`scenario ${c.scenario} (${c.executor.kind}): ${scenario.measures}\n`);
      const result = await runScenario({
        lab: fleetLab,
        endpoints,
        config: c,
        gracefulStopMs: plan.gracefulStopMs,
        topicRoot: config.broker.topicRoot,
        applicationIdentity: config.broker.applicationIdentity,
        firmware: firmwarePolicy(config.devices),
        keyAlgorithm: config.pki.keyAlgorithm,
        clientAddresses: plan.clientAddresses,
        toolsBinDir: config.toolsBinDir,
        signal: abort.signal,
        onProgress: progressPrinter(scenario.family),
      });
      process.stderr.write('\n');
      if (own && addresses) process.stderr.write(`http-01: this command answered ${own.stats.served} challenges on ${addresses.block} port ${own.port} (${own.stats.notFound} unknown tokens, ${own.stats.refusedNotClientAddress} connections on other addresses refused)\n`);
      const tools = { 'step-ca': versionPins.go['step-ca']!.version, mosquitto: versionPins.debian.mosquitto!, node: process.version };
      const summary = buildSummary(result, { runId, config: c, lab: { id: fleetLab.id, owned: fleetLab.owned !== undefined }, tools, baselines });
      const dir = writeReport(summary, plan.out);
      printSummary(summary, dir, raw.json ? console.error : console.log);
      const broken = summary.thresholds.filter((t) => !t.ok);
      if (broken.length > 0) console.error(`thresholds broken: ${broken.map((t) => `${t.name} (${t.requirement}) = ${t.value ?? 'no data'}, limit ${t.limit}`).join('; ')}`);
      const exitCode = summary.partial ? EXIT.interrupted : broken.length > 0 ? EXIT.failed : EXIT.ok;
      if (raw.json) console.log(JSON.stringify(loadResult(summary, dir, exitCode)));
      process.exitCode = exitCode;
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

const threadsLine = (threads: Record<string, number>) => Object.entries(threads).map(([t, ms]) => `${t} ${ms}`).join(' / ') || 'n/a';

function printSummary(s: PerfSummary, dir: string, print: (text: string) => void = console.log): void {
  const lines = [`run ${s.runId}${s.partial ? ' (partial)' : ''}: scenario ${s.scenario.name}, executor ${s.executor.kind}`];
  const it = s.iterations;
  lines.push(`  iterations   ${it.completed}/${it.started} completed, ${it.failed} failed, ${it.interrupted} interrupted, ${it.notStarted} not started, ${it.delayed} delayed; ${it.perSec}/s; ${s.scenario.phase} p50 ${it.latencyMs.p50} ms, p99 ${it.latencyMs.p99} ms`);
  if (s.scenario.family === 'fleet') {
    lines.push(`  devices      ${s.devices.provisioned}/${s.devices.requested} provisioned, ${s.devices.connected} connected at the end, ${s.devices.failed} failed, ${s.devices.legacy} legacy`);
    if (s.scenario.name === 'full-flow') lines.push(`  provisioning p50 ${s.provisioning.latencyMs.p50} ms, p95 ${s.provisioning.latencyMs.p95} ms, p99 ${s.provisioning.latencyMs.p99} ms, ${s.provisioning.devicesPerSec} devices/s`);
    lines.push(`  mqtt         ${s.mqtt.messages.received}/${s.mqtt.messages.sent} received, ${s.mqtt.messages.lost} lost, delivery p50 ${s.mqtt.deliveryLatencyMs.p50} ms, p99 ${s.mqtt.deliveryLatencyMs.p99} ms, ${s.mqtt.throughputMsgsPerSec} msg/s; connect p99 ${s.mqtt.connectLatencyMs.p99} ms`);
    const r = s.renewals;
    lines.push(`  renewals     ${r.count} done by ${r.devicesRenewed} devices, ${r.failed} failed; request p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms; with handover p99 ${r.handoverMs.p99} ms; sessions dropped ${s.mqtt.sessionsDropped}`);
    for (const [name, c] of Object.entries(s.classes ?? {})) {
      lines.push(`  ${name.padEnd(19)}${c.started}/${c.requested} started (firmware ${c.firmware.join(', ')}), ${c.connected} connected at the end, ${c.failed} failed; credential p99 ${c.credentialLatencyMs.p99} ms, connect p99 ${c.connectLatencyMs.p99} ms; ${c.messages.received}/${c.messages.sent} received, ${c.messages.lost} lost`);
    }
  }
  if (s.revocation) {
    const r = s.revocation;
    lines.push(`  revocation   ${r.revoked} revoked, ${r.disconnected} disconnected, revocation to disconnect p50 ${r.revocationToDisconnectMs.p50} ms, p99 ${r.revocationToDisconnectMs.p99} ms; other devices disconnected ${r.otherDevicesDisconnected}; ${r.excludedMessages} messages excluded after revocation`);
  }
  lines.push(`  cpu          lab ${s.cpu.labMs} ms, step-ca (both) ${s.cpu.stepCaMs} ms, service ${s.cpu.provisioningServiceMs} ms, mosquitto ${s.cpu.mosquittoMs} ms; lab by thread ${threadsLine(s.cpu.labThreadsMs)}`);
  const w = s.cpu.provisioningWindow;
  if (w) lines.push(`  provisioning window (executor start to last device up): per device lab ${w.labMsPerDevice} ms (${threadsLine(w.labThreadsMs)}), step-ca ${w.stepCaMsPerDevice} ms, service ${w.provisioningServiceMsPerDevice} ms, mosquitto ${w.mosquittoMsPerDevice} ms`);
  const delays = Object.entries(s.eventLoopDelayMs);
  if (delays.length > 0) lines.push(`  event loop   delay p99 ${delays.map(([t, d]) => `${t} ${d.p99} ms (max ${d.max})`).join(', ')}`);
  if (s.measuredWithPreMadeKeys.length > 0) lines.push(`  pre-made keys ${s.measuredWithPreMadeKeys.join(', ')}`);
  if (s.inventory) lines.push(`  inventory    ${s.inventory.inventory} certificates; step-ca logged ${s.inventory.issuedOnLogs} as issued; ${s.inventory.notInInventory} missing; ${s.inventory.notOnLogs} signed by the lab itself`);
  lines.push(`  ratios       ${Object.entries(s.ratios).map(([k, v]) => `${k}=${v ?? 'n/a'}`).join(', ') || 'none'}`);
  lines.push(`  thresholds   ${s.thresholds.map((t) => `${t.name} ${t.ok ? 'ok' : t.value === null ? 'BROKEN (no data)' : 'BROKEN'}`).join(', ')}`);
  lines.push(`  report       ${path.join(dir, 'index.html')}`);
  print(lines.join('\n'));
}

/** Merges segment reports; unreadable or unmergeable input is bad input (exit code 2). */
export async function reportMergeCommand(dirs: string[], opts: { out: string; runId?: string }): Promise<void> {
  let parts: PerfSummary[];
  try {
    parts = dirs.map((d) => {
      try {
        return JSON.parse(readFileSync(path.join(d, 'summary.json'), 'utf8')) as PerfSummary;
      } catch (err) {
        throw new MergeError(`cannot read ${path.join(d, 'summary.json')}: ${(err as Error).message}`);
      }
    });
    const runId = opts.runId ?? `merged-${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '')}`;
    const merged = mergeSummaries(parts, runId);
    printSummary(merged, writeReport(merged, opts.out));
  } catch (err) {
    if (!(err instanceof MergeError)) throw err;
    console.error(`ecm-lab report merge: ${err.message}`);
    process.exitCode = EXIT.badInput;
  }
}
