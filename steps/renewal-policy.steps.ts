// Steps of seed 002's renewal policy on a lab whose day is scaled down (features/renewal-policy.feature).
import { Given, Then, When } from '@cucumber/cucumber';
import {
  assertCrlRefreshedOnSchedule,
  assertCrlStale,
  assertRefusedByBroker,
  assertReconnectsAfterRefresh,
  assertRefusesNewConnection,
  cutCrlDistribution,
  keepCrlCache,
  restoreCrlDistribution,
  assertRenewalAlerts,
  assertRenewedAutomatically,
  assertRenewedSessionKept,
  assertStillAccepted,
  awaitSupersededRevocation,
  followRenewalPolicy,
  scaledDevice,
} from './support/renewal-policy.ts';
import type { LabWorld } from './support/world.ts';

Given("a lab of the scenario's own whose day lasts {int} ms and whose superseded grace is {int} days", async function (this: LabWorld, dayMs: number, days: number) {
  await this.startScenarioLab({ clock: { dayMs }, provisioning: { supersededGraceDays: days } });
});

When('the device renews its certificate and keeps the old one aside', async function (this: LabWorld) {
  this.replacedCertificate = this.lastDevice.store.loadOperational();
  await this.lastDevice.renewCertificate();
});

Then('during the grace period the broker still accepts the old certificate', async function (this: LabWorld) {
  await assertStillAccepted(this, this.replacedCertificate!);
});

Then('once the grace period has passed the service revokes the old certificate as {string}', async function (this: LabWorld, reason: string) {
  await awaitSupersededRevocation(this, this.replacedCertificate!, reason);
});

Then('the broker refuses the old certificate with {string} and logs {string}', async function (this: LabWorld, alert: string, logged: string) {
  await assertRefusedByBroker(this, this.replacedCertificate!, alert, logged);
});

Then('the renewed device was never disconnected and its telemetry is still acknowledged', async function (this: LabWorld) {
  await assertRenewedSessionKept(this, this.replacedCertificate!);
});

Given("a lab of the scenario's own whose day lasts {int} ms", async function (this: LabWorld, dayMs: number) {
  await this.startScenarioLab({ clock: { dayMs } });
});

Given('a device of that lab connected to its broker with a certificate valid for {int} days', async function (this: LabWorld, days: number) {
  await scaledDevice(this, days);
});

When("the device follows the lab's renewal policy until it has renewed", async function (this: LabWorld) {
  await followRenewalPolicy(this);
});

Then('the device logged renewal alerts at {int} and {int} days before expiry, before its renewal', function (this: LabWorld, first: number, second: number) {
  assertRenewalAlerts(this, [first, second]);
});

Then('the device renewed by itself within {int} days of expiry and the inventory lists the new certificate as issued by {string}', async function (this: LabWorld, days: number, via: string) {
  await assertRenewedAutomatically(this, days, via);
});

When("the device keeps an offline CRL cache on the lab's schedule", function (this: LabWorld) {
  keepCrlCache(this);
});

Then('the device refreshed its CRL cache {int} times, a day apart', async function (this: LabWorld, times: number) {
  await assertCrlRefreshedOnSchedule(this, times);
});

When('the CRL distribution point becomes unreachable for the device', async function (this: LabWorld) {
  this.crlCutAt = await cutCrlDistribution(this);
});

Then('once its cache is older than 48 hours the device logs {string}', async function (this: LabWorld, event: string) {
  await assertCrlStale(this, this.crlCutAt!, event);
});

Then('the device refuses a new connection to the broker with cause {string} and keeps its session', async function (this: LabWorld, cause: string) {
  await assertRefusesNewConnection(this, cause);
});

When('the CRL distribution point is back', async function (this: LabWorld) {
  this.crlCutAt = await restoreCrlDistribution(this);
});

Then("the device's schedule refreshes its cache and a new connection of the device succeeds", async function (this: LabWorld) {
  await assertReconnectsAfterRefresh(this, this.crlCutAt!);
});
