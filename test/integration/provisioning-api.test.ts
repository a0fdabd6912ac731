// The provisioning service's HTTP API over real sockets, from real distinct source addresses,
// against the real step-ca: bootstrap endpoint, refusals, admin authentication, restart survival.
import assert from 'node:assert/strict';
import { generateKeyPairSync, webcrypto } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { loadConfig } from '../../config/config.ts';
import { request } from '../../net/https-client.ts';
import { startLocalLab, type StartedLocalLab } from '../../environments/local/local-environment.ts';
import { createKeyAndCsr } from '../../x509/csr.ts';
import { x509 } from '../../x509/x509.ts';
import { ProvisioningAdminClient } from '../../simulators/client/admin-client.ts';
import { loopbackAddress } from '../../simulators/client/addresses.ts';
import { chainsToRoot, inspectCertificate } from '../../x509/certificates.ts';

let lab: StartedLocalLab;
let admin: ProvisioningAdminClient;
let rootPem: string;
const listed = loopbackAddress(0, 5);
const unlisted = loopbackAddress(1, 5);

before(async () => {
  lab = await startLocalLab(loadConfig({ env: {} }));
  rootPem = readFileSync(lab.ca.rootPem, 'utf8');
  admin = new ProvisioningAdminClient(lab.provisioning.url, lab.provisioning.adminToken, rootPem);
});
after(() => lab?.stop());

function postCsr(body: string | Buffer, from: string, contentType = 'application/pkcs10') {
  return request(`${lab.provisioning.insecureUrl}/api/v1/bootstrap`, {
    method: 'POST',
    headers: { 'content-type': contentType },
    body,
    localAddress: from,
  });
}

async function rsa1024Csr(): Promise<string> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
  const alg = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
  const keys = {
    privateKey: await webcrypto.subtle.importKey('pkcs8', privateKey.export({ type: 'pkcs8', format: 'der' }), alg, true, ['sign']),
    publicKey: await webcrypto.subtle.importKey('spki', publicKey.export({ type: 'spki', format: 'der' }), alg, true, ['verify']),
  } as CryptoKeyPair;
  return (await x509.Pkcs10CertificateRequestGenerator.create({ name: 'CN=RVS-WEAK', keys, signingAlgorithm: alg })).toString('pem');
}

test('while OFF the bootstrap endpoint refuses everyone with 403 and a reason', async () => {
  await admin.turnOff();
  const { csrPem } = await createKeyAndCsr({ commonName: 'RVS-OFF' }, 'ecdsa-p256');
  const res = await postCsr(csrPem, listed);
  assert.equal(res.status, 403);
  assert.deepEqual(res.json<{ error: string }>().error, 'service-off');
});

test('a white-listed address gets a bootstrap credential over plain HTTP, under the bootstrap root; others get 403', async () => {
  await admin.turnOn();
  await admin.setWhitelist([listed]);
  const { csrPem } = await createKeyAndCsr({ commonName: 'RVS-BOOT-1' }, 'ecdsa-p256');

  const refused = await postCsr(csrPem, unlisted);
  assert.equal(refused.status, 403);
  assert.equal(refused.json<{ error: string }>().error, 'not-whitelisted');

  const served = await postCsr(csrPem, listed, 'application/x-pem-file');
  assert.equal(served.status, 200, served.text());
  assert.match(String(served.headers['content-type']), /application\/x-pem-file/);
  assert.ok(chainsToRoot(served.text(), readFileSync(lab.bootstrapCa.rootPem, 'utf8')), 'chains to the bootstrap root');
  assert.equal(chainsToRoot(served.text(), rootPem), false, 'a bootstrap credential is nothing under the operational root');
  const facts = inspectCertificate(served.text());
  assert.equal(facts.subjectCommonName, 'RVS-BOOT-1');
  assert.deepEqual(facts.sans.ip, [listed], 'it names the address it was issued to');
  assert.deepEqual(facts.extendedKeyUsages, ['clientAuth']);

  const inventory = await admin.inventory('RVS-BOOT-1');
  assert.equal(inventory.length, 1);
  assert.equal(inventory[0]!.serial, facts.serialNumber.replace(/^0+/, ''));
  assert.equal(inventory[0]!.kind, 'bootstrap');
});

test('bad CSRs get 400 with a precise code, and nothing is issued', async () => {
  await admin.turnOn();
  await admin.setWhitelist([listed]);
  const before = (await admin.inventory()).length;
  const { csrPem } = await createKeyAndCsr({ commonName: 'RVS-TAMPER' }, 'ecdsa-p256');
  const der = Buffer.from(x509.PemConverter.decodeFirst(csrPem));
  der[der.length - 5] ^= 0xff; // inside the signature
  const cases: Array<[string | Buffer, string]> = [
    ['not a csr at all', 'malformed'],
    [csrPem.slice(0, 120), 'malformed'],
    [x509.PemConverter.encode(der, 'CERTIFICATE REQUEST'), 'bad-signature'],
    [await rsa1024Csr(), 'weak-key'],
    [(await createKeyAndCsr({ commonName: 'bad name with spaces' }, 'ecdsa-p256')).csrPem, 'bad-subject'],
  ];
  for (const [body, code] of cases) {
    const res = await postCsr(body, listed);
    assert.equal(res.status, 400, `expected 400 for ${code}, got ${res.status}: ${res.text()}`);
    assert.equal(res.json<{ error: string }>().error, code);
    assert.ok(res.json<{ message: string }>().message.length > 10, 'the message says what is wrong');
  }
  // Found by the fuzzer: no body and no content type once answered 500.
  const empty = await request(`${lab.provisioning.insecureUrl}/api/v1/bootstrap`, { method: 'POST', localAddress: listed });
  assert.equal(empty.status, 400);
  assert.equal(empty.json<{ error: string }>().error, 'no-csr');
  const oversized = await postCsr(Buffer.alloc(200 * 1024, 0x41), listed);
  assert.equal(oversized.status, 413);
  assert.equal((await admin.inventory()).length, before, 'no certificate was issued for a bad request');
});

