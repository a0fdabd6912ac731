// The simulated external CA as the lab starts it (its own process, real sockets): what it signs for
// its client, what it refuses, who may revoke, and the CRL it publishes. The client key here stands
// for the certificate management service's (made the same way, by the same code).
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { loadConfig } from '../../config/config.ts';
import { startExternalCa, type StartedExternalCa } from '../../environments/local/external-ca.ts';
import { createCaKeyAndCsr } from '../../x509/certificate-authority.ts';
import { clientToken, EXTERNAL_CA_PATHS, ExternalCaError, fetchExternalCrl, orderIntermediate, requestRevocation, revokeAtExternalCa } from '../../net/external-ca-api.ts';
import { request } from '../../net/https-client.ts';
import { createServiceSigningKey, type ServiceSigningKey } from '../../services/provisioning/signing-key.ts';
import { parseCrls } from '../../x509/crls.ts';
import { createKeyAndCsr } from '../../x509/csr.ts';
import { subtle, x509 } from '../../x509/x509.ts';
import { isAlive } from '../support/processes.ts';

const CLIENT = 'provisioning-service';
let dir: string;
let ca: StartedExternalCa;
let client: ServiceSigningKey;
let stranger: ServiceSigningKey;

const csr = (commonName = 'ecm-lab Intermediate CA') => createCaKeyAndCsr({ commonName, organization: 'ecm-lab', algorithm: 'ecdsa-p256' }).then((r) => r.csrPem);
const order = (csrPem: string, key = client) => orderIntermediate({ apiUrl: ca.apiUrl, rootPem: ca.rootPem, privateJwk: key.privateJwk, client: CLIENT, csrPem });
const problemOf = (body: Buffer) => JSON.parse(body.toString()) as { title: string; status: number; detail: string };
const log = () => readFileSync(ca.logFile, 'utf8');

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'ecm-external-ca-'));
  client = await createServiceSigningKey(CLIENT);
  stranger = await createServiceSigningKey(CLIENT);
  ca = await startExternalCa({ config: loadConfig({ env: {} }), dir: path.join(dir, 'ca'), logFile: path.join(dir, 'external-ca.log'), clients: [{ name: CLIENT, publicJwk: client.publicJwk }] });
});

after(async () => {
  await ca.stop();
  await ca.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('its root key is 0600 in its own 0700 directory; the root and the CRL are served over plain HTTP', async () => {
  assert.equal(statSync(path.join(dir, 'ca')).mode & 0o777, 0o700);
  assert.equal(statSync(path.join(dir, 'ca', 'root_ca.key')).mode & 0o777, 0o600);
  assert.equal(statSync(path.join(dir, 'ca', 'operator.token')).mode & 0o777, 0o600);
  const root = await request(`${ca.publicUrl}${EXTERNAL_CA_PATHS.root}`);
  assert.equal(root.text().trim(), ca.rootPem.trim());
  const [crl] = parseCrls(await fetchExternalCrl(ca.crlUrl));
  assert.ok(crl!.signedBy(new X509Certificate(ca.rootPem)), 'the CRL is signed by the root');
  assert.equal(crl!.serials.size, 0);
  assert.ok(isAlive(ca.pid));
  assert.doesNotMatch(log(), new RegExp(ca.operatorToken()), 'the operator token is never logged');
});

test('its client gets a path-length-0 subordinate CA for its CSR, naming the CA\'s CRL', async () => {
  const ordered = await order(await csr());
  const cert = new x509.X509Certificate(ordered.certificatePem);
  const basic = cert.getExtension(x509.BasicConstraintsExtension)!;
  assert.equal(basic.ca, true);
  assert.equal(basic.pathLength, 0);
  assert.equal(basic.critical, true);
  assert.equal(cert.issuer, new x509.X509Certificate(ca.rootPem).subject);
  assert.ok(await cert.verify({ publicKey: new x509.X509Certificate(ca.rootPem) }), 'signed by the root');
  const points = Array.from(cert.getExtension(x509.CRLDistributionPointsExtension)!.distributionPoints).flatMap((p) => Array.from(p.distributionPoint?.fullName ?? []).map((n) => n.uniformResourceIdentifier));
  assert.deepEqual(points, [ca.crlUrl]);
  assert.match(log(), new RegExp(`issued a subordinate CA to ${CLIENT}: serial ${ordered.serial}`));
});

test('orders without a valid client token are refused: 401, nothing issued', async () => {
  const url = `${ca.apiUrl}${EXTERNAL_CA_PATHS.intermediates}`;
  const csrPem = await csr();
  const post = (authorization: string | undefined, body: unknown = { csr: csrPem }) =>
    request(url, { method: 'POST', headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) }, body: JSON.stringify(body), ca: ca.rootPem });
  const none = await post(undefined);
  assert.equal(none.status, 401);
  assert.equal(none.headers['www-authenticate'], 'Bearer');
  await assert.rejects(order(csrPem, stranger), (err: ExternalCaError) => err.status === 401 && err.code === 'unknown-client');
  const elsewhere = await clientToken({ privateJwk: client.privateJwk, issuer: CLIENT, audience: `${ca.apiUrl}/somewhere-else`, csrPem });
  assert.equal(problemOf((await post(`Bearer ${elsewhere}`)).body).title, 'bad-token');
  // A token is bound to its CSR, and used once.
  const token = await clientToken({ privateJwk: client.privateJwk, issuer: CLIENT, audience: url, csrPem });
  assert.equal(problemOf((await post(`Bearer ${token}`, { csr: await csr('other') })).body).title, 'token-not-for-this-csr');
  assert.equal(problemOf((await post(`Bearer ${token}`)).body).title, 'token-replayed');
  assert.equal((await post(`Bearer ${ca.operatorToken()}`)).status, 401, "the operator's token orders nothing");
});

