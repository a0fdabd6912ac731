// CPU of the lab's component processes over a run, by role. A role may be served by several
// processes (step-ca: the operational and the bootstrap authority) and a process may be
// replaced mid-run (a fault restarts it): every process is counted from the moment it was first
// seen, one that appears after the start from zero (it started during the run), and one that
// is gone keeps its last reading. A process is its pid and its start time: a restarted broker
// that gets its old pid back is a new process, never a counter that went backwards (which once
// showed Mosquitto at -440 ms after a broker restart).
import { ownCpuMs, processCpu, type ProcessCpu } from '../environments/local/process-cpu.ts';

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
  /** By role, then by process: `${pid}@${startTicks}`. */
  readonly #readings = new Map<CpuRole, Map<string, PidReading>>(CPU_ROLES.map((r) => [r, new Map()]));
  readonly #labAtStart = ownCpuMs();
  readonly #read: (pid: number) => ProcessCpu | undefined;

  constructor(pids: () => RolePids, read: (pid: number) => ProcessCpu | undefined = processCpu) {
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
        if (!now) continue; // gone: its last reading stands
        const key = `${pid}@${now.startTicks}`;
        const known = readings.get(key);
        if (!known) readings.set(key, { atStart: initial ? now.cpuMs : 0, last: now.cpuMs });
        else known.last = Math.max(known.last, now.cpuMs);
      }
    }
  }

  /** CPU milliseconds each role used since the meter started, and this process's (the lab's). */
  totals(): Record<CpuRole | 'lab', number> {
    this.sample();
    const sum = (role: CpuRole) => [...this.#readings.get(role)!.values()].reduce((acc, r) => acc + (r.last - r.atStart), 0);
    return { lab: ownCpuMs() - this.#labAtStart, stepCa: sum('stepCa'), mosquitto: sum('mosquitto'), provisioningService: sum('provisioningService') };
  }
}
