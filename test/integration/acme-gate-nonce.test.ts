// ACME nonces on the device path: the gate answers newNonce by HEAD itself and asks step-ca by
// GET (RFC 8555 §7.2 allows either), so its kept-alive connection to step-ca survives (a HEAD
// answered without a Content-Length makes Node's HTTP client drop the connection); the device's
// client asks newNonce once and then uses the Replay-Nonce of each answer, and polls nothing the
// server's answer already says is valid.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { loadConfig } from '../../config/config.ts';
import { startOwnedLab } from '../../environments/lab.ts';
import { request } from '../../net/https-client.ts';
import { waitFor } from '../../environments/wait.ts';
import { ProvisioningAdminClient } from '../../simulators/client/admin-client.ts';
import { startChallengeResponder } from '../../simulators/acme/http01-responder.ts';
import { RawAcmeClient } from '../../simulators/adversary/acme-raw.ts';
import { obtainBootstrapCertificate } from '../../simulators/client/acme-bootstrap.ts';

test('HEAD newNonce through the gate: 200 with a fresh, usable nonce; step-ca saw a GET', async () => {
  await using lab = await startOwnedLab(loadConfig({ env: {} }));
  const root = readFileSync(lab.ca.rootPem, 'utf8');
  const admin = new ProvisioningAdminClient(lab.provisioning.url, lab.provisioning.adminToken, root);
  await admin.turnOn();
  await admin.setWhitelist(['127.30.0.1']);
  const newNonce = lab.provisioning.acmeDirectoryUrl.replace(/directory$/, 'new-nonce');
  const heads = await Promise.all([1, 2].map(() => request(newNonce, { method: 'HEAD', ca: root, localAddress: '127.30.0.1' })));
  for (const res of heads) {
    assert.equal(res.status, 200, 'HEAD newNonce answers 200 (RFC 8555 §7.2)');
    assert.match(String(res.headers['replay-nonce']), /^[A-Za-z0-9_-]{16,}$/);
    assert.equal(res.body.length, 0);
  }
  assert.notEqual(heads[0]!.headers['replay-nonce'], heads[1]!.headers['replay-nonce']);
  // RawAcmeClient takes its first nonce with HEAD: the account is created with it.
  const acme = new RawAcmeClient({ directoryUrl: lab.provisioning.acmeDirectoryUrl, trustedCaPem: root, localAddress: '127.30.0.1' });
  assert.match(await acme.createAccount(), /\/acme\/bootstrap\/account\//);
  const log = readFileSync(lab.bootstrapStepCa.logFile, 'utf8');
  assert.match(log, /method=GET[^\n]*path=\/acme\/bootstrap\/new-nonce/);
  assert.doesNotMatch(log, /method=HEAD[^\n]*path=\/acme\/bootstrap\/new-nonce/);
});

test("a device's ACME flow asks newNonce once and then signs with the nonce of each answer (RFC 8555 §7.2)", async () => {
  await using lab = await startOwnedLab(loadConfig({ env: {} }));
  const root = readFileSync(lab.ca.rootPem, 'utf8');
  const admin = new ProvisioningAdminClient(lab.provisioning.url, lab.provisioning.adminToken, root);
  await admin.turnOn();
  await admin.setWhitelist(['127.30.0.2']);
  const responder = await startChallengeResponder(lab.bootstrapCa.acmeHttpPort);
  try {
    const before = readFileSync(lab.bootstrapStepCa.logFile, 'utf8').length;
    const credential = await obtainBootstrapCertificate({ directoryUrl: lab.provisioning.acmeDirectoryUrl, trustedCaPem: root, address: '127.30.0.2', responder, keyAlgorithm: 'ecdsa-p256' });
    assert.match(credential.certificateChainPem, /BEGIN CERTIFICATE/);
    // step-ca writes a request's line after it answered: wait until the flow's six POSTs are there.
    const logged = () => readFileSync(lab.bootstrapStepCa.logFile, 'utf8').slice(before);
    await waitFor('step-ca to log the flow\'s six POSTs', () => (logged().match(/method=POST/g) ?? []).length >= 6, { timeoutMs: 10_000 }).catch(() => undefined);
    const log = logged();
    const count = (re: RegExp) => (log.match(re) ?? []).length;
    assert.equal(count(/path=\/acme\/bootstrap\/new-nonce /g), 1, 'one newNonce for the whole flow');
    assert.equal(count(/path=\/acme\/bootstrap\/directory /g), 1, 'the directory read once');
    // No poll: step-ca validates http-01 before it answers the challenge and issues before it answers finalize.
    assert.equal(count(/method=POST/g), 6, 'account, order, authorization, challenge, finalize, certificate');
    assert.equal(count(/badNonce/g), 0);
  } finally {
    await responder.stop();
  }
});
