// ecm-lab bench (npm run bench): the standard profile, then its figures into BENCHMARKS.md
// between the bench markers, with the command that produced them.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../../environments/tools/tools.ts';
import type { PerfSummary } from '../../evidence/perf/summary-schema.ts';
import type { Baselines } from '../../evidence/perf/summary-schema.ts';
import { handshakeClientName, handshakeFigures } from '../../evidence/perf/handshake-figures.ts';
import { EXIT } from '../exit-codes.ts';
import { loadCommand, type LoadCliOptions } from './load.ts';

export const STANDARD_PROFILE: LoadCliOptions = {
  scenario: 'full-flow',
  devices: '100',
  mix: '2.1:70,2.0:20,1.4:10',
  rate: '4',
  duration: '30s',
  qos: '1',
  interval: '1000',
  segment: '1/1',
  seed: '1',
  maxConcurrent: '50',
  workers: '1',
  gracefulStop: '2m',
  maxProvisioningP99: '30s',
  maxDeliveryP99: '1s',
  maxConnectP99: '10s',
  baselines: true,
  baselineSigns: '200',
  baselineFlows: '100',
  baselineMessages: '50000',
  baselineHandshakes: '300',
  // mqtt.js and the native generator on the same broker in the same run: both ratios side by side.
  handshakeClient: 'both',
  out: 'reports/perf',
};

const START = '<!-- bench:start -->';
const END = '<!-- bench:end -->';

const row = (name: string, value: string) => `| ${name} | ${value} |`;

/** The handshake baseline's rows: mqtt.js's, the native client's, or both side by side. */
function handshakeRows(b: Baselines): string[] {
  const measured = [b.handshakes, b.handshakesNative].filter((h) => h !== undefined);
  if (measured.length === 0) return [row('baseline: CPU per mutual-TLS MQTT connection, client / broker', 'n/a')];
  return measured.map((h) => row(`baseline: CPU per mutual-TLS MQTT connection, ${handshakeClientName(h)} / broker`, handshakeFigures(h)));
}

