// Every path of the power-up state machine, one test each: long because the paths are many.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ValidationResult } from '../../../simulators/client/certificate-validation.ts';
import {
  backoffDelay,
  BackoffPolicyError,
  DEFAULT_BACKOFF,
  defaultIsBootstrapRefusal,
  POWER_UP_TRANSITIONS,
  powerUp,
  resolveBackoff,
  type PowerUpOperations,
  type PowerUpOptions,
  type PowerUpOutcome,
  type TransitionEvent,
} from '../../../simulators/client/power-up.ts';
import { ProvisioningRefusedError } from '../../../simulators/client/acme-bootstrap.ts';
import { CaRefusalError } from '../../../simulators/client/x5c-sign.ts';
import { BrokerUntrustedError, CertificateRefusedByBrokerError } from '../../../simulators/client/connection-errors.ts';

const HOUR = 3600_000;
const T0 = Date.UTC(2025, 0, 1, 12, 0, 0);

type Step = 'ok' | Error;

/** Scripted operations: each async operation plays its steps in order, then succeeds. */
class FakeDevice implements PowerUpOperations {
  readonly calls: string[] = [];
  bootstrapValid = false;
  validation: ValidationResult = validFor(T0 - HOUR, T0 + 23 * HOUR);
  script: Record<'provision' | 'getCertificate' | 'connect' | 'renew', Step[]> = { provision: [], getCertificate: [], connect: [], renew: [] };

  constructor(init: Partial<Pick<FakeDevice, 'bootstrapValid' | 'validation'>> & { script?: Partial<FakeDevice['script']> } = {}) {
    if (init.bootstrapValid !== undefined) this.bootstrapValid = init.bootstrapValid;
    if (init.validation) this.validation = init.validation;
    Object.assign(this.script, init.script);
  }

  validate(): ValidationResult {
    this.calls.push('validate');
    return this.validation;
  }
  discardOperational(): void {
    this.calls.push('discardOperational');
  }
  hasValidBootstrap(): boolean {
    this.calls.push('hasValidBootstrap');
    return this.bootstrapValid;
  }
  private async play(op: keyof FakeDevice['script']): Promise<void> {
    this.calls.push(op);
    const step = this.script[op].shift() ?? 'ok';
    if (step !== 'ok') throw step;
    if (op === 'provision') this.bootstrapValid = true;
  }
  provision = () => this.play('provision');
  getCertificate = () => this.play('getCertificate');
  connect = () => this.play('connect');
  renew = () => this.play('renew');
}

function validFor(notBefore: number, notAfter: number): ValidationResult {
  return {
    valid: true,
    facts: {
      serial: '0a',
      notBefore: new Date(notBefore),
      notAfter: new Date(notAfter),
      subjectCommonName: 'RVS-TEST0001',
      issuerCommonName: 'Intermediate',
      deviceSan: 'urn:ecm-lab:device:RVS-TEST0001',
      extendedKeyUsages: ['clientAuth'],
      sha256Fingerprint: '00',
      chainLength: 2,
      crlsApplied: 0,
      crlsIgnored: 0,
    },
  };
}

const invalid = (reason: 'expired' | 'revoked' | 'missing-files' = 'expired'): ValidationResult => ({ valid: false, reason, message: `${reason} for the test` });

/** A clock that only moves when the machine sleeps; sleep() records the requested delays. */
function harness(overrides: Partial<PowerUpOptions> = {}) {
  let now = T0;
  const slept: number[] = [];
  const events: TransitionEvent[] = [];
  const options: PowerUpOptions = {
    sleep: async (ms) => {
      slept.push(ms);
      now += ms;
    },
    random: () => 0,
    now: () => new Date(now),
    onTransition: (e) => events.push(e),
    ...overrides,
  };
  return { options, slept, events };
}

function assertWellFormed(outcome: PowerUpOutcome, events: TransitionEvent[]): void {
  assert.deepEqual(events, outcome.transitions, 'onTransition saw every transition');
  assert.equal(outcome.path[0], 'validating');
  assert.equal(outcome.path.at(-1), outcome.state);
  outcome.transitions.forEach((t, i) => {
    assert.equal(t.from, outcome.path[i]);
    assert.equal(t.to, outcome.path[i + 1]);
    assert.ok(POWER_UP_TRANSITIONS[t.from].includes(t.to), `${t.from} -> ${t.to} is a declared edge`);
    assert.ok(t.reason.length > 0);
  });
}

