// Known gaps: first-use enrolment during the window, renewal with a revoked bootstrap credential,
// renewal of an expired certificate.
import assert from 'node:assert/strict';
import { Given, Then, When } from '@cucumber/cucumber';
import { escapeRegExp, markLog, waitForLogLine } from './support/logs.ts';
import { x5cSign, x5cToken } from '../simulators/adversary/issuance-attempts.ts';
import { deviceSan, type ReveosDevice } from '../simulators/device/reveos-device.ts';
import { certificateSerial, inspectCertificate } from '../x509/certificates.ts';
import type { LabWorld } from './support/world.ts';


/** An X5C sign for `identity` straight at step-ca with `holder`'s bootstrap credential, from its address. */
async function x5cSignAtStepCa(world: LabWorld, holder: ReveosDevice, identity: string) {
  const { lab, endpoints } = world.session;
  const sans = [deviceSan(identity)];
  const ott = await x5cToken({ credential: holder.store.loadBootstrap()!, ...endpoints.x5c, identity, sans });
  return x5cSign({ caUrl: lab.ca.url, rootPem: endpoints.trustedRootPem, ott, identity, sans, from: holder.address });
}

async function x5cAtStepCa(world: LabWorld, identity: string) {
  return world.attack.run(() => x5cSignAtStepCa(world, world.attacker!, identity));
}

// --- first use enrols -------------------------------------------------------------------------

Given('the white list also names the identity of a device that has not provisioned yet', async function (this: LabWorld) {
  const device = this.createDevice();
  await this.admin.setWhitelist([...this.installationWhitelist, `${device.address}=${device.identity.deviceId}`]);
});

When('the attacker trades its bootstrap credential for the named identity directly at step-ca', async function (this: LabWorld) {
  await x5cAtStepCa(this, this.devices[0]!.identity.deviceId);
});

When('the attacker trades its bootstrap credential for an identity nobody holds or named directly at step-ca', async function (this: LabWorld) {
  await x5cAtStepCa(this, `${this.devices[0]!.identity.deviceId}-UNCLAIMED`);
});

Then('step-ca issues it, enrolled on first use \\(known gap)', async function (this: LabWorld) {
  const identity = `${this.devices[0]!.identity.deviceId}-UNCLAIMED`;
  assert.equal(this.attack.outcome?.status, 201, `step-ca now refuses it (${this.attack.outcome?.detail}): the gap is closed, update this scenario`);
  const enrolment = (await this.admin.enrolments()).find((e) => e.identity === identity);
  assert.equal(enrolment?.source, 'first-use');
  assert.equal(enrolment?.address, this.attacker!.address);
  this.attach(`KNOWN GAP: ${this.attacker!.address} enrolled ${identity}, which no white-list entry named, on first use.`, { mediaType: 'text/plain', fileName: 'known-gap.txt' });
});

Then('the named device provisions itself and holds its identity', async function (this: LabWorld) {
  const device = this.devices[0]!;
  await device.join();
  const enrolment = (await this.admin.enrolments()).find((e) => e.identity === device.identity.deviceId);
  assert.equal(enrolment?.source, 'white-list');
  assert.equal(enrolment?.address, device.address);
});

// --- a host sharing an enrolled device's address ------------------------------------------------

Given("an attacker on the victim's address with a bootstrap credential of its own", async function (this: LabWorld) {
  await this.provisionedAttacker(this.devices[0]!.address);
});

Then("step-ca issues the victim's identity to the attacker, superseding the victim's bootstrap credential \\(known gap)", async function (this: LabWorld) {
  const victim = this.devices[0]!;
  assert.equal(this.attack.outcome?.status, 201, `step-ca now refuses it (${this.attack.outcome?.detail}): the gap is closed, update this scenario`);
  assert.equal(inspectCertificate(this.attack.outcome!.certificatePem!).subjectCommonName, victim.identity.deviceId);
  const enrolment = (await this.admin.enrolments()).find((e) => e.identity === victim.identity.deviceId);
  // The registry keeps serials as the inventory does (no leading zeros); Node's spelling keeps them.
  const attackerSerial = certificateSerial(this.attacker!.store.loadBootstrap()!.certificateChainPem);
  assert.equal(enrolment?.bootstrapSerial, attackerSerial, `the victim's identity is enrolled to ${JSON.stringify(enrolment)}`);
  this.attach(`KNOWN GAP: a second host on ${victim.address} took ${victim.identity.deviceId} over with a bootstrap credential of its own.`, { mediaType: 'text/plain', fileName: 'known-gap.txt' });
});

Then("the service's audit log records the victim's bootstrap credential as revoked, superseded", async function (this: LabWorld) {
  const victim = this.devices[0]!;
  const serial = certificateSerial(victim.store.loadBootstrap()!.certificateChainPem);
  const record = await this.attack.auditedInFile(`enrolment-superseded of ${victim.identity.deviceId}'s credential ${serial}`, (r) => r.event === 'enrolment-superseded' && r.serial === serial && r.deviceId === victim.identity.deviceId);
  assert.equal(record.outcome, 'revoked', `the service superseded the credential without revoking it: ${JSON.stringify(record)}`);
});

Then("step-ca refuses the victim's old bootstrap credential as revoked", async function (this: LabWorld) {
  const victim = this.devices[0]!;
  const mark = markLog(this.logFile('step-ca'));
  const outcome = await x5cSignAtStepCa(this, victim, victim.identity.deviceId);
  const answer = outcome.certificatePem ? `a certificate for ${inspectCertificate(outcome.certificatePem).subjectCommonName}` : outcome.detail;
  assert.equal(outcome.status, 403, `step-ca answered the superseded credential with HTTP ${outcome.status}: ${answer}`);
  this.attach(await waitForLogLine(mark, /\(bootstrap-revoked\)/), { mediaType: 'text/plain', fileName: 'step-ca.txt' });
});

// --- renewal with a revoked bootstrap credential ----------------------------------------------

Then('step-ca renewed it \\(known gap)', function (this: LabWorld) {
  const device = this.devices[0]!;
  const facts = inspectCertificate(device.store.loadOperational()!.certificateChainPem);
  assert.equal(facts.subjectCommonName, device.identity.deviceId);
  this.attach(`KNOWN GAP: ${device.identity.deviceId} renewed ${facts.serialNumber} after its bootstrap credential was revoked (step-ca calls no webhook on renewal).`, { mediaType: 'text/plain', fileName: 'known-gap.txt' });
});

// --- renewal of an expired certificate ----------------------------------------------------------

When('the device tries to renew its expired certificate at step-ca', async function (this: LabWorld) {
  await this.attack.begin();
  this.lastError = await this.lastDevice.renewCertificate().then(() => undefined, (err: Error) => err);
});

Then('step-ca refuses the renewal in the TLS handshake with the alert {string}', function (this: LabWorld, alert: string) {
  assert.ok(this.lastError, 'step-ca renewed an expired certificate');
  assert.match(this.lastError.message, new RegExp(`alert ${alert}`));
});

Then('step-ca logs that the client certificate has expired', async function (this: LabWorld) {
  const address = this.lastDevice.address;
  await waitForLogLine(this.attack.mark('step-ca'), new RegExp(`TLS handshake error from ${escapeRegExp(address)}:\\d+: tls: failed to verify certificate: x509: certificate has expired or is not yet valid`));
});
