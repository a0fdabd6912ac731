// The threads of the lab's own process and what each costs: the main thread (the fleet runner
// and the http-01 responder, and the devices when they run in it), the device worker threads and
// the application's thread. Each measures itself (simulators/fleet/thread-stats.ts); this
// collects them by label for the CPU meter and the report.
import type { DevicePool } from '../simulators/fleet/device-pool.ts';
import { ThreadMonitor, type LoopDelayMs, type ThreadStats } from '../simulators/fleet/thread-stats.ts';

/** A thread that reports its own stats (the application's, when it runs apart). */
export interface MeasuredThread {
  threadStats(reset?: boolean): Promise<ThreadStats>;
}

export class LabThreads {
  readonly #main = new ThreadMonitor();
  readonly #pool: DevicePool;
  readonly #application: MeasuredThread | undefined;

  constructor(pool: DevicePool, application?: MeasuredThread) {
    this.#pool = pool;
    this.#application = application;
  }

  /** The clock starts: event-loop delays from now on. */
  async reset(): Promise<void> {
    this.#main.reset();
    await Promise.all([this.#pool.threadStats(true), this.#application?.threadStats(true)]);
  }

  async stats(): Promise<Record<string, ThreadStats>> {
    const [pool, application] = await Promise.all([this.#pool.threadStats(), this.#application?.threadStats()]);
    return { main: this.#main.read(), ...pool, ...(application ? { application } : {}) };
  }

  /** Cumulative CPU milliseconds by thread (and by process of the lab's own apart from this one): the CPU meter's thread source. */
  async cpu(): Promise<Record<string, { cpuMs: number; outOfProcess?: boolean }>> {
    return Object.fromEntries(Object.entries(await this.stats()).map(([label, s]) => [label, { cpuMs: s.cpuMs, ...(s.outOfProcess ? { outOfProcess: true } : {}) }]));
  }

  async loopDelays(): Promise<Record<string, LoopDelayMs>> {
    // A process apart (the native device client) has no event loop to report.
    return Object.fromEntries(Object.entries(await this.stats()).flatMap(([label, s]) => (s.outOfProcess ? [] : [[label, s.loopDelayMs]])));
  }

  stop(): void {
    this.#main.stop();
  }
}
