// Every named load scenario against a real lab (two step-ca authorities, Mosquitto, the
// provisioning service), small: each gives every device its own identity and certificate and
// writes the common report; a non-default scenario in two segments merges exactly; bad
// combinations are refused with exit code 2.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { LatencyHistograms } from '../../evidence/perf/latency-histograms.ts';
import type { PerfSummary } from '../../evidence/perf/summary-schema.ts';
import { startCli } from '../support/cli.ts';

const out = mkdtempSync(path.join(os.tmpdir(), 'ecm-scenarios-'));

async function load(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const run = startCli(['load', '--out', out, ...args]);
  const exit = await run.exit;
  return { code: exit.code, stdout: run.stdout(), stderr: run.stderr() };
}

const summaryOf = (runId: string) => JSON.parse(readFileSync(path.join(out, runId, 'summary.json'), 'utf8')) as PerfSummary;

function assertCommonReport(s: PerfSummary, scenario: string) {
  assert.equal(s.schema, 'ecm-lab/perf-summary@3');
  assert.equal(s.scenario.name, scenario);
  assert.ok(s.thresholds.length >= 2 && s.thresholds.every((t) => t.ok), JSON.stringify(s.thresholds));
  assert.equal(s.errors.total, 0, JSON.stringify(s.errors));
  assert.ok(s.timeline.length >= 1);
}

test('bootstrap-endpoint (constant-vus): each device gets a credential for its own identity from its own address, and only the bootstrap authority worked', async () => {
  const run = await load(['--scenario', 'bootstrap-endpoint', '--executor', 'constant-vus', '--vus', '3', '--vus-duration', '2s', '--devices', '600', '--run-id', 'bootstrap']);
  assert.equal(run.code, 0, `${run.stderr}\n${run.stdout}`);
  const s = summaryOf('bootstrap');
  assertCommonReport(s, 'bootstrap-endpoint');
  assert.equal(s.executor.kind, 'constant-vus');
  assert.ok(s.iterations.completed >= 5, `credentials issued in 2 s by 3 VUs: ${s.iterations.completed}`);
  assert.ok(s.iterations.started < 600, 'the VUs stopped at their duration, not at the device cap');
  assert.equal(s.iterations.completed, s.iterations.started);
  assert.equal(s.iterations.latencyMs.count, s.iterations.completed, 'one timed request per credential');
  // Each credential is in the inventory and step-ca's log, distinct: the inventory counts serials.
  assert.equal(s.inventory?.issuedOnLogs, s.iterations.completed);
  assert.equal(s.inventory?.inventory, s.iterations.completed);
  // Only the bootstrap authority signs here: its CPU is part of step-ca's.
  assert.ok(s.cpu.stepCaMs > 0, `step-ca CPU ${s.cpu.stepCaMs} ms`);
});

test('x5c-sign in two segments: disjoint devices, and the merge equals the segments exactly', async () => {
  const common = ['--scenario', 'x5c-sign', '--devices', '24', '--vus', '2', '--no-baselines'];
  for (const [segment, id] of [['1/2', 'x5c-seg1'], ['2/2', 'x5c-seg2']] as const) {
    const run = await load([...common, '--segment', segment, '--run-id', id]);
    assert.equal(run.code, 0, `${id}: ${run.stderr}\n${run.stdout}`);
  }
  const [a, b] = [summaryOf('x5c-seg1'), summaryOf('x5c-seg2')];
  for (const s of [a, b]) {
    assertCommonReport(s, 'x5c-sign');
    assert.equal(s.iterations.completed, 12, 'each segment signs its half');
    // Each credential the lab signed is in the inventory (from the X5C token), each certificate step-ca logged too.
    assert.equal(s.inventory?.issuedOnLogs, 12);
    assert.equal(s.inventory?.notOnLogs, 12);
  }
  assert.equal(b.segment.firstDevice, a.devices.requested, 'segments are disjoint and contiguous');
  const merge = startCli(['report', 'merge', path.join(out, 'x5c-seg1'), path.join(out, 'x5c-seg2'), '--out', out, '--run-id', 'x5c-merged']);
  assert.equal((await merge.exit).code, 0, merge.stderr());
  const merged = summaryOf('x5c-merged');
  assert.equal(merged.scenario.name, 'x5c-sign');
  assert.equal(merged.iterations.completed, 24);
  assert.equal(merged.executor.started, a.executor.started + b.executor.started);
  const both = LatencyHistograms.decode(a.histograms);
  both.addEncoded(b.histograms);
  assert.deepEqual(merged.iterations.latencyMs, both.summary('x5cSign'), 'HDR histograms merge exactly');
  assert.equal(merged.inventory?.inventory, (a.inventory?.inventory ?? 0) + (b.inventory?.inventory ?? 0), 'two labs of their own: their inventories add up');
  assert.ok(merged.thresholds.every((t) => t.ok));
});

