// The mixed fleet and the renewal soak against a real lab, small enough for CI. Each class's and
// each renewal's figures in the report are checked against what the system did: step-ca's own
// request log (which certificate it issued, by which provisioner, renewals per device) and
// Mosquitto's log (who connected, on which listener, how often), never against the run's own
// parameters or the client's counter alone.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { PerfSummary } from '../../evidence/perf/summary-schema.ts';
import { logFields } from '../../services/provisioning/issuance-feed.ts';
import { certificateTrack, DEFAULT_FIRMWARE_POLICY } from '../../config/firmware-policy.ts';
import { generateIdentities } from '../../simulators/device/identity.ts';
import { startCli } from '../support/cli.ts';

const out = mkdtempSync(path.join(os.tmpdir(), 'ecm-mixed-renewal-'));
const logsDir = path.join(out, 'logs');

async function load(args: string[]) {
  const run = startCli(['load', '--out', out, '--no-baselines', ...args], { ECM_LAB_LOGS_DIR: logsDir });
  const exit = await run.exit;
  return { code: exit.code, stdout: run.stdout(), stderr: run.stderr() };
}

const summaryOf = (runId: string) => JSON.parse(readFileSync(path.join(out, runId, 'summary.json'), 'utf8')) as PerfSummary;
const componentLog = (s: PerfSummary, name: string) => readFileSync(path.join(logsDir, s.lab.id, `${name}.log`), 'utf8').split('\n');

/** step-ca's log lines of certificates it issued: path, provisioner, subject, validity. */
function issuedByStepCa(s: PerfSummary) {
  return componentLog(s, 'step-ca')
    .filter((l) => l.includes('certificate='))
    .map(logFields)
    .filter((f) => Number(f.get('status')) < 300)
    .map((f) => ({ path: f.get('path')!, provisioner: f.get('provisioner')!, subject: f.get('subject')!, validMs: Date.parse(f.get('valid-to')!) - Date.parse(f.get('valid-from')!) }));
}

/** Mosquitto's log: each client id that connected, with the listener port of each connection. */
function brokerConnections(s: PerfSummary): Map<string, number[]> {
  const portOf = new Map<string, number>();
  const byClient = new Map<string, number[]>();
  for (const line of componentLog(s, 'mosquitto')) {
    const opened = /New connection from (\S+) on port (\d+)\./.exec(line);
    if (opened) portOf.set(opened[1]!, Number(opened[2]));
    const connected = /New client connected from (\S+) as (\S+) /.exec(line);
    if (connected) byClient.set(connected[2]!, [...(byClient.get(connected[2]!) ?? []), portOf.get(connected[1]!) ?? -1]);
  }
  return byClient;
}

test('a mixed fleet 2.1:60,2.0:30,1.4:10: each class goes its own way, and its counts are what step-ca, the broker and the application saw', async () => {
  const run = await load(['--devices', '20', '--mix', '2.1:60,2.0:30,1.4:10', '--rate', '10', '--duration', '5s', '--interval', '250', '--qos', '1', '--run-id', 'mixed']);
  assert.equal(run.code, 0, `${run.stderr}\n${run.stdout}`);
  const s = summaryOf('mixed');
  const ids = generateIdentities({ count: 20, seed: s.config.seed, firmwareMix: s.config.mix });
  const of = (track: string) => ids.filter((i) => certificateTrack(i.firmwareVersion, DEFAULT_FIRMWARE_POLICY) === track).map((i) => i.deviceId);
  const [self, manual, legacy] = [of('self-provisioning'), of('manual-certificate'), of('legacy')];
  const c = s.classes!;
  assert.ok(c, 'the report has the classes');

  // step-ca issued the 2.1 devices' certificates through X5C, the 2.0 devices' through the service's own provisioner, none for 1.4.
  const signed = issuedByStepCa(s).filter((i) => i.path === '/1.0/sign');
  const signedFor = (id: string) => signed.filter((i) => i.subject === id);
  for (const id of self) assert.deepEqual(signedFor(id).map((i) => i.provisioner), ['devices'], `${id}: one X5C certificate`);
  for (const id of manual) {
    const mine = signedFor(id);
    assert.equal(mine.length, 1, `${id}: one certificate the service team had issued`);
    assert.notEqual(mine[0]!.provisioner, 'devices', `${id}: not by X5C (no bootstrap credential)`);
  }
  for (const id of legacy) assert.deepEqual(signedFor(id), [], `${id}: legacy firmware got no certificate`);

  // The broker let every device in; the legacy ones on another listener than the certificate ones.
  const connections = brokerConnections(s);
  const ports = (list: string[]) => new Set(list.flatMap((id) => connections.get(id) ?? []));
  for (const id of [...self, ...manual, ...legacy]) assert.ok(connections.has(id), `${id} connected to the broker`);
  const certificatePorts = ports([...self, ...manual]);
  assert.equal(certificatePorts.size, 1, `one certificate listener: ${[...certificatePorts]}`);
  assert.ok([...ports(legacy)].every((p) => p > 0 && !certificatePorts.has(p)), `legacy devices on the legacy listener: ${[...ports(legacy)]}`);

  // The report's classes: counted from those sessions and the telemetry the application received.
  assert.deepEqual([c['self-provisioning']?.connected, c['manual-certificate']?.connected, c.legacy?.connected], [self.length, manual.length, legacy.length]);
  assert.deepEqual(c['self-provisioning']?.connectedWith, { certificate: self.length });
  assert.deepEqual(c['manual-certificate']?.connectedWith, { certificate: manual.length });
  assert.deepEqual(c.legacy?.connectedWith, { 'legacy-credential': legacy.length });
  for (const [name, k] of Object.entries(c)) {
    assert.equal(k.failed, 0, `${name} failed`);
    assert.ok(k.messages.received >= k.started * 10, `${name}: every device published (${k.messages.received})`);
    assert.equal(k.messages.lost, 0, `${name} lost`);
  }
  assert.deepEqual(c.legacy?.receivedBy, { 'legacy-credential': c.legacy!.messages.received }, 'legacy telemetry came on the legacy tree only');
  assert.equal(Object.values(c).reduce((n, k) => n + k.messages.received, 0), s.mqtt.messages.received, 'the classes add up to the fleet');
  assert.equal(c['manual-certificate']?.credentialLatencyMs.count, manual.length, "each admin issuance timed");
  assert.equal(c.legacy?.credentialLatencyMs.count, legacy.length);
  assert.equal(s.devices.connected, 20, 'nobody skipped');
  assert.ok(s.thresholds.every((t) => t.ok), JSON.stringify(s.thresholds.filter((t) => !t.ok)));
  assert.match(readFileSync(path.join(out, 'mixed', 'index.html'), 'utf8'), /<h2 id="classes">Device classes/);
});

