// Steps of the installation use cases (UC-01, UC-02) and of operation (renewal, commands).
import assert from 'node:assert/strict';
import { Given, Then, When } from '@cucumber/cucumber';
import { waitFor } from '../environments/wait.ts';
import { inspectCertificate, normalizeSerial } from '../x509/certificates.ts';
import { assertRenewalWithin } from './support/renewal-latency.ts';
import { assertInventoryHoldsLoggedIssuance } from './support/inventory-completeness.ts';
import { installationKeyAlgorithms, type KeyFact } from './support/key-algorithms.ts';
import { attempt, auditedReason, auditedRefusal } from './support/audited-refusals.ts';
import type { LabWorld } from './support/world.ts';

/** Every key is the profile's: the clients', the servers', the CAs' (seed 001 §6.3 in the RSA profile). */
function assertKeyAlgorithms(facts: KeyFact[], expected: string): void {
  // Both clients' stores, the broker's and the service's chains: at least a dozen keys.
  assert.ok(facts.length >= 12, `only ${facts.length} keys were read`);
  const other = facts.filter((f) => f.algorithm !== expected);
  assert.deepEqual(other, [], `keys other than ${expected}`);
}

Given('the application server is provisioned', async function (this: LabWorld) {
  await this.runningApplication();
});

When('{int} devices are provisioned', async function (this: LabWorld, count: number) {
  const devices = Array.from({ length: count }, () => this.createDevice());
  await Promise.all(
    devices.map(async (device) => {
      await device.join();
    }),
  );
});

Then("every device's telemetry reaches the application over mutual TLS", async function (this: LabWorld) {
  for (const device of this.devices) await this.telemetryReachesApplication(device, { spo2: 98 });
});

Then("the application's commands reach every device and are answered", async function (this: LabWorld) {
  const app = await this.runningApplication();
  for (const device of this.devices) {
    const reply = await app.sendCommand(device.identity.deviceId, 'identify');
    assert.equal(reply.ok, true, reply.error);
    assert.deepEqual(reply.result, { ...device.identity });
  }
});

Then('a device that was not provisioned can no longer obtain a certificate', async function (this: LabWorld) {
  const late = this.createDevice();
  await auditedRefusal(this, late, await attempt(() => late.provision()), auditedReason('the service is OFF'));
  assert.equal(late.store.loadBootstrap(), undefined);
  this.devices.pop(); // it never joined the installation
});

Then('the provisioned devices stay connected', async function (this: LabWorld) {
  for (const device of this.devices) {
    assert.equal(device.connected, true, `${device.identity.deviceId} lost its connection`);
    assert.equal(device.unexpectedDisconnects, 0);
  }
  await this.runningApplication().then((app) => assert.equal(app.connected, true));
});

Then('the inventory lists a bootstrap and an operational certificate for every device', async function (this: LabWorld) {
  const inventory = new Map((await this.admin.inventory()).map((c) => [c.serial, c]));
  // By the device's own serials: an installation under test keeps the certificates of earlier runs.
  for (const device of this.devices) {
    const held = { bootstrap: device.store.loadBootstrap()!, operational: device.store.loadOperational()! };
    for (const [kind, credential] of Object.entries(held)) {
      const entry = inventory.get(normalizeSerial(inspectCertificate(credential.certificateChainPem).serialNumber));
      assert.deepEqual([entry?.kind, entry?.deviceId], [kind, kind === 'bootstrap' ? device.address : device.identity.deviceId], `${kind} certificate of ${device.identity.deviceId}: ${JSON.stringify(entry)}`);
      assert.ok(entry!.state === 'active' || entry!.state === 'expiring', `${kind} certificate of ${device.identity.deviceId} is ${entry!.state}`);
    }
  }
});

Given('an installation with the application and {int} devices sending telemetry every {int} ms', async function (this: LabWorld, count: number, intervalMs: number) {
  // The installation as UC-01 left it: provisioned while ON for the site, then turned OFF.
  await this.admin.turnOn();
  await this.admin.setWhitelist(this.installationWhitelist);
  const app = await this.runningApplication();
  for (let i = 0; i < count; i++) {
    const device = this.createDevice();
    await device.join();
    device.startTelemetry(intervalMs);
    this.installed.push(device);
  }
  await this.admin.turnOff();
  for (const device of this.installed) {
    await app.waitForTelemetry((t) => t.message.deviceId === device.identity.deviceId);
  }
});

When("the service engineer turns provisioning ON for the new device's address only", async function (this: LabWorld) {
  const device = this.createDevice();
  await this.admin.turnOn();
  await this.admin.setWhitelist(this.sourceAddressesOf(device));
});

