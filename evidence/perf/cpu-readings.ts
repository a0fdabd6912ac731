// CPU as a run measured it, in a form that merges exactly. A component process's counter is
// kept at both ends of the window (pid@start time names the process), because the segments of
// a run that share one lab all read the same step-ca, broker and service processes over
// overlapping spans: summing their differences counts the shared lab once per segment. Merged,
// each process counts once, from the earliest start any segment saw to the latest end. The
// clients' own processes (one per segment) and segments with labs of their own add up.

export const CPU_ROLES = ['stepCa', 'mosquitto', 'provisioningService'] as const;
export type CpuRole = (typeof CPU_ROLES)[number];

/** A process's cumulative CPU milliseconds at the start and the end of the window. */
export interface ProcessWindow {
  start: number;
  end: number;
}

export interface CpuWindowReadings {
  /** By role, then by process (`${pid}@${startTicks}`). */
  components: Record<CpuRole, Record<string, ProcessWindow>>;
  /** The process that runs the clients: its CPU over the window, and by thread (JavaScript threads by label, 'other' the rest). */
  lab: { processMs: number; threads: Record<string, number> };
  /**
   * The window on the machine's monotonic clock (CLOCK_MONOTONIC, microseconds: process.hrtime),
   * the clock V8's CPU profiles are timed on, so a profile can be cut to the window
   * (scripts/cpuprofile-summary.ts --window-from).
   */
  monotonicUs?: { start: number; end: number };
}

/** What a run measured: the whole run (executor start to the end of the drain), and the provisioning window (executor start to the last device up). */
export interface CpuMeasurement {
  run: CpuWindowReadings;
  provisioning?: CpuWindowReadings;
}

/** CPU milliseconds of one process over the window (never negative). */
const used = (w: ProcessWindow) => Math.max(0, w.end - w.start);

/** CPU milliseconds by role over a window. */
export function componentTotals(components: CpuWindowReadings['components']): Record<CpuRole, number> {
  return Object.fromEntries(CPU_ROLES.map((role) => [role, Object.values(components[role] ?? {}).reduce((a, w) => a + used(w), 0)])) as Record<CpuRole, number>;
}

/** The window's totals: the lab process and each role. */
export function windowTotals(w: CpuWindowReadings): Record<CpuRole | 'lab', number> {
  return { lab: w.lab.processMs, ...componentTotals(w.components) };
}

/**
 * Windows of one lab's segments (same lab id) as one: each process from its earliest start to
 * its latest end. A process only one segment saw keeps that segment's reading.
 */
function sameLab(windows: CpuWindowReadings['components'][]): CpuWindowReadings['components'] {
  const out = Object.fromEntries(CPU_ROLES.map((r) => [r, {} as Record<string, ProcessWindow>])) as CpuWindowReadings['components'];
  for (const components of windows) {
    for (const role of CPU_ROLES) {
      for (const [key, w] of Object.entries(components[role] ?? {})) {
        const known = out[role][key];
        out[role][key] = known ? { start: Math.min(known.start, w.start), end: Math.max(known.end, w.end) } : { ...w };
      }
    }
  }
  return out;
}

/**
 * Merges the windows of several segments: the components of each lab counted once (segments
 * with the same lab id share its processes), labs of their own and every segment's client
 * process added up, threads added by label.
 */
export function mergeWindows(parts: Array<{ labId: string; window: CpuWindowReadings }>): CpuWindowReadings {
  const byLab = new Map<string, CpuWindowReadings['components'][]>();
  for (const { labId, window } of parts) byLab.set(labId, [...(byLab.get(labId) ?? []), window.components]);
  const components = Object.fromEntries(CPU_ROLES.map((r) => [r, {} as Record<string, ProcessWindow>])) as CpuWindowReadings['components'];
  for (const [labId, windows] of byLab) {
    const merged = sameLab(windows);
    // Keys name processes within one lab; two labs' processes are told apart by the lab's id.
    for (const role of CPU_ROLES) for (const [key, w] of Object.entries(merged[role])) components[role][byLab.size > 1 ? `${labId}/${key}` : key] = w;
  }
  const threads: Record<string, number> = {};
  for (const { window } of parts) for (const [label, ms] of Object.entries(window.lab.threads)) threads[label] = (threads[label] ?? 0) + ms;
  const spans = parts.flatMap((p) => (p.window.monotonicUs ? [p.window.monotonicUs] : []));
  const monotonicUs = spans.length > 0 ? { start: Math.min(...spans.map((w) => w.start)), end: Math.max(...spans.map((w) => w.end)) } : undefined;
  return { components, lab: { processMs: parts.reduce((a, p) => a + p.window.lab.processMs, 0), threads }, ...(monotonicUs ? { monotonicUs } : {}) };
}

/** CPU over one window: totals, per completed iteration, and the lab process by thread. */
export interface CpuFigures {
  labMs: number;
  stepCaMs: number;
  mosquittoMs: number;
  provisioningServiceMs: number;
  labMsPerDevice: number;
  stepCaMsPerDevice: number;
  provisioningServiceMsPerDevice: number;
  mosquittoMsPerDevice: number;
  /** The lab process by thread: main (the fleet runner and the http-01 responder; the devices too without workers), devices-N, application, other (no JavaScript: thread pool, GC, loader). */
  labThreadsMs: Record<string, number>;
  /**
   * The device clients' own CPU per device: their worker threads (devices-N) or their process
   * (native-devices). Absent when they ran in the main thread, which they share with the fleet
   * runner and the responder.
   */
  deviceClientMsPerDevice?: number;
}

const DEVICE_CLIENT = /^(devices-\d+|native-devices)$/;

const per = (a: number, b: number) => (b > 0 ? Math.round((a / b) * 1000) / 1000 : 0);

/** A window's figures: totals, per completed iteration, and the lab process by thread. */
export function cpuFigures(w: CpuWindowReadings, completed: number): CpuFigures {
  const t = windowTotals(w);
  const clients = Object.entries(w.lab.threads).filter(([label]) => DEVICE_CLIENT.test(label));
  return {
    labMs: Math.round(t.lab),
    stepCaMs: Math.round(t.stepCa),
    mosquittoMs: Math.round(t.mosquitto),
    provisioningServiceMs: Math.round(t.provisioningService),
    labMsPerDevice: per(t.lab, completed),
    stepCaMsPerDevice: per(t.stepCa, completed),
    provisioningServiceMsPerDevice: per(t.provisioningService, completed),
    mosquittoMsPerDevice: per(t.mosquitto, completed),
    labThreadsMs: Object.fromEntries(Object.entries(w.lab.threads).map(([k, v]) => [k, Math.round(v)])),
    ...(clients.length > 0 ? { deviceClientMsPerDevice: per(clients.reduce((sum, [, ms]) => sum + ms, 0), completed) } : {}),
  };
}
