// The native device client (ecm-device, --device-client native) against a real lab: a small
// full-flow fleet in which every device provisions itself (the service's audit log shows each
// X5C sign from the device's own address), the broker logs each identity, every QoS 1 message
// reaches the application, the keys in the stores are 0600 and no ecm-device process is left;
// a device whose address is not white-listed fails alone with the service's 403; and what the
// native client cannot serve is refused with exit code 2 before any lab starts.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { loadConfig } from '../../config/config.ts';
import { DEFAULT_FIRMWARE_POLICY } from '../../config/firmware-policy.ts';
import { startOwnedLab, type OwnedLab } from '../../environments/lab.ts';
import { markLog, readSince } from '../../environments/log-watch.ts';
import { ownedFleetLab } from '../../load/fleet-lab.ts';
import { runFleet } from '../../load/fleet-run.ts';
import { startChallengeResponder, type StartedChallengeResponder } from '../../simulators/acme/http01-responder.ts';
import { AddressPlan } from '../../simulators/client/addresses.ts';
import { ProvisioningAdminClient } from '../../simulators/client/admin-client.ts';
import { labEndpoints } from '../../simulators/client/lab-endpoints.ts';
import { generateIdentities } from '../../simulators/device/identity.ts';
import { NativeDevicePool } from '../../simulators/fleet/native-device-pool.ts';
import type { DevicePoolEvent } from '../../simulators/fleet/device-pool-contract.ts';
import { auditRecords } from '../../steps/support/audit-log.ts';
import { startCli } from '../support/cli.ts';

// The tools directory of the environment (bootstrap's .tools/bin unless ECM_LAB_TOOLS_BIN_DIR says otherwise).
const env = process.env.ECM_LAB_TOOLS_BIN_DIR ? { ECM_LAB_TOOLS_BIN_DIR: process.env.ECM_LAB_TOOLS_BIN_DIR } : {};
let lab: OwnedLab;
let responder: StartedChallengeResponder;

before(async () => {
  lab = await startOwnedLab(loadConfig({ env }));
  responder = await startChallengeResponder(lab.bootstrapCa.acmeHttpPort);
});
after(async () => {
  await responder?.stop();
  await lab?.stop();
});

/** ecm-device processes that are children of this one (/proc: command name and parent pid). */
function nativeChildren(): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        return comm === 'ecm-device' && ppid === process.pid;
      } catch {
        return false;
      }
    })
    .map(Number);
}

const DEVICES = 8;

test('a native full-flow fleet: every device provisioned through ACME and X5C from its own address, each identity on the broker, every QoS 1 message received, keys 0600, no process left', async () => {
  const brokerMark = markLog(lab.mosquitto.logFile);
  const auditMark = markLog(lab.provisioning.auditLogFile);
  let seenRunning = 0;
  const result = await runFleet(ownedFleetLab(lab), labEndpoints(lab, responder), {
    scenario: 'full-flow',
    executor: { kind: 'arrival-rate', ratePerSecond: 8, maxConcurrent: 50, vus: 1, vusDurationMs: 0 },
    devices: DEVICES,
    mix: { '2.1': 100 },
    durationMs: 2000,
    qos: 1,
    telemetryIntervalMs: 250,
    segment: { index: 1, count: 1 },
    seed: 7,
    workers: 1,
    deviceClient: 'native',
    toolsBinDir: lab.config.toolsBinDir,
    operate: 'telemetry',
    topicRoot: lab.config.broker.topicRoot,
    applicationIdentity: lab.config.broker.applicationIdentity,
    firmware: DEFAULT_FIRMWARE_POLICY,
    drainTimeoutMs: 5000,
    gracefulStopMs: 20_000,
    onProgress: () => (seenRunning = Math.max(seenRunning, nativeChildren().length)),
  });
  assert.equal(seenRunning, 1, 'one ecm-device process ran the fleet');
  assert.equal(result.devices.provisioned, DEVICES, JSON.stringify(result.errorsByCause));
  assert.equal(result.devices.failed, 0);
  assert.ok(result.messages.sent >= DEVICES, `devices published telemetry: ${result.messages.sent}`);
  assert.equal(result.messages.lost, 0, 'QoS 1: every message the devices sent reached the application');
  assert.equal(result.messages.received, result.messages.sent);
  assert.ok((result.cpu.run.lab.threads['native-devices'] ?? 0) > 0, `the native process's CPU is counted: ${JSON.stringify(result.cpu.run.lab.threads)}`);

  const identities = generateIdentities({ count: DEVICES, seed: 7, firmwareMix: { '2.1': 100 } });
  const plan = AddressPlan.fromCidr(undefined);
  const records = auditRecords(readSince(auditMark));
  const brokerLog = readSince(brokerMark);
  const storeRoot = ownedFleetLab(lab).storeRoot;
  identities.forEach(({ deviceId }, i) => {
    // The ACME certificate and the X5C sign at the service, each recorded with the source the device's requests left from.
    const signs = records.filter((r) => r.event === 'x5c-sign' && r.decision === 'served' && r.deviceId === deviceId);
    assert.equal(signs.length, 1, `the audit log's served X5C signs for ${deviceId}: ${JSON.stringify(signs)}`);
    assert.equal(signs[0]!.sourceIp, plan.address(i), `${deviceId} signed from its own address`);
    const bootstraps = records.filter((r) => r.event === 'acme-certificate' && r.decision === 'served' && r.sourceIp === plan.address(i));
    assert.equal(bootstraps.length, 1, `the audit log's served ACME certificates for ${plan.address(i)}`);
    assert.match(brokerLog, new RegExp(`New client connected from ${plan.address(i).replace(/\./g, '\\.')}:\\d+ as ${deviceId} \\(p2, c0,`), `the broker logged ${deviceId} connecting with a persistent session`);
    const store = path.join(storeRoot, deviceId);
    assert.equal(statSync(store).mode & 0o777, 0o700, `${store} is 0700`);
    for (const key of ['local.key', 'bootstrap.key']) assert.equal(statSync(path.join(store, key)).mode & 0o777, 0o600, `${deviceId}/${key} is 0600`);
  });
  assert.deepEqual(nativeChildren(), [], 'no ecm-device process is left');
});

