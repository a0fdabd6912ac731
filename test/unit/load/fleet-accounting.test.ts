import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CpuMeter, type ThreadCpu, type RolePids } from '../../../load/cpu-meter.ts';
import { FleetMetrics } from '../../../load/fleet-metrics.ts';
import { compareInventory } from '../../../load/inventory-check.ts';
import { cpuFigures } from '../../../evidence/perf/cpu-readings.ts';

function deliver(metrics: FleetMetrics, deviceId: string, seqs: number[]) {
  for (const seq of seqs) metrics.onTelemetry({ topic: `reveos/${deviceId}/telemetry`, authentication: 'certificate', receivedAt: 1_000_000 + seq, message: { deviceId, seq, sentAt: 1_000_000, firmwareVersion: '2.1', readings: {} } });
}

test('message accounting: 1..lastSeq must arrive; duplicates are counted apart', () => {
  const m = new FleetMetrics(1);
  deliver(m, 'A', [1, 2, 3, 3]);
  deliver(m, 'B', [1, 3]);
  const tally = { A: { lastSeq: 3, unexpectedDisconnects: [] }, B: { lastSeq: 3, unexpectedDisconnects: [] } };
  assert.equal(m.allDelivered(tally), false);
  const a = m.account(tally, {});
  assert.deepEqual(a, { sent: 6, received: 5, lost: 1, duplicates: 1, excludedAfterRevocation: 0, lostByDevice: { B: 1 } });
});

test('a revoked device counts only what the broker acknowledged before its revocation', () => {
  const m = new FleetMetrics(1);
  // Acknowledged up to 4; 5 and 6 went out while the broker closed the session (5 even arrived).
  deliver(m, 'R', [1, 2, 3, 4, 5]);
  const tally = { R: { lastSeq: 4, unexpectedDisconnects: [123] } };
  assert.equal(m.allDelivered(tally), true);
  const a = m.account(tally, { R: { acknowledged: 4, sent: 6 } });
  assert.equal(a.sent, 4);
  assert.equal(a.received, 4, 'what arrived after the acknowledged ones is excluded, not received');
  assert.equal(a.lost, 0);
  assert.equal(a.excludedAfterRevocation, 2);
});

test('a device given up on after the graceful stop is a failure with a timeout, and a late success does not count', () => {
  const m = new FleetMetrics(1);
  m.abandon('late', Object.assign(new Error('iteration 3 was still running'), { name: 'TimeoutError' }));
  m.onPoolEvent({ type: 'provisioned', deviceId: 'late', timings: {}, totalMs: 1, retried: false, at: 0 });
  assert.equal(m.counts.failed, 1);
  assert.equal(m.counts.provisioned, 0);
  assert.equal(m.counts.timeouts, 1);
  assert.deepEqual(m.errorsByCause, { 'TimeoutError: iteration 3 was still running': 1 });
});

/** A fake /proc: pid -> the process now holding it (its start time and CPU so far). */
function fakeProc() {
  const procs = new Map<number, { startTicks: number; cpuMs: number }>();
  return { procs, read: (pid: number) => procs.get(pid) };
}

test('the CPU meter adds up every process of a role, follows a restarted pid and keeps a gone one', () => {
  const { procs, read } = fakeProc();
  for (const [pid, cpuMs] of [[10, 100], [11, 50], [20, 5], [30, 7]] as const) procs.set(pid, { startTicks: 1, cpuMs });
  let pids: RolePids = { stepCa: [10, 11], mosquitto: [20], provisioningService: [30] };
  const meter = new CpuMeter(() => pids, read);
  procs.set(10, { startTicks: 1, cpuMs: 160 }); // operational step-ca +60
  procs.set(11, { startTicks: 1, cpuMs: 90 }); // bootstrap step-ca +40
  procs.set(30, { startTicks: 1, cpuMs: 27 }); // service +20, then it restarts
  meter.sample();
  procs.delete(30);
  pids = { ...pids, provisioningService: [31] };
  procs.set(31, { startTicks: 900, cpuMs: 15 }); // the new process: all of it belongs to the run
  const totals = meter.totals();
  assert.equal(totals.stepCa, 100, 'both authorities');
  assert.equal(totals.provisioningService, 35, 'the old process until it went, the new one from its start');
  assert.equal(totals.mosquitto, 0);
});

test('a broker restarted under its old pid is a new process: its CPU adds to the old one, never below zero', () => {
  // The faults run that showed Mosquitto at -440 ms: the restarted broker's counter starts again
  // from zero, and read as the same process it looked like CPU time going backwards.
  const { procs, read } = fakeProc();
  procs.set(20, { startTicks: 500, cpuMs: 1000 });
  const meter = new CpuMeter(() => ({ stepCa: [], mosquitto: [20], provisioningService: [] }), read);
  procs.set(20, { startTicks: 500, cpuMs: 1300 }); // +300 before the restart
  meter.sample(); // the fault injector samples before it restarts a component
  procs.set(20, { startTicks: 7000, cpuMs: 560 }); // restarted, same pid, 560 ms since
  assert.equal(meter.totals().mosquitto, 300 + 560);
  // Not sampled before the restart: the old process's last 300 ms are lost, but nothing goes negative.
  const unsampled = new CpuMeter(() => ({ stepCa: [], mosquitto: [20], provisioningService: [] }), read);
  procs.set(20, { startTicks: 9000, cpuMs: 40 });
  assert.equal(unsampled.totals().mosquitto, 40);
  for (let i = 0; i < 5; i++) {
    procs.set(20, { startTicks: 10_000 + i, cpuMs: 10 }); // restarts between every sample
    assert.ok(unsampled.totals().mosquitto >= 0);
  }
});

