// Revocation as an attacker meets it: a renewed certificate revoked by its serial, revoked devices
// disconnected at once, each alone.
import assert from 'node:assert/strict';
import { Given, Then, When } from '@cucumber/cucumber';
import { waitFor } from '../../environments/wait.ts';
import { LatencyHistograms } from '../../evidence/perf/latency-histograms.ts';
import { inspectCertificate } from '../../x509/certificates.ts';
import type { ReveosDevice } from '../../simulators/device/reveos-device.ts';
import { assertReconnectRefused } from '../support/broker-refusal.ts';
import type { LabWorld } from '../support/world.ts';

Given('{int} devices connected to the broker', async function (this: LabWorld, count: number) {
  await Promise.all(Array.from({ length: count }, () => this.connectedDevice()));
});

When('the first device renews its certificate directly at step-ca over mutual TLS', async function (this: LabWorld) {
  await this.devices[0]!.renewCertificate();
});

Then('within 1 second the inventory lists the renewed certificate as issued by {string}', async function (this: LabWorld, via: string) {
  const serial = inspectCertificate(this.devices[0]!.store.loadOperational()!.certificateChainPem).serialNumber.replace(/^0+/, '');
  const entry = await waitFor('the renewed certificate in the inventory', async () => (await this.admin.inventory(this.devices[0]!.identity.deviceId)).find((c) => c.serial === serial), { timeoutMs: 1000, intervalMs: 50 });
  assert.equal(entry.via, via);
});

When('the service engineer revokes the renewed certificate by its serial', async function (this: LabWorld) {
  await this.revokeOperational(this.devices[0]!);
});

Then('the broker disconnects the first device within {int} seconds', async function (this: LabWorld, seconds: number) {
  await this.disconnectedAfterRevocation(this.devices[0]!, seconds * 1000);
});

Then("the broker logs that the dynamic security plugin removed the first device's identity", async function (this: LabWorld) {
  await this.loggedDuringAttack('mosquitto', `deleteClient | username=${this.devices[0]!.identity.deviceId}`);
});

Then("the first device's reconnect is refused with {string}", async function (this: LabWorld, alert: string) {
  await assertReconnectRefused(this, this.devices[0]!, alert);
});

Then("each revoked device's reconnect is refused with {string}", async function (this: LabWorld, alert: string) {
  for (const device of this.revoked.keys()) await assertReconnectRefused(this, device, alert);
});

Then('the other device and the application were never disconnected', function (this: LabWorld) {
  this.assertUndisturbed([this.application!, ...this.devices.slice(1)]);
});

When('the service engineer revokes the operational certificates of {int} of them one after the other', async function (this: LabWorld, count: number) {
  for (const device of this.devices.slice(0, count)) await this.revokeOperational(device);
});

Then('each revoked device is disconnected within {int} seconds of its revocation', async function (this: LabWorld, seconds: number) {
  for (const device of this.revoked.keys()) await this.disconnectedAfterRevocation(device, seconds * 1000);
});

Then('the revocation-to-disconnect times are reported with their p50 and p99', function (this: LabWorld) {
  const histograms = new LatencyHistograms();
  for (const { disconnectMs } of this.revoked.values()) histograms.record('revocationToDisconnect', disconnectMs!);
  const summary = histograms.summary('revocationToDisconnect');
  this.attach(JSON.stringify(summary, null, 1), { mediaType: 'application/json', fileName: 'revocation-to-disconnect.json' });
  assert.equal(summary.count, this.revoked.size);
  assert.ok(summary.p50 > 0 && summary.p99 >= summary.p50, JSON.stringify(summary));
});

Then('the devices that were not revoked and the application were never disconnected', function (this: LabWorld) {
  this.assertUndisturbed([this.application!, ...this.devices.filter((d: ReveosDevice) => !this.revoked.has(d))]);
});
