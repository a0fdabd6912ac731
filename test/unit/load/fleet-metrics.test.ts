import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LatencyHistograms } from '../../../evidence/perf/latency-histograms.ts';
import { parseSegment, segmentShare } from '../../../load/segment.ts';

test('segments split a fleet into execution segments: disjoint, complete, rate shared', () => {
  for (const [devices, n] of [[50, 2], [101, 3], [7, 4], [1000, 7]] as const) {
    let next = 0;
    let rate = 0;
    for (let i = 1; i <= n; i++) {
      const share = segmentShare(devices, 10, { index: i, count: n });
      assert.equal(share.firstDevice, next, 'segments are contiguous and disjoint');
      next += share.devices;
      rate += share.ratePerSecond;
    }
    assert.equal(next, devices, 'every device belongs to exactly one segment');
    assert.ok(Math.abs(rate - 10) < 1e-9);
  }
  assert.deepEqual(parseSegment('2/4'), { index: 2, count: 4 });
  for (const bad of ['0/2', '3/2', '1:2', 'a/b', '']) assert.throws(() => parseSegment(bad), /segment/);
});

test('histograms merge exactly: two halves equal the whole', () => {
  const whole = new LatencyHistograms();
  const a = new LatencyHistograms();
  const b = new LatencyHistograms();
  for (let i = 1; i <= 10_000; i++) {
    const ms = (i % 977) * 0.37 + 0.05;
    whole.record('deliveryQos1', ms);
    (i % 2 ? a : b).record('deliveryQos1', ms);
  }
  const merged = LatencyHistograms.decode(a.encode());
  merged.addEncoded(b.encode());
  assert.deepEqual(merged.summary('deliveryQos1'), whole.summary('deliveryQos1'));
  assert.equal(merged.summary('deliveryQos1').count, 10_000);
  assert.equal(merged.summary('finalize').count, 0, 'phases without samples stay empty');
});

test('sub-millisecond latencies keep their resolution', () => {
  const h = new LatencyHistograms();
  for (let i = 0; i < 100; i++) h.record('deliveryQos0', 0.25);
  const s = h.summary('deliveryQos0');
  assert.ok(Math.abs(s.p50 - 0.25) < 0.001, `p50 ${s.p50}`);
});
