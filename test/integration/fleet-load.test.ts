// The fleet load lab end to end: a smoke profile whose report must be complete and consistent,
// two segments whose merged report matches one run of the same total, two segments sharing one
// running lab, and the HTML report rendered in a real browser.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { PerfSummary } from '../../evidence/perf/summary-schema.ts';
import { waitFor } from '../../environments/wait.ts';
import { ProvisioningAdminClient } from '../../simulators/client/admin-client.ts';
import { launchChromium, overlappingSvgTexts } from '../support/chromium.ts';
import { startCli } from '../support/cli.ts';

const out = mkdtempSync(path.join(os.tmpdir(), 'ecm-perf-'));
async function load(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const run = startCli(['load', '--out', out, ...args]);
  const exit = await run.exit;
  return { code: exit.code, stdout: run.stdout(), stderr: run.stderr() };
}

const summaryOf = (runId: string) => JSON.parse(readFileSync(path.join(out, runId, 'summary.json'), 'utf8')) as PerfSummary;

test('smoke profile: 50 devices, QoS 1 — the report is complete, consistent, and nothing is lost', async () => {
  const run = await load(['--devices', '50', '--rate', '25', '--duration', '5s', '--interval', '250', '--qos', '1', '--baseline-signs', '20', '--baseline-flows', '10', '--baseline-messages', '2000', '--baseline-handshakes', '20', '--run-id', 'smoke']);
  assert.equal(run.code, 0, `ecm-lab load failed:\n${run.stderr}\n${run.stdout}`);
  const s = summaryOf('smoke');
  assert.equal(s.schema, 'ecm-lab/perf-summary@3');
  assert.equal(s.scenario.name, 'full-flow');
  assert.equal(s.executor.kind, 'arrival-rate');
  assert.equal(s.devices.requested, 50);
  assert.equal(s.devices.started, 50);
  assert.equal(s.devices.provisioned + s.devices.failed + s.devices.legacy, s.devices.started, 'every device is accounted for');
  assert.equal(s.devices.provisioned, 50);
  assert.equal(s.mqtt.messages.lost, 0, 'QoS 1 loses nothing');
  assert.equal(s.mqtt.messages.received + s.mqtt.messages.lost, s.mqtt.messages.sent, 'messages add up');
  assert.ok(s.mqtt.messages.sent > 50, 'devices published telemetry');
  assert.equal(s.provisioning.latencyMs.count, s.devices.provisioned, 'one provisioning sample per device');
  assert.equal(s.mqtt.deliveryLatencyMs.count, s.mqtt.messages.received, 'one delivery sample per message');
  for (const phase of ['acmeOrder', 'challengeValidation', 'finalize', 'x5cSign', 'firstConnack'] as const) {
    assert.equal(s.provisioning.phases[phase].count, 50, `${phase} measured for every device`);
  }
  assert.ok(s.provisioning.latencyMs.p50 <= s.provisioning.latencyMs.p99 && s.provisioning.latencyMs.p99 <= s.provisioning.latencyMs.max);
  assert.ok(s.baselines.caSigning && s.baselines.caFlow && s.baselines.mosquittoClients && s.baselines.labClients && s.baselines.handshakes, 'baselines measured in the same run');
  // The CA's own limit: every baseline device went through ACME and X5C at step-ca, which spent CPU on each.
  assert.equal(s.baselines.caFlow.latencyMs.count, 10);
  assert.ok(s.baselines.caFlow.perSec > 0 && s.baselines.caFlow.stepCaCpuMsPerDevice > 0, JSON.stringify(s.baselines.caFlow));
  assert.ok(s.ratios.fractionOfCaLimit! > 0, `fraction of the CA's limit: ${s.ratios.fractionOfCaLimit}`);
  // Every certificate step-ca logged is in the inventory; beyond them only the signing baseline's credentials, which the lab signed itself.
  assert.ok(s.inventory, 'the inventory was checked');
  assert.equal(s.inventory.notInInventory, 0);
  assert.equal(s.inventory.notOnLogs, s.baselines.caSigning.requests);
  assert.equal(s.inventory.inventory, s.inventory.issuedOnLogs + s.inventory.notOnLogs);
  assert.equal(s.baselines.handshakes.latencyMs.count, 20, 'one CONNACK per handshake');
  assert.ok(s.baselines.handshakes.labCpuMsPerHandshake > 0 && s.baselines.handshakes.brokerCpuMsPerHandshake > 0);
  assert.ok(Object.values(s.ratios).every((r) => typeof r === 'number' && r > 0), `ratios: ${JSON.stringify(s.ratios)}`);
  assert.ok(s.thresholds.length >= 4 && s.thresholds.every((t) => t.ok));
  assert.ok(s.timeline.length >= 5);
  // Each process's CPU apart: the provisioning service did work for every device, in its own process.
  for (const [name, ms] of Object.entries({ lab: s.cpu.labMs, stepCa: s.cpu.stepCaMs, mosquitto: s.cpu.mosquittoMs, provisioningService: s.cpu.provisioningServiceMs })) {
    assert.ok(typeof ms === 'number' && ms > 0, `cpu of ${name}: ${ms}`);
  }
  for (let i = 1; i < s.timeline.length; i++) assert.ok(s.timeline[i]!.received >= s.timeline[i - 1]!.received, 'counters never go back');
  assert.equal(realpathSync(path.join(out, 'latest')), realpathSync(path.join(out, 'smoke')), 'reports/perf/latest points at the newest run');
  assert.match(run.stdout, /thresholds\s+provisioning p99 ok/);
});

