// CPU of the lab's component processes over a run, by role, and of this process (the lab's
// clients) by thread. A role may be served by several processes (step-ca: the operational and the
// bootstrap authority) and a process may be replaced mid-run (a fault restarts it): every process
// is counted from the moment it was first seen, one that appears after the start from zero (it
// started during the run), and one that is gone keeps its last reading. A process is its pid and
// its start time: a restarted broker that gets its old pid back is a new process, never a counter
// that went backwards (which once showed Mosquitto at -440 ms after a broker restart).
//
// A window keeps each component process's absolute counters at its start and end, not only their
// difference: segments that share one lab each read the same processes over overlapping spans,
// and a merge counts each process once, from the earliest start to the latest end
// (evidence/perf/cpu-readings.ts).
import { ownCpuMs, processCpu, type ProcessCpu } from '../environments/local/process-cpu.ts';
import { componentTotals, CPU_ROLES, type CpuRole, type CpuWindowReadings } from '../evidence/perf/cpu-readings.ts';

export { CPU_ROLES, type CpuRole };


/** The pids serving each role now; 0 or a missing pid is a process not measurable here. */
export type RolePids = Record<CpuRole, number[]>;

/**
 * Cumulative CPU milliseconds by label: each thread of this process that runs JavaScript (main,
 * devices-1, application...) and each process of the lab's own apart from this one
 * (`outOfProcess`: the native device client), whose CPU this process's counters do not hold.
 */
export type ThreadCpu = () => Promise<Record<string, { cpuMs: number; outOfProcess?: boolean }>>;

/** CLOCK_MONOTONIC in microseconds: the clock of V8's CPU profiles. */
const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);

interface PidReading {
  atStart: number;
  last: number;
}

export class CpuMeter {
  readonly #pids: () => RolePids;
  /** By role, then by process: `${pid}@${startTicks}`. */
  readonly #readings = new Map<CpuRole, Map<string, PidReading>>(CPU_ROLES.map((r) => [r, new Map()]));
  readonly #labAtStart = ownCpuMs();
  readonly #startUs = monotonicUs();
  readonly #read: (pid: number) => ProcessCpu | undefined;
  readonly #threads: ThreadCpu | undefined;
  #threadsAtStart: ReturnType<ThreadCpu> | undefined;

  constructor(pids: () => RolePids, read: (pid: number) => ProcessCpu | undefined = processCpu, threads?: ThreadCpu) {
    this.#pids = pids;
    this.#read = read;
    this.#threads = threads;
    this.#threadsAtStart = threads?.();
    this.sample(true);
  }

  /** Reads every process; call it before a process is replaced, and at the end. */
  sample(initial = false): void {
    const current = this.#pids();
    for (const role of CPU_ROLES) {
      const readings = this.#readings.get(role)!;
      for (const pid of current[role]) {
        if (!pid) continue;
        const now = this.#read(pid);
        if (!now) continue; // gone: its last reading stands
        const key = `${pid}@${now.startTicks}`;
        const known = readings.get(key);
        if (!known) readings.set(key, { atStart: initial ? now.cpuMs : 0, last: now.cpuMs });
        else known.last = Math.max(known.last, now.cpuMs);
      }
    }
  }

  /**
   * The window from the meter's start to now, as measured: every component process's counters at
   * both ends, the lab's CPU (this process's, and its own processes' apart from it) and each of
   * its JavaScript threads' and processes' ('other': the threads that run no JavaScript, such as
   * the thread pool that generates keys, the garbage collector's and the module loader's). The
   * meter goes on: a later window starts at the same moment.
   */
  async window(): Promise<CpuWindowReadings> {
    this.sample();
    const ownMs = ownCpuMs() - this.#labAtStart;
    const none: Awaited<ReturnType<ThreadCpu>> = {};
    const [before, after] = await Promise.all([this.#threadsAtStart ?? none, this.#threads?.() ?? none]);
    const threads: Record<string, number> = {};
    let javascript = 0;
    let apart = 0;
    for (const [label, reading] of Object.entries(after)) {
      const ms = Math.max(0, reading.cpuMs - (before[label]?.cpuMs ?? 0));
      threads[label] = ms;
      if (reading.outOfProcess) apart += ms;
      else javascript += ms;
    }
    if (this.#threads) threads.other = Math.max(0, ownMs - javascript);
    return { components: this.#components(), lab: { processMs: ownMs + apart, threads }, monotonicUs: { start: this.#startUs, end: monotonicUs() } };
  }

  /** CPU milliseconds each role used since the meter started, and this process's (the lab's). */
  totals(): Record<CpuRole | 'lab', number> {
    this.sample();
    return { lab: ownCpuMs() - this.#labAtStart, ...componentTotals(this.#components()) };
  }

  #components(): CpuWindowReadings['components'] {
    return Object.fromEntries(
      CPU_ROLES.map((role) => [role, Object.fromEntries([...this.#readings.get(role)!].map(([key, r]) => [key, { start: r.atStart, end: r.last }]))]),
    ) as CpuWindowReadings['components'];
  }
}
