import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { createRootCa, issueLeaf } from '../../x509/certificate-authority.ts';
import { createLabPki, writeLabPki } from '../../environments/pki/lab-pki.ts';
import { chainsToRoot, inspectCertificate } from '../../x509/certificates.ts';

const pkiConfig = { keyAlgorithm: 'ecdsa-p256' as const, rootValidityDays: 3650, intermediateValidityDays: 1825, organization: 'ecm-lab' };

test('the lab PKI is a self-signed root and an intermediate it signed, both CAs', async () => {
  const { root, intermediate } = await createLabPki(pkiConfig);
  const rootCert = new X509Certificate(root.certificatePem);
  const intermediateCert = new X509Certificate(intermediate.certificatePem);
  assert.ok(rootCert.ca && intermediateCert.ca);
  assert.ok(rootCert.verify(rootCert.publicKey), 'root is self-signed');
  assert.ok(intermediateCert.checkIssued(rootCert) && intermediateCert.verify(rootCert.publicKey), 'intermediate is signed by the root');
  assert.equal(rootCert.subject, 'CN=ecm-lab Root CA\nO=ecm-lab');
  assert.ok(new Date(intermediateCert.validTo) <= new Date(rootCert.validTo), 'an intermediate never outlives its root');
});

test('RSA PKIs are selectable and use the requested key size', async () => {
  const { root } = await createLabPki({ ...pkiConfig, keyAlgorithm: 'rsa-2048' });
  const key = new X509Certificate(root.certificatePem).publicKey;
  assert.equal(key.asymmetricKeyType, 'rsa');
  assert.equal(key.asymmetricKeyDetails?.modulusLength, 2048);
});

test('written PKI: keys 0600 in a 0700 directory, the root key never written', async () => {
  const pki = await createLabPki(pkiConfig);
  const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'ecm-pki-')), 'pki');
  const files = writeLabPki(pki, dir);
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  assert.equal(statSync(files.intermediateKey).mode & 0o777, 0o600);
  assert.deepEqual(Object.keys(files).filter((k) => /key/i.test(k)), ['intermediateKey', 'bootstrapIntermediateKey']);
  assert.equal(statSync(files.bootstrapIntermediateKey).mode & 0o777, 0o600);
});

test('leaves carry the requested EKU and SANs and chain to the root; a foreign leaf does not', async () => {
  const { root, intermediate } = await createLabPki(pkiConfig);
  const leaf = await issueLeaf(intermediate, {
    commonName: 'localhost',
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1'],
    uris: ['urn:ecm-lab:device:RVS-1'],
    extendedKeyUsages: ['serverAuth'],
  });
  const facts = inspectCertificate(leaf.certificatePem);
  assert.deepEqual(facts.extendedKeyUsages, ['serverAuth']);
  assert.deepEqual(facts.sans, { dns: ['localhost'], ip: ['127.0.0.1'], uri: ['urn:ecm-lab:device:RVS-1'] });
  assert.ok(chainsToRoot(`${leaf.certificatePem}\n${intermediate.certificatePem}`, root.certificatePem));
  assert.equal(chainsToRoot(leaf.certificatePem, root.certificatePem), false, 'without its intermediate the chain is broken');

  const foreign = await createRootCa({ commonName: 'Foreign', organization: 'x', algorithm: 'ecdsa-p256', validityDays: 1 });
  const foreignLeaf = await issueLeaf(foreign, { commonName: 'RVS-X', extendedKeyUsages: ['clientAuth'] });
  assert.equal(chainsToRoot(foreignLeaf.certificatePem, root.certificatePem), false);
});
