import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DURATION_PATTERN, DurationError, durationValue, GO_DURATION_PATTERN, parseDuration } from '../../../config/durations.ts';
import { loadConfig } from '../../../config/config.ts';

test('Go durations, compound and fractional, are read in milliseconds, fractions kept', () => {
  assert.equal(parseDuration('1m30s'), 90_000);
  assert.equal(parseDuration('1h30m'), 5_400_000);
  assert.equal(parseDuration('2h'), 7_200_000);
  assert.equal(parseDuration('1.5h'), 5_400_000);
  assert.equal(parseDuration('1500ms'), 1500);
  assert.equal(parseDuration('1s500ms'), 1500);
  assert.equal(parseDuration('250us'), 0.25);
  assert.equal(parseDuration('2500000ns'), 2.5);
  assert.equal(parseDuration('0.001', 'ms'), 0.001, 'a latency threshold below a millisecond');
  assert.equal(parseDuration('0'), 0);
  assert.equal(parseDuration(' 30s '), 30_000, 'surrounding blanks of a command line are forgiven');
});

test('a bare number means what that option or key read before: milliseconds, seconds, or nothing', () => {
  assert.equal(parseDuration('1500', 'ms'), 1500);
  assert.equal(parseDuration('30', 's'), 30_000);
  assert.equal(parseDuration('0.5', 's'), 500);
  assert.throws(() => parseDuration('30'), (err: Error) => err instanceof DurationError && /"30" has no unit: use a duration such as 1m30s/.test(err.message));
});

test('what is not a duration is refused with the form to use', () => {
  for (const bad of ['', 'soon', '30 s', '1m30', 'm30s', '-5s', '5d', '1h 30m', '30S', '1..5s']) {
    assert.throws(() => parseDuration(bad, 'ms'), (err: Error) => err instanceof DurationError && err.message.includes('a duration such as 1m30s'), bad);
  }
});

test('the JSON Schema pattern accepts exactly what the parser accepts with a bare unit', () => {
  const pattern = new RegExp(DURATION_PATTERN);
  for (const good of ['1m30s', '1500', '2.5', '0', '1.5h', '90s', '250ms']) assert.ok(pattern.test(good), good);
  for (const bad of ['soon', '-5s', '5d', '1h 30m', '30 s']) assert.ok(!pattern.test(bad), bad);
});

test('step-ca settings stay Go text with units; config values in ms or s take numbers or durations', () => {
  const go = new RegExp(GO_DURATION_PATTERN);
  assert.ok(go.test('2160h') && go.test('1h30m') && go.test('1.5h'));
  assert.ok(!go.test('0') && !go.test('24') && !go.test('one day') && !go.test('1h 30m'));
  assert.equal(durationValue(1234, 'ms'), 1234);
  assert.equal(durationValue('2m', 's'), 120);
  assert.equal(durationValue('1500', 'ms'), 1500);
});

test('the config reads durations in both forms, from the file and from ECM_LAB_* variables', () => {
  const config = loadConfig({ env: { ECM_LAB_READINESS_TIMEOUT_MS: '1m30s', ECM_LAB_DAY_MS: '1500' }, overrides: { provisioning: { expiringWithinSeconds: '2h' }, broker: { crlRefreshIntervalMs: '250ms' } } });
  assert.equal(config.readinessTimeoutMs, 90_000);
  assert.equal(config.clock.dayMs, 1500);
  assert.equal(config.provisioning.expiringWithinSeconds, 7200);
  assert.equal(config.broker.crlRefreshIntervalMs, 250);
  assert.equal(loadConfig({ env: {} }).readinessTimeoutMs, 30_000);
  assert.throws(() => loadConfig({ env: { ECM_LAB_READINESS_TIMEOUT_MS: 'soon' } }), /readinessTimeoutMs: must be a duration such as "1m30s"/);
  assert.throws(() => loadConfig({ env: {}, overrides: { provisioning: { externalCrlCheckIntervalMs: '50ms' } } }), /provisioning\.externalCrlCheckIntervalMs: .*>=100/);
});
