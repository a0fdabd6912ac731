// A discrete-event clock for executor tests: time stands still while work is pending and jumps to
// the next timer once every task is waiting on one, so seconds of schedule run in microseconds.
import type { Clock } from '../../../load/executors.ts';

interface Timer {
  at: number;
  resolve(slept: boolean): void;
}

export class FakeClock implements Clock {
  private t = 0;
  private timers: Timer[] = [];

  now(): number {
    return this.t;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
    if (signal?.aborted) return Promise.resolve(false);
    if (ms <= 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer: Timer = { at: this.t + ms, resolve };
      this.timers.push(timer);
      signal?.addEventListener(
        'abort',
        () => {
          this.timers = this.timers.filter((x) => x !== timer);
          resolve(false);
        },
        { once: true },
      );
    });
  }

  /** Drives `work` to completion, advancing time whenever nothing else can run. */
  async run<T>(work: Promise<T>): Promise<T> {
    let done = false;
    const result = work.finally(() => (done = true));
    for (let steps = 0; steps < 1_000_000; steps++) {
      await new Promise((resolve) => setImmediate(resolve));
      if (done) return result;
      this.timers.sort((a, b) => a.at - b.at);
      const next = this.timers.shift();
      if (!next) throw new Error('deadlock: work is pending but no timer is set');
      this.t = Math.max(this.t, next.at);
      next.resolve(true);
    }
    throw new Error('the fake clock ran a million steps without the work finishing');
  }
}
