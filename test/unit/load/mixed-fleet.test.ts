import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_FIRMWARE_POLICY } from '../../../config/firmware-policy.ts';
import { LatencyHistograms } from '../../../evidence/perf/latency-histograms.ts';
import { FleetMetrics } from '../../../load/fleet-metrics.ts';
import { classLauncher, FleetClasses } from '../../../load/mixed-fleet.ts';
import type { DeviceIdentity } from '../../../simulators/device/device-identity.ts';
import { generateIdentities, IdentityError, parseFirmwareMix } from '../../../simulators/device/identity.ts';
import type { DevicePool } from '../../../simulators/fleet/device-pool.ts';
import type { ProvisioningAdminClient } from '../../../services/provisioning/admin-client.ts';

const fleet = (count: number, mix: string) => generateIdentities({ count, seed: 7, firmwareMix: parseFirmwareMix(mix) });
function byClass(ids: DeviceIdentity[], classes: FleetClasses): Partial<Record<ReturnType<FleetClasses['classOf']>, DeviceIdentity[]>> {
  const out: Partial<Record<ReturnType<FleetClasses['classOf']>, DeviceIdentity[]>> = {};
  for (const i of ids) (out[classes.classOf(i.deviceId)] ??= []).push(i);
  return out;
}

test('the mix parser: "2.1:80,2.0:20" puts every device in a class by its firmware track, exactly by the percentages', () => {
  const ids = fleet(100, '2.1:80,2.0:20');
  const classes = new FleetClasses(ids, DEFAULT_FIRMWARE_POLICY);
  const groups = byClass(ids, classes);
  assert.equal(groups['self-provisioning']?.length, 80);
  assert.equal(groups['manual-certificate']?.length, 20);
  assert.equal(groups.legacy, undefined, 'no 1.x firmware in this mix');
  // 20 devices, 2.1:60,2.0:30,1.4:10 (the integration test's mix): 12 / 6 / 2.
  const small = fleet(20, '2.1:60,2.0:30,1.4:10');
  const g = byClass(small, new FleetClasses(small, DEFAULT_FIRMWARE_POLICY));
  assert.deepEqual([g['self-provisioning']?.length, g['manual-certificate']?.length, g.legacy?.length], [12, 6, 2]);
  assert.ok(g.legacy!.every((i) => i.firmwareVersion === '1.4'));
  // The track follows the policy, not the version string: with x = 1.4 the 1.4 devices need a certificate.
  const strict = new FleetClasses(small, { selfProvisioningFrom: '2.1', certificateRequiredFrom: '1.4' });
  assert.equal(byClass(small, strict)['manual-certificate']?.length, 8);
});

test('the mix parser refuses what is not a mix, naming the problem', () => {
  assert.throws(() => parseFirmwareMix('2.1:80,2.0:10'), (e: Error) => e instanceof IdentityError && /sum to 90, must be 100/.test(e.message));
  assert.throws(() => parseFirmwareMix('2.1:80;2.0:20'), /entry "2\.1:80;2\.0:20" must be version:percentage/);
  assert.throws(() => parseFirmwareMix('2.1:80,2.1:20'), /2\.1 appears twice/);
  assert.throws(() => parseFirmwareMix('two:100'), /firmware version "two" must look like N\.N/);
  assert.throws(() => parseFirmwareMix(''), /firmware mix is empty/);
});