When('the new device is provisioned and connects', async function (this: LabWorld) {
  const device = this.lastDevice;
  await device.join();
});

Then("the new device's telemetry reaches the application", async function (this: LabWorld) {
  await this.telemetryReachesApplication(this.lastDevice);
});

Then('the installed devices lost no telemetry and were never disconnected', async function (this: LabWorld) {
  const app = await this.runningApplication();
  for (const device of this.installed) {
    await device.stopTelemetry();
    const last = device.lastSeq;
    assert.ok(last >= 2, `${device.identity.deviceId} sent only ${last} messages`);
    await waitFor(`all ${last} messages of ${device.identity.deviceId}`, () => app.missingSequenceNumbers(device.identity.deviceId, last).length === 0, { timeoutMs: 5000 });
    assert.equal(device.unexpectedDisconnects, 0, `${device.identity.deviceId} was disconnected`);
  }
});

Given('a device provisioned with an operational certificate valid for {int} seconds', async function (this: LabWorld, seconds: number) {
  const device = this.createDevice();
  await device.join({ lifetimeSeconds: this.lifetime(seconds) });
  this.certificateBefore = inspectCertificate(device.store.loadOperational()!.certificateChainPem);
});

Given('the device publishes telemetry every {int} ms at QoS 1', async function (this: LabWorld, intervalMs: number) {
  this.lastDevice.startTelemetry(intervalMs);
  const app = await this.runningApplication();
  await app.waitForTelemetry((t) => t.message.deviceId === this.lastDevice.identity.deviceId);
});

When('the device renews its certificate at two thirds of its lifetime', async function (this: LabWorld) {
  const renewedAt = await this.lastDevice.renewWhenDue();
  assert.ok(renewedAt < this.certificateBefore!.notAfter, 'the renewal must happen before the certificate expires');
});

Then('the device holds a new certificate with a later expiry and the same identity', function (this: LabWorld) {
  const after = inspectCertificate(this.lastDevice.store.loadOperational()!.certificateChainPem);
  const before = this.certificateBefore!;
  assert.notEqual(after.serialNumber, before.serialNumber);
  assert.ok(after.notAfter > before.notAfter, 'the renewed certificate must expire later');
  assert.equal(after.subjectCommonName, before.subjectCommonName);
  assert.deepEqual(after.sans, before.sans);
  assert.deepEqual(after.extendedKeyUsages, ['clientAuth']);
});

Then('the device stored its renewed certificate within {int} seconds of asking for it, as it measured', function (this: LabWorld, seconds: number) {
  assertRenewalWithin(this, this.lastDevice, seconds);
});

Then('the application received every telemetry message without a gap', async function (this: LabWorld) {
  const device = this.lastDevice;
  // Keep publishing a little on the renewed certificate, then stop and count.
  const app = await this.runningApplication();
  const seqAfterRenewal = device.lastSeq;
  await app.waitForTelemetry((t) => t.message.deviceId === device.identity.deviceId && t.message.seq > seqAfterRenewal + 3);
  await device.stopTelemetry();
  const last = device.lastSeq;
  await waitFor(`all ${last} messages of ${device.identity.deviceId}`, () => app.missingSequenceNumbers(device.identity.deviceId, last).length === 0, { timeoutMs: 5000 }).catch(() => {
    throw new Error(`lost telemetry: ${app.missingSequenceNumbers(device.identity.deviceId, last).join(', ')}`);
  });
  assert.equal(device.unexpectedDisconnects, 0);
});

Then('the application reports every certificate as {string} within a {int} hour window', async function (this: LabWorld, state: string, hours: number) {
  const app = await this.runningApplication();
  const reports = await app.certificateStates(() => this.admin.inventory(), hours * 3600_000);
  const holders = [app, ...this.devices];
  for (const client of holders) {
    const report = reports.find((r) => r.holder === client.commonName);
    const serial = normalizeSerial(inspectCertificate(client.store.loadOperational()!.certificateChainPem).serialNumber);
    assert.deepEqual([report?.state, report?.serial], [state, serial], `${client.commonName}: ${JSON.stringify(report)}`);
  }
});

Then('the inventory holds every certificate the two step-ca authorities logged as issued', async function (this: LabWorld) {
  await assertInventoryHoldsLoggedIssuance(this);
});

Then("every certificate and key of the installation uses the profile's key algorithm", async function (this: LabWorld) {
  const expected = this.session.config.pki.keyAlgorithm;
  const { facts, notes } = await installationKeyAlgorithms(this);
  this.attach(JSON.stringify({ expected, facts, notes }, null, 1), { mediaType: 'application/json', fileName: 'key-algorithms.json' });
  assertKeyAlgorithms(facts, expected);
});
