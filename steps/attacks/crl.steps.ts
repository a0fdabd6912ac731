// The broker's CRL left to age, on a lab of the scenario's own with short-lived CRLs.
import assert from 'node:assert/strict';
import { Given, Then, When } from '@cucumber/cucumber';
import { waitFor } from '../support/logs.ts';
import type { BrokerProbeResult } from '../support/broker-probe.ts';
import type { LabWorld } from '../support/world.ts';

/** A second, short connection with the device's own certificate, from the device's address. */
function newConnection(world: LabWorld, options: { watchLog?: boolean } = {}): Promise<BrokerProbeResult> {
  const device = world.lastDevice;
  return world.brokerProbe.connect({ credential: device.store.loadOperational()!, from: device.address, clientId: `${device.identity.deviceId}-probe`, trustedRootPem: device.trustedRootPem, ...options });
}

/** Polls the clock until the CRL the broker holds now is past its nextUpdate. */
async function untilCrlExpired(world: LabWorld): Promise<void> {
  const nextUpdate = world.owned('broker-control').crlPublisher.published!.nextUpdate!.getTime();
  await waitFor("the broker's CRL to pass its nextUpdate", () => Date.now() > nextUpdate + 1000, { timeoutMs: nextUpdate - Date.now() + 15_000, intervalMs: 200 });
}

Given("a lab of the scenario's own whose CRLs are valid for {int} seconds", async function (this: LabWorld, seconds: number) {
  await this.startScenarioLab({ ca: { crlValidity: `${seconds}s` } });
});

Given('a device of that lab connected to its broker', async function (this: LabWorld) {
  const admin = this.adminOf(this.scenarioLab!);
  await admin.turnOn();
  await admin.setWhitelist([this.session.addresses.workerRange(this.session.worker)]);
  await this.connectedDevice(undefined, this.scenarioLab);
});

When("the lab stops refreshing the broker's CRL and the CRL passes its nextUpdate", async function (this: LabWorld) {
  this.owned('broker-control').crlPublisher.pause();
  await untilCrlExpired(this);
});

Then('a new connection of the device is refused with the alert {string}', async function (this: LabWorld, alert: string) {
  this.brokerProbe.refusedWith(alert, await newConnection(this, { watchLog: true }));
});

Then("that lab's broker logs {string} for the device", async function (this: LabWorld, text: string) {
  await this.brokerProbe.logged(new RegExp(text));
});

Then("the device's existing connection was not dropped", function (this: LabWorld) {
  this.assertUndisturbed([this.lastDevice]);
});

When("the lab refreshes the broker's CRL again", async function (this: LabWorld) {
  const { crlPublisher } = this.owned('broker-control');
  crlPublisher.resume();
  await crlPublisher.refresh();
});

Then('a new connection of the device succeeds', async function (this: LabWorld) {
  const { outcome } = await newConnection(this);
  assert.ok(outcome.connected, `refused: ${'error' in outcome ? outcome.error : ''}`);
});

Then("a new connection of the device still succeeds after the refreshed CRL's own nextUpdate has passed", async function (this: LabWorld) {
  const { crlPublisher } = this.owned('broker-control');
  const refreshed = crlPublisher.published!;
  await waitFor("the refreshed CRL's nextUpdate to pass", () => Date.now() > refreshed.nextUpdate!.getTime() + 1000, { timeoutMs: 30_000, intervalMs: 200 });
  const { outcome } = await newConnection(this);
  assert.ok(outcome.connected, `refused: ${'error' in outcome ? outcome.error : ''}`);
  assert.ok(crlPublisher.published!.thisUpdate > refreshed.thisUpdate, 'the publisher replaced the CRL on its own');
});
