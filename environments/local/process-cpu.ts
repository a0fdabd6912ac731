// CPU time of a component process from /proc, to put the lab's own cost next to step-ca's and
// Mosquitto's in the same run.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let ticksPerSecond: number | undefined;

function clockTicks(): number {
  ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  return ticksPerSecond;
}

export interface ProcessCpu {
  /** User + system CPU milliseconds the process has used so far. */
  cpuMs: number;
  /**
   * When the process started (clock ticks after boot, /proc/<pid>/stat field 22): with the pid, it
   * names one process. A restarted component can get its old pid back (pid numbers wrap, and a
   * container's namespace hands out the same few), and its counter then starts again from zero.
   */
  startTicks: number;
}

/** The process's CPU so far and its start time; undefined when it is gone. */
export function processCpu(pid: number): ProcessCpu | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start at state = field 3.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return { cpuMs: ((utime + stime) * 1000) / clockTicks(), startTicks: Number(fields[19]) };
  } catch {
    return undefined;
  }
}

/** This process's CPU milliseconds (user + system). */
export function ownCpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}
