import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { atLeast, certificateRequired, certificateTrack, compareFirmware, FirmwareVersionError, policyProblem } from '../../../config/firmware-policy.ts';

describe('firmware versions (seed 000 backwards compatibility)', () => {
  test('atLeast compares major.minor numerically', () => {
    assert.equal(atLeast('2.1', '2.0'), true);
    assert.equal(atLeast('2.0', '2.0'), true, 'the minimum itself qualifies');
    assert.equal(atLeast('1.4', '2.0'), false);
    assert.equal(atLeast('3.0', '2.10'), true);
    assert.equal(atLeast('2.9', '2.10'), false, '2.9 is older than 2.10');
    assert.equal(atLeast('2.0.7', '2.0'), true, 'a patch level is ignored');
  });

  test('compareFirmware orders versions and refuses non-versions', () => {
    assert.deepEqual(['2.10', '1.4', '2.1', '2.9', '1.3', '10.0'].sort(compareFirmware), ['1.3', '1.4', '2.1', '2.9', '2.10', '10.0']);
    assert.equal(compareFirmware('2.1', '2.1.5'), 0);
    assert.throws(() => atLeast('latest', '2.0'), (e: unknown) => e instanceof FirmwareVersionError && /firmware version "latest" must look like N\.N or N\.N\.N/.test(e.message));
    assert.throws(() => atLeast('2.1', '2'), /minimum firmware version "2"/);
  });
});

describe('certificate tracks', () => {
  const policy = { selfProvisioningFrom: '2.1', certificateRequiredFrom: '2.0' };

  test('2.1 provisions itself, 2.0 needs a manual certificate, 1.x takes the legacy path', () => {
    assert.deepEqual(['2.2', '2.1', '2.0', '1.4', '1.3'].map((v) => certificateTrack(v, policy)), ['self-provisioning', 'self-provisioning', 'manual-certificate', 'legacy', 'legacy']);
    assert.deepEqual(['2.1', '2.0', '1.4'].map((v) => certificateRequired(v, policy)), [true, true, false]);
  });

  test('x is configurable: with x = 1.4 only 1.3 may go without a certificate', () => {
    const strict = { ...policy, certificateRequiredFrom: '1.4' };
    assert.deepEqual(['2.0', '1.4', '1.3'].map((v) => certificateTrack(v, strict)), ['manual-certificate', 'manual-certificate', 'legacy']);
  });

  test('x above the self-provisioning firmware is a configuration error', () => {
    assert.match(policyProblem({ selfProvisioningFrom: '2.1', certificateRequiredFrom: '2.2' }) ?? '', /a device that provisions itself always authenticates with its certificate/);
    assert.equal(policyProblem(policy), undefined);
  });
});
