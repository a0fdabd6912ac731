import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CertificateRecord } from '../../../services/provisioning/inventory.ts';
import { supersededCertificates } from '../../../services/provisioning/revocation.ts';

const T0 = Date.UTC(2026, 0, 1);
const S = 1000;

function record(serial: string, deviceId: string, issuedS: number, extra: Partial<CertificateRecord> = {}): CertificateRecord {
  return {
    serial, deviceId, subject: `CN=${deviceId}`, issuer: 'CN=issuing', sha256: serial, kind: 'operational', via: 'x5c', status: 'active',
    // step-ca backdates notBefore by a minute: the grace counts from when the service saw it.
    notBefore: new Date(T0 + issuedS * S - 60 * S), notAfter: new Date(T0 + (issuedS + 3600) * S),
    recordedAt: new Date(T0 + issuedS * S), revokedAt: null, revocationReason: null, pem: '', ...extra,
  };
}

test('an older active certificate of the same identity is superseded, its grace counted from the successor', () => {
  const found = supersededCertificates([record('a', 'RVS-1', 0), record('b', 'RVS-1', 100), record('c', 'RVS-2', 50)], T0 + 101 * S, 7 * S);
  assert.deepEqual(found.map((s) => [s.record.serial, s.successor.serial, s.graceEndsAt - T0]), [['a', 'b', 107 * S]]);
});

test('each certificate is superseded by the next one, not the newest', () => {
  const found = supersededCertificates([record('c', 'RVS-1', 200), record('a', 'RVS-1', 0), record('b', 'RVS-1', 100)], T0 + 300 * S, 0);
  assert.deepEqual(found.map((s) => [s.record.serial, s.successor.serial]), [['a', 'b'], ['b', 'c']]);
});

test('revoked, expired, bootstrap and lone certificates are left alone', () => {
  const records = [
    record('a', 'RVS-1', 0, { status: 'revoked' }), record('b', 'RVS-1', 100),
    record('c', 'RVS-2', 0, { notAfter: new Date(T0 + 10 * S) }), record('d', 'RVS-2', 100),
    record('e', 'RVS-3', 0, { kind: 'bootstrap' }), record('f', 'RVS-3', 100, { kind: 'bootstrap' }),
    record('g', 'RVS-4', 0),
  ];
  assert.deepEqual(supersededCertificates(records, T0 + 200 * S, 0), []);
});
