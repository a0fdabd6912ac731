// The store validation's trust checks, with their messages: an untrusted CA, revocation by CRL, another identity.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { createIntermediateCa, createRootCa, issueLeaf } from '../../../x509/certificate-authority.ts';
import { normalizeSerial } from '../../../x509/certificates.ts';
import { x509 } from '../../../x509/x509.ts';
import { deviceSan } from '../../../simulators/device/reveos-device.ts';
import { makePki, deviceLeaf, storeOf, makeCrl, expectFailure, pki, leaf, validate, secretsOf, setUpPki } from '../../support/store-validation-fixture.ts';

before(setUpPki);

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
