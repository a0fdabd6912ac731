import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runExecutor, type ExecutorSpec } from '../../../load/executors.ts';
import type { TimeoutError } from '../../../environments/wait.ts';
import { FakeClock } from './fake-clock.ts';

/** Runs an executor whose every iteration takes `iterationMs` of fake time; records start times. */
async function simulate(spec: ExecutorSpec, iterationMs: (i: number) => number, options: { gracefulStopMs?: number; failing?: Set<number>; signal?: AbortSignal } = {}) {
  const clock = new FakeClock();
  const starts: Array<[number, number]> = [];
  let running = 0;
  let peak = 0;
  const errors: Array<[number, string]> = [];
  const timeouts: Array<[number, TimeoutError]> = [];
  const stats = await clock.run(
    runExecutor(
      spec,
      async (i, signal) => {
        starts.push([i, clock.now()]);
        peak = Math.max(peak, ++running);
        try {
          await clock.sleep(iterationMs(i), signal);
          if (options.failing?.has(i)) throw new Error(`iteration ${i} failed`);
        } finally {
          running--;
        }
      },
      { clock, gracefulStopMs: options.gracefulStopMs ?? 1000, signal: options.signal, onError: (i, e) => errors.push([i, (e as Error).message]), onTimeout: (i, e) => timeouts.push([i, e]) },
    ),
  );
  return { stats, starts, peak, errors, timeouts, clock };
}

test('arrival-rate starts iteration k at k / rate seconds while slots are free', async () => {
  const { stats, starts, peak } = await simulate({ kind: 'arrival-rate', iterations: 10, ratePerSecond: 5, maxConcurrent: 10, maxDurationMs: 60_000 }, () => 300);
  assert.deepEqual(starts.map(([, t]) => t), Array.from({ length: 10 }, (_, k) => k * 200));
  assert.equal(stats.started, 10);
  assert.equal(stats.completed, 10);
  assert.equal(stats.delayed, 0);
  assert.equal(peak, 2, 'iterations of 300 ms arriving every 200 ms overlap by two');
  assert.equal(stats.elapsedMs, 9 * 200 + 300);
});

test('arrival-rate never runs more than maxConcurrent; arrivals that find no slot wait and are counted', async () => {
  const { stats, starts, peak } = await simulate({ kind: 'arrival-rate', iterations: 6, ratePerSecond: 10, maxConcurrent: 2, maxDurationMs: 60_000 }, () => 1000);
  assert.equal(peak, 2);
  assert.equal(stats.completed, 6);
  // Due at 0, 100, 200, ...: the first two start on time, the others when a slot frees.
  assert.deepEqual(starts.map(([, t]) => t), [0, 100, 1000, 1100, 2000, 2100]);
  assert.equal(stats.delayed, 4);
  assert.equal(stats.maxStartDelayMs, 2100 - 500);
});

test('arrival-rate stops starting at maxDuration: queued arrivals are not started, running ones get the graceful stop', async () => {
  const { stats, timeouts } = await simulate({ kind: 'arrival-rate', iterations: 10, ratePerSecond: 10, maxConcurrent: 1, maxDurationMs: 2500 }, () => 1000, { gracefulStopMs: 5000 });
  assert.equal(stats.started, 3, 'starts at 0, 1000 and 2000 ms; the rest find the window closed');
  assert.equal(stats.completed, 3);
  assert.equal(stats.notStarted, 7);
  assert.equal(timeouts.length, 0);
});

test('an iteration still running after the graceful stop is abandoned and reported as a timeout', async () => {
  const { stats, timeouts } = await simulate({ kind: 'iterations', vus: 2, iterations: 2, maxDurationMs: 1000 }, (i) => (i === 0 ? 100 : 60_000), { gracefulStopMs: 500 });
  assert.equal(stats.completed, 1);
  assert.equal(stats.interrupted, 1);
  assert.equal(timeouts.length, 1);
  assert.equal(timeouts[0]![0], 1);
  assert.equal(timeouts[0]![1].name, 'TimeoutError');
  assert.match(timeouts[0]![1].message, /iteration 1 was still running 500 ms after the executor's 1000 ms window/);
  assert.equal(stats.elapsedMs, 1500);
});

test('iterations: vus share exactly the planned count, never more at once', async () => {
  const { stats, starts, peak } = await simulate({ kind: 'iterations', vus: 3, iterations: 7, maxDurationMs: 60_000 }, () => 100);
  assert.equal(stats.started, 7);
  assert.equal(stats.completed, 7);
  assert.equal(peak, 3);
  assert.deepEqual(starts.map(([, t]) => t), [0, 0, 0, 100, 100, 100, 200]);
  assert.equal(stats.elapsedMs, 300);
});

test('constant-vus loops for its duration and no further; maxIterations caps it', async () => {
  const timed = await simulate({ kind: 'constant-vus', vus: 2, durationMs: 1000, maxIterations: 1000 }, () => 300);
  // Each VU starts at 0, 300, 600, 900: four each, the last ones finishing at 1200.
  assert.equal(timed.stats.started, 8);
  assert.equal(timed.stats.completed, 8);
  assert.equal(timed.stats.elapsedMs, 1200);
  const capped = await simulate({ kind: 'constant-vus', vus: 2, durationMs: 60_000, maxIterations: 5 }, () => 300);
  assert.equal(capped.stats.started, 5);
  assert.equal(capped.stats.planned, 5);
});

test('failures are counted and reported with the iteration, and do not stop the others', async () => {
  const { stats, errors } = await simulate({ kind: 'iterations', vus: 2, iterations: 5, maxDurationMs: 60_000 }, () => 10, { failing: new Set([1, 3]) });
  assert.equal(stats.completed, 3);
  assert.equal(stats.failed, 2);
  assert.deepEqual(errors, [[1, 'iteration 1 failed'], [3, 'iteration 3 failed']]);
});

test('Ctrl-C stops starting and stops waiting, without calling it a timeout', async () => {
  const abort = new AbortController();
  const clock = new FakeClock();
  const timeouts: number[] = [];
  const run = runExecutor(
    { kind: 'arrival-rate', iterations: 100, ratePerSecond: 10, maxConcurrent: 100, maxDurationMs: 60_000 },
    async (i, signal) => {
      if (i === 4) abort.abort();
      await clock.sleep(10_000, signal);
    },
    { clock, signal: abort.signal, onTimeout: (i) => timeouts.push(i) },
  );
  const stats = await clock.run(run);
  assert.equal(stats.started, 5);
  assert.equal(stats.interrupted, 5);
  assert.equal(stats.notStarted, 95);
  assert.deepEqual(timeouts, []);
});
