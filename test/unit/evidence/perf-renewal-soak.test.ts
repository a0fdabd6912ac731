import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveLoadOptions, type LoadCliOptions } from '../../../bin/commands/load-options.ts';
import { renderPerfHtml } from '../../../evidence/perf/html.ts';
import { LatencyHistograms } from '../../../evidence/perf/latency-histograms.ts';
import { mergeSummaries } from '../../../evidence/perf/merge.ts';
import { buildSummary } from '../../../evidence/perf/summary.ts';
import type { RunConfig, RunResult } from '../../../evidence/perf/summary-schema.ts';
import { emptyClass } from '../../../evidence/perf/fleet-classes.ts';
import { cpuRun, runConfig, runResult } from '../../support/perf-fixture.ts';

const config = (extra: Partial<RunConfig> = {}): RunConfig =>
  runConfig({ scenario: 'renewal-soak', durationMs: 90_000, certLifetimeSeconds: 20, thresholds: { provisioningP99Ms: 30_000, deliveryP99Ms: 1000, connectP99Ms: 10_000, renewalP99Ms: 30_000 }, ...extra });

/** A soak's measurements: `renewalMs` one renewal each, `failed` failed attempts, `lost` messages lost. */
function soak(o: { devices?: number; renewalMs?: number[]; failed?: number; lost?: number; firstDevice?: number } = {}): RunResult {
  const devices = o.devices ?? 20;
  const renewals = o.renewalMs ?? Array.from({ length: devices * 5 }, (_, i) => 40 + (i % 30));
  const histograms = new LatencyHistograms();
  for (let i = 0; i < devices; i++) histograms.record('provisioningTotal', 200);
  for (const ms of renewals) {
    histograms.record('renewal', ms);
    histograms.record('renewalHandover', ms + 30);
  }
  histograms.record('deliveryQos1', 2);
  const sent = devices * 90;
  return runResult(devices, histograms, {
    startedAt: '2026-12-07T10:00:00.000Z',
    finishedAt: '2026-12-07T10:01:35.000Z',
    elapsedMs: 95_000,
    firstDevice: o.firstDevice ?? 0,
    messages: { sent, received: sent - (o.lost ?? 0), lost: o.lost ?? 0, duplicates: 0, excludedAfterRevocation: 0, lostByDevice: o.lost ? { 'RVS-A': o.lost } : {} },
    renewals: renewals.length,
    renewalFailures: o.failed ?? 0,
    devicesRenewed: renewals.length > 0 ? devices : 0,
    sessionsDropped: 0,
    classes: { 'self-provisioning': { ...emptyClass(['2.1']), requested: devices, started: devices, connected: devices, connectedWith: { certificate: devices }, messages: { sent, received: sent - (o.lost ?? 0), lost: o.lost ?? 0 }, receivedBy: { certificate: sent } } },
    timeline: [{ t: 1, provisioned: devices, connected: devices, failed: 0, sent, received: sent }],
    cpu: cpuRun({ lab: 1, stepCa: 1, mosquitto: 1, provisioningService: 1 }),
    inventory: undefined,
  });
}

const summarize = (r: RunResult, c = config(), runId = 'soak') => buildSummary(r, { runId, config: c, lab: { id: runId, owned: true }, tools: {}, baselines: {} });
const broken = (r: RunResult) => summarize(r).thresholds.filter((t) => !t.ok).map((t) => t.name);

test('a clean soak meets every threshold: renewals counted, their p99 against NFR-PERF-001', () => {
  const s = summarize(soak());
  assert.equal(s.renewals.count, 100);
  assert.equal(s.renewals.devicesRenewed, 20);
  assert.equal(s.renewals.latencyMs.count, 100);
  assert.ok(s.renewals.handoverMs.p99 > s.renewals.latencyMs.p99, 'the handover includes the request');
  const names = s.thresholds.map((t) => t.name);
  for (const n of ['renewal p99', 'failed renewals', 'QoS 1 messages lost', 'provisioning p99', 'delivery p99']) assert.ok(names.includes(n), `${n} in ${names.join(', ')}`);
  assert.deepEqual(broken(soak()), []);
});

test('any failed renewal, any lost message, or a renewal p99 above 30 s breaks the soak', () => {
  assert.deepEqual(broken(soak({ failed: 1 })), ['failed renewals']);
  assert.deepEqual(broken(soak({ lost: 1 })), ['QoS 1 messages lost']);
  assert.deepEqual(broken(soak({ renewalMs: [...Array(98).fill(50), 31_000, 32_000] })), ['renewal p99']);
  const limit = summarize(soak({ renewalMs: [...Array(98).fill(50), 31_000, 32_000] })).thresholds.find((t) => t.name === 'renewal p99')!;
  assert.equal(limit.limit, 30_000);
  assert.ok(limit.value !== null && limit.value > 30_000);
});

