// The new trust endpoints of the provisioning service against real sockets: the webhook listener
// step-ca calls (only step-ca's own TLS certificate may, every bad body is a 400 with an audit
// line), white-list entries that name identities, and the enrolment API. Never a 5xx for a
// client's mistake.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { loadConfig } from '../../config/config.ts';
import { request, type HttpResponse } from '../../net/https-client.ts';
import { startLocalLab, type StartedLocalLab } from '../../environments/local/local-environment.ts';
import { issueLeaf } from '../../environments/pki/certificate-authority.ts';
import { AdminApiError, ProvisioningAdminClient } from '../../services/provisioning/admin-client.ts';
import { loopbackAddress } from '../../simulators/client/addresses.ts';

let lab: StartedLocalLab;
let admin: ProvisioningAdminClient;
let rootPem: string;
let stepCaLike: { cert: string; key: string };
let deviceLike: { cert: string; key: string };
const address = loopbackAddress(0, 6);

before(async () => {
  lab = await startLocalLab(loadConfig({ env: {} }));
  rootPem = readFileSync(lab.ca.rootPem, 'utf8');
  admin = new ProvisioningAdminClient(lab.provisioning.url, lab.provisioning.adminToken, rootPem);
  // A client certificate with step-ca's CN from the genuine intermediate reaches the handlers,
  // which is what these tests need; a device's certificate must not.
  const client = async (commonName: string) => {
    const leaf = await issueLeaf(lab.pki.intermediate, { commonName, extendedKeyUsages: ['clientAuth'] });
    return { cert: `${leaf.certificatePem}\n${lab.pki.intermediate.certificatePem}`, key: leaf.privateKeyPem };
  };
  stepCaLike = await client('Step Online CA');
  deviceLike = await client('RVS-HOOK-CALLER');
});
after(() => lab?.stop());

const hook = (name: string, body: string | undefined, as?: { cert: string; key: string }): Promise<HttpResponse> =>
  request(`${lab.provisioningService.hooksUrl}/webhooks/${name}`, { method: 'POST', body, ca: rootPem, cert: as?.cert, key: as?.key });

async function audited(reason: string): Promise<void> {
  const records = await admin.audit(50);
  assert.ok(records.some((r) => r.decision === 'refused' && r.reason === reason), `no audit record with reason ${reason}`);
}

test('every error is an RFC 9457 problem document, with the code and message of the first answers', async () => {
  const res = await admin.raw('DELETE', '/api/v1/admin/enrolments/RVS-NOBODY');
  assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
  const body = res.json<Record<string, unknown>>();
  assert.deepEqual(
    { type: body.type, title: body.title, status: body.status, error: body.error },
    { type: 'urn:ecm-lab:problem:unknown-identity', title: 'unknown-identity', status: 404, error: 'unknown-identity' },
  );
  assert.equal(body.detail, body.message);
  const unknownRoute = await request(`${lab.provisioning.insecureUrl}/nothing/here`);
  assert.equal(unknownRoute.status, 404);
  assert.equal(unknownRoute.json<{ error: string }>().error, 'not-found');
});

test('the webhook listener refuses a TLS client without a certificate', async () => {
  const since = new Date().toISOString();
  // The listener's own refusal: its TLS alert (a hang-up or a reset could be anything, a crash included)...
  await assert.rejects(hook('x5c-identity', '{}'), /alert certificate required/);
  // ...and its audit record of that handshake, with OpenSSL's reason.
  const records = await admin.audit(50);
  const refusal = records.find((r) => r.time >= since && r.event === 'webhook-tls-handshake');
  assert.equal(refusal?.reason, 'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE', JSON.stringify(refusal));
});

test("a device's certificate cannot call the webhooks: 403 not-step-ca, audited", async () => {
  for (const name of ['x5c-identity', 'acme-window']) {
    const res = await hook(name, '{}', deviceLike);
    assert.equal(res.status, 403, res.text());
    assert.equal(res.json<{ error: string }>().error, 'not-step-ca');
  }
  await audited('not-step-ca');
});

test('the bootstrap authority cannot answer for the operational one (and the other way round)', async () => {
  // stepCaLike is under the operational intermediate: fine for x5c-identity, refused for acme-window.
  const res = await hook('acme-window', JSON.stringify({ x509Certificate: { sans: [{ type: 'ip', value: address }] } }), stepCaLike);
  assert.equal(res.status, 403);
  assert.match(res.json<{ message: string }>().message, /was not issued by the bootstrap authority/);
});

