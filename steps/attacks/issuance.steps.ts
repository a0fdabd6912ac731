// Attacks on the issuing paths: the plain-HTTP bootstrap endpoint, server-side key generation,
// ACME at the gate and at step-ca, X5C through the service and at step-ca. The work is in
// simulators/adversary; each step names what the attacker does and what it got back.
import assert from 'node:assert/strict';
import { Given, Then, When } from '@cucumber/cucumber';
import { acmeAttempt } from '../../simulators/adversary/acme-attempts.ts';
import { csrToBootstrapEndpoint, serverKeyGen, x5cSign, x5cToken } from '../../simulators/adversary/issuance-attempts.ts';
import type { LabWorld } from '../support/world.ts';

/** The CA URL an attack goes to: the service's (the published one) or step-ca's own. */
function caUrl(world: LabWorld, where: string): string {
  const { lab } = world.session;
  return where === 'directly at step-ca' ? lab.ca.url : lab.provisioning.url;
}

Given('an attacker on a white-listed address with a bootstrap credential of its own', async function (this: LabWorld) {
  await this.provisionedAttacker();
});

When('the attacker sends a CSR named {string} to the bootstrap endpoint', async function (this: LabWorld, name: string) {
  await this.attack.run(() => csrToBootstrapEndpoint({ insecureUrl: this.session.lab.provisioning.insecureUrl, commonName: name, from: this.attacker!.address }));
});

When('the attacker asks the service to generate a key and a certificate named {string}', async function (this: LabWorld, name: string) {
  const { lab, endpoints } = this.session;
  await this.attack.run(() => serverKeyGen({ url: lab.provisioning.url, rootPem: endpoints.trustedRootPem, commonName: name, from: this.attacker!.address }));
});

When('the attacker asks for server-side key generation over plain HTTP', async function (this: LabWorld) {
  await this.attack.run(() => serverKeyGen({ url: this.session.lab.provisioning.insecureUrl, commonName: this.attacker!.identity.deviceId, from: this.attacker!.address }));
});

When('the attacker orders a bootstrap certificate for the DNS name {string} by ACME {}', async function (this: LabWorld, name: string, where: string) {
  const { lab, endpoints, responder } = this.session;
  const direct = where.startsWith('directly');
  const directory = direct ? lab.bootstrapCa.acmeDirectoryUrl : lab.provisioning.acmeDirectoryUrl;
  const trust = direct ? endpoints.bootstrapRootPem : endpoints.trustedRootPem;
  await this.attack.run(() => acmeAttempt({ directoryUrl: directory, trustedCaPem: trust, from: this.attacker!.address, identifier: { type: 'dns', value: name }, responder }));
});

When('the attacker trades its bootstrap credential for a certificate named {string} {}', async function (this: LabWorld, name: string, where: string) {
  const { endpoints } = this.session;
  const ott = await x5cToken({ credential: this.attacker!.store.loadBootstrap()!, ...endpoints.x5c, identity: name, sans: [`urn:ecm-lab:app:${name}`] });
  await this.attack.run(() => x5cSign({ caUrl: caUrl(this, where), rootPem: endpoints.trustedRootPem, ott, identity: name, sans: [`urn:ecm-lab:app:${name}`], from: this.attacker!.address }));
});

Then('the attack is refused with HTTP {int}', function (this: LabWorld, status: number) {
  assert.equal(this.attack.outcome?.status, status, `the attack got HTTP ${this.attack.outcome?.status}: ${this.attack.outcome?.detail}`);
  assert.equal(this.attack.outcome?.certificatePem, undefined, 'a certificate was issued');
});

Then('the attack is refused with HTTP {int} and the code {string}', function (this: LabWorld, status: number, code: string) {
  assert.equal(this.attack.outcome?.status, status, `the attack got HTTP ${this.attack.outcome?.status}: ${this.attack.outcome?.detail}`);
  assert.equal(this.attack.outcome?.code, code, this.attack.outcome?.detail);
});

Then('the attack is refused with the ACME problem {string}', function (this: LabWorld, type: string) {
  assert.equal(this.attack.outcome?.code, type, `the attack got HTTP ${this.attack.outcome?.status}: ${this.attack.outcome?.detail}`);
  assert.equal(this.attack.outcome?.certificatePem, undefined, 'a certificate was issued');
});

Then('the audit log records the refusal {string}', async function (this: LabWorld, reason: string) {
  await this.attack.audited(reason);
});

Then('step-ca logs {string}', async function (this: LabWorld, text: string) {
  await this.attack.logged('step-ca', text);
});

Then('the bootstrap step-ca logs {string}', async function (this: LabWorld, text: string) {
  await this.attack.logged('bootstrap-ca', text);
});

Then('no certificate named {string} was issued to the attacker', async function (this: LabWorld, name: string) {
  assert.deepEqual((await this.attack.issued()).filter((c) => c.deviceId === name), []);
});
