import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LatencyHistograms } from '../../../evidence/perf/latency-histograms.ts';
import { caLimitFigure, ratioPanel, renderPerfHtml } from '../../../evidence/perf/html.ts';
import { MergeError, mergeSummaries } from '../../../evidence/perf/merge.ts';
import { buildSummary } from '../../../evidence/perf/summary.ts';
import type { Baselines, RunConfig, RunResult } from '../../../evidence/perf/summary-schema.ts';
import { cpuWindow, runConfig, runResult } from '../../support/perf-fixture.ts';

const config = runConfig;

/** A measured run: `devices` provisioned in `ms` each, 10 messages per device delivered in 2 ms. */
function result(devices: number, firstDevice: number, ms: number, extra: Partial<RunResult> = {}): RunResult {
  const histograms = new LatencyHistograms();
  for (let i = 0; i < devices; i++) {
    histograms.record('provisioningTotal', ms + i);
    for (let m = 0; m < 10; m++) histograms.record('deliveryQos1', 2);
  }
  return runResult(devices, histograms, { firstDevice, ...extra });
}

const caFlow: NonNullable<Baselines['caFlow']> = { devices: 10, concurrency: 8, perSec: 20, latencyMs: { count: 10, p50: 300, p95: 400, p99: 400, max: 400, mean: 300 }, stepCaCpuMsPerDevice: 40, provisioningServiceCpuMsPerDevice: 10, labCpuMsPerDevice: 20, cpuBoundPerSec: 50 };
const context = (runId: string, c = config(), baselines: Baselines = { caFlow }) => ({ runId, config: c, lab: { id: runId, owned: true }, tools: { 'step-ca': '0.30.2' }, baselines });

test("the summary derives CPU per device over both step-ca authorities and the fraction of the CA's own limit", () => {
  const s = buildSummary(result(20, 0, 200), context('one'));
  assert.equal(s.schema, 'ecm-lab/perf-summary@3');
  assert.equal(s.cpu.stepCaMsPerDevice, 40);
  assert.equal(s.ratios.labCpuPerDeviceOverStepCa, 2.5);
  assert.equal(s.ratios.provisioningServiceCpuPerDeviceOverStepCa, 1.5);
  assert.equal(s.provisioning.devicesPerSec, 10, '20 devices over the executor span of 2 s');
  assert.equal(s.ratios.fractionOfCaLimit, 0.5, '10 devices/s against a limit of 20');
  assert.equal(s.ratios.labMqttThroughputOverMosquittoClients, null, 'applies, but was not measured');
  assert.ok(s.thresholds.every((t) => t.ok));
  assert.deepEqual(s.thresholds.map((t) => t.name), ['provisioning p99', 'delivery p99', 'failed devices', 'QoS 1 messages lost', 'issued certificates missing from the inventory']);
});

test('only the ratios and thresholds that apply to a scenario appear', () => {
  const storm = buildSummary(result(20, 0, 50), context('storm', config({ scenario: 'mqtt-connect-storm', certificates: 'issued', executor: { kind: 'iterations', ratePerSecond: 1, maxConcurrent: 1, vus: 4, vusDurationMs: 0 } })));
  assert.deepEqual(Object.keys(storm.ratios), ['labCpuPerConnectOverBroker', 'labMqttThroughputOverMosquittoClients', 'labCpuPerHandshakeOverBroker']);
  assert.equal(storm.ratios.labCpuPerConnectOverBroker, 20);
  assert.deepEqual(storm.thresholds.map((t) => t.name), ['connect p99', 'failed devices', 'sessions held at the end', 'issued certificates missing from the inventory']);
  const x5c = buildSummary(result(20, 0, 50), context('x5c', config({ scenario: 'x5c-sign', durationMs: 0 })));
  assert.equal(x5c.scenario.family, 'requests');
  assert.equal(x5c.thresholds[0]!.name, 'X5C sign p99');
});

test('a revocation that disconnected someone else, or a certificate missing from the inventory, breaks its threshold', () => {
  const s = buildSummary(
    result(20, 0, 200, {
      faults: [{ kind: 'revocation', atS: 3, restartMs: 100, devicesAffected: 2, recoveryMs: { p50: 80, p99: 90, max: 90 } }],
      revocation: { revoked: 2, disconnected: 2, revocationToDisconnectMs: { p50: 80, p99: 90, max: 90 }, otherDevicesDisconnected: 1, excludedMessages: 1 },
      devices: { requested: 20, started: 20, provisioned: 20, connected: 18, failed: 0, legacy: 0 },
      inventory: { inventory: 39, issuedOnLogs: 40, notInInventory: 1, notOnLogs: 0 },
    }),
    context('rev'),
  );
  const broken = s.thresholds.filter((t) => !t.ok).map((t) => t.name);
  assert.deepEqual(broken, ['other devices disconnected by the revocation', 'issued certificates missing from the inventory']);
  assert.ok(s.thresholds.find((t) => t.name === 'devices connected after faults')!.ok, 'revoked devices are not expected to be connected');
});

