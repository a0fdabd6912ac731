// Steps of a device's life after installation: offline periods (UC-03), CA events (UC-04,
// UC-05) and the mixed fleet. The workflow itself is the device's powerUp().
import assert from 'node:assert/strict';
import { Given, Then, When } from '@cucumber/cucumber';
import { waitFor } from '../environments/wait.ts';
import { inspectCertificate } from '../x509/certificates.ts';
import { assertBrokerRefuses } from './support/broker-refusal.ts';
import { assertRootCrlListsOldIntermediate, rootRevokesIntermediate } from './support/intermediate-revocation.ts';
import { assertCameBackOnHeldCertificate, restartBetweenIssuanceAndStore } from './support/interrupted-renewal.ts';
import type { LabWorld } from './support/world.ts';

Given('the device goes offline', async function (this: LabWorld) {
  await this.lastDevice.disconnect();
});

When('its operational certificate expires while it is offline', async function (this: LabWorld) {
  const { notAfter } = inspectCertificate(this.lastDevice.store.loadOperational()!.certificateChainPem);
  await waitFor('the operational certificate to expire', () => Date.now() > notAfter.getTime(), { timeoutMs: 30_000, intervalMs: 200 });
});

When('the device powers up again', async function (this: LabWorld) {
  await this.recordPowerUp(this.lastDevice);
});

Then('it finds its certificate {string} and discards it', function (this: LabWorld, reason: string) {
  const outcome = this.powerUps.get(this.lastDevice)!;
  assert.ok('validation' in outcome, 'the device took the legacy path');
  assert.equal(outcome.validation?.valid, false, 'the stored certificate was accepted');
  assert.equal(outcome.validation && !outcome.validation.valid && outcome.validation.reason, reason);
  assert.ok(outcome.path.includes('discarding'));
});

Then('it re-acquires an operational certificate with its bootstrap certificate and connects', function (this: LabWorld) {
  const outcome = this.powerUps.get(this.lastDevice)!;
  assert.deepEqual(outcome.path, ['validating', 'discarding', 'obtaining-operational', 'connecting', 'connected']);
  assert.equal(this.lastDevice.connected, true);
});

Then('its telemetry reaches the application again', async function (this: LabWorld) {
  await this.telemetryReachesApplication(this.lastDevice);
});

/** Devices made after a rotation come out of the factory trusting the lab's current root. */
function refreshFactoryTrust(world: LabWorld): void {
  world.session.endpoints.trustedRootPem = world.owned('rotate-root').pki.root.certificatePem;
}

When('the lab CA installs a new root and every component restarts', async function (this: LabWorld) {
  this.certificatesBeforeRotation = new Map(this.allClients().map((c) => [c, c.store.loadOperational()!]));
  await this.owned('rotate-root').rotatePki('root');
  refreshFactoryTrust(this);
});

When("the lab's root revokes the issuing intermediate, signs a new one and every component restarts", async function (this: LabWorld) {
  await rootRevokesIntermediate(this);
});

Then("the root's CRL, as the service publishes it to clients, lists the old intermediate", async function (this: LabWorld) {
  await assertRootCrlListsOldIntermediate(this);
});

Then('the broker refuses the old certificates with {string}', async function (this: LabWorld, alert: string) {
  // Whatever the client trusts, the broker must refuse its old certificate: its alert, and its log line of that connection.
  for (const [client, old] of this.certificatesBeforeRotation) await assertBrokerRefuses(this, old, alert, { clientId: `old-${client.commonName}` });
});

When('the application and the devices power up again', async function (this: LabWorld) {
  for (const client of this.allClients()) {
    await client.disconnect();
    await this.recordPowerUp(client);
  }
  (await this.runningApplication()); // resubscribed on reconnect by onConnected()
});

