// Every reason code of the store validation up to the chain (files, key, dates, EKU), with its message.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { createRootCa, issueLeaf } from '../../../x509/certificate-authority.ts';
import { VALIDATION_REASON_LABELS, VALIDATION_REASONS } from '../../../simulators/client/certificate-validation.ts';
import { deviceSan } from '../../../simulators/device/reveos-device.ts';
import { DAY, DEVICE, makePki, deviceLeaf, storeOf, expectFailure, pki, leaf, now, validate, secretsOf, setUpPki } from '../../support/store-validation-fixture.ts';

before(setUpPki);

describe('reason codes', () => {
  test('every reason code has a human label, in the order the checks run', () => {
    assert.deepEqual(Object.keys(VALIDATION_REASON_LABELS).sort(), [...VALIDATION_REASONS].sort());
    assert.equal(VALIDATION_REASONS[0], 'missing-files');
    assert.equal(VALIDATION_REASONS.at(-1), 'identity-mismatch');
    for (const label of Object.values(VALIDATION_REASON_LABELS)) assert.ok(label.length > 5);
  });
});

describe('a valid store', () => {
  test('passes and reports the facts the device logs', () => {
    const result = validate(storeOf(pki, leaf));
    assert.equal(result.valid, true, result.valid ? '' : result.message);
    if (!result.valid) return;
    assert.equal(result.facts.serial, leaf.certificate.serialNumber.toLowerCase());
    assert.equal(result.facts.notBefore.getTime(), leaf.certificate.notBefore.getTime());
    assert.equal(result.facts.notAfter.getTime(), leaf.certificate.notAfter.getTime());
    assert.equal(result.facts.subjectCommonName, DEVICE);
    assert.equal(result.facts.issuerCommonName, 'Test Intermediate');
    assert.equal(result.facts.deviceSan, `urn:ecm-lab:device:${DEVICE}`);
    assert.deepEqual(result.facts.extendedKeyUsages, ['clientAuth']);
    assert.match(result.facts.sha256Fingerprint, /^[0-9a-f]{64}$/);
    assert.equal(result.facts.chainLength, 2);
    assert.equal(result.facts.crlsApplied, 0);
    assert.equal(result.facts.crlsIgnored, 0);
  });

  test('a leaf issued directly by the root, the root repeated at the end of the chain, and no key mode all pass', async () => {
    const direct = await issueLeaf(pki.root, { commonName: DEVICE, uris: [deviceSan(DEVICE)], extendedKeyUsages: ['clientAuth'] });
    const r1 = validate({ certificateChainPem: direct.certificatePem, privateKeyPem: direct.privateKeyPem, caPem: pki.root.certificatePem });
    assert.equal(r1.valid, true, r1.valid ? '' : r1.message);
    const withRoot = storeOf(pki, leaf);
    withRoot.certificateChainPem += pki.root.certificatePem;
    assert.equal(validate(withRoot).valid, true);
  });

  test('during a root rotation ca.crt holds old and new roots; an expired old root does not fail the store', async () => {
    const oldRoot = await createRootCa({ commonName: 'Old Root', organization: 'ecm-lab', algorithm: 'ecdsa-p256', validityDays: 1 });
    const later = new Date(now.getTime() + 2 * DAY); // the old root expired, the device certificate is renewed
    const renewed = await deviceLeaf(pki, { notBefore: later, notAfter: new Date(later.getTime() + DAY) });
    const store = storeOf(pki, renewed, { caPem: `${oldRoot.certificatePem}\n${pki.root.certificatePem}` });
    const result = validate(store, { now: later });
    assert.equal(result.valid, true, result.valid ? '' : result.message);
  });
});

describe('missing-files', () => {
  test('names every absent file', () => {
    const msg = expectFailure(validate({}), 'missing-files');
    assert.equal(msg, 'missing local.crt, local.key, ca.crt');
    const store = storeOf(pki, leaf);
    expectFailure(validate({ ...store, privateKeyPem: undefined }), 'missing-files', /^missing local\.key$/);
    expectFailure(validate({ ...store, caPem: undefined }), 'missing-files', /^missing ca\.crt$/);
    expectFailure(validate({ ...store, certificateChainPem: undefined }), 'missing-files', /^missing local\.crt$/);
  });

  test('comes first: an absent CA with a world-readable key reports the missing file', () => {
    expectFailure(validate({ ...storeOf(pki, leaf), caPem: undefined, keyFileMode: 0o644 }), 'missing-files');
  });
});

