import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { mergeWindows } from '../../../evidence/perf/cpu-readings.ts';
import { ThreadMonitor } from '../../../simulators/fleet/thread-stats.ts';
import { cpuWindow } from '../../support/perf-fixture.ts';

test("a thread's event-loop delay is what exceeds the sampling period: an idle loop shows almost none, a blocked one its block", async () => {
  const monitor = new ThreadMonitor();
  try {
    monitor.reset();
    await sleep(300);
    const idle = monitor.read().loopDelayMs;
    // The monitor's histogram records whole 10 ms intervals; an idle loop's delay is the jitter.
    assert.ok(idle.p50 < 10, `idle p50 ${idle.p50} ms is below the 10 ms sampling period`);
    monitor.reset();
    await sleep(50); // the first interval after a reset only sets the monitor's reference time
    const until = performance.now() + 80;
    while (performance.now() < until); // the event loop blocked for 80 ms
    await sleep(50);
    const blocked = monitor.read().loopDelayMs;
    assert.ok(blocked.max >= 60 && blocked.max < 500, `blocked max ${blocked.max} ms`);
    assert.ok(monitor.read().cpuMs > 0, "the thread's own CPU time is read");
  } finally {
    monitor.stop();
  }
});

test("merged windows keep the earliest start and the latest end on the monotonic clock (a profile's cut)", () => {
  const at = (start: number, end: number) => ({ ...cpuWindow({ lab: 1, stepCa: 1, mosquitto: 1, provisioningService: 1 }), monotonicUs: { start, end } });
  const merged = mergeWindows([
    { labId: 'L', window: at(2_000, 9_000) },
    { labId: 'L', window: at(1_000, 5_000) },
  ]);
  assert.deepEqual(merged.monotonicUs, { start: 1_000, end: 9_000 });
  assert.equal(mergeWindows([{ labId: 'L', window: cpuWindow({ lab: 1, stepCa: 1, mosquitto: 1, provisioningService: 1 }) }]).monotonicUs, undefined, 'summaries of before carry none');
});