test('a soak that renewed nothing is "no data", which fails, never a p99 of 0 that passes', () => {
  const s = summarize(soak({ renewalMs: [] }));
  const t = s.thresholds.find((x) => x.name === 'renewal p99')!;
  assert.equal(t.value, null);
  assert.equal(t.ok, false);
  assert.match(renderPerfHtml(s), /<td>renewal p99<\/td><td>NFR-PERF-001<\/td><td>30000<\/td><td>no data<\/td><td>BROKEN<\/td>/);
});

test('segments of a soak merge exactly: renewals, failures, devices renewed and classes add up', () => {
  const a = summarize(soak({ devices: 10 }), config({ segment: { index: 1, count: 2 } }), 'a');
  const b = summarize(soak({ devices: 10, failed: 2, firstDevice: 10 }), config({ segment: { index: 2, count: 2 } }), 'b');
  const m = mergeSummaries([a, b], 'merged');
  assert.equal(m.renewals.count, a.renewals.count + b.renewals.count);
  assert.equal(m.renewals.failed, 2);
  assert.equal(m.renewals.devicesRenewed, 20);
  const both = LatencyHistograms.decode(a.histograms);
  both.addEncoded(b.histograms);
  assert.deepEqual(m.renewals.latencyMs, both.summary('renewal'));
  assert.equal(m.classes?.['self-provisioning']?.requested, 20);
  assert.equal(m.classes?.['self-provisioning']?.messages.sent, a.mqtt.messages.sent + b.mqtt.messages.sent);
  assert.deepEqual(m.thresholds.filter((t) => !t.ok).map((t) => t.name), ['failed renewals']);
  // Segments of a soak with other certificate lifetimes are of another run.
  const other = summarize(soak({ devices: 10, firstDevice: 10 }), config({ segment: { index: 2, count: 2 }, certLifetimeSeconds: 60 }), 'c');
  assert.throws(() => mergeSummaries([a, other], 'x'), /its certLifetimeSeconds is 60, not 20/);
});

const BASE: LoadCliOptions = { scenario: 'renewal-soak', gracefulStop: '2m', segment: '1/1', seed: '1', workers: '1', maxProvisioningP99: '30000', maxDeliveryP99: '1000', maxConnectP99: '10000', baselines: true, baselineSigns: '1', baselineFlows: '1', baselineMessages: '100', baselineHandshakes: '10', out: 'x' };

test('the soak option: 60 s certificates by default; lifetimes it cannot renew, or a duration shorter than one renewal, are refused', () => {
  const r = resolveLoadOptions(BASE);
  assert.ok('plan' in r);
  assert.equal(r.plan.config.certLifetimeSeconds, 60);
  assert.equal(r.plan.config.durationMs, 600_000);
  assert.equal(r.plan.config.thresholds.renewalP99Ms, 30_000);
  const problems = (extra: Partial<LoadCliOptions>) => {
    const x = resolveLoadOptions({ ...BASE, ...extra });
    return 'problems' in x ? x.problems : [];
  };
  assert.match(problems({ certLifetime: '5s' }).join('\n'), /--cert-lifetime: the renewal soak's certificates live 10 s to 24 h \(got 5 s\)/);
  assert.match(problems({ certLifetime: '60s', duration: '40s' }).join('\n'), /--duration: 40 s is no longer than one renewal period \(2\/3 of a 60 s certificate, 43\.333 s\)/);
  assert.deepEqual(problems({ certLifetime: '20s', duration: '90s', devices: '20' }), []);
  assert.match(problems({ scenario: 'mqtt-publish', certLifetime: '20s' }).join('\n'), /--cert-lifetime: the mqtt-publish scenario's certificates are issued by the lab CA and never renewed/);
});

test('a full flow with short certificates is held to the renewal limits too, once it renews', () => {
  const fullFlow = config({ scenario: 'full-flow' });
  const names = (r: RunResult, c: RunConfig) => summarize(r, c).thresholds.filter((t) => !t.ok).map((t) => t.name);
  assert.deepEqual(names(soak({ failed: 1 }), fullFlow), ['failed renewals'], 'a renewal that failed is no longer a device failure, but still fails the run');
  assert.deepEqual(names(soak({ renewalMs: [31_000] }), fullFlow), ['renewal p99']);
  assert.deepEqual(names(soak({ renewalMs: [] }), fullFlow), [], 'a full flow too short to renew has no renewal to judge');
  assert.ok(!summarize(soak(), config({ scenario: 'full-flow', certLifetimeSeconds: undefined })).thresholds.some((t) => t.name === 'failed renewals' && (t.value ?? 0) > 0));
});
