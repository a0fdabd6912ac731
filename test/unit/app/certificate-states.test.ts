import assert from 'node:assert/strict';
import { test } from 'node:test';
import { certificateStates } from '../../../simulators/app/certificate-states.ts';
import type { InventoryEntry } from '../../../simulators/client/admin-client.ts';

const NOW = new Date('2026-12-01T12:00:00Z');
const HOUR = 3600_000;

function entry(deviceId: string, serial: string, notBeforeH: number, notAfterH: number, extra: Partial<InventoryEntry> = {}): InventoryEntry {
  return {
    serial,
    deviceId,
    subject: `CN=${deviceId}`,
    issuer: 'CN=ECM Lab Intermediate CA',
    kind: 'operational',
    via: 'x5c',
    notBefore: new Date(NOW.getTime() + notBeforeH * HOUR).toISOString(),
    notAfter: new Date(NOW.getTime() + notAfterH * HOUR).toISOString(),
    sha256: serial,
    status: 'active',
    state: 'active',
    revocationReason: null,
    revokedAt: null,
    recordedAt: NOW.toISOString(),
    ...extra,
  };
}

test("each identity's newest operational certificate, judged at the application's clock and window", () => {
  const reports = certificateStates(
    [
      entry('A', '01', -1, 100),
      entry('B', '02', -1, 2),
      entry('C', '03', -10, -1),
      entry('D', '04', -1, 100, { status: 'revoked' }),
      entry('E', '05', -20, -10),
      entry('E', '06', -1, 100),
      entry('F', '07', -1, 100, { kind: 'bootstrap' }),
    ],
    NOW,
    24 * HOUR,
  );
  assert.deepEqual(
    reports.map((r) => [r.holder, r.state, r.serial]),
    [['A', 'active', '01'], ['B', 'expiring', '02'], ['C', 'expired', '03'], ['D', 'revoked', '04'], ['E', 'active', '06']],
  );
});

test('the inventory\'s own state field is not trusted: the application\'s clock decides', () => {
  const [report] = certificateStates([entry('A', '01', -1, 1, { state: 'active' })], new Date(NOW.getTime() + 2 * HOUR), 0);
  assert.equal(report?.state, 'expired');
});

test('of two certificates issued in the same second, the one the inventory recorded later is the newest', () => {
  const reports = certificateStates([entry('A', '0a', -1, 100), entry('A', '0b', -1, 100)], NOW, HOUR);
  assert.deepEqual(reports.map((r) => r.serial), ['0b']);
});
