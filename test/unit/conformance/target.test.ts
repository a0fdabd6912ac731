// Target descriptions: the shape `ecm-lab up --json` writes is valid, a bad file names every
// problem at once, and what a target grants is cut down to what the suite can really use.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { grantedTagExpression } from '../../../conformance/target/capabilities.ts';
import { grantedBy, loadTarget, loadTargetFile, parseTarget, TargetError } from '../../../conformance/target/target.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'ecm-target-'));
for (const f of ['root.crt', 'boot.crt', 'mosquitto.log', 'step-ca.log', 'bootstrap-ca.log']) writeFileSync(path.join(dir, f), '');

function description(): Record<string, unknown> {
  return {
    name: 'team-a',
    ca: { url: 'https://127.0.0.1:9000', rootPem: 'root.crt', provisioners: { x5c: 'devices' } },
    bootstrapCa: { url: 'https://127.0.0.1:9001', rootPem: 'boot.crt', acmeHttpPort: 8080 },
    broker: { host: '127.0.0.1', port: 8883, log: { path: 'mosquitto.log' } },
    provisioning: { url: 'https://127.0.0.1:8443', insecureUrl: 'http://127.0.0.1:8080', acmeDirectory: 'https://127.0.0.1:8443/acme/directory', adminToken: 't' },
    grants: ['broker-log', 'ca-log', 'legacy-listener', 'clock'],
  };
}

test('a valid target: paths relative to its file, drivers default to the lab\'s simulator', () => {
  const t = parseTarget(description(), path.join(dir, 'target.json'));
  assert.equal(t.ca.rootPem, path.join(dir, 'root.crt'));
  assert.deepEqual(t.broker.log, { path: path.join(dir, 'mosquitto.log') });
  assert.deepEqual(t.clients, { device: 'lab', application: 'lab' });
});

test('a bad target names every problem: off loopback, a missing field, an unknown grant, a file that does not exist', () => {
  const raw = description();
  (raw.ca as Record<string, unknown>).url = 'https://10.0.0.1:9000';
  delete (raw.provisioning as Record<string, unknown>).adminToken;
  raw.grants = ['teleport'];
  assert.throws(
    () => parseTarget(raw, 'bad.json'),
    (err: unknown) => err instanceof TargetError && ['ca.url', 'provisioning.adminToken', 'grants.0'].every((k) => err.problems.some((p) => p.startsWith(`${k}:`))) && /loopback/.test(err.message),
  );
  const missing = description();
  (missing.ca as Record<string, unknown>).rootPem = 'nowhere.crt';
  assert.throws(() => parseTarget(missing, path.join(dir, 't.json')), (err: unknown) => err instanceof TargetError && err.problems.some((p) => p.startsWith('ca.rootPem:') && p.includes('does not exist')));
  writeFileSync(path.join(dir, 'broken.json'), '{ not json');
  assert.throws(() => loadTarget(path.join(dir, 'broken.json')), (err: unknown) => err instanceof TargetError && /cannot read it as JSON/.test(err.problems[0]!));
});

test('grants: less what is withheld, less a log the target gives no source for, less the legacy listener without a port', () => {
  const t = parseTarget(description(), path.join(dir, 'target.json'));
  // No step-ca logs and no legacy port: ca-log and legacy-listener cannot be used, whatever it says.
  assert.deepEqual([...grantedBy(t)], ['broker-log', 'clock']);
  assert.deepEqual([...grantedBy(t, ['clock'])], ['broker-log']);
  const withLogs = description();
  (withLogs.ca as Record<string, unknown>).log = { path: 'step-ca.log' };
  (withLogs.bootstrapCa as Record<string, unknown>).log = { command: ['tail', '-F', 'bootstrap-ca.log'] };
  (withLogs.broker as Record<string, unknown>).legacyPort = 1884;
  assert.deepEqual([...grantedBy(parseTarget(withLogs, path.join(dir, 'target.json')))], ['broker-log', 'ca-log', 'legacy-listener', 'clock']);
  const expression = grantedTagExpression(grantedBy(t));
  assert.match(expression!, /not @needs:ca-log/);
  assert.doesNotMatch(expression!, /not @needs:broker-log/);
});