test('two segments merged match a single run of the same total', async () => {
  const common = ['--devices', '40', '--rate', '20', '--duration', '5s', '--interval', '250', '--no-baselines'];
  for (const [segment, id] of [['1/2', 'seg1'], ['2/2', 'seg2'], ['1/1', 'single']] as const) {
    const run = await load([...common, '--segment', segment, '--run-id', id]);
    assert.equal(run.code, 0, `${id}: ${run.stderr}`);
  }
  const [seg1, seg2, single] = [summaryOf('seg1'), summaryOf('seg2'), summaryOf('single')];
  assert.equal(seg1.devices.requested + seg2.devices.requested, 40);
  assert.equal(seg2.segment.firstDevice, seg1.devices.requested, 'segments are disjoint and contiguous');

  const merge = startCli(['report', 'merge', path.join(out, 'seg1'), path.join(out, 'seg2'), '--out', out, '--run-id', 'merged']);
  assert.equal((await merge.exit).code, 0, merge.stderr());
  const merged = summaryOf('merged');
  assert.deepEqual(merged.devices, single.devices, 'device counts match exactly');
  assert.equal(merged.provisioning.latencyMs.count, seg1.provisioning.latencyMs.count + seg2.provisioning.latencyMs.count, 'histograms merge exactly');
  assert.equal(merged.mqtt.messages.sent, seg1.mqtt.messages.sent + seg2.mqtt.messages.sent);
  // Timing-dependent figures agree within a tolerance: same devices, interval and steady state.
  const [a, b] = [merged.mqtt.messages.sent, single.mqtt.messages.sent];
  assert.ok(Math.abs(a - b) <= 0.25 * Math.max(a, b), `messages sent: merged ${a} vs single ${b}`);
  assert.equal(merged.mqtt.messages.lost, 0);
});

