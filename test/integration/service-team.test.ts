// The service team's manual intervention against the real service, step-ca and Mosquitto: a
// certificate for firmware that does not provision itself (from the device's CSR, or with a key
// the service makes), and legacy credentials for firmware below the installation's "x" on the
// broker's legacy listener. Every refusal is a 4xx problem with an audit record.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { loadConfig } from '../../config/config.ts';
import { startLocalLab, type StartedLocalLab } from '../../environments/local/local-environment.ts';
import { AdminApiError, ProvisioningAdminClient } from '../../services/provisioning/admin-client.ts';
import { loopbackAddress } from '../../simulators/client/addresses.ts';
import { connectMqtt } from '../../simulators/client/mqtt-connection.ts';
import { inspectCertificate } from '../../x509/certificates.ts';
import { createKeyAndCsr } from '../../x509/csr.ts';
import { waitFor } from '../../environments/wait.ts';

let lab: StartedLocalLab;
let admin: ProvisioningAdminClient;
let rootPem: string;

before(async () => {
  lab = await startLocalLab(loadConfig({ env: {} }));
  rootPem = readFileSync(lab.ca.rootPem, 'utf8');
  admin = new ProvisioningAdminClient(lab.provisioning.url, lab.provisioning.adminToken, rootPem);
});
after(() => lab?.stop());

async function refusedWith(call: Promise<unknown>, status: number, code: string): Promise<void> {
  await assert.rejects(call, (err: unknown) => err instanceof AdminApiError && err.status === status && err.body.error === code);
  const records = await admin.audit(50);
  assert.ok(records.some((r) => r.decision === 'refused' && r.reason === code), `no audit record with reason ${code}`);
}

test('a certificate from the device\'s CSR: its key never left the device, and it names the identity the engineer gave', async () => {
  const { csrPem } = await createKeyAndCsr({ commonName: 'RVS-MANUAL-1', uris: ['urn:ecm-lab:device:RVS-MANUAL-1'] }, 'ecdsa-p256');
  const issued = await admin.issueCertificate({ identity: 'RVS-MANUAL-1', csr: csrPem, lifetimeSeconds: 3600 });
  assert.equal(issued.privateKeyPem, undefined);
  const facts = inspectCertificate(issued.certificateChainPem);
  assert.equal(facts.subjectCommonName, 'RVS-MANUAL-1');
  assert.deepEqual(facts.extendedKeyUsages, ['clientAuth'], 'client authentication only');
  assert.equal(issued.via, 'service-team');
  assert.ok(Math.abs(facts.notAfter.getTime() - facts.notBefore.getTime() - 3600_000) < 10_000, 'the lifetime asked for');
  const enrolment = (await admin.enrolments()).find((e) => e.identity === 'RVS-MANUAL-1');
  assert.equal(enrolment?.source, 'service-team');
});

test('server-side key generation answers with the key over HTTPS (the admin API has no plain listener)', async () => {
  const issued = await admin.issueCertificate({ identity: 'RVS-MANUAL-2', keyGeneration: 'server' });
  assert.match(issued.privateKeyPem ?? '', /BEGIN PRIVATE KEY/);
  const audit = JSON.stringify(await admin.audit(50));
  assert.ok(!audit.includes('PRIVATE KEY'), 'no key in the audit log');
  assert.ok(lab.provisioning.url.startsWith('https://'));
});

test('bad requests are refused with their cause: both or neither of csr and keyGeneration, a CSR for another identity, reserved names', async () => {
  await refusedWith(admin.issueCertificate({ identity: 'RVS-X' }), 400, 'bad-request');
  const { csrPem } = await createKeyAndCsr({ commonName: 'RVS-OTHER' }, 'ecdsa-p256');
  await refusedWith(admin.issueCertificate({ identity: 'RVS-X', csr: csrPem }), 400, 'csr-identity-mismatch');
  await refusedWith(admin.issueCertificate({ identity: 'RVS-X', csr: 'not a csr' }), 400, 'malformed');
  await refusedWith(admin.issueCertificate({ identity: 'ecm-lab-broker-admin', keyGeneration: 'server' }), 403, 'identity-reserved');
  await refusedWith(admin.issueCertificate({ identity: '../etc', keyGeneration: 'server' }), 400, 'bad-identity');
});

/**
 * The broker's own refusal of a password: CONNACK return code 5 (MQTT 3.1.1 §3.2.2.3), never a
 * timeout waiting for the CONNACK ("connack timeout") or a closed socket.
 */
async function refusedByBroker(connection: Promise<unknown>, message?: string): Promise<void> {
  await assert.rejects(connection, (err: Error & { code?: number }) => err.message === 'Connection refused: Not authorized' && err.code === 5, message);
}