test('the inventory is compared with the step-ca logs serial by serial', () => {
  assert.deepEqual(compareInventory(['a', 'b', 'c', 'lab1'], ['a', 'b', 'c', 'c']), { inventory: 4, issuedOnLogs: 3, notInInventory: 0, notOnLogs: 1 });
  assert.deepEqual(compareInventory(['a'], ['a', 'b']), { inventory: 1, issuedOnLogs: 2, notInInventory: 1, notOnLogs: 0 });
});

test("a CPU window keeps each process's counters at both ends, and the lab's CPU by thread", async () => {
  const { procs, read } = fakeProc();
  procs.set(10, { startTicks: 1, cpuMs: 100 });
  const reading = (main: number, devices: number) => ({ main: { cpuMs: main }, 'devices-1': { cpuMs: devices } });
  let threads = reading(40, 10);
  const meter = new CpuMeter(() => ({ stepCa: [10], mosquitto: [], provisioningService: [] }), read, async () => threads);
  procs.set(10, { startTicks: 1, cpuMs: 130 });
  threads = reading(45, 30);
  const w = await meter.window();
  assert.deepEqual(w.components.stepCa, { '10@1': { start: 100, end: 130 } });
  assert.equal(w.lab.threads.main, 5);
  assert.equal(w.lab.threads['devices-1'], 20);
  // What the JavaScript threads did not use of the process's CPU is the other threads' (thread pool, GC).
  assert.equal(Math.round(w.lab.threads.other! * 1000), Math.round(Math.max(0, w.lab.processMs - 25) * 1000));
});

test("a process of the lab's own apart from this one counts in the lab's CPU, not against its other threads", async () => {
  const { read } = fakeProc();
  let threads: Awaited<ReturnType<ThreadCpu>> = { main: { cpuMs: 40 }, 'native-devices': { cpuMs: 1000, outOfProcess: true } };
  const meter = new CpuMeter(() => ({ stepCa: [], mosquitto: [], provisioningService: [] }), read, async () => threads);
  threads = { main: { cpuMs: 45 }, 'native-devices': { cpuMs: 1700, outOfProcess: true } };
  // This process works at least 20 ms of CPU, so that its other threads' share is not 0 either way.
  const cpuAt = () => process.cpuUsage().user / 1000;
  for (const start = cpuAt(); cpuAt() - start < 20; ) JSON.stringify({ busy: Math.random() });
  const w = await meter.window();
  assert.equal(w.lab.threads['native-devices'], 700);
  const own = w.lab.processMs - 700;
  assert.ok(own >= 0, `this process's own CPU is the rest of the lab's: ${w.lab.processMs}`);
  assert.equal(Math.round(w.lab.threads.other! * 1000), Math.round(Math.max(0, own - 5) * 1000), 'the native process is not taken out of this process\'s other threads');
});

test("the device clients' own CPU per device is their threads' or their process's, and none when they ran in the main thread", () => {
  const window = (threads: Record<string, number>) => ({ components: { stepCa: {}, mosquitto: {}, provisioningService: {} }, lab: { processMs: 1000, threads } });
  assert.equal(cpuFigures(window({ main: 300, 'devices-1': 200, 'devices-2': 100, application: 400 }), 10).deviceClientMsPerDevice, 30);
  assert.equal(cpuFigures(window({ main: 300, 'native-devices': 50, application: 400 }), 10).deviceClientMsPerDevice, 5);
  assert.equal(cpuFigures(window({ main: 600, application: 400 }), 10).deviceClientMsPerDevice, undefined);
});

test('each timeline point carries the p99 of the deliveries since the one before, and none when nothing arrived', () => {
  const metrics = new FleetMetrics(1);
  const arrive = (deviceId: string, seq: number, ms: number) =>
    metrics.onTelemetry({ topic: `reveos/${deviceId}/telemetry`, authentication: 'certificate', receivedAt: 2_000_000 + ms, message: { deviceId, seq, sentAt: 2_000_000, firmwareVersion: '2.1', readings: {} } });
  for (let seq = 1; seq <= 100; seq++) arrive('RVS-A', seq, seq === 100 ? 50 : 1);
  metrics.point(1000, 100);
  for (let seq = 101; seq <= 200; seq++) arrive('RVS-A', seq, 3);
  metrics.point(2000, 200);
  metrics.point(3000, 200);
  const [first, second, third] = metrics.timeline;
  // HDR histograms of 3 significant digits: within 0.1 %.
  const near = (actual: number | undefined, expected: number) => actual !== undefined && Math.abs(actual - expected) <= expected / 1000;
  assert.ok(near(first!.deliveryP99Ms, 1), `one slow delivery in a hundred is above the p99: ${first!.deliveryP99Ms}`);
  assert.ok(near(second!.deliveryP99Ms, 3), `the second's own deliveries, not the run's so far: ${second!.deliveryP99Ms}`);
  assert.equal(third!.deliveryP99Ms, undefined, 'a second without deliveries has no p99');
});
