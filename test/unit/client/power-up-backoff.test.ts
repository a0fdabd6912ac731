// The power-up's retries: provisioning refusals and their backoff, broken operations, the backoff policy itself.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { backoffDelay, BackoffPolicyError, DEFAULT_BACKOFF, defaultIsBootstrapRefusal, powerUp, resolveBackoff } from '../../../simulators/client/power-up.ts';
import { CaRefusalError } from '../../../simulators/client/x5c-sign.ts';
import { FakeDevice, invalid, harness, assertWellFormed, refused } from '../../support/power-up-fixture.ts';

describe('provisioning refusals and backoff', () => {
  test('refusals are retried with growing delays until the engineer turns the service on', async () => {
    const device = new FakeDevice({ validation: invalid('missing-files'), script: { provision: [refused(), refused(), refused()] } });
    const { options, slept, events } = harness({ backoff: { initialMs: 500, factor: 2, maxMs: 10_000, maxAttempts: 5, jitter: 0 } });
    const outcome = await powerUp(device, options);
    assert.equal(outcome.state, 'connected');
    assert.deepEqual(slept, [500, 1000, 2000]);
    assert.deepEqual(outcome.delaysMs, slept);
    assert.deepEqual(outcome.attempts.provision, { attempts: 4, refusals: 3, errors: 0 });
    assert.deepEqual(outcome.path.slice(2, 9), ['provisioning', 'backing-off', 'provisioning', 'backing-off', 'provisioning', 'backing-off', 'provisioning']);
    const backingOff = outcome.transitions.filter((t) => t.to === 'backing-off');
    assert.deepEqual(backingOff.map((t) => t.delayMs), [500, 1000, 2000]);
    assert.match(backingOff[0]!.reason, /^provision refused \(attempt 1\/5\): ProvisioningRefusedError: provisioning refused \(HTTP 403\): provisioning service is OFF; retrying in 500 ms$/);
    // The injected clock moved only by the delays.
    const retry = outcome.transitions.find((t) => t.from === 'backing-off')!;
    assert.equal(retry.at - backingOff[0]!.at, 500);
    assert.match(retry.reason, /^retry 2\/5 of provision$/);
    assertWellFormed(outcome, events);
  });

  test('delays grow, are capped at maxMs, and attempts stop at maxAttempts', async () => {
    const device = new FakeDevice({ validation: invalid(), script: { provision: Array.from({ length: 50 }, refused) } });
    const { options, slept, events } = harness({ backoff: { initialMs: 100, factor: 3, maxMs: 1000, maxAttempts: 6, jitter: 0 } });
    const outcome = await powerUp(device, options);
    assert.equal(outcome.state, 'failed');
    assert.deepEqual(slept, [100, 300, 900, 1000, 1000], 'one delay between each of the 6 attempts');
    assert.equal(device.calls.filter((c) => c === 'provision').length, 6);
    assert.ok(!device.calls.includes('getCertificate'));
    assert.deepEqual(outcome.attempts.provision, { attempts: 6, refusals: 6, errors: 0 });
    assert.match(outcome.error ?? '', /^provision gave up after 6 attempts \(6 refusals, 0 other errors\); last: ProvisioningRefusedError/);
    assert.equal(outcome.transitions.at(-1)!.from, 'provisioning');
    assertWellFormed(outcome, events);
  });

  test('other provisioning errors are retried too but counted separately', async () => {
    const device = new FakeDevice({
      validation: invalid(),
      script: { provision: [refused(), new TypeError('fetch failed'), refused(), new Error('ECONNREFUSED 127.0.0.1:8443')] },
    });
    const { options } = harness({ backoff: { maxAttempts: 5 } });
    const outcome = await powerUp(device, options);
    assert.equal(outcome.state, 'connected');
    assert.deepEqual(outcome.attempts.provision, { attempts: 5, refusals: 2, errors: 2 });
    assert.match(outcome.transitions.filter((t) => t.to === 'backing-off')[1]!.reason, /^provision failed \(attempt 2\/5\): TypeError: fetch failed/);
  });

  test('jitter shortens each delay by at most its fraction and never exceeds the cap', async () => {
    let seed = 12345;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const policy = { initialMs: 1000, factor: 2, maxMs: 8000, maxAttempts: 10, jitter: 0.5 };
    const device = new FakeDevice({ validation: invalid(), script: { provision: Array.from({ length: 20 }, refused) } });
    const { options, slept } = harness({ backoff: policy, random });
    await powerUp(device, options);
    assert.equal(slept.length, 9);
    slept.forEach((ms, i) => {
      const base = Math.min(8000, 1000 * 2 ** i);
      assert.ok(ms >= base * 0.5 && ms <= base, `delay ${i + 1}: ${ms} within [${base / 2}, ${base}]`);
    });
    assert.ok(new Set(slept).size > 5, 'jittered delays differ');
    const withMaxRandom = await powerUp(new FakeDevice({ validation: invalid(), script: { provision: [refused()] } }), harness({ backoff: policy, random: () => 0.999999 }).options);
    assert.equal(withMaxRandom.delaysMs[0], 500);
  });
});

