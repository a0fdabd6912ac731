import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveLoadOptions, type LoadCliOptions } from '../../../bin/commands/load-options.ts';
import { segmentExecutor, segmentVus } from '../../../load/plan.ts';

const BASE: LoadCliOptions = {
  scenario: 'full-flow',
  gracefulStop: '2m',
  segment: '1/1',
  seed: '1',
  workers: '1',
  maxProvisioningP99: '30000',
  maxDeliveryP99: '1000',
  maxConnectP99: '10000',
  baselines: true,
  baselineSigns: '100',
  baselineFlows: '50',
  baselineMessages: '20000',
  baselineHandshakes: '100',
  out: 'reports/perf',
};

function plan(extra: Partial<LoadCliOptions>) {
  const r = resolveLoadOptions({ ...BASE, ...extra });
  if ('problems' in r) throw new Error(r.problems.join('; '));
  return r.plan;
}

function problems(extra: Partial<LoadCliOptions>): string[] {
  const r = resolveLoadOptions({ ...BASE, ...extra });
  return 'problems' in r ? r.problems : [];
}

test('segments split VUs so that they add up, and a segment without a VU is refused', () => {
  for (const [vus, n] of [[4, 2], [5, 3], [10, 7], [3, 3]] as const) {
    let total = 0;
    for (let i = 1; i <= n; i++) total += segmentVus(vus, { index: i, count: n });
    assert.equal(total, vus);
  }
  assert.throws(() => segmentExecutor({ kind: 'iterations', ratePerSecond: 1, maxConcurrent: 1, vus: 1, vusDurationMs: 1000 }, 10, { index: 1, count: 2 }), /holds none/);
});

test('a segment of an arrival-rate plan runs its share of the devices at its share of the rate', () => {
  const spec = segmentExecutor({ kind: 'arrival-rate', ratePerSecond: 10, maxConcurrent: 50, vus: 1, vusDurationMs: 0 }, 101, { index: 2, count: 2 });
  assert.deepEqual({ ...spec, maxDurationMs: undefined }, { kind: 'arrival-rate', iterations: 51, ratePerSecond: 5, maxConcurrent: 50, maxDurationMs: undefined });
  assert.ok(spec.kind === 'arrival-rate' && spec.maxDurationMs > (51 / 5) * 1000, 'the time bound leaves room beyond the schedule');
  const vus = segmentExecutor({ kind: 'constant-vus', ratePerSecond: 1, maxConcurrent: 1, vus: 4, vusDurationMs: 2000 }, 1000, { index: 1, count: 2 });
  assert.deepEqual(vus, { kind: 'constant-vus', vus: 2, durationMs: 2000, maxIterations: 500 });
});

test("each scenario brings its own defaults; explicit options win", () => {
  const ff = plan({}).config;
  assert.equal(ff.scenario, 'full-flow');
  assert.equal(ff.executor.kind, 'arrival-rate');
  assert.equal(ff.devices, 50);
  assert.equal(ff.durationMs, 30_000);
  assert.equal(ff.certificates, 'provisioned');
  const x5c = plan({ scenario: 'x5c-sign' }).config;
  assert.deepEqual([x5c.executor.kind, x5c.executor.vus, x5c.devices, x5c.durationMs, x5c.target], ['iterations', 4, 200, 0, 'service']);
  const storm = plan({ scenario: 'mqtt-connect-storm', devices: '77', duration: '3s' }).config;
  assert.deepEqual([storm.devices, storm.durationMs, storm.certificates], [77, 3000, 'issued']);
  // The MQTT-at-scale path of before: --certificates issued is the mqtt-publish scenario.
  assert.equal(plan({ certificates: 'issued' }).config.scenario, 'mqtt-publish');
});

test('combinations a scenario cannot run are refused, every one named', () => {
  assert.deepEqual(problems({ scenario: 'bootstrap-endpoint', duration: '5s', workers: '2' }), [
    '--duration: the bootstrap-endpoint scenario has no connected fleet (it times one request per device)',
    '--workers: the bootstrap-endpoint scenario runs in one thread (its client work is a key, a CSR and a token per request)',
  ]);
  assert.match(problems({ scenario: 'x5c-sign', lab: 'lab.json' }).join(), /--lab: the x5c-sign scenario needs the lab's own CA keys/);
  assert.match(problems({ executor: 'iterations', rate: '5' }).join(), /--rate: only the arrival-rate executor has a rate/);
  assert.match(problems({ executor: 'constant-vus', faults: 'ca-restart' }).join(), /--faults ca-restart: strikes during the arrivals/);
  assert.match(problems({ scenario: 'mqtt-publish', faults: 'revocation' }).join(), /--faults revocation: needs certificates step-ca issued/);
  assert.match(problems({ scenario: 'full-flow', signAt: 'step-ca' }).join(), /--sign-at: only the x5c-sign scenario/);
  assert.match(problems({ scenario: 'x5c-sign', target: 'step-ca' }).join(), /--target: names a target file \(run, contract\); where x5c-sign sends its requests is --sign-at step-ca/);
  assert.match(problems({ devices: '70000' }).join(), /--devices: /);
  assert.match(problems({ scenario: 'nope' as never }).join(), /--scenario: /);
});

test('load reads durations in the one format: 1m30s, and the bare numbers it read before', () => {
  const p = plan({ duration: '1m30s', interval: '1s', maxDeliveryP99: '1.5s', certLifetime: '2m', gracefulStop: '1m30s' });
  assert.deepEqual([p.config.durationMs, p.config.telemetryIntervalMs, p.config.thresholds.deliveryP99Ms, p.config.certLifetimeSeconds, p.gracefulStopMs], [90_000, 1000, 1500, 120, 90_000]);
  const old = plan({ duration: '30', interval: '250', maxDeliveryP99: '1000' });
  assert.deepEqual([old.config.durationMs, old.config.telemetryIntervalMs, old.config.thresholds.deliveryP99Ms], [30_000, 250, 1000], 'bare: seconds for time options, ms for --interval and thresholds');
  assert.match(problems({ duration: '1m30' }).join(), /--duration: "1m30" is not a duration such as 1m30s/);
  assert.match(problems({ maxConnectP99: 'fast' }).join(), /--max-connect-p99: "fast" is not a duration/);
});
