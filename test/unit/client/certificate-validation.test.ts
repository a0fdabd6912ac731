// Every reason code of the store validation, with its message: long because the reasons are many.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { createIntermediateCa, createRootCa, issueLeaf, type IssuedCertificate, type LeafRequest } from '../../../environments/pki/certificate-authority.ts';
import { algorithmParams } from '../../../x509/keys.ts';
import { x509 } from '../../../x509/x509.ts';
import { normalizeSerial } from '../../../x509/certificates.ts';
import {
  validateCertificateStore,
  VALIDATION_REASON_LABELS,
  VALIDATION_REASONS,
  type StoreContents,
  type ValidationInput,
  type ValidationReason,
  type ValidationResult,
} from '../../../simulators/client/certificate-validation.ts';
import { deviceSan } from '../../../simulators/device/reveos-device.ts';

const DAY = 24 * 3600 * 1000;
const DEVICE = 'RVS-AB12CD34';

interface Pki {
  root: IssuedCertificate;
  intermediate: IssuedCertificate;
}

async function makePki(algorithm: 'ecdsa-p256' | 'rsa-2048' = 'ecdsa-p256', intermediateDays = 365): Promise<Pki> {
  const root = await createRootCa({ commonName: 'Test Root', organization: 'ecm-lab', algorithm, validityDays: 3650 });
  const intermediate = await createIntermediateCa(root, { commonName: 'Test Intermediate', organization: 'ecm-lab', algorithm, validityDays: intermediateDays });
  return { root, intermediate };
}

function deviceLeaf(pki: Pki, overrides: Partial<LeafRequest> = {}): Promise<IssuedCertificate> {
  return issueLeaf(pki.intermediate, { commonName: DEVICE, uris: [deviceSan(DEVICE)], extendedKeyUsages: ['clientAuth'], ...overrides });
}

function storeOf(pki: Pki, leaf: IssuedCertificate, extra: Partial<StoreContents> = {}): StoreContents {
  return {
    certificateChainPem: `${leaf.certificatePem}\n${pki.intermediate.certificatePem}\n`,
    privateKeyPem: leaf.privateKeyPem,
    caPem: pki.root.certificatePem,
    keyFileMode: 0o100600,
    ...extra,
  };
}

async function makeCrl(issuer: IssuedCertificate, serials: string[], options: { nextUpdate?: boolean; signer?: IssuedCertificate } = {}): Promise<string> {
  const signer = options.signer ?? issuer;
  const crl = await x509.X509CrlGenerator.create({
    issuer: issuer.certificate.subject,
    thisUpdate: new Date(Date.now() - 60_000),
    ...(options.nextUpdate === false ? {} : { nextUpdate: new Date(Date.now() + DAY) }),
    signingAlgorithm: algorithmParams(signer.algorithm).signing,
    signingKey: signer.keys.privateKey,
    entries: serials.map((serialNumber) => ({ serialNumber })),
  });
  return crl.toString('pem');
}

/** Failure messages go to logs: no PEM armour and no run of any PEM body may appear in them. */
function assertNoSecrets(message: string, pems: string[]): void {
  assert.ok(!message.includes('-----'), `PEM armour in: ${message}`);
  for (const pem of pems) {
    const body = pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
    for (let i = 0; i + 16 <= body.length; i += 8) {
      assert.ok(!message.includes(body.slice(i, i + 16)), `PEM content in: ${message}`);
    }
  }
}

function expectFailure(result: ValidationResult, reason: ValidationReason, pattern?: RegExp, secrets: string[] = []): string {
  assert.equal(result.valid, false, 'expected the store to be invalid');
  if (result.valid) throw new Error('unreachable');
  assert.equal(result.reason, reason, `reason (message: ${result.message})`);
  if (pattern) assert.match(result.message, pattern);
  assertNoSecrets(result.message, secrets);
  return result.message;
}

let pki: Pki;
let leaf: IssuedCertificate;
let now: Date;
const validate = (store: StoreContents, extra: Partial<ValidationInput> = {}) => validateCertificateStore({ store, deviceId: DEVICE, now, ...extra });
const secretsOf = (...certs: IssuedCertificate[]) => certs.flatMap((c) => [c.certificatePem, c.privateKeyPem]);

before(async () => {
  pki = await makePki();
  leaf = await deviceLeaf(pki);
  now = new Date(Math.floor(Date.now() / 1000) * 1000); // X.509 times have whole seconds
});

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

describe('untrusted-ca', () => {
  test('a certificate from a foreign CA is untrusted', async () => {
    const foreign = await makePki();
    const foreignLeaf = await deviceLeaf(foreign);
    const store = storeOf(pki, foreignLeaf, { certificateChainPem: `${foreignLeaf.certificatePem}${foreign.intermediate.certificatePem}` });
    expectFailure(validate(store), 'untrusted-ca', /does not verify up to any of the 1 certificate\(s\) in ca\.crt/, secretsOf(foreignLeaf, foreign.root));
  });

  test('a chain without its intermediate does not verify', () => {
    expectFailure(validate(storeOf(pki, leaf, { certificateChainPem: leaf.certificatePem })), 'untrusted-ca', /issuer CN=Test Intermediate/);
  });

  test('a forged intermediate with the real name but another key does not verify', async () => {
    const impostorRoot = await createRootCa({ commonName: 'Test Root', organization: 'ecm-lab', algorithm: 'ecdsa-p256', validityDays: 10 });
    const impostor = await createIntermediateCa(impostorRoot, { commonName: 'Test Intermediate', organization: 'ecm-lab', algorithm: 'ecdsa-p256', validityDays: 10 });
    const forged = await deviceLeaf({ root: impostorRoot, intermediate: impostor });
    expectFailure(validate(storeOf(pki, forged, { certificateChainPem: `${forged.certificatePem}${impostor.certificatePem}` })), 'untrusted-ca');
  });
});