export function benchmarkMarkdown(s: PerfSummary, command: string): string {
  const b = s.baselines;
  return [
    START,
    `Measured ${s.startedAt} on ${s.machine.cpus} × ${s.machine.cpuModel}, ${s.machine.memoryGiB} GiB, Node ${s.machine.node}; step-ca ${s.tools['step-ca']}, Mosquitto ${s.tools.mosquitto}.`,
    '',
    '```',
    command,
    '```',
    '',
    '| figure | value |',
    '|---|---|',
    ...(s.classes
      ? Object.entries(s.classes).map(([name, c]) =>
          row(`devices ${name} (firmware ${c.firmware.join(', ')}): connected / requested, failed; credential p50 / p99`, `${c.connected} / ${c.requested}, ${c.failed} failed; ${c.credentialLatencyMs.p50} / ${c.credentialLatencyMs.p99} ms (${Object.entries(c.connectedWith).map(([how, n]) => `${n} by ${how}`).join(', ') || 'none connected'})`),
        )
      : [row('devices provisioned / requested (legacy firmware excluded)', `${s.devices.provisioned} / ${s.devices.requested - s.devices.legacy} (${s.devices.legacy} legacy, ${s.devices.failed} failed)`)]),
    row('provisioning latency p50 / p95 / p99 / max (ACME + X5C + first CONNACK)', `${s.provisioning.latencyMs.p50} / ${s.provisioning.latencyMs.p95} / ${s.provisioning.latencyMs.p99} / ${s.provisioning.latencyMs.max} ms`),
    ...(['acmeOrder', 'challengeValidation', 'finalize', 'x5cSign', 'firstConnack'] as const).map((p) =>
      row(`phase ${p} p50 / p99`, `${s.provisioning.phases[p].p50} / ${s.provisioning.phases[p].p99} ms`),
    ),
    row('devices provisioned per second (arrival rate ' + s.config.executor.ratePerSecond + '/s)', `${s.provisioning.devicesPerSec}`),
    row(`MQTT QoS ${s.mqtt.qos} messages sent / received / lost`, `${s.mqtt.messages.sent} / ${s.mqtt.messages.received} / ${s.mqtt.messages.lost}`),
    row('delivery latency p50 / p99', `${s.mqtt.deliveryLatencyMs.p50} / ${s.mqtt.deliveryLatencyMs.p99} ms`),
    row('baseline: step-ca signing alone', b.caSigning ? `${b.caSigning.perSec}/s at concurrency ${b.caSigning.concurrency}, p50 ${b.caSigning.latencyMs.p50} ms, ${b.caSigning.stepCaCpuMsPerCert} ms step-ca CPU per certificate` : 'n/a'),
    row("baseline: the CA's own limit (ACME + X5C at step-ca alone, pre-made keys and CSRs)", b.caFlow ? `${b.caFlow.perSec} devices/s at concurrency ${b.caFlow.concurrency}, p50 ${b.caFlow.latencyMs.p50} ms; CPU per device step-ca ${b.caFlow.stepCaCpuMsPerDevice} / service (webhooks) ${b.caFlow.provisioningServiceCpuMsPerDevice} / lab client ${b.caFlow.labCpuMsPerDevice} ms; step-ca's CPU alone would allow ${b.caFlow.cpuBoundPerSec}/s` : 'n/a'),
    row('baseline: Mosquitto clients (QoS 0)', b.mosquittoClients ? `${b.mosquittoClients.perSec} msg/s` : 'n/a'),
    row('lab clients, same messages (QoS 0)', b.labClients ? `${b.labClients.perSec} msg/s` : 'n/a'),
    ...handshakeRows(b),
    row('CPU per provisioned device: lab / step-ca (both authorities) / provisioning service / Mosquitto', `${s.cpu.labMsPerDevice} / ${s.cpu.stepCaMsPerDevice} / ${s.cpu.provisioningServiceMsPerDevice} / ${s.cpu.mosquittoMsPerDevice} ms`),
    ...(s.cpu.provisioningWindow ? [row('provisioning window (first arrival to last device up), CPU per device: lab / step-ca / service / Mosquitto', `${s.cpu.provisioningWindow.labMsPerDevice} / ${s.cpu.provisioningWindow.stepCaMsPerDevice} / ${s.cpu.provisioningWindow.provisioningServiceMsPerDevice} / ${s.cpu.provisioningWindow.mosquittoMsPerDevice} ms`)] : []),
    row('lab CPU by thread, whole run (ms)', Object.entries(s.cpu.labThreadsMs).map(([t, ms]) => `${t} ${ms}`).join(', ') || 'n/a'),
    row('event-loop delay p99 by thread', Object.entries(s.eventLoopDelayMs).map(([t, d]) => `${t} ${d.p99} ms`).join(', ') || 'n/a'),
    row('measured with pre-made keys', s.measuredWithPreMadeKeys.join(', ') || 'none'),
    ...(s.inventory ? [row('inventory / certificates both step-ca logged as issued', `${s.inventory.inventory} / ${s.inventory.issuedOnLogs} (${s.inventory.notInInventory} missing; ${s.inventory.notOnLogs} bootstrap credentials the signing baseline made itself)`)] : []),
    ...Object.entries(s.ratios).map(([k, v]) => row(`ratio ${k}`, String(v ?? 'n/a'))),
    row('thresholds', s.thresholds.map((t) => `${t.name} ${t.ok ? 'met' : t.value === null ? 'BROKEN (no data)' : 'BROKEN'}`).join(', ')),
    END,
  ].join('\n');
}

export async function benchCommand(global: { config?: string }): Promise<void> {
  const summary = await loadCommand(global, { ...STANDARD_PROFILE, runId: `bench-${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '')}` });
  // A run that never started or was interrupted leaves BENCHMARKS.md as it was.
  if (!summary || summary.partial) {
    console.error('bench: the standard profile did not complete; BENCHMARKS.md is unchanged');
    process.exitCode ||= EXIT.failed;
    return;
  }
  const p = STANDARD_PROFILE;
  const command = `npm run bench   # = ecm-lab load --scenario ${p.scenario} --devices ${p.devices} --mix ${p.mix} --rate ${p.rate} --duration ${p.duration} --qos ${p.qos} --interval ${p.interval} --baseline-signs ${p.baselineSigns} --baseline-flows ${p.baselineFlows} --baseline-messages ${p.baselineMessages} --baseline-handshakes ${p.baselineHandshakes} --handshake-client ${p.handshakeClient}`;
  const file = path.join(repoRoot, 'BENCHMARKS.md');
  const text = readFileSync(file, 'utf8');
  const start = text.indexOf(START);
  const end = text.indexOf(END);
  if (start < 0 || end < start) throw new Error(`BENCHMARKS.md has no ${START} ... ${END} section to update`);
  writeFileSync(file, text.slice(0, start) + benchmarkMarkdown(summary, command) + text.slice(end + END.length));
  console.log(`BENCHMARKS.md updated from ${summary.runId}`);
}
