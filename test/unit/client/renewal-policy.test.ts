import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  DEFAULT_RENEWAL_POLICY,
  RenewalPolicyError,
  renewalAlerts,
  renewalDueAt,
  renewalStatus,
  SEED_002_RENEWAL_POLICY,
  seedRenewalPolicy,
} from '../../../simulators/client/renewal-policy.ts';

const HOUR = 3600_000;
const DAY = 24 * HOUR;
const t0 = new Date(Date.UTC(2025, 0, 1, 0, 0, 0));
const at = (ms: number) => new Date(t0.getTime() + ms);

describe('renewalDueAt', () => {
  test('defaults to 2/3 of the lifetime (a 24 h certificate renews after 16 h)', () => {
    assert.equal(renewalDueAt(t0, at(24 * HOUR)).toISOString(), at(16 * HOUR).toISOString());
    assert.deepEqual(renewalDueAt(t0, at(24 * HOUR), DEFAULT_RENEWAL_POLICY), at(16 * HOUR));
    assert.deepEqual(renewalDueAt(t0, at(24 * HOUR), {}), at(16 * HOUR));
  });

  test('honours another lifetime fraction', () => {
    assert.deepEqual(renewalDueAt(t0, at(48 * HOUR), { lifetimeFraction: 0.5 }), at(24 * HOUR));
    assert.deepEqual(renewalDueAt(t0, at(10 * HOUR), { lifetimeFraction: 1 }), at(10 * HOUR));
  });

  test('"renew when less than X remains" replaces the default fraction', () => {
    assert.deepEqual(renewalDueAt(t0, at(90 * DAY), { renewBeforeMs: 7 * DAY }), at(83 * DAY));
    assert.deepEqual(renewalDueAt(t0, at(90 * DAY), SEED_002_RENEWAL_POLICY), at(83 * DAY));
  });

  test('with both a fraction and a threshold the earlier moment wins', () => {
    assert.deepEqual(renewalDueAt(t0, at(90 * DAY), { lifetimeFraction: 2 / 3, renewBeforeMs: 7 * DAY }), at(60 * DAY));
    assert.deepEqual(renewalDueAt(t0, at(24 * HOUR), { lifetimeFraction: 0.9, renewBeforeMs: 12 * HOUR }), at(12 * HOUR));
  });

  test('a threshold longer than the lifetime makes renewal due at issuance, never before', () => {
    assert.deepEqual(renewalDueAt(t0, at(24 * HOUR), { renewBeforeMs: 7 * DAY }), t0);
  });

  test('rejects nonsense with precise errors', () => {
    assert.throws(() => renewalDueAt(at(HOUR), t0), (e: unknown) => e instanceof RenewalPolicyError && /notAfter .* must be after notBefore/.test(e.message));
    assert.throws(() => renewalDueAt(t0, t0), RenewalPolicyError);
    assert.throws(() => renewalDueAt(t0, at(DAY), { lifetimeFraction: 0 }), /lifetimeFraction must be in \(0, 1\], got 0/);
    assert.throws(() => renewalDueAt(t0, at(DAY), { lifetimeFraction: 1.5 }), /got 1\.5/);
    assert.throws(() => renewalDueAt(t0, at(DAY), { lifetimeFraction: Number.NaN }), /lifetimeFraction/);
    assert.throws(() => renewalDueAt(t0, at(DAY), { renewBeforeMs: -1 }), /renewBeforeMs must be a finite number >= 0, got -1/);
    assert.throws(() => renewalStatus(t0, at(DAY), t0, { warningBeforeMs: Infinity }), /warningBeforeMs/);
  });
});

