// Every path of the power-up state machine, one test each: renewal, connecting, refusals, firmware that waits.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DEFAULT_BACKOFF, powerUp } from '../../../simulators/client/power-up.ts';
import { CaRefusalError } from '../../../simulators/client/x5c-sign.ts';
import { BrokerUntrustedError, CertificateRefusedByBrokerError } from '../../../simulators/client/connection-errors.ts';
import { HOUR, T0, FakeDevice, validFor, invalid, harness, assertWellFormed, bootstrapRefused } from '../../support/power-up-fixture.ts';

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