test('the ACME gate forwards only requests addressed to itself (step-ca builds its URLs from Host)', async () => {
  await admin.turnOn();
  await admin.setWhitelist([listed]);
  const url = `${lab.provisioning.url}/acme/bootstrap/directory`;
  const ok = await request(url, { ca: rootPem, localAddress: listed });
  assert.equal(ok.status, 200);
  assert.ok(ok.json<{ newNonce: string }>().newNonce.startsWith(lab.provisioning.url), 'ACME URLs point back at the gate');
  const forged = await request(url, { ca: rootPem, localAddress: listed, servername: 'localhost', headers: { host: 'ca.attacker.example' } });
  assert.equal(forged.status, 400);
  assert.equal(forged.json<{ type: string }>().type, 'urn:ietf:params:acme:error:malformed');
});

test('server-side key generation is off by default, and never offered over plain HTTP', async () => {
  const ask = (url: string) =>
    request(`${url}/api/v1/bootstrap/serverkeygen`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ commonName: 'RVS-KEYGEN' }), ca: rootPem, localAddress: listed });
  const res = await ask(lab.provisioning.url);
  assert.equal(res.status, 403);
  assert.equal(res.json<{ error: string }>().error, 'serverkeygen-off');
  assert.equal((await ask(lab.provisioning.insecureUrl)).status, 404, 'a private key must not travel over the insecure channel (NFR-SEC-003)');
});

test('admin endpoints need the bearer token; the plain-HTTP listener has none of them', async () => {
  for (const token of [null, 'wrong-token', `${lab.provisioning.adminToken}x`]) {
    const res = await admin.raw('GET', '/api/v1/admin/state', undefined, token);
    assert.equal(res.status, 401, `token ${token === null ? '(none)' : 'wrong'} must be refused`);
    assert.match(String(res.headers['www-authenticate']), /^Bearer/);
  }
  const viaHttp = await request(`${lab.provisioning.insecureUrl}/api/v1/admin/state`, { headers: { authorization: `Bearer ${lab.provisioning.adminToken}` } });
  assert.equal(viaHttp.status, 404);
  const audit = await admin.audit(50);
  assert.ok(audit.some((r) => r.event === 'admin-auth' && r.reason === 'wrong-token'));
});

test('the service TLS listener refuses TLS 1.1', async () => {
  const tls = await import('node:tls');
  const url = new URL(lab.provisioning.url);
  const outcome = await new Promise<string>((resolve) => {
    const socket = tls.connect({ host: url.hostname, port: Number(url.port), ca: rootPem, maxVersion: 'TLSv1.1', minVersion: 'TLSv1' });
    socket.once('secureConnect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (err) => resolve(err.message));
  });
  assert.notEqual(outcome, 'connected');
  assert.match(outcome, /version|protocol/i);
});

test('a restart keeps ON/OFF, the white list, the inventory and the admin token', async () => {
  await admin.turnOn(3600);
  await admin.setWhitelist([listed, '10.1.0.0/16']);
  const inventoryBefore = await admin.inventory();
  assert.ok(inventoryBefore.length > 0);
  await lab.provisioningService.restart();
  const state = await admin.state();
  assert.equal(state.enabled, true);
  assert.deepEqual(state.whitelist, [listed, '10.1.0.0/16']);
  assert.ok(state.remainingSeconds! > 3500 && state.remainingSeconds! <= 3600, 'the auto-off deadline survives');
  assert.deepEqual((await admin.inventory()).map((c) => c.serial), inventoryBefore.map((c) => c.serial));
});

test('the audit log holds decisions but never the admin token or a key', async () => {
  const text = readFileSync(lab.provisioning.auditLogFile, 'utf8');
  const lines = text.trim().split('\n').map((l) => JSON.parse(l) as { decision: string });
  assert.ok(lines.some((l) => l.decision === 'served') && lines.some((l) => l.decision === 'refused'));
  assert.ok(!text.includes(lab.provisioning.adminToken), 'the admin token leaked into the audit log');
  assert.doesNotMatch(text, /PRIVATE KEY|BEGIN CERTIFICATE REQUEST/);
});

test('a second restart in a row still finds its state (restoring must not overwrite state.json)', async () => {
  await admin.turnOn(3600);
  await admin.setWhitelist([listed]);
  await lab.provisioningService.restart();
  await lab.provisioningService.restart();
  const state = await admin.state();
  assert.equal(state.enabled, true);
  assert.deepEqual(state.whitelist, [listed]);
});
