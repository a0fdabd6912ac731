import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createRootCa, issueLeaf } from '../../../x509/certificate-authority.ts';
import {
  Inventory, InventoryError, certificateState, normalizeSerial, type CertificateRecord,
} from '../../../services/provisioning/inventory.ts';

const HOUR = 60 * 60 * 1000;
const root = await createRootCa({ commonName: 'Inventory Test Root', organization: 'ecm-lab', algorithm: 'ecdsa-p256', validityDays: 2 });
const bootstrap = await issueLeaf(root, { commonName: 'reveos-1', ipAddresses: ['127.0.0.5'], extendedKeyUsages: ['clientAuth'] });
const operational = await issueLeaf(root, { commonName: 'reveos-1', extendedKeyUsages: ['clientAuth'] });
const other = await issueLeaf(root, { commonName: 'reveos-2', extendedKeyUsages: ['clientAuth'] });

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'ecm-inventory-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('records a certificate with its metadata, from PEM or X509Certificate', (t) => {
  const inventory = Inventory.open(join(tempDir(t), 'inventory.db'), { now: () => new Date('2025-01-01T00:00:00Z') });
  t.after(() => inventory.close());
  const record = inventory.record(bootstrap.certificatePem, { deviceId: 'SN-1', kind: 'bootstrap' });
  const cert = bootstrap.certificate;
  assert.deepEqual(record, {
    serial: normalizeSerial(cert.serialNumber),
    deviceId: 'SN-1',
    subject: 'CN=reveos-1',
    issuer: cert.issuer,
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    sha256: createHash('sha256').update(new Uint8Array(cert.rawData)).digest('hex'),
    kind: 'bootstrap',
    via: null,
    status: 'active',
    revokedAt: null,
    revocationReason: null,
    recordedAt: new Date('2025-01-01T00:00:00Z'),
    pem: cert.toString('pem'),
  } satisfies CertificateRecord);
  assert.match(record.serial, /^[0-9a-f]+$/);
  const fromObject = inventory.record(operational.certificate, { deviceId: 'SN-1', kind: 'operational' });
  assert.equal(fromObject.kind, 'operational');
});

test('recording is idempotent on the serial and refuses a different certificate under it', (t) => {
  const inventory = Inventory.open(':memory:');
  t.after(() => inventory.close());
  const first = inventory.record(bootstrap.certificatePem, { deviceId: 'SN-1', kind: 'bootstrap' });
  const again = inventory.record(bootstrap.certificate, { deviceId: 'SN-1', kind: 'bootstrap' });
  assert.deepEqual(again, first);
  assert.equal(inventory.list().length, 1);

  // A different certificate already stored under the same serial (another CA reusing serials,
  // or a corrupted file) must not be silently treated as the same one.
  const dir = tempDir(t);
  const file = join(dir, 'clash.db');
  Inventory.open(file).close();
  const raw = new Database(file);
  raw.prepare(`INSERT INTO certificates (serial, device_id, subject, issuer, not_before, not_after, sha256, kind, status, recorded_at, pem)
               VALUES (?, 'SN-X', 's', 'i', '2025-01-01T00:00:00.000Z', '2025-01-02T00:00:00.000Z', 'deadbeef', 'bootstrap', 'active', '2025-01-01T00:00:00.000Z', 'x')`)
    .run(first.serial);
  raw.close();
  const clash = Inventory.open(file);
  t.after(() => clash.close());
  assert.throws(() => clash.record(bootstrap.certificatePem, { deviceId: 'SN-1', kind: 'bootstrap' }), InventoryError);
});

test('lists, filters by device and looks up by any serial spelling', (t) => {
  const inventory = Inventory.open(':memory:');
  t.after(() => inventory.close());
  const a = inventory.record(bootstrap.certificatePem, { deviceId: 'SN-1', kind: 'bootstrap' });
  const b = inventory.record(operational.certificatePem, { deviceId: 'SN-1', kind: 'operational' });
  const c = inventory.record(other.certificatePem, { deviceId: 'SN-2', kind: 'operational' });
  assert.deepEqual(new Set(inventory.list().map((r) => r.serial)), new Set([a.serial, b.serial, c.serial]));
  assert.deepEqual(new Set(inventory.byDevice('SN-1').map((r) => r.kind)), new Set(['bootstrap', 'operational']));
  assert.deepEqual(inventory.byDevice('SN-3'), []);
  const evenHex = a.serial.length % 2 === 0 ? a.serial : `0${a.serial}`;
  const colonUpper = `00${evenHex}`.toUpperCase().match(/../g)!.join(':');
  assert.equal(inventory.get(colonUpper)?.serial, a.serial);
  assert.equal(inventory.get(`0x${a.serial}`)?.serial, a.serial);
  assert.equal(inventory.get('abcdef'), undefined);
  assert.throws(() => inventory.get('not-hex'), InventoryError);
});

