// Steps of the mixed fleet (seed 000): which firmware provisions itself, the service team's
// certificates and legacy credentials, firmware updates and downgrades.
import assert from 'node:assert/strict';
import { Given, Then, When } from '@cucumber/cucumber';
import { AdminApiError } from '../simulators/client/admin-client.ts';
import type { DevicePowerUpOutcome } from '../simulators/device/reveos-device.ts';
import { certificateSerial, inspectCertificate, normalizeSerial } from '../x509/certificates.ts';
import { certifyByServiceTeam, giveLegacyCredential, type CertificationMethod } from './support/service-team.ts';
import type { LabWorld } from './support/world.ts';

const outcomeOf = (world: LabWorld) => world.powerUps.get(world.lastDevice) as DevicePowerUpOutcome;

Given('a device with firmware {string}', function (this: LabWorld, firmwareVersion: string) {
  this.createDevice({ firmwareVersion });
});

Given('a device with firmware {string} holding a valid certificate', async function (this: LabWorld, firmwareVersion: string) {
  const device = this.createDevice({ firmwareVersion });
  if (firmwareVersion === '2.1') await device.join();
  else await certifyByServiceTeam(this, device, "from the client's own CSR");
  this.certificateBefore = inspectCertificate(device.store.loadOperational()!.certificateChainPem);
});

When('the device powers up', async function (this: LabWorld) {
  await this.recordPowerUp(this.lastDevice);
});

When('its firmware is changed to {string} and it restarts', async function (this: LabWorld, firmwareVersion: string) {
  await this.lastDevice.disconnect();
  this.inventoryBeforeRestart = (await this.admin.inventory(this.lastDevice.identity.deviceId)).length;
  await this.recordPowerUp(this.restartDevice(this.lastDevice, { firmwareVersion }));
});

When('the service engineer certifies the device {} and installs the certificate', async function (this: LabWorld, how: CertificationMethod) {
  await certifyByServiceTeam(this, this.lastDevice, how);
});

When('the service engineer gives the device a legacy credential', async function (this: LabWorld) {
  await giveLegacyCredential(this, this.lastDevice);
});

When('the service engineer tries to give the device a legacy credential', async function (this: LabWorld) {
  await this.attack.begin();
  this.lastError = await giveLegacyCredential(this, this.lastDevice).then(() => undefined, (err: Error) => err);
});

/** The device dials a listener of the broker with nothing but its trust anchor. */
async function connectBare(world: LabWorld, port: number): Promise<void> {
  const device = world.lastDevice;
  await world.brokerProbe.connect({ port, from: device.address, clientId: device.identity.deviceId, watchLog: true });
}

When('the device connects to the broker without a client certificate', async function (this: LabWorld) {
  await connectBare(this, this.session.lab.broker.port);
});

When("the device connects to the broker's legacy listener without a credential", async function (this: LabWorld) {
  await connectBare(this, this.legacyBroker().port);
});

Then('the device is provisioned and its telemetry reaches the application', async function (this: LabWorld) {
  const outcome = outcomeOf(this);
  assert.equal(outcome.state, 'connected');
  assert.deepEqual(outcome.path, ['validating', 'discarding', 'provisioning', 'obtaining-operational', 'connecting', 'connected']);
  await this.telemetryReachesApplication(this.lastDevice);
});

Then("it waits for the service team's certificate and no CA was asked for one", async function (this: LabWorld) {
  const outcome = outcomeOf(this);
  assert.deepEqual([outcome.state, outcome.path], ['awaiting-certificate', ['validating', 'discarding', 'awaiting-certificate']]);
  assert.equal(this.lastDevice.store.loadBootstrap(), undefined, 'it ran ACME');
  assert.deepEqual(await this.admin.inventory(this.lastDevice.identity.deviceId), [], 'a certificate was issued for it');
});

Then('it connects with the installed certificate and its telemetry reaches the application', async function (this: LabWorld) {
  const device = this.lastDevice;
  const outcome = outcomeOf(this);
  assert.deepEqual([outcome.state, outcome.authentication, outcome.path], ['connected', 'certificate', ['validating', 'connecting', 'connected']]);
  const [issued] = await this.admin.inventory(device.identity.deviceId);
  assert.equal(issued?.via, 'service-team');
  assert.equal(certificateSerial(device.store.loadOperational()!.certificateChainPem), issued.serial, 'the device uses the certificate the service team issued');
  assert.equal((await this.telemetryReachesApplication(device)).authentication, 'certificate');
});

Then('it connects with its legacy credential and its telemetry reaches the application as a legacy device', async function (this: LabWorld) {
  const outcome = outcomeOf(this);
  assert.deepEqual([outcome.state, outcome.authentication, outcome.track], ['connected', 'legacy-credential', 'legacy']);
  const received = await this.telemetryReachesApplication(this.lastDevice);
  assert.deepEqual([received.authentication, received.topic.split('/')[0]], ['legacy-credential', `${this.session.config.broker.topicRoot}-legacy`]);
});

Then('the service refuses with {string}', async function (this: LabWorld, code: string) {
  assert.ok(this.lastError instanceof AdminApiError, `the service did not refuse: ${String(this.lastError)}`);
  assert.deepEqual([this.lastError.status, this.lastError.body.error], [409, code]);
  await this.attack.audited(code);
});

Then('it connects with the same certificate and no CA was asked for a new one', async function (this: LabWorld) {
  const outcome = outcomeOf(this);
  assert.deepEqual([outcome.state, outcome.path], ['connected', ['validating', 'connecting', 'connected']]);
  assert.equal(certificateSerial(this.lastDevice.store.loadOperational()!.certificateChainPem), normalizeSerial(this.certificateBefore!.serialNumber));
  assert.equal((await this.admin.inventory(this.lastDevice.identity.deviceId)).length, this.inventoryBeforeRestart, 'a certificate was issued');
  await this.telemetryReachesApplication(this.lastDevice);
});

// --- x is configurable ------------------------------------------------------------------------

Given('a lab of its own where certificate authentication is required from firmware {string}', async function (this: LabWorld, version: string) {
  await this.startScenarioLab({ devices: { certificateRequiredFirmware: version } });
});

Then('the service engineer may give a legacy credential to firmware {string} but not to firmware {string}', async function (this: LabWorld, below: string, atX: string) {
  const admin = this.adminOf(this.scenarioLab!);
  const granted = await admin.createLegacyCredential('RVS-BELOW-X', below);
  assert.equal(granted.firmwareVersion, below);
  await assert.rejects(admin.createLegacyCredential('RVS-AT-X', atX), (err: unknown) => err instanceof AdminApiError && err.body.error === 'certificate-required');
});