test('fault injection: CA, broker, provisioning service and device restarts — everyone recovers, nothing is lost', async () => {
  const run = await load(['--devices', '20', '--rate', '10', '--duration', '5s', '--interval', '200', '--qos', '1', '--no-baselines', '--faults', 'ca-restart,broker-restart,provisioning-restart,device-restart', '--run-id', 'faults']);
  assert.equal(run.code, 0, `ecm-lab load --faults failed:\n${run.stderr}\n${run.stdout}`);
  const s = summaryOf('faults');
  assert.deepEqual(s.faults.map((f) => f.kind).sort(), ['broker-restart', 'ca-restart', 'device-restart', 'provisioning-restart']);
  assert.equal(s.devices.provisioned, 20, '100% of devices end provisioned');
  assert.equal(s.devices.connected, 20, 'and connected');
  assert.equal(s.devices.distinctIdentities, 20, 'no duplicate identities');
  assert.equal(s.mqtt.messages.lost, 0, 'no QoS 1 message lost across the restarts');
  const broker = s.faults.find((f) => f.kind === 'broker-restart')!;
  assert.equal(broker.devicesAffected, 20, 'a broker restart affects every connected device');
  assert.ok(broker.recoveryMs.p99 > 0 && broker.recoveryMs.p99 < 30_000, `broker recovery p99 ${broker.recoveryMs.p99} ms`);
  assert.ok(s.faults.find((f) => f.kind === 'device-restart')!.devicesAffected >= 2, 'a tenth of the fleet restarts its process');
  assert.ok(s.thresholds.every((t) => t.ok), JSON.stringify(s.thresholds.filter((t) => !t.ok)));
  assert.ok((s.cpu.provisioningServiceMs ?? 0) > 0, 'the service CPU is counted across its restart');
  // After restarts of step-ca and the service, the inventory still holds exactly what both authorities logged as issued.
  assert.ok(s.inventory);
  assert.equal(s.inventory.inventory, s.inventory.issuedOnLogs, JSON.stringify(s.inventory));
  assert.equal(s.inventory.notInInventory, 0);
  assert.ok(s.inventory.issuedOnLogs >= 2 * 20, 'a bootstrap credential and an operational certificate per device at least');
});

test('revocation fault: a tenth of the devices revoked mid steady state are disconnected, nobody else, and leave the accounting', async () => {
  const run = await load(['--devices', '20', '--rate', '10', '--duration', '4s', '--interval', '200', '--qos', '1', '--no-baselines', '--faults', 'revocation', '--run-id', 'revocation']);
  assert.equal(run.code, 0, `ecm-lab load --faults revocation failed:\n${run.stderr}\n${run.stdout}`);
  const s = summaryOf('revocation');
  assert.ok(s.revocation, 'the report carries the revocation');
  assert.equal(s.revocation.revoked, 2, 'a tenth of 20 connected devices');
  assert.equal(s.revocation.disconnected, 2, 'the broker closed every revoked device');
  assert.equal(s.provisioning.phases.revocationToDisconnect.count, 2, 'one revocation-to-disconnect sample per revoked device');
  assert.ok(s.revocation.revocationToDisconnectMs.p50 > 0 && s.revocation.revocationToDisconnectMs.p99 >= s.revocation.revocationToDisconnectMs.p50);
  assert.ok(s.revocation.revocationToDisconnectMs.p99 < 5000, `revocation to disconnect p99 ${s.revocation.revocationToDisconnectMs.p99} ms`);
  assert.equal(s.revocation.otherDevicesDisconnected, 0, 'no other device was disconnected');
  assert.equal(s.devices.connected, 18, 'everyone else is still connected at the end');
  assert.equal(s.mqtt.messages.lost, 0, 'nothing the broker acknowledged was lost, revoked devices included');
  assert.equal(s.mqtt.messages.received, s.mqtt.messages.sent);
  assert.deepEqual(s.faults.map((f) => f.kind), ['revocation']);
  assert.equal(s.errors.total, 0, JSON.stringify(s.errors));
  assert.ok(s.thresholds.every((t) => t.ok), JSON.stringify(s.thresholds.filter((t) => !t.ok)));
  assert.equal(s.inventory?.inventory, s.inventory?.issuedOnLogs, 'revocations add nothing to the inventory');
});