Then('each of them finds its certificate {string} and re-acquires one under the new {word} with its bootstrap credential', async function (this: LabWorld, reason: string, what: string) {
  const issuerNow = await this.currentIssuerName();
  for (const client of this.allClients()) {
    const outcome = this.powerUps.get(client)!;
    assert.equal(outcome.state, 'connected', `${client.commonName}: ${'error' in outcome ? outcome.error : ''}`);
    assert.ok('validation' in outcome);
    assert.equal(outcome.validation && !outcome.validation.valid && outcome.validation.reason, reason, `${client.commonName} validation`);
    assert.deepEqual(outcome.path, ['validating', 'discarding', 'obtaining-operational', 'connecting', 'connected'], `${client.commonName} re-acquired with its bootstrap credential`);
    const issuer = inspectCertificate(client.store.loadOperational()!.certificateChainPem).issuerCommonName;
    assert.equal(issuer, issuerNow, `${client.commonName} is under the new ${what}`);
  }
});

Then('each of them distrusts the broker, fetches the new root and re-acquires its certificate under it with its bootstrap credential', async function (this: LabWorld) {
  const issuerNow = await this.currentIssuerName();
  for (const client of this.allClients()) {
    const outcome = this.powerUps.get(client)!;
    assert.equal(outcome.state, 'connected', `${client.commonName}: ${'error' in outcome ? outcome.error : ''}`);
    // Valid against its old root, refused trust in the broker, new anchor, invalid now, re-acquired by X5C.
    assert.deepEqual(outcome.path, ['validating', 'connecting', 'validating', 'discarding', 'obtaining-operational', 'connecting', 'connected'], `${client.commonName}: ${outcome.path.join(' > ')}`);
    assert.equal(inspectCertificate(client.store.loadOperational()!.certificateChainPem).issuerCommonName, issuerNow);
    assert.equal(client.trustedRootPem.trim(), this.session.endpoints.trustedRootPem.trim(), `${client.commonName} trusts the new root`);
  }
});

When('the device process restarts', async function (this: LabWorld) {
  const before = this.lastDevice;
  await before.disconnect();
  this.inventoryBeforeRestart = (await this.admin.inventory(before.identity.deviceId)).length;
  this.restartDevice(before);
});

Then('it connects with its stored certificate without asking the CA for a new one', async function (this: LabWorld) {
  const outcome = this.powerUps.get(this.lastDevice)!;
  assert.deepEqual(outcome.path, ['validating', 'connecting', 'connected']);
  assert.equal((await this.admin.inventory(this.lastDevice.identity.deviceId)).length, this.inventoryBeforeRestart, 'no new certificate was issued');
});

When('the device process restarts in the middle of a renewal', async function (this: LabWorld) {
  this.interruptedRenewal = await restartBetweenIssuanceAndStore(this);
});

Then('it comes back connected with the certificate it held, although step-ca had issued the renewed one', function (this: LabWorld) {
  assertCameBackOnHeldCertificate(this, this.interruptedRenewal!);
});

Then('it re-provisions by ACME and re-acquires an operational certificate for its own identity', function (this: LabWorld) {
  const device = this.lastDevice;
  const outcome = this.powerUps.get(device)!;
  assert.deepEqual(outcome.path, ['validating', 'discarding', 'provisioning', 'obtaining-operational', 'connecting', 'connected']);
  assert.equal(inspectCertificate(device.store.loadOperational()!.certificateChainPem).subjectCommonName, device.identity.deviceId);
});

Then('its identity is enrolled on its new bootstrap credential', async function (this: LabWorld) {
  const device = this.lastDevice;
  const serial = inspectCertificate(device.store.loadBootstrap()!.certificateChainPem).serialNumber.replace(/^0+/, '');
  const enrolment = (await this.admin.enrolments()).find((e) => e.identity === device.identity.deviceId);
  assert.equal(enrolment?.bootstrapSerial, serial, 'the identity is still bound to the revoked credential');
  assert.equal(enrolment?.address, device.address);
});
