// The shared trust contexts of the HTTPS client: one context per trust anchor, and verification
// still refuses a server whose chain does not lead to that anchor.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { request } from '../../net/https-client.ts';
import { createRootCa, issueLeaf } from '../../x509/certificate-authority.ts';
import { trustContext } from '../../net/tls-policy.ts';

let server: https.Server;
let url: string;
let labRootPem: string;
let foreignRootPem: string;

before(async () => {
  const labRoot = await createRootCa({ commonName: 'Trust Test Root', organization: 'ecm-lab', algorithm: 'ecdsa-p256', validityDays: 1 });
  const foreignRoot = await createRootCa({ commonName: 'Foreign Root', organization: 'elsewhere', algorithm: 'ecdsa-p256', validityDays: 1 });
  const leaf = await issueLeaf(labRoot, { commonName: 'localhost', ipAddresses: ['127.0.0.1'], extendedKeyUsages: ['serverAuth'] });
  labRootPem = labRoot.certificate.toString('pem');
  foreignRootPem = foreignRoot.certificate.toString('pem');
  server = https.createServer({ cert: leaf.certificatePem, key: leaf.privateKeyPem, minVersion: 'TLSv1.2' }, (_req, res) => res.end('ok'));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
after(() => server?.close());

test('one secure context per trust anchor, reused across connections', () => {
  assert.equal(trustContext(labRootPem), trustContext(labRootPem));
  assert.notEqual(trustContext(labRootPem), trustContext(foreignRootPem));
});

test('a request trusting the server root succeeds; trusting another root it is refused', async () => {
  assert.equal((await request(url, { ca: labRootPem })).text(), 'ok');
  assert.equal((await request(url, { ca: labRootPem })).text(), 'ok', 'the cached context still verifies');
  await assert.rejects(request(url, { ca: foreignRootPem }), /unable to verify|self.signed|certificate/i);
});