const refused = () => new ProvisioningRefusedError(403, 'provisioning service is OFF');
const bootstrapRefused = () => new CaRefusalError(401, 'x5c: certificate has expired');

describe('power-up paths', () => {
  test('a valid operational certificate connects directly', async () => {
    const device = new FakeDevice();
    const { options, events } = harness();
    const outcome = await powerUp(device, options);
    assert.equal(outcome.state, 'connected');
    assert.deepEqual(outcome.path, ['validating', 'connecting', 'connected']);
    assert.deepEqual(device.calls, ['validate', 'connect']);
    assert.match(outcome.transitions[0]!.reason, /valid until 2025-01-02T11:00:00\.000Z/);
    assert.equal(outcome.validation?.valid, true);
    assertWellFormed(outcome, events);
  });

  test('UC-01/UC-03: an invalid certificate and no bootstrap: discard, provision, obtain, connect', async () => {
    const device = new FakeDevice({ validation: invalid('expired') });
    const { options, events } = harness();
    const outcome = await powerUp(device, options);
    assert.deepEqual(outcome.path, ['validating', 'discarding', 'provisioning', 'obtaining-operational', 'connecting', 'connected']);
    assert.deepEqual(device.calls, ['validate', 'discardOperational', 'hasValidBootstrap', 'provision', 'getCertificate', 'connect']);
    assert.equal(outcome.transitions[0]!.reason, 'expired: expired for the test', 'the validation reason is logged');
    assert.match(outcome.transitions[1]!.reason, /no valid bootstrap/);
    assertWellFormed(outcome, events);
  });

  test('a still-valid bootstrap re-acquires the operational certificate without re-provisioning', async () => {
    const device = new FakeDevice({ validation: invalid('revoked'), bootstrapValid: true });
    const { options, events } = harness();
    const outcome = await powerUp(device, options);
    assert.deepEqual(outcome.path, ['validating', 'discarding', 'obtaining-operational', 'connecting', 'connected']);
    assert.ok(!device.calls.includes('provision'));
    assert.equal(outcome.attempts.provision.attempts, 0);
    assertWellFormed(outcome, events);
  });

  test('a refused bootstrap (expired/revoked) falls back to provision()', async () => {
    const device = new FakeDevice({ validation: invalid(), bootstrapValid: true, script: { getCertificate: [bootstrapRefused()] } });
    const { options, events } = harness();
    const outcome = await powerUp(device, options);
    assert.deepEqual(outcome.path, ['validating', 'discarding', 'obtaining-operational', 'provisioning', 'obtaining-operational', 'connecting', 'connected']);
    assert.match(outcome.transitions[2]!.reason, /bootstrap certificate refused \(CaRefusalError: step-ca refused the request \(HTTP 401\)/);
    assert.deepEqual(outcome.attempts.getCertificate, { attempts: 2, refusals: 1, errors: 0 });
    assertWellFormed(outcome, events);
  });

  test('a freshly provisioned bootstrap that is refused too ends in failed, not a loop', async () => {
    const device = new FakeDevice({ validation: invalid(), bootstrapValid: true, script: { getCertificate: [bootstrapRefused(), bootstrapRefused()] } });
    const { options, events } = harness();
    const outcome = await powerUp(device, options);
    assert.equal(outcome.state, 'failed');
    assert.deepEqual(outcome.path, ['validating', 'discarding', 'obtaining-operational', 'provisioning', 'obtaining-operational', 'failed']);
    assert.match(outcome.error ?? '', /freshly provisioned bootstrap/);
    assertWellFormed(outcome, events);
  });

  test('a transient getCertificate error is retried with backoff, without re-provisioning', async () => {
    const device = new FakeDevice({ validation: invalid(), bootstrapValid: true, script: { getCertificate: [new Error('ECONNRESET'), new CaRefusalError(500, 'db')] } });
    const { options, slept, events } = harness();
    const outcome = await powerUp(device, options);
    assert.deepEqual(outcome.path, [
      'validating', 'discarding',
      'obtaining-operational', 'backing-off', 'obtaining-operational', 'backing-off', 'obtaining-operational',
      'connecting', 'connected',
    ]);
    assert.deepEqual(slept, [1000, 2000]);
    assert.deepEqual(outcome.attempts.getCertificate, { attempts: 3, refusals: 0, errors: 2 });
    assertWellFormed(outcome, events);
  });
});

describe('renewal at power-up (NFR-REL-001)', () => {
  const dueCertificate = validFor(T0 - 20 * HOUR, T0 + 4 * HOUR); // 20 h into a 24 h lifetime: past 2/3

  test('a valid certificate past 2/3 of its lifetime is renewed before connecting', async () => {
    const device = new FakeDevice({ validation: dueCertificate });
    const { options, events } = harness();
    const outcome = await powerUp(device, options);
    assert.deepEqual(outcome.path, ['validating', 'renewing', 'connecting', 'connected']);
    assert.match(outcome.transitions[0]!.reason, /renewal due since 2025-01-01T08:00:00\.000Z/);
    assertWellFormed(outcome, events);
  });

  test('the renewal policy is injectable and can be turned off', async () => {
    const off = await powerUp(new FakeDevice({ validation: dueCertificate }), harness({ renewalPolicy: false }).options);
    assert.deepEqual(off.path, ['validating', 'connecting', 'connected']);
    const late = await powerUp(new FakeDevice({ validation: dueCertificate }), harness({ renewalPolicy: { renewBeforeMs: HOUR } }).options);
    assert.deepEqual(late.path, ['validating', 'connecting', 'connected'], '4 h left, renew only at 1 h');
  });

  test('a failed renewal falls back to getCertificate() with a valid bootstrap, the old certificate kept', async () => {
    const device = new FakeDevice({ validation: dueCertificate, bootstrapValid: true, script: { renew: [new CaRefusalError(401, 'renew refused')] } });
    const { options, events } = harness();
    const outcome = await powerUp(device, options);
    assert.deepEqual(outcome.path, ['validating', 'renewing', 'obtaining-operational', 'connecting', 'connected']);
    assert.ok(!device.calls.includes('discardOperational'));
    assert.match(outcome.transitions[1]!.reason, /renewal failed .*renew refused.*bootstrap certificate still valid/);
    assert.deepEqual(outcome.attempts.renew, { attempts: 1, refusals: 0, errors: 1 });
    assertWellFormed(outcome, events);
  });

  test('a failed renewal without a valid bootstrap re-provisions', async () => {
    const device = new FakeDevice({ validation: dueCertificate, script: { renew: [new Error('socket hang up')] } });
    const { options, events } = harness();
    const outcome = await powerUp(device, options);
    assert.deepEqual(outcome.path, ['validating', 'renewing', 'provisioning', 'obtaining-operational', 'connecting', 'connected']);
    assertWellFormed(outcome, events);
  });
});

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

describe('connecting', () => {
  test('a broker that is restarting is retried (NFR-REL-002)', async () => {
    const device = new FakeDevice({ script: { connect: [new Error('connack timeout'), new Error('ECONNREFUSED')] } });
    const { options, slept, events } = harness();
    const outcome = await powerUp(device, options);
    assert.deepEqual(outcome.path, ['validating', 'connecting', 'backing-off', 'connecting', 'backing-off', 'connecting', 'connected']);
    assert.deepEqual(slept, [DEFAULT_BACKOFF.initialMs, DEFAULT_BACKOFF.initialMs * DEFAULT_BACKOFF.factor]);
    assertWellFormed(outcome, events);
  });

  test('a broker that never accepts ends in failed after maxAttempts', async () => {
    const device = new FakeDevice({ script: { connect: Array.from({ length: 10 }, () => new Error('not authorized')) } });
    const { options } = harness({ backoff: { maxAttempts: 3 } });
    const outcome = await powerUp(device, options);
    assert.equal(outcome.state, 'failed');
    assert.deepEqual(outcome.attempts.connect, { attempts: 3, refusals: 0, errors: 3 });
    assert.match(outcome.error ?? '', /^connect gave up after 3 attempts/);
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

describe('connection refusals (UC-03 revoked while offline, UC-05 root rotation)', () => {
  test('a certificate the broker refuses is discarded and re-acquired with the bootstrap certificate', async () => {
    const refused = new CertificateRefusedByBrokerError('own-certificate-revoked', 'own-certificate-revoked: alert certificate revoked');
    const device = new FakeDevice({ bootstrapValid: true, script: { connect: [refused] } });
    const { options, events } = harness();
    const outcome = await powerUp(device, options);
    assertWellFormed(outcome, events);
    assert.deepEqual(outcome.path, ['validating', 'connecting', 'discarding', 'obtaining-operational', 'connecting', 'connected']);
    assert.equal(outcome.attempts.connect.refusals, 1);
  });

  test('an untrusted broker leads to a new trust anchor and a fresh validation; no anchor change means backing off', async () => {
    const untrusted = () => new BrokerUntrustedError('broker-untrusted: unable to get local issuer certificate');
    const device = Object.assign(new FakeDevice({ script: { connect: [untrusted()] } }), { refreshTrustAnchor: async () => true });
    let validations = 0;
    device.validate = () => (validations++ === 0 ? validFor(T0 - HOUR, T0 + 23 * HOUR) : invalid('expired'));
    const { options, events } = harness();
    const outcome = await powerUp(device, options);
    assertWellFormed(outcome, events);
    assert.deepEqual(outcome.path, ['validating', 'connecting', 'validating', 'discarding', 'provisioning', 'obtaining-operational', 'connecting', 'connected']);

    const unchanged = Object.assign(new FakeDevice({ script: { connect: [untrusted()] } }), { refreshTrustAnchor: async () => false });
    const second = harness();
    const outcome2 = await powerUp(unchanged, second.options);
    assert.deepEqual(outcome2.path, ['validating', 'connecting', 'backing-off', 'connecting', 'connected']);
  });

  test('refusals by the broker are bounded by maxAttempts', async () => {
    const refused = () => new CertificateRefusedByBrokerError('own-certificate-refused', 'alert unknown ca');
    const device = new FakeDevice({ bootstrapValid: true, script: { connect: [refused(), refused(), refused(), refused()] } });
    const { options } = harness({ backoff: { maxAttempts: 3 } });
    const outcome = await powerUp(device, options);
    assert.equal(outcome.state, 'failed');
    assert.equal(outcome.attempts.connect.attempts, 3);
  });
});

describe('firmware that does not provision itself (seed 000: 2.0 and 1.x)', () => {
  test('without a valid certificate it waits for the service team: no ACME, no X5C', async () => {
    const device = new FakeDevice({ validation: invalid('missing-files') });
    const { options, events } = harness({ selfProvisioning: false });
    const outcome = await powerUp(device, options);
    assert.deepEqual([outcome.state, outcome.path], ['awaiting-certificate', ['validating', 'discarding', 'awaiting-certificate']]);
    assert.deepEqual(device.calls, ['validate', 'discardOperational']);
    assertWellFormed(outcome, events);
  });

  test('a certificate due for renewal is used as it is: this firmware never renews', async () => {
    const device = new FakeDevice({ validation: validFor(T0 - 23 * HOUR, T0 + HOUR) });
    const { options } = harness({ selfProvisioning: false });
    const outcome = await powerUp(device, options);
    assert.deepEqual(outcome.path, ['validating', 'connecting', 'connected']);
    assert.ok(!device.calls.includes('renew'));
    assert.match(outcome.transitions[0]!.reason, /the service team must install a new one/);
  });

  test('a certificate the broker refuses is discarded and the device waits again', async () => {
    const device = new FakeDevice({ script: { connect: [new CertificateRefusedByBrokerError('own-certificate-revoked', 'revoked')] } });
    const { options } = harness({ selfProvisioning: false });
    const outcome = await powerUp(device, options);
    assert.deepEqual(outcome.path, ['validating', 'connecting', 'discarding', 'awaiting-certificate']);
  });
});