describe('key-permissions', () => {
  for (const mode of [0o644, 0o640, 0o604, 0o100660, 0o777]) {
    test(`mode ${mode.toString(8)} is refused`, () => {
      const msg = expectFailure(validate(storeOf(pki, leaf, { keyFileMode: mode })), 'key-permissions', /local\.key has mode 0\d{3}/);
      assert.ok(msg.includes((mode & 0o777).toString(8)));
    });
  }

  test('0600 and 0400 (with file-type bits) pass', () => {
    assert.equal(validate(storeOf(pki, leaf, { keyFileMode: 0o100600 })).valid, true);
    assert.equal(validate(storeOf(pki, leaf, { keyFileMode: 0o400 })).valid, true);
  });
});

describe('malformed-certificate', () => {
  test('garbage, an empty file, a truncated PEM and corrupt base64 are each reported for local.crt', () => {
    const store = storeOf(pki, leaf);
    const secrets = secretsOf(leaf);
    expectFailure(validate({ ...store, certificateChainPem: 'not a certificate' }), 'malformed-certificate', /local\.crt contains no complete PEM/, secrets);
    expectFailure(validate({ ...store, certificateChainPem: '' }), 'malformed-certificate', /local\.crt/, secrets);
    const truncated = leaf.certificatePem.slice(0, Math.floor(leaf.certificatePem.length / 2));
    expectFailure(validate({ ...store, certificateChainPem: truncated }), 'malformed-certificate', /no complete PEM/, secrets);
    const lines = leaf.certificatePem.trim().split('\n');
    const corrupt = [lines[0], ...lines.slice(1, -1).map((l) => l.slice(0, 20)), lines.at(-1)].join('\n');
    expectFailure(validate({ ...store, certificateChainPem: corrupt }), 'malformed-certificate', /certificate 1 of 1 is not a parsable/, secrets);
  });

  test('a chain whose second certificate was cut off is malformed, not silently shortened', () => {
    const cut = pki.intermediate.certificatePem.slice(0, 120);
    const msg = expectFailure(
      validate(storeOf(pki, leaf, { certificateChainPem: `${leaf.certificatePem}\n${cut}` })),
      'malformed-certificate',
      /2 certificate headers but only 1 complete/,
      secretsOf(leaf, pki.intermediate),
    );
    assert.match(msg, /truncated/);
  });

  test('an unparsable ca.crt or private key is reported with its file name', () => {
    expectFailure(validate(storeOf(pki, leaf, { caPem: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n' })), 'malformed-certificate', /^ca\.crt /);
    const keyTruncated = leaf.privateKeyPem.slice(0, 80);
    expectFailure(validate(storeOf(pki, leaf, { privateKeyPem: keyTruncated })), 'malformed-certificate', /^local\.key is not a parsable/, [leaf.privateKeyPem]);
  });
});

describe('key-mismatch', () => {
  test("another certificate's key is refused without printing either key", async () => {
    const other = await deviceLeaf(pki);
    expectFailure(validate(storeOf(pki, leaf, { privateKeyPem: other.privateKeyPem })), 'key-mismatch', /public keys differ/, secretsOf(leaf, other));
  });

  test('a key of another algorithm is refused', async () => {
    const rsa = await issueLeaf(pki.intermediate, { commonName: DEVICE, extendedKeyUsages: ['clientAuth'], algorithm: 'rsa-2048' });
    expectFailure(validate(storeOf(pki, leaf, { privateKeyPem: rsa.privateKeyPem })), 'key-mismatch');
  });
});

describe('not-yet-valid (clock skew)', () => {
  test('a certificate valid from an hour ahead of the device clock is not yet valid', async () => {
    const future = await deviceLeaf(pki, { notBefore: new Date(now.getTime() + 3600_000), notAfter: new Date(now.getTime() + DAY) });
    const msg = expectFailure(validate(storeOf(pki, future)), 'not-yet-valid', /leaf CN=RVS-AB12CD34\) is valid from .* clock skew\?/, secretsOf(future));
    assert.ok(msg.includes(now.toISOString()), 'the message gives the device clock');
  });

  test('the skew tolerance absorbs a device clock a little behind the CA and is configurable', async () => {
    const soon = await deviceLeaf(pki, { notBefore: new Date(now.getTime() + 60_000), notAfter: new Date(now.getTime() + DAY) });
    assert.equal(validate(storeOf(pki, soon)).valid, true, 'within the default 5 minutes');
    expectFailure(validate(storeOf(pki, soon), { clockSkewToleranceMs: 0 }), 'not-yet-valid', /0 ms skew tolerance/);
    assert.equal(validate(storeOf(pki, soon), { clockSkewToleranceMs: 60_000 }).valid, true, 'boundary: notBefore == now + tolerance');
    expectFailure(validate(storeOf(pki, soon), { clockSkewToleranceMs: 59_999 }), 'not-yet-valid');
  });
});

describe('expired', () => {
  test('notAfter at or before now is expired; one millisecond later is still valid', async () => {
    const notAfter = new Date(now.getTime() + 3600_000);
    const short = await deviceLeaf(pki, { notAfter });
    assert.equal(validate(storeOf(pki, short), { now: new Date(notAfter.getTime() - 1) }).valid, true);
    expectFailure(validate(storeOf(pki, short), { now: notAfter }), 'expired', new RegExp(`expired at ${notAfter.toISOString().slice(0, 19)}`), secretsOf(short));
    expectFailure(validate(storeOf(pki, short), { now: new Date(notAfter.getTime() + DAY) }), 'expired', /local\.crt \(leaf CN=RVS-AB12CD34\) expired/);
  });

  test('an expired intermediate expires the store even when the leaf outlives it', async () => {
    const shortPki = await makePki('ecdsa-p256', 1);
    const longLeaf = await deviceLeaf(shortPki, { notAfter: new Date(now.getTime() + 30 * DAY) });
    expectFailure(validate(storeOf(shortPki, longLeaf), { now: new Date(now.getTime() + 2 * DAY) }), 'expired', /intermediate CN=Test Intermediate\) expired/);
  });

  test('an expired root in ca.crt expires the store', async () => {
    const later = new Date(now.getTime() + 11 * 365 * DAY); // past the 10-year root
    const late = await deviceLeaf(pki, { notBefore: later, notAfter: new Date(later.getTime() + DAY) });
    // The intermediate (1 year) would also be expired: use a leaf signed by the root itself.
    const direct = await issueLeaf(pki.root, { commonName: DEVICE, uris: [deviceSan(DEVICE)], extendedKeyUsages: ['clientAuth'], notBefore: later, notAfter: new Date(later.getTime() + DAY) });
    expectFailure(
      validate({ certificateChainPem: direct.certificatePem, privateKeyPem: direct.privateKeyPem, caPem: pki.root.certificatePem }, { now: later }),
      'expired',
      /^ca\.crt \(CN=Test Root\) expired/,
    );
    expectFailure(validate(storeOf(pki, late), { now: later }), 'expired', /intermediate/);
  });

  test('expiry is reported before a wrong EKU and an untrusted CA (check order)', async () => {
    const foreign = await makePki();
    const bad = await deviceLeaf(foreign, { extendedKeyUsages: ['serverAuth'], notAfter: new Date(now.getTime() + 1000) });
    expectFailure(validate(storeOf(pki, bad, { certificateChainPem: `${bad.certificatePem}${foreign.intermediate.certificatePem}` }), { now: new Date(now.getTime() + 2000) }), 'expired');
  });
});

describe('wrong-eku', () => {
  test('serverAuth only, serverAuth plus clientAuth, and no usage at all are refused', async () => {
    const server = await deviceLeaf(pki, { extendedKeyUsages: ['serverAuth'] });
    expectFailure(validate(storeOf(pki, server)), 'wrong-eku', /\[serverAuth\]; a client certificate \(device or application\) must be clientAuth only/, secretsOf(server));
    const both = await deviceLeaf(pki, { extendedKeyUsages: ['serverAuth', 'clientAuth'] });
    expectFailure(validate(storeOf(pki, both)), 'wrong-eku', /\[serverAuth, clientAuth\]/);
    const none = await deviceLeaf(pki, { extendedKeyUsages: [] });
    expectFailure(validate(storeOf(pki, none)), 'wrong-eku', /\[none\]/);
  });

  test('a wrong EKU is reported before an untrusted CA', async () => {
    const foreign = await makePki();
    const server = await deviceLeaf(foreign, { extendedKeyUsages: ['serverAuth'] });
    expectFailure(validate(storeOf(pki, server)), 'wrong-eku');
  });
});
