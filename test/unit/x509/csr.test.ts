import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createPublicKey } from 'node:crypto';
import { test } from 'node:test';
import { ipBytes } from '../../../x509/der.ts';
import { createKeyAndCsr } from '../../../x509/csr.ts';
import { keyAlgorithms } from '../../../x509/keys.ts';
import { x509 } from '../../../x509/x509.ts';

const subject = { commonName: 'REVEOS-00042', dnsNames: ['device.example'], ipAddresses: ['127.0.3.4', '::1'], uris: ['urn:ecm-lab:device:REVEOS-00042'] };

for (const algorithm of keyAlgorithms.filter((a) => a !== 'rsa-3072' && a !== 'rsa-4096')) {
  test(`a ${algorithm} CSR parses, verifies and names its subject (the X.509 library and OpenSSL)`, async () => {
    const made = await createKeyAndCsr(subject, algorithm);
    const csr = new x509.Pkcs10CertificateRequest(made.csrPem);
    assert.equal(await csr.verify(), true, 'the signature verifies with the public key in the request');
    assert.equal(csr.subject, 'CN=REVEOS-00042');
    const san = new x509.SubjectAlternativeNameExtension(csr.getExtension('2.5.29.17')!.rawData);
    assert.deepEqual(san.names.toJSON(), [
      { type: 'dns', value: 'device.example' },
      { type: 'ip', value: '127.0.3.4' },
      { type: 'ip', value: '::1' },
      { type: 'url', value: 'urn:ecm-lab:device:REVEOS-00042' },
    ]);
    // The key in the request is the key the client keeps.
    const inRequest = createPublicKey({ key: Buffer.from(csr.publicKey.rawData), format: 'der', type: 'spki' });
    assert.ok(inRequest.export({ type: 'spki', format: 'der' }).equals(createPublicKey(made.privateKey).export({ type: 'spki', format: 'der' })));
    assert.ok(made.csrDer.equals(Buffer.from(csr.rawData)), 'the PEM holds the DER');
    const text = execFileSync('openssl', ['req', '-verify', '-noout', '-text'], { input: made.csrPem, stdio: ['pipe', 'pipe', 'pipe'] }).toString();
    assert.match(text, /Subject: CN ?= ?REVEOS-00042/);
    assert.match(text, /DNS:device.example, IP Address:127.0.3.4, IP Address:0:0:0:0:0:0:0:1, URI:urn:ecm-lab:device:REVEOS-00042/);
  });
}

test('a CSR without names carries an empty attribute set, and a CN outside PrintableString is UTF-8', async () => {
  const made = await createKeyAndCsr({ commonName: 'Gerät_1' }, 'ecdsa-p256');
  const csr = new x509.Pkcs10CertificateRequest(made.csrPem);
  assert.equal(await csr.verify(), true);
  assert.equal(csr.subject, 'CN=Gerät_1');
  assert.equal(csr.extensions.length, 0);
});

test('IP addresses are encoded as a GeneralName carries them', () => {
  assert.deepEqual([...ipBytes('10.1.2.3')], [10, 1, 2, 3]);
  assert.deepEqual([...ipBytes('2001:db8::1')], [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
  assert.throws(() => ipBytes('localhost'), /not an IP address/);
});
