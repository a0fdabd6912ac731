import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditLog, REDACTED, redact } from '../../../services/provisioning/audit-log.ts';

const JWT = 'eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJTTi0xIn0.MEUCIQDx_abc-123';
const PRIVATE_KEY_PEM = '-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n';

function tempFile(t: { after: (fn: () => void) => void }, name = 'audit.log'): string {
  const dir = mkdtempSync(join(tmpdir(), 'ecm-audit-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, name);
}

function readLines(file: string): Record<string, unknown>[] {
  return readFileSync(file, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
}

test('writes one JSON object per line with time, appending, mode 0600', (t) => {
  const file = tempFile(t);
  const times = ['2025-01-01T00:00:00.000Z', '2025-01-01T00:00:01.000Z', '2025-01-01T00:00:02.000Z'];
  let tick = 0;
  const log = new AuditLog({ file, now: () => new Date(times[tick++]!) });
  log.write({ event: 'bootstrap', decision: 'served', sourceIp: '127.0.0.5', serial: 'ab12', deviceId: 'SN-1' });
  log.write({ event: 'bootstrap', decision: 'refused', sourceIp: '127.0.0.9', reason: 'not-whitelisted' });
  log.close();
  assert.equal(statSync(file).mode & 0o777, 0o600);

  const reopened = new AuditLog({ file, now: () => new Date(times[tick++]!) });
  reopened.write({ event: 'service', decision: 'info', reason: 'auto-off' });
  reopened.close();
  assert.deepEqual(readLines(file), [
    { time: times[0], event: 'bootstrap', decision: 'served', sourceIp: '127.0.0.5', serial: 'ab12', deviceId: 'SN-1' },
    { time: times[1], event: 'bootstrap', decision: 'refused', sourceIp: '127.0.0.9', reason: 'not-whitelisted' },
    { time: times[2], event: 'service', decision: 'info', reason: 'auto-off' },
  ]);
});

test('tightens an existing log file to 0600', (t) => {
  const file = tempFile(t);
  writeFileSync(file, '');
  chmodSync(file, 0o644);
  new AuditLog({ file }).close();
  assert.equal(statSync(file).mode & 0o777, 0o600);
});

test('the caller cannot set the time of a record', () => {
  const log = new AuditLog({ now: () => new Date('2025-01-01T00:00:00Z') });
  const record = log.write({ event: 'x', decision: 'info', time: '1999-01-01T00:00:00Z' });
  assert.equal(record.time, '2025-01-01T00:00:00.000Z');
});

test('keeps only the last N records in memory, newest first', () => {
  const log = new AuditLog({ capacity: 3 });
  for (let i = 1; i <= 5; i++) log.write({ event: `e${i}`, decision: 'info' });
  assert.deepEqual(log.recent().map((r) => r.event), ['e5', 'e4', 'e3']);
  assert.deepEqual(log.recent(2).map((r) => r.event), ['e5', 'e4']);
  assert.deepEqual(log.recent(0), []);
});

test('redact masks fields whose name looks secret, at any depth', () => {
  const input = {
    event: 'bootstrap',
    privateKey: 'abc',
    apiKey: 'abc',
    token: 'abc',
    ott: 'plain',
    Password: 'hunter2',
    client_secret: 's',
    headers: { Authorization: 'Bearer x', 'user-agent': 'reveos/1.0' },
    list: [{ accessToken: 'a', ok: 1 }],
  };
  assert.deepEqual(redact(input), {
    event: 'bootstrap',
    privateKey: REDACTED,
    apiKey: REDACTED,
    token: REDACTED,
    ott: 'plain',
    Password: REDACTED,
    client_secret: REDACTED,
    headers: { Authorization: REDACTED, 'user-agent': 'reveos/1.0' },
    list: [{ accessToken: REDACTED, ok: 1 }],
  });
});

test('redact masks private keys and JWTs wherever they appear in a string', () => {
  const out = redact({
    csr: PRIVATE_KEY_PEM,
    encrypted: '-----BEGIN ENCRYPTED PRIVATE KEY-----',
    rsa: 'x -----BEGIN RSA PRIVATE KEY----- y',
    ott: JWT,
    reason: `token rejected: ${JWT} (expired)`,
    unsigned: 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.',
    nested: [[JWT]],
  });
  assert.deepEqual(out, {
    csr: REDACTED, encrypted: REDACTED, rsa: REDACTED, ott: REDACTED, reason: REDACTED, unsigned: REDACTED, nested: [[REDACTED]],
  });
});

test('redact leaves dotted names, versions, addresses and certificates alone', () => {
  const harmless = {
    host: 'device.lab.local',
    firmware: '1.4.2',
    ip: '127.0.0.5',
    ipv6: '::ffff:127.0.0.5',
    url: 'https://ca.lab.local:9000/1.0/sign',
    words: 'abc.def.ghi',
    certificate: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----',
    count: 3,
    flag: false,
    none: null,
  };
  assert.deepEqual(redact(harmless), harmless);
});

test('redact produces JSON-safe values and survives cycles', () => {
  const cyclic: Record<string, unknown> = { event: 'x' };
  cyclic.self = cyclic;
  assert.deepEqual(redact(cyclic), { event: 'x', self: '[Circular]' });
  assert.deepEqual(redact({ at: new Date('2025-01-01T00:00:00Z'), big: 10n, fn: () => 1, error: new Error(`bad ${JWT}`) }), {
    at: '2025-01-01T00:00:00.000Z', big: '10', fn: undefined, error: { name: 'Error', message: REDACTED },
  });
});

test('never writes a secret to the file or the memory tail', (t) => {
  const file = tempFile(t);
  const log = new AuditLog({ file });
  log.write({
    event: 'x5c-sign',
    decision: 'refused',
    sourceIp: '127.0.0.5',
    reason: `bad token ${JWT}`,
    request: { headers: { authorization: `Bearer ${JWT}` }, body: { privateKeyPem: PRIVATE_KEY_PEM, note: PRIVATE_KEY_PEM } },
    password: 'hunter2',
  });
  log.close();
  const text = readFileSync(file, 'utf8');
  for (const secret of ['PRIVATE KEY', 'eyJ', 'hunter2', 'MIGHAgEA']) assert.ok(!text.includes(secret), `file contains ${secret}`);
  const memory = JSON.stringify(log.recent());
  for (const secret of ['PRIVATE KEY', 'eyJ', 'hunter2']) assert.ok(!memory.includes(secret), `memory contains ${secret}`);
  assert.equal(readLines(file)[0]!.sourceIp, '127.0.0.5');
});

test('refuses to write after close', () => {
  const log = new AuditLog();
  log.close();
  log.close();
  assert.throws(() => log.write({ event: 'x', decision: 'info' }), /closed/);
});