test('a legacy credential is only for firmware below x, and reaches only its own legacy topics', async () => {
  await refusedWith(admin.createLegacyCredential('RVS-OLD-20', '2.0'), 409, 'certificate-required');
  await refusedWith(admin.createLegacyCredential('lumia', '1.4'), 403, 'identity-reserved');
  const credential = await admin.createLegacyCredential('RVS-OLD-14', '1.4');
  assert.ok(credential.password.length >= 24);
  await refusedWith(admin.createLegacyCredential('RVS-OLD-14', '1.4'), 409, 'legacy-credential-exists');
  const audit = JSON.stringify(await admin.audit(100));
  assert.ok(!audit.includes(credential.password), 'the password is never in the audit log');

  const legacy = { host: lab.broker.host, port: lab.broker.legacyPort!, trustedRootPem: rootPem, localAddress: loopbackAddress(1, 6) };
  const device = await connectMqtt({ ...legacy, clientId: 'anything', username: credential.username, password: credential.password });
  // The application, certified by the service team too, reads both trees and writes commands.
  const appPair = await admin.issueCertificate({ identity: 'lumia', keyGeneration: 'server' });
  const app = await connectMqtt({ host: lab.broker.host, port: lab.broker.port, trustedRootPem: rootPem, clientId: 'lumia', certificateChainPem: appPair.certificateChainPem, privateKeyPem: appPair.privateKeyPem!, localAddress: loopbackAddress(2, 6) });
  try {
    const toDevice: string[] = [];
    const toApp: string[] = [];
    device.on('message', (topic) => toDevice.push(topic));
    app.on('message', (topic) => toApp.push(topic));
    // Subscriptions are granted (Mosquitto checks topics when it delivers); what matters is what arrives.
    await device.subscribeAsync(['reveos/#', 'reveos-legacy/#'], { qos: 1 });
    await app.subscribeAsync(['reveos/#', 'reveos-legacy/#'], { qos: 1 });
    // One publisher, in order: once the second message arrived, the first would have too.
    await app.publishAsync('reveos/RVS-SOMEONE/cmd', 'theirs', { qos: 1 });
    await app.publishAsync('reveos-legacy/RVS-OLD-14/cmd', 'yours', { qos: 1 });
    await waitFor('the legacy device to get its own command', () => toDevice.includes('reveos-legacy/RVS-OLD-14/cmd'), { timeoutMs: 5000 });
    assert.deepEqual(toDevice, ['reveos-legacy/RVS-OLD-14/cmd'], 'nothing of another device reaches a legacy credential');
    await device.publishAsync('reveos-legacy/RVS-OLD-14/telemetry', 'own', { qos: 1 });
    await waitFor('the application to get the legacy device\'s telemetry', () => toApp.includes('reveos-legacy/RVS-OLD-14/telemetry'), { timeoutMs: 5000 });
    // Mosquitto answers a denied publish with "not authorized" and closes the connection.
    for (const forged of ['reveos/RVS-SOMEONE/telemetry', 'reveos-legacy/RVS-OTHER/telemetry']) {
      const again = await connectMqtt({ ...legacy, clientId: 'anything', username: credential.username, password: credential.password });
      const closed = new Promise<void>((resolve) => again.once('close', () => resolve()));
      again.publish(forged, 'forged', { qos: 1 });
      await closed;
      again.end(true);
      await app.publishAsync('reveos-legacy/RVS-OLD-14/cmd', 'marker', { qos: 1 });
      await waitFor('the application to get its own marker', () => toApp.filter((t) => t === 'reveos-legacy/RVS-OLD-14/cmd').length >= 2 + ['reveos/RVS-SOMEONE/telemetry', 'reveos-legacy/RVS-OTHER/telemetry'].indexOf(forged), { timeoutMs: 5000 });
      assert.ok(!toApp.includes(forged), `${forged} reached the application`);
    }
  } finally {
    device.end(true);
    await app.endAsync();
  }
  await refusedByBroker(connectMqtt({ ...legacy, clientId: 'x', username: credential.username, password: 'wrong' }));
  await refusedByBroker(connectMqtt({ ...legacy, clientId: 'x' }), 'no anonymous clients');

  await admin.deleteLegacyCredential('RVS-OLD-14');
  await refusedByBroker(connectMqtt({ ...legacy, clientId: 'x', username: credential.username, password: credential.password }));
  await refusedWith(admin.deleteLegacyCredential('RVS-OLD-14'), 404, 'unknown-identity');
});

test('a legacy credential takes its identity for the service team', async () => {
  await admin.createLegacyCredential('RVS-OLD-13', '1.3');
  const enrolments = await admin.enrolments();
  assert.equal(enrolments.find((e) => e.identity === 'RVS-OLD-13')?.source, 'service-team');
});