test('bad CSRs get a 400 naming the problem', async () => {
  await assert.rejects(order('-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n'), (err: ExternalCaError) => err.status === 400 && err.code === 'bad-csr');
  const rsa = await createKeyAndCsr({ commonName: 'rsa' }, 'rsa-2048');
  assert.ok((await order(rsa.csrPem)).serial, 'RSA 2048 is accepted');
  // Seed 001 §6.3: nothing below RSA 2048.
  const keys = (await subtle.generateKey({ name: 'RSASSA-PKCS1-v1_5', modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }, true, ['sign', 'verify'])) as CryptoKeyPair;
  const weak = await x509.Pkcs10CertificateRequestGenerator.create({ name: 'CN=weak', keys, signingAlgorithm: { name: 'RSASSA-PKCS1-v1_5' } });
  await assert.rejects(order(weak.toString('pem')), (err: ExternalCaError) => err.status === 400 && err.code === 'bad-key' && /rsa-1024/.test(err.detail));
  const tampered = await csr();
  const lines = tampered.split('\n');
  lines[3] = lines[3]!.slice(0, 10) + (lines[3]![10] === 'A' ? 'B' : 'A') + lines[3]!.slice(11);
  await assert.rejects(order(lines.join('\n')), (err: ExternalCaError) => err.status === 400 && /bad-csr/.test(err.code));
});

test("the client's credential cannot revoke; the operator's can, and the CRL lists it", async () => {
  const ordered = await order(await csr());
  const url = `${ca.apiUrl}${EXTERNAL_CA_PATHS.revocations}`;
  for (const audience of [url, `${ca.apiUrl}${EXTERNAL_CA_PATHS.intermediates}`]) {
    const token = await clientToken({ privateJwk: client.privateJwk, issuer: CLIENT, audience });
    const res = await requestRevocation({ apiUrl: ca.apiUrl, rootPem: ca.rootPem, bearer: token, serial: ordered.serial, reason: 'cACompromise' });
    assert.equal(res.status, 403);
    assert.equal(problemOf(res.body).title, 'not-operator');
  }
  assert.match(log(), new RegExp(`403 not-operator: the credential of ${CLIENT} may order intermediates, not revoke`));
  const guessed = await requestRevocation({ apiUrl: ca.apiUrl, rootPem: ca.rootPem, bearer: 'guess', serial: ordered.serial, reason: 'cACompromise' });
  assert.equal(guessed.status, 401);
  assert.equal(parseCrls(await fetchExternalCrl(ca.crlUrl))[0]!.serials.has(ordered.serial), false, 'nothing was revoked');

  const operator = { apiUrl: ca.apiUrl, rootPem: ca.rootPem, operatorToken: ca.operatorToken() };
  await revokeAtExternalCa({ ...operator, serial: ordered.serial, reason: 'cACompromise' });
  const [crl] = parseCrls(await fetchExternalCrl(ca.crlUrl));
  assert.ok(crl!.serials.has(ordered.serial));
  assert.ok(crl!.signedBy(new X509Certificate(ca.rootPem)));
  await assert.rejects(revokeAtExternalCa({ ...operator, serial: ordered.serial, reason: 'cACompromise' }), (err: ExternalCaError) => err.status === 409);
  await assert.rejects(revokeAtExternalCa({ ...operator, serial: 'abcdef', reason: 'cACompromise' }), (err: ExternalCaError) => err.status === 404);
  const bad = await requestRevocation({ ...operator, bearer: operator.operatorToken, serial: 'not hex', reason: 'because' });
  assert.equal(bad.status, 400);
  assert.match(problemOf(bad.body).detail, /serial: must be a hexadecimal serial; reason/);
});

test('a restart keeps its root, its state and its token; the CRL still lists what was revoked', async () => {
  const before = parseCrls(await fetchExternalCrl(ca.crlUrl))[0]!;
  const token = ca.operatorToken();
  const root = ca.rootPem;
  await ca.stop();
  await assert.rejects(fetchExternalCrl(ca.crlUrl), /ECONNREFUSED/);
  await ca.restart();
  assert.equal(readFileSync(ca.rootCertFile, 'utf8'), root);
  assert.equal(ca.operatorToken(), token);
  const afterRestart = parseCrls(await fetchExternalCrl(ca.crlUrl))[0]!;
  assert.deepEqual([...afterRestart.serials], [...before.serials]);
  assert.ok(afterRestart.signedBy(new X509Certificate(root)));
});