test('class accounting: a failure counts once per device, connections by how they authenticated, messages by class', () => {
  const ids = fleet(10, '2.1:50,2.0:30,1.4:20');
  const classes = new FleetClasses(ids, DEFAULT_FIRMWARE_POLICY);
  const metrics = new FleetMetrics(1);
  const [self, manual, legacy] = (['self-provisioning', 'manual-certificate', 'legacy'] as const).map((c) => byClass(ids, classes)[c]!);
  for (const i of ids) classes.started(i.deviceId);
  // The pool reports a failure, then the executor reports the same one: one failure.
  assert.equal(classes.failed(manual[0]!.deviceId), true);
  assert.equal(classes.failed(manual[0]!.deviceId), false);
  for (const d of self) assert.equal(classes.onPoolEvent({ type: 'provisioned', deviceId: d.deviceId, timings: {}, totalMs: 100, retried: false, at: 0 }, metrics), false, "a provisioned device is the fleet metrics' too");
  for (const d of manual.slice(1)) assert.equal(classes.onPoolEvent({ type: 'connected', deviceId: d.deviceId, track: 'manual-certificate', authentication: 'certificate', connectMs: 20, at: 0 }, metrics), true);
  for (const d of legacy) classes.onPoolEvent({ type: 'connected', deviceId: d.deviceId, track: 'legacy', authentication: 'legacy-credential', connectMs: 5, at: 0 }, metrics);
  assert.equal(metrics.counts.equipped, manual.length - 1 + legacy.length, 'the equipped devices are up in the progress and the timeline');
  assert.equal(metrics.histograms.summary('manualConnect').count, manual.length - 1);
  assert.equal(metrics.histograms.summary('legacyConnect').count, legacy.length);
  // Telemetry: 3 messages from every device that came up; one self-provisioned device lost its third.
  const send = (d: DeviceIdentity, seqs: number[], authentication: 'certificate' | 'legacy-credential') => {
    for (const seq of seqs) {
      const entry = { topic: 't', authentication, receivedAt: 10, message: { deviceId: d.deviceId, seq, sentAt: 9, firmwareVersion: d.firmwareVersion, readings: {} } };
      metrics.onTelemetry(entry);
      classes.onTelemetry(entry);
    }
  };
  self.forEach((d, k) => send(d, k === 0 ? [1, 2] : [1, 2, 3], 'certificate'));
  manual.slice(1).forEach((d) => send(d, [1, 2, 3], 'certificate'));
  legacy.forEach((d) => send(d, [1, 2, 3], 'legacy-credential'));
  classes.onTelemetry({ topic: 't', authentication: 'certificate', receivedAt: 0, message: { deviceId: 'RVS-OTHERSEG', seq: 1, sentAt: 0, firmwareVersion: '2.1', readings: {} } });
  const up = [...self, ...manual.slice(1), ...legacy];
  const tally = Object.fromEntries([...up.map((d) => [d.deviceId, { lastSeq: 3, unexpectedDisconnects: [] }]), [manual[0]!.deviceId, { lastSeq: 0, unexpectedDisconnects: [] }]]);
  const figures = classes.finish(up.map((d) => d.deviceId), tally, (part) => metrics.account(part, {}));
  assert.deepEqual(figures['self-provisioning'], { firmware: ['2.1'], requested: 5, started: 5, connected: 5, failed: 0, connectedWith: { certificate: 5 }, messages: { sent: 15, received: 14, lost: 1 }, receivedBy: { certificate: 14 } });
  assert.deepEqual(figures['manual-certificate'], { firmware: ['2.0'], requested: 3, started: 3, connected: 2, failed: 1, connectedWith: { certificate: 2 }, messages: { sent: 6, received: 6, lost: 0 }, receivedBy: { certificate: 6 } });
  assert.deepEqual(figures.legacy, { firmware: ['1.4'], requested: 2, started: 2, connected: 2, failed: 0, connectedWith: { 'legacy-credential': 2 }, messages: { sent: 6, received: 6, lost: 0 }, receivedBy: { 'legacy-credential': 6 } });
  assert.throws(() => classes.classOf('RVS-NOBODY'), /not a device of this run/);
});

test('the launcher sends each class its way: the device itself, a certificate from its CSR, or a legacy credential', async () => {
  const ids = fleet(10, '2.1:50,2.0:30,1.4:20');
  const classes = new FleetClasses(ids, DEFAULT_FIRMWARE_POLICY);
  const calls: string[] = [];
  const pool = {
    launch: async (i: DeviceIdentity) => void calls.push(`launch ${i.firmwareVersion}`),
    requestCertificate: async (i: DeviceIdentity) => `CSR of ${i.deviceId}`,
    launchCertified: async (i: DeviceIdentity, _k: number, chain: string) => void calls.push(`certified ${i.firmwareVersion} ${chain}`),
    launchLegacy: async (i: DeviceIdentity, _k: number, c: { username: string; password: string }) => void calls.push(`legacy ${i.firmwareVersion} ${c.username === i.deviceId}`),
  } as unknown as DevicePool;
  const admin = {
    issueCertificate: async (r: { identity: string; csr?: string }) => ({ certificateChainPem: r.csr === `CSR of ${r.identity}` ? 'chain-from-the-device-csr' : 'WRONG' }),
    createLegacyCredential: async (identity: string, firmware: string) => ({ identity, username: identity, password: 'pw', firmwareVersion: firmware }),
  } as unknown as ProvisioningAdminClient;
  const histograms = new LatencyHistograms();
  const launch = classLauncher({ pool, admin, classes, histograms });
  for (const [k, i] of ids.entries()) await launch(i, k);
  assert.deepEqual(calls.sort(), [...Array(5).fill('launch 2.1'), ...Array(3).fill('certified 2.0 chain-from-the-device-csr'), ...Array(2).fill('legacy 1.4 true')].sort());
  assert.equal(histograms.summary('manualIssuance').count, 3, 'each admin issuance timed');
  assert.equal(histograms.summary('legacyCredential').count, 2);
});