test('segments merge exactly: counts add, histograms merge, everything derived is derived again', () => {
  const a = buildSummary(result(10, 0, 100), context('a', config({ segment: { index: 1, count: 2 } })));
  const b = buildSummary(result(10, 10, 300), context('b', config({ segment: { index: 2, count: 2 } })));
  const merged = mergeSummaries([a, b], 'merged');
  const whole = LatencyHistograms.decode(a.histograms);
  whole.addEncoded(b.histograms);
  assert.deepEqual(merged.provisioning.latencyMs, whole.summary('provisioningTotal'));
  assert.equal(merged.devices.provisioned, 20);
  assert.equal(merged.mqtt.messages.sent, 200);
  assert.equal(merged.cpu.stepCaMsPerDevice, 40);
  assert.equal(merged.executor.completed, 20);
  assert.equal(merged.provisioning.devicesPerSec, 10, 'segments run side by side: 20 devices over the longest span');
  assert.equal(merged.inventory!.inventory, 40, 'two labs of their own: inventories add up');
  const shared = mergeSummaries([{ ...a, lab: { id: 'L', owned: false } }, { ...b, lab: { id: 'L', owned: false } }], 'shared');
  assert.equal(shared.inventory!.inventory, 20, 'one shared lab: its inventory counted once');
  assert.throws(() => mergeSummaries([a, buildSummary(result(5, 0, 5), context('x', config({ scenario: 'x5c-sign' })))], 'bad'), MergeError);
  assert.throws(() => mergeSummaries([{ ...a, schema: 'ecm-lab/perf-summary@1' }], 'old'), /schema/);
});

test('a merge of segments refuses another run, a missing segment and a segment twice, naming it', () => {
  const seg = (index: number, extra: Partial<RunConfig> = {}) => buildSummary(result(10, (index - 1) * 10, 100), context(`s${index}`, config({ segment: { index, count: 3 }, ...extra })));
  assert.throws(() => mergeSummaries([seg(1), seg(2)], 'm'), /segment 3\/3 missing/);
  assert.throws(() => mergeSummaries([seg(1), seg(2), seg(2)], 'm'), /segment 2\/3 is there twice: s2 and s2/);
  assert.throws(() => mergeSummaries([seg(1), seg(2), seg(3, { seed: 7 })], 'm'), /segment 3\/3 \(s3\) is of another run: its seed is 7, not 1/);
  assert.throws(() => mergeSummaries([seg(1), buildSummary(result(10, 0, 100), context('whole'))], 'm'), /different splits/);
  assert.equal(mergeSummaries([seg(1), seg(2), seg(3)], 'm').devices.provisioned, 30);
  // Whole runs of one scenario add up.
  assert.equal(mergeSummaries([buildSummary(result(5, 0, 100), context('r1')), buildSummary(result(5, 0, 100), context('r2'))], 'runs').devices.provisioned, 10);
});

test('each ratio is drawn on an axis of its own, with its target', () => {
  const small = ratioPanel('labCpuPerDeviceOverStepCa', 0.4);
  const big = ratioPanel('provisioningP50OverCaSignP50', 129);
  // Both bars fill their own panel: the 129 does not flatten the 0.4.
  const width = (svg: string) => Number(/<rect class="bar" x="[\d.]+" y="[\d.]+" width="([\d.]+)"/.exec(svg)![1]);
  assert.ok(width(small) > 100 && width(big) > 100, `${width(small)} / ${width(big)}`);
  assert.match(small, /target ≤ 0.5/);
  assert.match(small, /class="target-met">target met/);
  // A ratio's target is a goal of the performance issue, not one of the run's thresholds.
  assert.match(ratioPanel('labCpuPerHandshakeOverBroker', 2.2), /class="target-missed">target not met/);
  assert.match(ratioPanel('fractionOfCaLimit', null), /not measured in this run/);
});

