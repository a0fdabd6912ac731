// CPU of the lab's component processes over a run, by role. A role may be served by several
// processes (step-ca: the operational and the bootstrap authority) and a process may be
// replaced mid-run (a fault restarts it): every pid is counted from the moment it was first
// seen, a pid that appears after the start from zero (it started during the run), and a
// process that is gone keeps its last reading.
import { ownCpuMs, processCpuMs } from '../../environments/local/process-cpu.ts';

export const CPU_ROLES = ['stepCa', 'mosquitto', 'provisioningService'] as const;
export type CpuRole = (typeof CPU_ROLES)[number];
/** The pids serving each role now; 0 or a missing pid is a process not measurable here. */
export type RolePids = Record<CpuRole, number[]>;

interface PidReading {
  atStart: number;
  last: number;
}

export class CpuMeter {
  readonly #pids: () => RolePids;
  readonly #readings = new Map<CpuRole, Map<number, PidReading>>(CPU_ROLES.map((r) => [r, new Map()]));
  readonly #labAtStart = ownCpuMs();
  readonly #read: (pid: number) => number;

  constructor(pids: () => RolePids, read: (pid: number) => number = processCpuMs) {
    this.#pids = pids;
    this.#read = read;
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
        const known = readings.get(pid);
        if (!known) readings.set(pid, { atStart: initial ? now : 0, last: now });
        else if (now > 0) known.last = now;
      }
    }
  }

  /** CPU milliseconds each role used since the meter started, and this process's (the lab's). */
  totals(): Record<CpuRole | 'lab', number> {
    this.sample();
    const sum = (role: CpuRole) => [...this.#readings.get(role)!.values()].reduce((acc, r) => acc + Math.max(0, r.last - r.atStart), 0);
    return { lab: ownCpuMs() - this.#labAtStart, stepCa: sum('stepCa'), mosquitto: sum('mosquitto'), provisioningService: sum('provisioningService') };
  }
}