describe('broken operations', () => {
  test('validate() throwing fails the power-up with the reason', async () => {
    const device = new FakeDevice();
    device.validate = () => {
      throw new Error('EACCES: permission denied, open local.crt');
    };
    const { options, events } = harness();
    const outcome = await powerUp(device, options);
    assert.deepEqual(outcome.path, ['validating', 'failed']);
    assert.equal(outcome.error, 'validating: Error: EACCES: permission denied, open local.crt');
    assertWellFormed(outcome, events);
  });

  test('sleep() rejecting (power-down during a backoff) fails from backing-off', async () => {
    const device = new FakeDevice({ validation: invalid(), script: { provision: [refused()] } });
    const { options } = harness({ sleep: () => Promise.reject(new Error('aborted')) });
    const outcome = await powerUp(device, options);
    assert.deepEqual(outcome.path.slice(-3), ['provisioning', 'backing-off', 'failed']);
    assert.match(outcome.error ?? '', /^backing-off: Error: aborted/);
  });
});

describe('backoff policy', () => {
  test('backoffDelay is exponential, capped and jittered downwards', () => {
    const p = { initialMs: 100, maxMs: 1000, factor: 2, maxAttempts: 10, jitter: 0.25 };
    assert.deepEqual([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(p, n, () => 0)), [100, 200, 400, 800, 1000, 1000]);
    assert.deepEqual([1, 5].map((n) => backoffDelay(p, n, () => 1)), [75, 750]);
    assert.equal(backoffDelay({ ...p, factor: 1 }, 7, () => 0), 100, 'factor 1: constant delay');
  });

  test('resolveBackoff fills defaults and names every invalid field', () => {
    assert.deepEqual(resolveBackoff(), DEFAULT_BACKOFF);
    assert.deepEqual(resolveBackoff({ maxAttempts: 3 }), { ...DEFAULT_BACKOFF, maxAttempts: 3 });
    assert.throws(
      () => resolveBackoff({ initialMs: -1, factor: 0.5, maxAttempts: 0, jitter: 2 }),
      (e: unknown) =>
        e instanceof BackoffPolicyError &&
        /initialMs must be >= 0 \(got -1\)/.test(e.message) &&
        /factor must be >= 1 \(got 0\.5\)/.test(e.message) &&
        /maxAttempts must be an integer >= 1 \(got 0\)/.test(e.message) &&
        /jitter must be within \[0, 1\] \(got 2\)/.test(e.message),
    );
    assert.throws(() => resolveBackoff({ initialMs: 5000, maxMs: 1000 }), /maxMs must be >= initialMs \(got 1000 < 5000\)/);
    assert.throws(() => resolveBackoff({ maxAttempts: 2.5 }), /maxAttempts/);
  });

  test('powerUp rejects an invalid policy before doing anything', async () => {
    const device = new FakeDevice();
    await assert.rejects(powerUp(device, harness({ backoff: { factor: 0 } }).options), BackoffPolicyError);
    assert.deepEqual(device.calls, []);
  });

  test('bootstrap refusals: step-ca 401/403, not server errors, look-alikes or provisioning refusals', () => {
    assert.equal(defaultIsBootstrapRefusal(new CaRefusalError(401, 'x')), true);
    assert.equal(defaultIsBootstrapRefusal(new CaRefusalError(403, 'x')), true);
    assert.equal(defaultIsBootstrapRefusal(new CaRefusalError(500, 'x')), false);
    assert.equal(defaultIsBootstrapRefusal(Object.assign(new Error('x'), { name: 'CaRefusalError', status: 401 })), false, 'a look-alike is not one');
    assert.equal(defaultIsBootstrapRefusal(refused()), false);
    assert.equal(defaultIsBootstrapRefusal(new Error('ECONNRESET')), false);
    assert.equal(defaultIsBootstrapRefusal(null), false);
    assert.equal(defaultIsBootstrapRefusal('401'), false);
  });
});