test('marks a certificate revoked once, keeping the first time and reason', (t) => {
  const inventory = Inventory.open(':memory:');
  t.after(() => inventory.close());
  const { serial } = inventory.record(operational.certificatePem, { deviceId: 'SN-1', kind: 'operational' });
  const at = new Date('2025-02-03T04:05:06.789Z');
  const revoked = inventory.markRevoked(serial, 'keyCompromise', at);
  assert.equal(revoked?.status, 'revoked');
  assert.deepEqual(revoked?.revokedAt, at);
  assert.equal(revoked?.revocationReason, 'keyCompromise');
  const again = inventory.markRevoked(serial, 'superseded', new Date('2025-03-01T00:00:00Z'));
  assert.deepEqual(again, revoked);
  assert.equal(inventory.markRevoked('abcdef', 'unknown'), undefined);
});

test('survives close and reopen, in WAL mode with a versioned schema', (t) => {
  const file = join(tempDir(t), 'inventory.db');
  const first = Inventory.open(file);
  const recorded = first.record(bootstrap.certificatePem, { deviceId: 'SN-1', kind: 'bootstrap' });
  first.record(other.certificatePem, { deviceId: 'SN-2', kind: 'custom-kind' });
  first.markRevoked(recorded.serial, 'cessationOfOperation', new Date('2025-01-05T00:00:00Z'));
  first.close();

  const reopened = Inventory.open(file);
  t.after(() => reopened.close());
  assert.equal(reopened.list().length, 2);
  const restored = reopened.get(recorded.serial)!;
  assert.equal(restored.status, 'revoked');
  assert.equal(restored.revocationReason, 'cessationOfOperation');
  assert.equal(restored.sha256, recorded.sha256);
  assert.equal(reopened.byDevice('SN-2')[0]!.kind, 'custom-kind');

  const raw = new Database(file, { readonly: true });
  t.after(() => raw.close());
  assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal');
  assert.equal(raw.pragma('user_version', { simple: true }), 2, 'the schema has two migrations (the via column is the second)');
});

test('refuses a database written by a newer schema version', (t) => {
  const file = join(tempDir(t), 'future.db');
  const raw = new Database(file);
  raw.pragma('user_version = 99');
  raw.close();
  assert.throws(() => Inventory.open(file), /schema version 99 is newer than this code/);
});

test('certificateState: revoked wins, then expired, then expiring', () => {
  const notAfter = new Date('2025-01-10T00:00:00Z');
  const active = { status: 'active' as const, notAfter };
  const revoked = { status: 'revoked' as const, notAfter };
  const t = notAfter.getTime();
  assert.equal(certificateState(active, t - 10 * HOUR, HOUR), 'active');
  assert.equal(certificateState(active, t - HOUR, HOUR), 'expiring');
  assert.equal(certificateState(active, new Date(t - 1), HOUR), 'expiring');
  assert.equal(certificateState(active, t, HOUR), 'expiring', 'notAfter itself is still valid');
  assert.equal(certificateState(active, t + 1, HOUR), 'expired');
  assert.equal(certificateState(active, t - 10 * HOUR, 0), 'active');
  assert.equal(certificateState(revoked, t - 10 * HOUR, HOUR), 'revoked');
  assert.equal(certificateState(revoked, t + HOUR, HOUR), 'revoked');
});

test('normalizeSerial yields lowercase hex without leading zeros', () => {
  assert.equal(normalizeSerial('00:AB:0c'), 'ab0c');
  assert.equal(normalizeSerial(' 0x00FF '), 'ff');
  assert.equal(normalizeSerial('0000'), '0');
  assert.throws(() => normalizeSerial(''), InventoryError);
  assert.throws(() => normalizeSerial('12g4'), InventoryError);
});