describe('renewalStatus', () => {
  test('default policy on a 24 h certificate: ok, due+warning at 16 h, critical at 20 h, expired at 24 h', () => {
    const nb = t0;
    const na = at(24 * HOUR);
    const s = (h: number) => renewalStatus(nb, na, at(h * HOUR));
    assert.deepEqual(s(0), { due: false, dueAt: at(16 * HOUR), remainingMs: 24 * HOUR, level: 'ok' });
    assert.equal(s(15.99).level, 'ok');
    assert.equal(s(15.99).due, false);
    assert.deepEqual([s(16).due, s(16).level], [true, 'warning']);
    assert.equal(s(19.99).level, 'warning');
    assert.equal(s(20).level, 'critical');
    assert.equal(s(23.99).level, 'critical');
    assert.deepEqual([s(24).level, s(24).remainingMs, s(24).due], ['expired', 0, true]);
    assert.deepEqual([s(25).level, s(25).remainingMs], ['expired', -HOUR]);
  });

  test('seed 002 thresholds on a 1-year certificate: warning at 30 days left, due and critical at 7', () => {
    const na = at(365 * DAY);
    const left = (d: number) => renewalStatus(t0, na, new Date(na.getTime() - d * DAY), SEED_002_RENEWAL_POLICY);
    assert.deepEqual([left(90).level, left(90).due], ['ok', false]);
    assert.deepEqual([left(30.01).level, left(30).level, left(30).due], ['ok', 'warning', false]);
    assert.deepEqual([left(7.01).level, left(7.01).due], ['warning', false]);
    assert.deepEqual([left(7).level, left(7).due], ['critical', true]);
    assert.equal(left(7).dueAt.toISOString(), new Date(na.getTime() - 7 * DAY).toISOString());
    assert.equal(left(0).level, 'expired');
  });

  test('explicit warning/critical thresholds apply with the default 2/3 due date', () => {
    const policy = { lifetimeFraction: 2 / 3, warningBeforeMs: 12 * HOUR, criticalBeforeMs: 2 * HOUR };
    const s = (h: number) => renewalStatus(t0, at(24 * HOUR), at(h * HOUR), policy);
    assert.deepEqual([s(11).level, s(12).level, s(16).due, s(21).level, s(22).level], ['ok', 'warning', true, 'warning', 'critical']);
  });

  test('a certificate not yet valid is ok and not due', () => {
    const s = renewalStatus(at(HOUR), at(25 * HOUR), t0);
    assert.deepEqual([s.level, s.due, s.remainingMs], ['ok', false, 25 * HOUR]);
  });
});

describe('seed 002 thresholds on a scaled day', () => {
  test('alerts at 90 and 30 days, renewal at 7, on a real day', () => {
    const na = at(365 * DAY);
    const policy = seedRenewalPolicy();
    assert.deepEqual(renewalAlerts(t0, na, policy).map((a) => a.at), [at(275 * DAY), at(335 * DAY)]);
    assert.deepEqual(renewalDueAt(t0, na, policy), at(358 * DAY));
    assert.deepEqual(policy, SEED_002_RENEWAL_POLICY);
  });

  test('the same thresholds on a day of 150 ms', () => {
    const day = 150;
    const policy = seedRenewalPolicy({ dayMs: day });
    assert.deepEqual(renewalAlerts(t0, at(100 * day), policy).map((a) => [a.at.getTime() - t0.getTime(), a.beforeMs]), [[10 * day, 90 * day], [70 * day, 30 * day]]);
    assert.deepEqual(renewalDueAt(t0, at(100 * day), policy), at(93 * day));
  });

  test('an alert before issuance or at or after the renewal is left out', () => {
    const policy = seedRenewalPolicy({ alertDays: [90, 30, 5] });
    assert.deepEqual(renewalAlerts(t0, at(60 * DAY), policy).map((a) => a.beforeMs / DAY), [30]);
  });

  test('configurable thresholds', () => {
    const policy = seedRenewalPolicy({ alertDays: [14, 60], renewDays: 3 });
    assert.deepEqual(policy.alertsBeforeMs, [60 * DAY, 14 * DAY]);
    assert.equal(policy.renewBeforeMs, 3 * DAY);
    assert.throws(() => renewalAlerts(t0, at(DAY), { alertsBeforeMs: [-1] }), RenewalPolicyError);
  });
});