test('devices spread over worker threads give the same complete report', async () => {
  const run = await load(['--devices', '24', '--rate', '12', '--duration', '3s', '--interval', '250', '--no-baselines', '--workers', '2', '--run-id', 'workers']);
  assert.equal(run.code, 0, `ecm-lab load --workers 2 failed:\n${run.stderr}\n${run.stdout}`);
  const s = summaryOf('workers');
  assert.equal(s.devices.provisioned, 24);
  assert.equal(s.devices.distinctIdentities, 24);
  assert.equal(s.provisioning.latencyMs.count, 24, 'every worker reported its devices');
  assert.equal(s.provisioning.phases.challengeValidation.count, 24, 'http-01 answered for devices in every worker');
  assert.ok(s.mqtt.messages.sent > 24);
  assert.equal(s.mqtt.messages.lost, 0);
  assert.equal(s.mqtt.messages.received, s.mqtt.messages.sent);
});

test('MQTT at scale: certificates issued by the lab CA skip ACME and X5C, identities stay distinct', async () => {
  const run = await load(['--devices', '60', '--rate', '60', '--duration', '3s', '--interval', '100', '--certificates', 'issued', '--no-baselines', '--run-id', 'issued']);
  assert.equal(run.code, 0, run.stderr);
  const s = summaryOf('issued');
  assert.equal(s.devices.provisioned, 60);
  assert.equal(s.devices.distinctIdentities, 60);
  assert.equal(s.provisioning.phases.acmeOrder.count, 0, 'no ACME');
  assert.equal(s.provisioning.phases.firstConnack.count, 60, 'every device connected with its own certificate');
  assert.equal(s.mqtt.messages.lost, 0);
  assert.ok(s.mqtt.messages.received >= 60 * 20, `each device published at 10/s for 3 s (${s.mqtt.messages.received})`);
  assert.equal(s.ratios.labCpuPerDeviceOverStepCa, null, 'step-ca issued nothing: no CPU ratio against it');
});

test('a broken threshold fails the run with exit code 1 (a test failed) and names it', async () => {
  const run = await load(['--devices', '5', '--rate', '10', '--duration', '2s', '--interval', '200', '--no-baselines', '--max-delivery-p99', '0.001', '--run-id', 'broken']);
  assert.equal(run.code, 1, run.stderr);
  assert.match(run.stderr, /thresholds broken: delivery p99 \(NFR-PERF-002\) = [\d.]+, limit 0\.001/);
  const s = summaryOf('broken');
  assert.deepEqual(s.thresholds.filter((t) => !t.ok).map((t) => t.name), ['delivery p99']);
});

test('Ctrl-C stops the run cleanly and still writes the partial report', async () => {
  const run = startCli(['load', '--out', out, '--devices', '10', '--rate', '10', '--duration', '10m', '--interval', '200', '--no-baselines', '--run-id', 'interrupted']);
  // Interrupt once every device is publishing (the progress line says so), not after a guess.
  await waitFor('the fleet to be connected', () => /10\/10 provisioned, 10 connected/.test(run.stderr()) || (run.child.exitCode !== null && Promise.reject(new Error(run.stderr()))), { timeoutMs: 60_000, intervalMs: 100 });
  run.child.kill('SIGINT');
  const exit = await run.exit;
  assert.equal(exit.code, 130);
  const s = summaryOf('interrupted');
  assert.equal(s.partial, true);
  assert.equal(s.devices.provisioned, 10);
  assert.equal(s.mqtt.messages.lost, 0, 'stopping does not lose what was sent');
  assert.equal(s.mqtt.messages.received, s.mqtt.messages.sent);
});

