// Steps of seed 003's device id in an otherName SAN (features/device-id-san.feature, known-gaps.feature).
import assert from 'node:assert/strict';
import { Given, Then, When } from '@cucumber/cucumber';
import { deviceSan } from '../simulators/device/device-identity.ts';
import { inspectCertificate } from '../x509/certificates.ts';
import { askWebhookForDisagreeingDeviceId, assertCarriesDeviceId, brokerSessionWith, certificateNamingAnotherDevice } from './support/device-id.ts';
import type { LabWorld } from './support/world.ts';

Then("the device's operational certificate carries its device id in an otherName SAN under the lab's device-id OID, equal to its CN", function (this: LabWorld) {
  assertCarriesDeviceId(this, this.lastDevice);
});

When("step-ca asks the service's webhook to authorize a certificate for the device whose device id otherName names {string}", async function (this: LabWorld, deviceId: string) {
  this.webhookAnswer = await askWebhookForDisagreeingDeviceId(this, this.lastDevice, deviceId);
});

Then('the webhook refuses it with {string}', function (this: LabWorld, code: string) {
  assert.deepEqual([this.webhookAnswer?.allow, this.webhookAnswer?.error?.code], [false, code], JSON.stringify(this.webhookAnswer));
});

When('the service engineer delivers the application a certificate of the issuing CA for its own identity whose device id otherName names {string}', async function (this: LabWorld, deviceId: string) {
  const app = await this.runningApplication();
  this.replacedCertificate = app.store.loadOperational();
  const made = await certificateNamingAnotherDevice(this, { identity: app.commonName, uris: inspectCertificate(this.replacedCertificate!.certificateChainPem).sans.uri }, deviceId);
  this.lastError = await app.installCertificate(made).then(() => undefined, (err: Error) => err);
});

Given('a certificate of the issuing CA for {string} whose device id otherName names {string}', async function (this: LabWorld, identity: string, deviceId: string) {
  this.madeCertificate = await certificateNamingAnotherDevice(this, { identity, uris: [deviceSan(identity)] }, deviceId);
});

When('that certificate opens a session at the broker', async function (this: LabWorld) {
  this.brokerSession = await brokerSessionWith(this, this.madeCertificate!);
});

Then('the broker lets it in as {string} \\(known gap: it cannot read the otherName)', function (this: LabWorld, identity: string) {
  assert.ok(this.brokerSession?.connected, 'the broker refused it: the gap is closed, update known-gaps.feature');
  assert.match(this.brokerSession.logLine!, new RegExp(`u'${identity}'`));
  this.attach(this.brokerSession.logLine!, { mediaType: 'text/plain', fileName: 'mosquitto.txt' });
});
