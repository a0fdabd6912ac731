// What a thread of the lab's process costs and how late its event loop runs: its own CPU time
// (Linux /proc/thread-self/stat: a thread reads its own line, so the fleet runner, the device
// workers and the application are told apart) and its event-loop delay
// (perf_hooks.monitorEventLoopDelay). Each thread measures itself; the fleet runner collects them.
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

/** Linux's USER_HZ (sysconf(_SC_CLK_TCK)), 100 on every architecture Linux runs Node on. */
const TICKS_PER_SECOND = 100;

export interface LoopDelayMs {
  p50: number;
  p99: number;
  max: number;
  mean: number;
}

export interface ThreadStats {
  /** CPU milliseconds this thread used since it started (10 ms resolution). */
  cpuMs: number;
  loopDelayMs: LoopDelayMs;
  /**
   * A process of the lab's own apart from this one (the native device client): its CPU is not in
   * this process's counters, so the meter adds it to the lab's instead of taking it out of "other".
   */
  outOfProcess?: boolean;
}

/** This thread's user + system CPU milliseconds so far; 0 where /proc/thread-self is not there. */
export function threadCpuMs(): number {
  try {
    const stat = readFileSync('/proc/thread-self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

const RESOLUTION_MS = 10;
/** The monitor records each tick's whole interval: the delay is what exceeds the resolution. */
const ms = (ns: number) => Math.max(0, Math.round(ns / 1000 - RESOLUTION_MS * 1000) / 1000);

/** This thread's event-loop delay from reset() on, sampled every 10 ms. */
export class ThreadMonitor {
  readonly #delay: IntervalHistogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });

  constructor() {
    this.#delay.enable();
  }

  reset(): void {
    this.#delay.reset();
  }

  read(): ThreadStats {
    const d = this.#delay;
    const empty = d.count === 0;
    return {
      cpuMs: threadCpuMs(),
      loopDelayMs: empty ? { p50: 0, p99: 0, max: 0, mean: 0 } : { p50: ms(d.percentile(50)), p99: ms(d.percentile(99)), max: ms(d.max), mean: ms(d.mean) },
    };
  }

  stop(): void {
    this.#delay.disable();
  }
}