test('mqtt-connect-storm: every device connects with its own certificate and its session is still held at the end', async () => {
  const run = await load(['--scenario', 'mqtt-connect-storm', '--devices', '60', '--vus', '6', '--duration', '2s', '--baseline-handshakes', '50', '--handshake-client', 'both', '--run-id', 'storm']);
  assert.equal(run.code, 0, `${run.stderr}\n${run.stdout}`);
  const s = summaryOf('storm');
  assertCommonReport(s, 'mqtt-connect-storm');
  assert.equal(s.devices.provisioned, 60);
  assert.equal(s.devices.connected, 60, 'sessions held at the end');
  assert.equal(s.devices.distinctIdentities, 60);
  assert.equal(s.mqtt.connectLatencyMs.count, 60, 'one CONNACK per device');
  assert.equal(s.mqtt.messages.sent, 0, 'a storm only holds sessions');
  assert.ok(s.ratios.labCpuPerConnectOverBroker! > 0 && s.ratios.labCpuPerHandshakeOverBroker! > 0, JSON.stringify(s.ratios));
  // --handshake-client both: mqtt.js's handshake baseline and the native client's, side by side.
  assert.deepEqual([s.baselines.handshakes?.client, s.baselines.handshakesNative?.client], ['node', 'native']);
  assert.equal(s.baselines.handshakesNative?.latencyMs.count, 50, 'one CONNACK 0 per native connection');
  assert.ok(s.ratios.nativeCpuPerHandshakeOverBroker! > 0, JSON.stringify(s.ratios));
  assert.match(readFileSync(path.join(out, 'storm', 'index.html'), 'utf8'), /CPU per mutual-TLS connection, native client \(ecm-connect, Go crypto\/tls\) \/ broker/);
  assert.ok(s.cpu.mosquittoMs > 0);
});

test('mqtt-publish: devices with issued certificates publish at QoS 1, nothing is lost', async () => {
  const run = await load(['--scenario', 'mqtt-publish', '--devices', '30', '--rate', '30', '--duration', '2s', '--interval', '100', '--no-baselines', '--run-id', 'publish']);
  assert.equal(run.code, 0, `${run.stderr}\n${run.stdout}`);
  const s = summaryOf('publish');
  assertCommonReport(s, 'mqtt-publish');
  assert.equal(s.devices.provisioned, 30);
  assert.ok(s.mqtt.messages.sent >= 30 * 15, `each device published at 10/s for 2 s (${s.mqtt.messages.sent})`);
  assert.equal(s.mqtt.messages.lost, 0);
  assert.equal(s.mqtt.messages.received, s.mqtt.messages.sent);
  assert.equal(s.mqtt.deliveryLatencyMs.count, s.mqtt.messages.received);
  assert.equal(s.provisioning.phases.acmeOrder.count, 0, 'no ACME: the lab CA issued the certificates');
});

test('bad input is refused with exit code 2 and a precise message', async () => {
  const fleetOnly = await load(['--scenario', 'x5c-sign', '--duration', '5s', '--qos', '0']);
  assert.equal(fleetOnly.code, 2);
  assert.match(fleetOnly.stderr, /--duration: the x5c-sign scenario has no connected fleet/);
  assert.match(fleetOnly.stderr, /--qos: the x5c-sign scenario has no connected fleet/);
  const unknown = await load(['--scenario', 'k6-run']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /--scenario: .*full-flow/);
  const rateOnClosed = await load(['--scenario', 'bootstrap-endpoint', '--rate', '5']);
  assert.equal(rateOnClosed.code, 2);
  assert.match(rateOnClosed.stderr, /--rate: only the arrival-rate executor has a rate/);
  const tooFewVus = await load(['--scenario', 'x5c-sign', '--vus', '1', '--segment', '1/2']);
  assert.equal(tooFewVus.code, 2);
  assert.match(tooFewVus.stderr, /--segment: segment 1\/2 of 1 VUs holds none/);
  const ownedOnly = await load(['--scenario', 'mqtt-publish', '--lab', path.join(out, 'lab.json')]);
  assert.equal(ownedOnly.code, 2);
  assert.match(ownedOnly.stderr, /--lab: the mqtt-publish scenario needs the lab's own CA keys/);
  // The reports of two scenarios above: one scenario's segments merge, two scenarios' never.
  const mixed = startCli(['report', 'merge', path.join(out, 'x5c-seg1'), path.join(out, 'storm'), '--out', out]);
  assert.equal((await mixed.exit).code, 2);
  assert.match(mixed.stderr(), /segments of different scenarios cannot be merged: x5c-sign, mqtt-connect-storm/);
});
