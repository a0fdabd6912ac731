// The report's CPU section: each process over the run and over the provisioning window, the
// lab's own process by thread (the device clients apart from the application and the responder),
// each thread's event-loop delay, and which figures were measured with pre-made keys.
import { esc, table } from './html-table.ts';
import type { CpuFigures } from './cpu-readings.ts';
import type { PerfSummary } from './summary-schema.ts';

const THREAD_LABELS: Record<string, string> = {
  main: 'main thread (fleet runner, http-01 responder; the devices too when they run in it)',
  application: "the application's thread (receives every device's telemetry)",
  'native-devices': 'the native device client (ecm-device, a process of its own: --device-client native)',
  other: 'threads without JavaScript (thread pool: key generation, file I/O; garbage collector; module loader)',
};

const label = (thread: string) => THREAD_LABELS[thread] ?? (thread.startsWith('devices-') ? `device worker thread ${thread.slice('devices-'.length)}` : thread);

function processRows(c: CpuFigures): Array<Array<string | number>> {
  return [
    ['lab (devices and application)', c.labMs, c.labMsPerDevice],
    ['step-ca (both authorities: operational and bootstrap)', c.stepCaMs, c.stepCaMsPerDevice],
    ['provisioning service', c.provisioningServiceMs, c.provisioningServiceMsPerDevice],
    ['mosquitto', c.mosquittoMs, c.mosquittoMsPerDevice],
  ];
}

export function cpuSection(s: PerfSummary): string {
  const w = s.cpu.provisioningWindow;
  const threads = Object.entries(s.cpu.labThreadsMs);
  const delays = Object.entries(s.eventLoopDelayMs);
  const pre = s.measuredWithPreMadeKeys;
  return `<h2>CPU</h2>
<h3>The whole run (first arrival to the end of the drain)</h3>
${table(['process', 'CPU ms', 'per device (completed iteration)'], processRows(s.cpu))}
${w ? `<h3>Provisioning window (first arrival to the last device up)</h3>${table(['process', 'CPU ms', 'per device'], processRows(w))}<p>Devices already up publish telemetry during the window; with a telemetry interval longer than the run it is provisioning only.</p>` : ''}
${threads.length > 0 ? `<h3>The lab's process by thread</h3>${table(['thread', 'CPU ms (run)', ...(w ? ['CPU ms (provisioning window)'] : [])], threads.map(([t, ms]) => [label(t), ms, ...(w ? [w.labThreadsMs[t] ?? 0] : [])]))}` : ''}
${delays.length > 0 ? `<h3>Event-loop delay by thread</h3>${table(['thread', 'p50 ms', 'p99 ms', 'max ms', 'mean ms'], delays.map(([t, d]) => [label(t), d.p50, d.p99, d.max, d.mean]))}` : ''}
<p>Measured with pre-made keys (keys, CSRs or certificates made before the clock started): ${pre.length > 0 ? esc(pre.join(', ')) : 'none'}.</p>`;
}