test("a device whose address is not white-listed fails alone, with the service's 403", async () => {
  const admin = new ProvisioningAdminClient(lab.provisioning.url, lab.provisioning.adminToken, readFileSync(lab.ca.rootPem, 'utf8'));
  const plan = AddressPlan.fromCidr(undefined);
  await admin.turnOn();
  await admin.setWhitelist([plan.address(100)]);
  const [listed, unlisted] = generateIdentities({ count: 2, seed: 99, firmwareMix: { '2.1': 100 } });
  const { responder: _, ...endpoints } = labEndpoints(lab, responder);
  const events: DevicePoolEvent[] = [];
  const spec = { endpoints, topicRoot: lab.config.broker.topicRoot, logFile: path.join(lab.workDir, 'native-refused.log'), storeRoot: path.join(lab.workDir, 'native-refused'), qos: 1 as const, telemetryIntervalMs: 1000, operate: 'hold' as const };
  const pool = new NativeDevicePool(spec, responder, (e) => events.push(e), { binDir: lab.config.toolsBinDir, backoff: { maxAttempts: 2, initialMs: 50 } });
  try {
    const [ok, refused] = await Promise.allSettled([pool.launch(listed!, 100), pool.launch(unlisted!, 101)]);
    assert.equal(ok.status, 'fulfilled', ok.status === 'rejected' ? String(ok.reason) : '');
    assert.equal(refused.status, 'rejected');
    assert.match(String((refused as PromiseRejectedResult).reason), /provisioning refused \(HTTP 403\)/);
    const failed = events.filter((e) => e.type === 'failed');
    assert.deepEqual(failed.map((e) => e.deviceId), [unlisted!.deviceId], 'only the unlisted device failed');
    assert.match(failed[0]!.type === 'failed' ? failed[0]!.cause : '', /^ProvisioningRefusedError: provisioning refused \(HTTP 403\)/);
    assert.deepEqual(await pool.connectedIds(), [listed!.deviceId]);
  } finally {
    await pool.stop();
    await pool.stop(); // idempotent
  }
  assert.deepEqual(nativeChildren(), [], 'no ecm-device process is left');
});

test('what the native device client cannot serve is refused with exit code 2, each by name', async () => {
  const refused = startCli(['load', '--device-client', 'native', '--mix', '2.1:50,2.0:50', '--faults', 'broker-restart', '--pre-made-keys', '--workers', '2', '--cert-lifetime', '2m', '--no-baselines']);
  const exit = await refused.exit;
  assert.equal(exit.code, 2, refused.stderr());
  for (const what of [/--mix has firmware 2\.0/, /--faults are not served/, /--pre-made-keys is not served/, /--workers > 1/, /--cert-lifetime is not served/]) assert.match(refused.stderr(), what);
  const scenario = startCli(['load', '--device-client', 'native', '--scenario', 'mqtt-publish', '--lab', 'some-lab', '--no-baselines']);
  assert.equal((await scenario.exit).code, 2, scenario.stderr());
  assert.match(scenario.stderr(), /--device-client native: the mqtt-publish scenario is not served, only full-flow/);
  assert.match(scenario.stderr(), /--device-client native: --lab: an attached lab is not served/);
  const unknown = startCli(['load', '--device-client', 'rust']);
  assert.equal((await unknown.exit).code, 2);
  assert.match(unknown.stderr(), /--device-client: Invalid option: expected one of "node"\|"native"/);
});