test('renewal soak (short form): every device renews by itself, again and again, its session moving without a drop or a lost message', async () => {
  const run = await load(['--scenario', 'renewal-soak', '--devices', '20', '--cert-lifetime', '12s', '--duration', '55s', '--interval', '500', '--run-id', 'soak']);
  assert.equal(run.code, 0, `${run.stderr}\n${run.stdout}`);
  const s = summaryOf('soak');
  const ids = generateIdentities({ count: 20, seed: s.config.seed, firmwareMix: s.config.mix }).map((i) => i.deviceId);

  // step-ca's own log: renewals per device, each a certificate as short as the first (12 s and step-ca's 5 s backdate).
  const renewed = issuedByStepCa(s).filter((i) => i.path === '/1.0/renew');
  const perDevice = new Map(ids.map((id) => [id, renewed.filter((r) => r.subject === id).length]));
  // A renewal is due every 2/3 of 17 s (11.3 s); the slowest device has had 55 s of steady state.
  for (const [id, n] of perDevice) assert.ok(n >= 4, `${id} renewed ${n} times on step-ca's log`);
  assert.ok(renewed.every((r) => r.validMs === 17_000), `renewed certificates live 17 s: ${[...new Set(renewed.map((r) => r.validMs))]}`);
  // The client counts a renewal once its session moved; one in flight at the end may be on step-ca's log only.
  assert.ok(s.renewals.count <= renewed.length && renewed.length <= s.renewals.count + ids.length, `client ${s.renewals.count}, step-ca ${renewed.length}`);
  assert.equal(s.renewals.devicesRenewed, 20);

  // The broker: one session per device plus one per renewal (each handover opens the next), none taken over.
  const connections = brokerConnections(s);
  const deviceConnections = ids.reduce((n, id) => n + (connections.get(id)?.length ?? 0), 0);
  assert.equal(deviceConnections, ids.length + s.renewals.count, 'no reconnects beyond the handovers');
  assert.deepEqual(componentLog(s, 'mosquitto').filter((l) => /RVS-\S+ already connected/.test(l)), [], 'no session was taken over');

  assert.equal(s.renewals.failed, 0);
  assert.equal(s.mqtt.sessionsDropped, 0);
  assert.equal(s.mqtt.messages.lost, 0);
  assert.equal(s.mqtt.messages.received, s.mqtt.messages.sent);
  assert.equal(s.renewals.latencyMs.count, s.renewals.count, 'each renewal timed');
  assert.ok(s.renewals.latencyMs.p99 < 30_000);
  assert.deepEqual(s.thresholds.filter((t) => !t.ok), []);
  assert.ok(['renewal p99', 'failed renewals', 'QoS 1 messages lost'].every((n) => s.thresholds.some((t) => t.name === n)));
  assert.match(run.stdout, /renewals\s+\d+ done by 20 devices, 0 failed/);
});

test('a soak too short to renew anything is refused with exit code 2', async () => {
  const run = await load(['--scenario', 'renewal-soak', '--devices', '2', '--cert-lifetime', '60s', '--duration', '30s']);
  assert.equal(run.code, 2);
  assert.match(run.stderr, /--duration: 30 s is no longer than one renewal period/);
});

test('a renewal p99 above its limit fails the soak with exit code 1 (a test failed) and names it', async () => {
  const run = await load(['--scenario', 'renewal-soak', '--devices', '3', '--cert-lifetime', '10s', '--duration', '15s', '--interval', '500', '--max-renewal-p99', '0.001', '--run-id', 'soak-broken']);
  assert.equal(run.code, 1, `${run.stderr}\n${run.stdout}`);
  assert.match(run.stderr, /thresholds broken: renewal p99 \(NFR-PERF-001\) = [\d.]+, limit 0\.001/);
  const s = summaryOf('soak-broken');
  assert.ok(s.renewals.count >= 3, `renewals: ${s.renewals.count}`);
  assert.deepEqual(s.thresholds.filter((t) => !t.ok).map((t) => t.name), ['renewal p99']);
});
