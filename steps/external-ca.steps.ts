// UC-04 with an external CA: a lab of the scenario's own whose issuing intermediate is a
// subordinate of the simulated external CA; its operator revokes, the certificate management
// service reacts by itself; faults and attacks on that path change nothing.
import assert from 'node:assert/strict';
import { Given, Then, When } from '@cucumber/cucumber';
import { revokeWithStolenServiceCredential, startImpostorCrlServer } from '../simulators/adversary/external-ca-attempts.ts';
import {
  assertNothingRotated,
  beginExternalFault,
  checksAudited,
  currentIntermediateSerial,
  externalCaLogged,
  externalCaOf,
  externalCrlLists,
  operatorRevokesIntermediate,
  serviceReplacedIntermediate,
} from './support/external-ca.ts';
import type { LabWorld } from './support/world.ts';

Given('a lab whose issuing CA is a subordinate of an external CA, its CRL watched every {int} second(s)', async function (this: LabWorld, seconds: number) {
  await this.startScenarioLab({ ca: { issuer: 'external' }, provisioning: { externalCrlCheckIntervalMs: seconds * 1000 } });
});

When("the external CA revokes the lab's issuing intermediate", async function (this: LabWorld) {
  this.certificatesBeforeRotation = new Map(this.allClients().map((c) => [c, c.store.loadOperational()!]));
  await operatorRevokesIntermediate(this);
});

Then('the certificate management service notices within {int} seconds and installs a new intermediate', async function (this: LabWorld, seconds: number) {
  const facts = await serviceReplacedIntermediate(this, seconds * 1000);
  this.attach(JSON.stringify(facts, null, 1), { mediaType: 'application/json', fileName: 'intermediate-rotation.json' });
});

When("an impostor answers at the external CA's address with a CRL revoking the lab's intermediate, signed by a key of its own", async function (this: LabWorld) {
  beginExternalFault(this);
  await externalCaOf(this).stop();
  const impostor = await startImpostorCrlServer(this.owned('own-lab'), currentIntermediateSerial(this));
  this.onCleanup(() => impostor.stop());
});

Then('the service refuses that CRL as {string} and installs no new intermediate', async function (this: LabWorld, reason: string) {
  await checksAudited(this, reason, 2);
  assertNothingRotated(this);
});

When('the external CA stops answering', async function (this: LabWorld) {
  beginExternalFault(this);
  await externalCaOf(this).stop();
});

Then('the service audits {int} failed checks in a row as {string} and installs no new intermediate', async function (this: LabWorld, count: number, reason: string) {
  const records = await checksAudited(this, reason, count);
  assert.deepEqual(records.slice(0, count).map((r) => r.attempt), Array.from({ length: count }, (_, i) => i + 1), 'each check is retried and counted');
  assertNothingRotated(this);
});

When('the external CA answers again', async function (this: LabWorld) {
  await externalCaOf(this).restart();
});

Then("the service's next check believes its CRL again", async function (this: LabWorld) {
  await checksAudited(this, 'crl-accepted', 1);
  assertNothingRotated(this);
});

When("an attacker with the service's stolen credential asks the external CA to revoke the lab's intermediate", async function (this: LabWorld) {
  beginExternalFault(this);
  this.externalCa.answer = await revokeWithStolenServiceCredential(this.owned('own-lab'), this.externalCa.serialBefore!);
});

Then('the external CA refuses it with {int} {string} and logs the refusal', async function (this: LabWorld, status: number, code: string) {
  assert.deepEqual([this.externalCa.answer?.status, this.externalCa.answer?.code], [status, code], this.externalCa.answer?.detail);
  this.attach(await externalCaLogged(this, new RegExp(`${status} ${code}`)), { mediaType: 'text/plain', fileName: 'external-ca.txt' });
});

Then("the external CA's CRL does not list the lab's intermediate, and nothing was rotated", async function (this: LabWorld) {
  assert.equal(await externalCrlLists(this, this.externalCa.serialBefore!), false, 'the intermediate was revoked');
  assertNothingRotated(this);
});