test('the HTML report renders its charts in a real browser', async () => {
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    await page.goto(`file://${path.join(out, 'smoke', 'index.html')}`);
    await page.locator('figure.chart svg').first().waitFor({ timeout: 10_000 });
    assert.ok((await page.locator('figure.chart svg').count()) >= 5, 'every chart is drawn');
    assert.ok((await page.locator('rect.bar').count()) >= 10, 'bars of the phase chart');
    assert.ok((await page.locator('polyline').count()) >= 4, 'lines of the percentile and timeline charts');
    assert.match(await page.locator('h1').innerText(), /fleet run smoke/);
    assert.equal(await page.locator('.fail').count(), 0, 'no broken threshold is shown');
    const smoke = summaryOf('smoke');
    assert.match(await page.locator('#ca-limit figcaption').innerText(), /Fraction of the CA's own limit reached: [\d.]+ %/);
    // Ratios of different scales never share an axis: one panel each.
    assert.equal(await page.locator('figure.ratio svg').count(), Object.keys(smoke.ratios).length);
    // No label drawn on another: axis ticks, the percentile curve's p99 / p99.9 / max, bar values.
    assert.deepEqual(await overlappingSvgTexts(page), []);
  } finally {
    await browser.close();
  }
});

test('two segments attached to one running lab (ecm-lab up) share it: every device provisioned once, nothing lost, the lab keeps running', async (t) => {
  const up = startCli(['up', '--json', '--serve-challenges']);
  t.after(() => up.child.kill('SIGTERM'));
  const line = await waitFor('ecm-lab up --json', () => {
    if (up.child.exitCode !== null) throw new Error(`ecm-lab up exited: ${up.stderr()}`);
    return up.stdout().split('\n').find((l) => l.startsWith('{'));
  }, { timeoutMs: 60_000 });
  const labFile = path.join(out, 'lab.json');
  writeFileSync(labFile, line, { mode: 0o600 });
  const description = JSON.parse(line) as { acmeWebroot: string; provisioning: { url: string; adminToken: string }; ca: { rootPem: string } };

  const common = ['--devices', '30', '--rate', '15', '--duration', '4s', '--interval', '250', '--lab', labFile];
  const runs = await Promise.all([load([...common, '--segment', '1/2', '--run-id', 'shared1']), load([...common, '--segment', '2/2', '--run-id', 'shared2'])]);
  for (const run of runs) assert.equal(run.code, 0, `${run.stderr}\n${run.stdout}`);
  const [a, b] = [summaryOf('shared1'), summaryOf('shared2')];
  for (const s of [a, b]) {
    assert.equal(s.devices.failed, 0, JSON.stringify(s.errors));
    assert.equal(s.mqtt.messages.lost, 0);
    assert.equal(s.mqtt.messages.received, s.mqtt.messages.sent, 'each application counts only its own segment’s devices');
    assert.ok((s.cpu.stepCaMs ?? 0) > 0 && (s.cpu.provisioningServiceMs ?? 0) > 0, 'the shared lab’s processes are measured');
  }
  assert.equal(a.devices.provisioned + b.devices.provisioned, 30);

  // The one CA issued both segments' devices: the shared inventory holds every one of them.
  const admin = new ProvisioningAdminClient(description.provisioning.url, description.provisioning.adminToken, readFileSync(description.ca.rootPem, 'utf8'));
  const holders = new Set((await admin.inventory()).map((r) => r.deviceId));
  const deviceHolders = [...holders].filter((h) => h !== 'lumia');
  assert.ok(deviceHolders.length >= 30, `inventory holders: ${deviceHolders.length}`);
  assert.equal(up.child.exitCode, null, 'the shared lab is still running after both segments');
  assert.deepEqual(readdirSync(path.join(description.acmeWebroot, '.well-known', 'acme-challenge')), [], 'every published challenge was removed');
});

test('--lab refuses what an attached fleet cannot do, and a missing description, with exit code 2', async () => {
  const missing = await load(['--lab', path.join(out, 'no-such-lab.json'), '--devices', '1']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /--lab: cannot read the lab description .*no-such-lab\.json.*ecm-lab up --json --serve-challenges/);
  const labFile = path.join(out, 'lab-without-webroot.json');
  writeFileSync(labFile, JSON.stringify({ id: 'x' }));
  const malformed = await load(['--lab', labFile, '--devices', '1']);
  assert.equal(malformed.code, 2);
  assert.match(malformed.stderr, /is not an `ecm-lab up --json` description: workDir: /);
});
