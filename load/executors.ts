// How a load scenario starts its iterations, as load engineers know it from k6's executors:
// an open model (iterations arrive at a rate, whatever the system does) and two closed ones
// (a fixed number of virtual users, each starting its next iteration when the last one ended).
// Every executor is bounded in count and in time: after its window, running iterations get a
// graceful stop and are then abandoned and reported, never silently dropped.
import { setTimeout as delay } from 'node:timers/promises';
import pLimit from 'p-limit';
import { TimeoutError } from '../environments/wait.ts';
import type { ExecutorStats } from '../evidence/perf/summary-schema.ts';

export { EXECUTOR_KINDS, type ExecutorKind } from '../evidence/perf/summary-schema.ts';

export type ExecutorSpec =
  /**
   * k6's constant-arrival-rate: iteration k is due at k / rate seconds. At most `maxConcurrent`
   * run at once (k6's maxVUs); an arrival that finds every slot busy waits for one and is counted
   * as delayed (k6 drops it; a device in the field does not vanish, it keeps trying). Arrivals
   * still waiting at `maxDurationMs` are not started.
   */
  | { kind: 'arrival-rate'; iterations: number; ratePerSecond: number; maxConcurrent: number; maxDurationMs: number }
  /** k6's constant-vus: `vus` loops run iterations back to back for `durationMs`, at most `maxIterations` in all. */
  | { kind: 'constant-vus'; vus: number; durationMs: number; maxIterations: number }
  /** k6's shared-iterations: `vus` loops share exactly `iterations`, within `maxDurationMs`. */
  | { kind: 'iterations'; vus: number; iterations: number; maxDurationMs: number };

/** Time as the executor sees it; injected so the scheduling can be tested without waiting. */
export interface Clock {
  now(): number;
  /** Resolves true after `ms`, or false as soon as `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<boolean>;
}

export const realClock: Clock = {
  now: () => performance.now(),
  async sleep(ms, signal) {
    if (signal?.aborted) return false;
    try {
      await delay(Math.max(0, ms), undefined, { signal });
      return true;
    } catch (err) {
      if ((err as Error).name === 'AbortError') return false;
      throw err;
    }
  },
};

export interface ExecutorHooks {
  clock?: Clock;
  /** Ctrl-C: no new iterations, and no more waiting for running ones. */
  signal?: AbortSignal;
  /** How long running iterations may take after the executor's window (k6's gracefulStop). */
  gracefulStopMs?: number;
  /** An iteration that threw. */
  onError?(index: number, error: unknown): void;
  /** An iteration abandoned after the graceful stop: a timeout, with what it waited for. */
  onTimeout?(index: number, error: TimeoutError): void;
}

/** The window in which iterations may start, per executor. */
export function startWindowMs(spec: ExecutorSpec): number {
  return spec.kind === 'constant-vus' ? spec.durationMs : spec.maxDurationMs;
}

export function plannedIterations(spec: ExecutorSpec): number {
  return spec.kind === 'constant-vus' ? spec.maxIterations : spec.iterations;
}

/** Runs `iterate(index, signal)` as the executor plans; the signal aborts when an iteration is abandoned. */
export async function runExecutor(spec: ExecutorSpec, iterate: (index: number, signal: AbortSignal) => Promise<void>, hooks: ExecutorHooks = {}): Promise<ExecutorStats> {
  const clock = hooks.clock ?? realClock;
  const gracefulStopMs = hooks.gracefulStopMs ?? 30_000;
  const t0 = clock.now();
  const windowEnd = t0 + startWindowMs(spec);
  const abandon = new AbortController();
  const stats: ExecutorStats = { kind: spec.kind, planned: 0, started: 0, completed: 0, failed: 0, interrupted: 0, notStarted: 0, delayed: 0, maxStartDelayMs: 0, elapsedMs: 0 };
  const running = new Map<number, Promise<void>>();
  let closed = false;
  const stopped = () => hooks.signal?.aborted === true || clock.now() >= windowEnd;

  const start = (index: number): Promise<void> => {
    stats.started++;
    const settled = iterate(index, abandon.signal).then(
      () => {
        if (!closed) stats.completed++;
      },
      (err: unknown) => {
        if (closed) return;
        stats.failed++;
        hooks.onError?.(index, err);
      },
    );
    const tracked = settled.finally(() => running.delete(index));
    running.set(index, tracked);
    return tracked;
  };

  let scheduled: Promise<unknown>;
  if (spec.kind === 'arrival-rate') {
    const limit = pLimit(spec.maxConcurrent);
    const arrivals: Promise<void>[] = [];
    for (let k = 0; k < spec.iterations; k++) {
      const due = t0 + (k * 1000) / spec.ratePerSecond;
      if (due >= windowEnd || !(await clock.sleep(due - clock.now(), hooks.signal))) break;
      const waited = limit.activeCount >= spec.maxConcurrent;
      arrivals.push(
        limit(async () => {
          if (stopped()) return;
          if (waited) {
            stats.delayed++;
            stats.maxStartDelayMs = Math.max(stats.maxStartDelayMs, clock.now() - due);
          }
          await start(k);
        }),
      );
    }
    scheduled = Promise.all(arrivals);
  } else if (spec.kind === 'iterations') {
    const limit = pLimit(spec.vus);
    scheduled = Promise.all(Array.from({ length: spec.iterations }, (_, i) => limit(async () => (stopped() ? undefined : start(i)))));
  } else {
    let next = 0;
    scheduled = Promise.all(
      Array.from({ length: spec.vus }, async () => {
        while (!stopped() && next < spec.maxIterations) await start(next++);
      }),
    );
  }

  // Wait for everything scheduled, but no longer than the window plus the graceful stop, and
  // not at all once Ctrl-C came.
  const giveUp = new AbortController();
  const onAbort = () => giveUp.abort();
  if (hooks.signal?.aborted) giveUp.abort();
  else hooks.signal?.addEventListener('abort', onAbort, { once: true });
  const deadline = Math.max(windowEnd, clock.now()) + gracefulStopMs;
  const finished = await Promise.race([scheduled.then(() => true), clock.sleep(deadline - clock.now(), giveUp.signal).then(() => false)]);
  giveUp.abort();
  hooks.signal?.removeEventListener('abort', onAbort);
  if (!finished) {
    closed = true;
    abandon.abort();
    for (const index of running.keys()) {
      stats.interrupted++;
      if (!hooks.signal?.aborted) {
        hooks.onTimeout?.(index, new TimeoutError(`iteration ${index} was still running ${gracefulStopMs} ms after the executor's ${startWindowMs(spec)} ms window (graceful stop); abandoned`));
      }
    }
  }
  stats.planned = spec.kind === 'constant-vus' ? stats.started : plannedIterations(spec);
  stats.notStarted = stats.planned - stats.started;
  stats.elapsedMs = clock.now() - t0;
  return stats;
}