test('a target of clients only leaves the installation to the lab; naming some components but not all is refused', () => {
  const clients = path.join(dir, 'clients.json');
  writeFileSync(clients, JSON.stringify({ name: 'firmware-client', clients: { device: { command: ['./my-client.sh'] } } }));
  const t = loadTargetFile(clients);
  assert.ok('kind' in t && t.kind === 'clients');
  assert.deepEqual(t.clients.device, { command: ['./my-client.sh'], env: {} });
  assert.throws(() => loadTarget(clients), (err: unknown) => err instanceof TargetError && /names no installation/.test(err.problems[0]!));
  const partial = path.join(dir, 'partial.json');
  const { ca, broker } = description();
  writeFileSync(partial, JSON.stringify({ name: 'half', ca, broker }));
  assert.throws(() => loadTargetFile(partial), (err: unknown) => err instanceof TargetError && /names ca, broker but not bootstrapCa, provisioning/.test(err.problems[0]!));
});

test("the team's broker beside a running lab: the rest is the lab's, the lab's broker log is not the team's, other mixes are refused with the reason", () => {
  const labDir = mkdtempSync(path.join(os.tmpdir(), 'ecm-target-lab-'));
  for (const f of ['root.crt', 'boot.crt', 'crl.pem', 'mosquitto.log', 'step-ca.log', 'bootstrap-ca.log']) writeFileSync(path.join(labDir, f), '');
  const abs = (f: string) => path.join(labDir, f);
  const lab = { ...description(), name: 'ecm-lab-up', ca: { url: 'https://127.0.0.1:9000', rootPem: abs('root.crt'), provisioners: { x5c: 'devices' } }, bootstrapCa: { url: 'https://127.0.0.1:9001', rootPem: abs('boot.crt'), acmeHttpPort: 8080 }, broker: { host: '127.0.0.1', port: 8883, legacyPort: 1884, crlFile: abs('crl.pem') }, logs: { 'step-ca': abs('step-ca.log'), 'bootstrap-ca': abs('bootstrap-ca.log'), mosquitto: abs('mosquitto.log') } };
  writeFileSync(path.join(labDir, 'lab.json'), JSON.stringify(lab));
  const file = path.join(dir, 'team-broker.json');
  const lablessBroker = { host: '127.0.0.1', port: 18883 };
  writeFileSync(file, JSON.stringify({ name: 'team-broker', lab: path.relative(dir, path.join(labDir, 'lab.json')), broker: lablessBroker }));
  const t = loadTarget(file);
  assert.equal(t.name, 'team-broker');
  assert.equal(t.ca.rootPem, abs('root.crt'), "the lab's CA");
  assert.equal(t.provisioning.url, 'https://127.0.0.1:8443', "the lab's service");
  assert.equal(t.broker.port, 18883, "the team's broker");
  assert.equal(t.broker.log, undefined, "the lab's broker log is not the team broker's");
  assert.deepEqual(t.ca.log, { path: abs('step-ca.log') });
  // The lab's grants, less what the team's broker gives no means for (its log, a legacy listener).
  assert.deepEqual([...grantedBy(t)], ['ca-log', 'clock']);
  writeFileSync(file, JSON.stringify({ name: 'team-broker', lab: path.join(labDir, 'lab.json'), broker: { ...lablessBroker, log: { path: 'mosquitto.log' } } }));
  assert.deepEqual([...grantedBy(loadTarget(file))], ['broker-log', 'ca-log', 'clock']);

  const { provisioning } = description();
  writeFileSync(file, JSON.stringify({ name: 'team-service', lab: path.join(labDir, 'lab.json'), provisioning }));
  assert.throws(() => loadTargetFile(file), (err: unknown) => err instanceof TargetError && /names provisioning beside a lab .*only the broker can be the team's/.test(err.problems[0]!));
  writeFileSync(file, JSON.stringify({ name: 'no-lab', lab: 'nowhere.json', broker: lablessBroker }));
  assert.throws(() => loadTargetFile(file), (err: unknown) => err instanceof TargetError && /is not a lab description/.test(err.problems[0]!) && err.problems.some((p) => /cannot read it as JSON/.test(p)));
  writeFileSync(path.join(labDir, 'bad-lab.json'), JSON.stringify({ ...lab, ca: { ...lab.ca, url: 'https://10.1.1.1' } }));
  writeFileSync(file, JSON.stringify({ name: 'bad-lab', lab: path.join(labDir, 'bad-lab.json'), broker: lablessBroker }));
  assert.throws(() => loadTargetFile(file), (err: unknown) => err instanceof TargetError && /is not a lab description/.test(err.problems[0]!) && err.problems.some((p) => /ca\.url: must be on loopback/.test(p)));
});

test('a remote target is accepted with "allowRemote": true and refused without it, the refusal naming the flag', () => {
  const remote = description();
  (remote.ca as Record<string, unknown>).url = 'https://ca.staging.example:9000';
  (remote.broker as Record<string, unknown>).host = 'mqtt.staging.example';
  assert.throws(
    () => parseTarget(remote, 'remote.json'),
    (err: unknown) =>
      err instanceof TargetError &&
      ['ca.url', 'broker.host'].every((k) => err.problems.includes(`${k}: must be on loopback (127.0.0.0/8 or localhost), or the target must say "allowRemote": true`)),
  );
  const t = parseTarget({ ...remote, allowRemote: true }, path.join(dir, 'remote.json'));
  assert.equal(t.ca.url, 'https://ca.staging.example:9000');
  assert.equal(t.broker.host, 'mqtt.staging.example');
  // Only the literal true opens it: a string is refused like any bad value.
  assert.throws(() => parseTarget({ ...remote, allowRemote: 'yes' }, 'remote.json'), (err: unknown) => err instanceof TargetError && err.problems.some((p) => p.startsWith('allowRemote:')));
});

test('clients.addresses: a loopback block is taken; outside loopback only with "allowRemote": true (naming it) and only on an address of this host; a bad block is named', () => {
  const t = parseTarget({ ...description(), clients: { addresses: '127.77.0.0/16' } }, path.join(dir, 'target.json'));
  assert.equal(t.clients.addresses, '127.77.0.0/16');
  const problemOf = (raw: Record<string, unknown>) => {
    try {
      parseTarget(raw, path.join(dir, 'addresses.json'));
    } catch (err) {
      if (err instanceof TargetError) return err.problems.join('\n');
      throw err;
    }
    return 'accepted';
  };
  // A documentation address (RFC 5737): never on this host, and nothing is sent to it.
  const remote = { ...description(), clients: { addresses: '198.51.100.7/32' } };
  assert.equal(problemOf(remote), 'clients.addresses: 198.51.100.7/32 is outside 127.0.0.0/8: the target must say "allowRemote": true');
  assert.match(problemOf({ ...remote, allowRemote: true }), /^clients\.addresses: 198\.51\.100\.7 \(of 198\.51\.100\.7\/32\) is not an address of this host: assign it to an interface \(its IPv4 addresses: .*\)$/);
  assert.match(problemOf({ ...description(), clients: { addresses: '127.77.0.1/16' } }), /^clients\.addresses: "127\.77\.0\.1\/16" has host bits set: the block is 127\.77\.0\.0\/16$/);
  // A target of clients only runs in the lab the suite starts on loopback.
  const file = path.join(dir, 'clients-only.json');
  writeFileSync(file, JSON.stringify({ name: 'clients', clients: { addresses: '198.51.100.7/32' } }));
  assert.throws(() => loadTargetFile(file), (err: unknown) => err instanceof TargetError && /^clients\.addresses: 198\.51\.100\.7\/32 is outside 127\.0\.0\.0\/8: a target of clients only runs in the lab the suite starts on loopback/.test(err.problems[0]!));
});
