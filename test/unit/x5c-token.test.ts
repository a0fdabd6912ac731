// The X5C token a device signs with its bootstrap certificate: the JWS algorithm follows the
// bootstrap key, and the header carries the whole chain, leaf first, as DER in base64.
import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { test } from 'node:test';
import * as jose from 'jose';
import { createRootCa, issueLeaf } from '../../x509/certificate-authority.ts';
import { signX5cToken } from '../../simulators/client/x5c-sign.ts';

for (const [algorithm, alg, kept] of [['ecdsa-p256', 'ES256', false], ['ecdsa-p384', 'ES384', false], ['rsa-2048', 'RS256', false], ['ecdsa-p256', 'ES256', true], ['rsa-2048', 'RS256', true]] as const) {
  test(`a ${algorithm} bootstrap key signs ${alg}; x5c is the chain, leaf first${kept ? ' (the key object the client kept)' : ''}`, async () => {
    const root = await createRootCa({ commonName: 'X5C Test Root', organization: 'ecm-lab', algorithm, validityDays: 1 });
    const leaf = await issueLeaf(root, { commonName: 'REVEOS-X5C', extendedKeyUsages: ['clientAuth'], algorithm });
    const rootPem = root.certificate.toString('pem');
    const token = await signX5cToken({
      provisioner: 'devices',
      audience: 'https://localhost/1.0/sign#x5c/devices',
      bootstrap: { privateKeyPem: leaf.privateKeyPem, certificateChainPem: `${leaf.certificatePem}\n${rootPem}\n`, ...(kept ? { privateKey: createPrivateKey(leaf.privateKeyPem) } : {}) },
      commonName: 'REVEOS-X5C',
      sans: ['REVEOS-X5C'],
    });
    const header = jose.decodeProtectedHeader(token);
    assert.equal(header.alg, alg);
    const x5c = header.x5c as string[];
    assert.equal(x5c.length, 2);
    assert.ok(new X509Certificate(Buffer.from(x5c[0]!, 'base64')).checkIssued(new X509Certificate(Buffer.from(x5c[1]!, 'base64'))), 'leaf, then its issuer');
    // The token verifies with the leaf's public key: the algorithm matches the key.
    const { payload } = await jose.jwtVerify(token, new X509Certificate(leaf.certificatePem).publicKey, { audience: 'https://localhost/1.0/sign#x5c/devices' });
    assert.equal(payload.sub, 'REVEOS-X5C');
  });
}