test("the report shows the fraction of the CA's own limit, and request scenarios get their own sections", () => {
  const s = buildSummary(result(20, 0, 200), context('one'));
  assert.match(caLimitFigure(s), /Fraction of the CA's own limit reached: <b>50 %<\/b>/);
  const html = renderPerfHtml(s);
  assert.match(html, /id="ca-limit"/);
  assert.equal((html.match(/<figure class="ratio">/g) ?? []).length, Object.keys(s.ratios).length);
  const req = renderPerfHtml(buildSummary(result(20, 0, 50), context('x5c', config({ scenario: 'x5c-sign', durationMs: 0 }))));
  assert.match(req, /Requests completed per second/);
  assert.doesNotMatch(req, /id="ca-limit"/);
  assert.doesNotMatch(req, /Messages received per second/);
});

test('segments sharing one lab count its CPU once; labs of their own and the clients add up', () => {
  // Both segments read the same step-ca, broker and service processes over overlapping spans.
  const seg = (index: number, start: number, labId: string, owned: boolean) => {
    const r = result(10, (index - 1) * 10, 100, { cpu: { run: cpuWindow({ lab: 300, stepCa: 400, mosquitto: 40, provisioningService: 200 }, start) } });
    return { ...buildSummary(r, context(`s${index}`, config({ segment: { index, count: 2 } }))), lab: { id: labId, owned } };
  };
  const shared = mergeSummaries([seg(1, 1000, 'L', false), seg(2, 1100, 'L', false)], 'shared');
  // step-ca's counter ran from 1000 (segment 1's start) to 1500 (segment 2's end): 500 ms, not 800.
  assert.equal(shared.cpu.stepCaMs, 500);
  assert.equal(shared.cpu.provisioningServiceMs, 300);
  assert.equal(shared.cpu.mosquittoMs, 140);
  assert.equal(shared.cpu.labMs, 600, 'each segment runs its clients in a process of its own');
  assert.equal(shared.cpu.stepCaMsPerDevice, 25);
  const own = mergeSummaries([seg(1, 1000, 'A', true), seg(2, 1100, 'B', true)], 'own');
  assert.equal(own.cpu.stepCaMs, 800, 'two labs: two step-ca processes');
});

test('an empty histogram is "no data": it fails its threshold instead of passing with p99 = 0', () => {
  const histograms = new LatencyHistograms();
  for (let i = 0; i < 20; i++) histograms.record('provisioningTotal', 100);
  const s = buildSummary(result(20, 0, 100, { histograms }), context('silent'));
  const delivery = s.thresholds.find((t) => t.name === 'delivery p99')!;
  assert.deepEqual({ value: delivery.value, ok: delivery.ok }, { value: null, ok: false });
  assert.ok(s.thresholds.find((t) => t.name === 'provisioning p99')!.ok, 'the provisioning histogram has data');
  const nobody = buildSummary(result(20, 0, 100, { histograms: new LatencyHistograms() }), context('nobody'));
  assert.equal(nobody.thresholds.find((t) => t.name === 'provisioning p99')!.ok, false);
  assert.match(renderPerfHtml(nobody), /<td>no data<\/td>/);
});

test('a summary names the figures measured with pre-made keys', () => {
  const handshakes: NonNullable<Baselines['handshakes']> = { connections: 10, concurrency: 2, perSec: 100, latencyMs: caFlow.latencyMs, labCpuMsPerHandshake: 2, brokerCpuMsPerHandshake: 1.5 };
  const plain = buildSummary(result(20, 0, 100), context('plain', config(), { caFlow, handshakes }));
  assert.deepEqual(plain.measuredWithPreMadeKeys, ['baselines.caFlow', 'baselines.handshakes', 'ratios.fractionOfCaLimit', 'ratios.labCpuPerHandshakeOverBroker']);
  const pre = buildSummary(result(20, 0, 100), context('pre', config({ preMadeKeys: true }), { caFlow }));
  for (const figure of ['provisioning', 'cpu', 'ratios.labCpuPerDeviceOverStepCa', 'ratios.fractionOfCaLimit']) assert.ok(pre.measuredWithPreMadeKeys.includes(figure), figure);
  const storm = buildSummary(result(20, 0, 50), context('storm', config({ scenario: 'mqtt-connect-storm', certificates: 'issued' }), {}));
  assert.ok(storm.measuredWithPreMadeKeys.includes('cpu'), 'the MQTT scenarios connect with certificates issued before the clock');
  assert.throws(() => mergeSummaries([buildSummary(result(5, 0, 1), context('a', config({ segment: { index: 1, count: 2 } }))), buildSummary(result(5, 5, 1), context('b', config({ segment: { index: 2, count: 2 }, preMadeKeys: true })))], 'm'), /preMadeKeys/);
});

test("a merged timeline's delivery p99 of a second is the highest segment's (an upper bound), and absent where no segment had one", () => {
  const point = (t: number, deliveryP99Ms?: number) => ({ t, provisioned: 1, connected: 1, failed: 0, sent: 10, received: 10, ...(deliveryP99Ms === undefined ? {} : { deliveryP99Ms }) });
  const seg = (i: number, timeline: ReturnType<typeof point>[]) => ({ ...buildSummary(result(5, (i - 1) * 5, 100), context(`s${i}`, config({ segment: { index: i, count: 2 } }))), timeline });
  const merged = mergeSummaries([seg(1, [point(1, 2), point(2)]), seg(2, [point(1, 5), point(2)])], 'm');
  assert.deepEqual(merged.timeline.map((p) => p.deliveryP99Ms), [5, undefined]);
  assert.equal(merged.timeline[0]!.received, 20, 'the counts still add');
});