test('bad webhook bodies get a precise 400 and an audit line, never a 5xx', async () => {
  const cases: Array<[string, string | undefined, RegExp]> = [
    ['x5c-identity', 'not json', /not JSON/],
    ['x5c-identity', '[]', /does not describe a certificate/],
    ['x5c-identity', JSON.stringify({ x509Certificate: {} }), /x5cCertificate/],
    ['x5c-identity', JSON.stringify({ x509Certificate: {}, x5cCertificate: { raw: 'bm90IGEgY2VydA==' } }), /not a certificate/],
    ['x5c-identity', JSON.stringify({ x509Certificate: { sans: 'x' }, x5cCertificate: { raw: 'AA==' } }), /sans/],
  ];
  for (const [name, body, message] of cases) {
    const res = await hook(name, body, stepCaLike);
    assert.equal(res.status, 400, `${body}: ${res.status} ${res.text()}`);
    assert.match(res.json<{ message: string }>().message, message);
  }
  await audited('bad-request');
});

test('white-list entries naming identities: single addresses only, no reserved server name, no identity twice', async () => {
  await admin.turnOn();
  const refused = async (entries: string[], message: RegExp) => {
    const err = await admin.setWhitelist(entries).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof AdminApiError && err.status === 400, `accepted ${JSON.stringify(entries)}`);
    assert.match(err.message, message);
  };
  await refused(['10.0.0.0/24=RVS-1'], /single address only/);
  await refused([`${address}=localhost`], /reserved for the lab's own servers/);
  await refused([`${address}=RVS-1`, `${loopbackAddress(1, 6)}=RVS-1`], /already named for/);
  await refused([`${address}=RVS-1`, `${address}=RVS-2`], /already named RVS-1/);
  await refused([`${address}=bad name`], /is not an identity/);
  assert.deepEqual(await admin.setWhitelist([`${address}=RVS-NAMED-1`, `${loopbackAddress(2, 6)}=lumia`]), [`${address}=RVS-NAMED-1`, `${loopbackAddress(2, 6)}=lumia`]);
  // The same as objects.
  const res = await admin.raw('PUT', '/api/v1/admin/whitelist', { entries: [{ address, identity: 'RVS-NAMED-2' }] });
  assert.equal(res.status, 200, res.text());
  assert.deepEqual(res.json<{ entries: string[] }>().entries, [`${address}=RVS-NAMED-2`]);
});

test('enrolment API: list, release, 404 for an unknown identity, 401 without the token', async () => {
  assert.ok(Array.isArray(await admin.enrolments()));
  const unknown = await admin.raw('DELETE', '/api/v1/admin/enrolments/RVS-NOBODY');
  assert.equal(unknown.status, 404);
  assert.equal(unknown.json<{ error: string }>().error, 'unknown-identity');
  assert.equal((await admin.raw('GET', '/api/v1/admin/enrolments', undefined, null)).status, 401);
});

test('the bootstrap endpoint refuses a CSR asking for names the credential cannot carry', async () => {
  await admin.turnOn();
  await admin.setWhitelist([address]);
  const { createKeyAndCsr } = await import('../../x509/csr.ts');
  const { csrPem } = await createKeyAndCsr({ commonName: 'RVS-SAN', dnsNames: ['localhost'] }, 'ecdsa-p256');
  const res = await request(`${lab.provisioning.insecureUrl}/api/v1/bootstrap`, { method: 'POST', headers: { 'content-type': 'application/pkcs10' }, body: csrPem, localAddress: address });
  assert.equal(res.status, 400);
  assert.equal(res.json<{ error: string }>().error, 'bad-san');
  const badIdentity = (await createKeyAndCsr({ commonName: 'RVS:COLON' }, 'ecdsa-p256')).csrPem;
  const res2 = await request(`${lab.provisioning.insecureUrl}/api/v1/bootstrap`, { method: 'POST', headers: { 'content-type': 'application/pkcs10' }, body: badIdentity, localAddress: address });
  assert.equal(res2.status, 400, res2.text());
  assert.equal(res2.json<{ error: string }>().error, 'bad-identity');
});


test('with step-ca down, the CA API answers 502 ca-unreachable (the server is at fault, not the client), and audits it', async () => {
  await lab.stepCa.stop();
  try {
    const res = await request(`${lab.provisioning.url}/1.0/sign`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ csr: 'x', ott: 'y' }), ca: rootPem });
    assert.equal(res.status, 502, res.text());
    assert.equal(res.json<{ error: string }>().error, 'ca-unreachable');
    await audited('ca-unreachable');
  } finally {
    await lab.stepCa.restart();
  }
});