describe('revoked', () => {
  test("the leaf's serial in its issuer's CRL revokes it; the message gives the serial, not the certificate", async () => {
    const crl = await makeCrl(pki.intermediate, [leaf.certificate.serialNumber]);
    const msg = expectFailure(validate(storeOf(pki, leaf), { crlPems: [crl] }), 'revoked', /serial [0-9a-f]+\) is listed in a CRL of CN=Test Intermediate/, [...secretsOf(leaf), crl]);
    // The serial as its integer's hex (no leading zeros at all): random serials may start with a 0 nibble.
    assert.ok(msg.includes(normalizeSerial(leaf.certificate.serialNumber)), msg);
  });

  test('a CRL that lists other serials is applied and passes', async () => {
    const crl = await makeCrl(pki.intermediate, ['0a0b0c', '7f00000000000001']);
    const result = validate(storeOf(pki, leaf), { crlPems: [crl] });
    assert.equal(result.valid, true);
    if (result.valid) assert.deepEqual([result.facts.crlsApplied, result.facts.crlsIgnored], [1, 0]);
  });

  test('a CRL without nextUpdate still revokes (the x509 library loses its entries)', async () => {
    const crl = await makeCrl(pki.intermediate, ['01', leaf.certificate.serialNumber], { nextUpdate: false });
    assert.equal(new x509.X509Crl(crl).entries.length, 0, 'if the library now reads the entries, this workaround can go');
    expectFailure(validate(storeOf(pki, leaf), { crlPems: [crl] }), 'revoked');
  });

  test('an OpenSSL-style "X509 CRL" label and several CRLs in one string are read', async () => {
    const other = await makeCrl(pki.root, []);
    const crl = (await makeCrl(pki.intermediate, [leaf.certificate.serialNumber])).replace(/(BEGIN|END) CRL/g, '$1 X509 CRL');
    expectFailure(validate(storeOf(pki, leaf), { crlPems: [`${other}\n${crl}`] }), 'revoked');
  });

  test('a revoked intermediate (listed in the root CRL) revokes every leaf under it', async () => {
    const rootCrl = await makeCrl(pki.root, [pki.intermediate.certificate.serialNumber]);
    expectFailure(validate(storeOf(pki, leaf), { crlPems: [rootCrl] }), 'revoked', /^intermediate CN=Test Intermediate \(serial [0-9a-f]+\) is listed in a CRL of CN=Test Root/);
  });

  test('CRLs of another issuer, with a forged signature, or unparsable are ignored and counted', async () => {
    const impostor = await createRootCa({ commonName: 'Test Intermediate', organization: 'ecm-lab', algorithm: 'ecdsa-p256', validityDays: 1 });
    const forged = await makeCrl(pki.intermediate, [leaf.certificate.serialNumber], { signer: impostor });
    const foreign = await makePki();
    const foreignCrl = await makeCrl(foreign.intermediate, [leaf.certificate.serialNumber]);
    const result = validate(storeOf(pki, leaf), { crlPems: [forged, foreignCrl, 'garbage', '-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----'] });
    assert.equal(result.valid, true, result.valid ? '' : result.message);
    if (result.valid) assert.deepEqual([result.facts.crlsApplied, result.facts.crlsIgnored], [0, 4]);
  });

  test('an RSA PKI: CRL signatures verify and revocation applies', async () => {
    const rsa = await makePki('rsa-2048');
    const rsaLeaf = await deviceLeaf(rsa);
    assert.equal(validate(storeOf(rsa, rsaLeaf), { crlPems: [await makeCrl(rsa.intermediate, ['01'])] }).valid, true);
    expectFailure(validate(storeOf(rsa, rsaLeaf), { crlPems: [await makeCrl(rsa.intermediate, [rsaLeaf.certificate.serialNumber])] }), 'revoked');
  });
});

describe('identity-mismatch', () => {
  test("another device's certificate is refused", async () => {
    const other = await issueLeaf(pki.intermediate, { commonName: 'RVS-OTHER001', uris: [deviceSan('RVS-OTHER001')], extendedKeyUsages: ['clientAuth'] });
    expectFailure(validate(storeOf(pki, other)), 'identity-mismatch', /has no SAN urn:ecm-lab:device:RVS-AB12CD34 \(SAN URIs: \[urn:ecm-lab:device:RVS-OTHER001\]\)/, secretsOf(other));
  });

  test('the right SAN with another CN, or the right CN without the SAN, is refused', async () => {
    const wrongCn = await deviceLeaf(pki, { commonName: 'RVS-OTHER001' });
    expectFailure(validate(storeOf(pki, wrongCn)), 'identity-mismatch', /subject CN=RVS-OTHER001 differs from the device id RVS-AB12CD34/);
    const noSan = await deviceLeaf(pki, { uris: [] });
    expectFailure(validate(storeOf(pki, noSan)), 'identity-mismatch', /SAN URIs: \[\]/);
  });

  test('a revoked certificate of another device reports revocation first', async () => {
    const other = await issueLeaf(pki.intermediate, { commonName: 'RVS-OTHER001', uris: [deviceSan('RVS-OTHER001')], extendedKeyUsages: ['clientAuth'] });
    expectFailure(validate(storeOf(pki, other), { crlPems: [await makeCrl(pki.intermediate, [other.certificate.serialNumber])] }), 'revoked');
  });
});
