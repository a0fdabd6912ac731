// Steps of the managing application's own certificates (seed 000 "Managing Application"): its
// renewal and re-acquisition, installation, update and removal by the certificate management
// service, and connection failures logged by cause.
import assert from 'node:assert/strict';
import { Given, Then, When } from '@cucumber/cucumber';
import { waitFor } from '../environments/wait.ts';
import { attemptMqttConnection } from '../simulators/adversary/mqtt-probe.ts';
import { startMisconfiguredBroker, type BrokerMisconfiguration } from '../simulators/adversary/impostor-broker.ts';
import { CertificateInstallationError } from '../simulators/client/certificate-client.ts';
import type { StoredPair } from '../simulators/client/certificate-store.ts';
import { inspectCertificate, normalizeSerial } from '../x509/certificates.ts';
import { assertLoggedRefusal, assertStoreWhole, damageApplicationStore } from './support/application-store.ts';
import { certifyByServiceTeam, type CertificationMethod } from './support/service-team.ts';
import type { LabWorld } from './support/world.ts';

const DAY_MS = 24 * 3600 * 1000;
const serialOf = (pair: StoredPair) => normalizeSerial(inspectCertificate(pair.certificateChainPem).serialNumber);

/** How the broker answers a connection with this certificate now (from an address of its own): undefined when it accepts it. */
async function brokerRefusal(world: LabWorld, pair: StoredPair, clientId: string): Promise<string | undefined> {
  const { lab, endpoints } = world.session;
  const outcome = await attemptMqttConnection({ ...lab.broker, clientId, trustedRootPem: endpoints.trustedRootPem, localAddress: world.nextAddress(), ...pair });
  return outcome.connected ? undefined : outcome.error;
}

/** The broker's own alert for a revoked certificate: a connection that failed otherwise (no broker, a timeout) is no refusal. */
const REVOKED_ALERT = /alert certificate revoked/;

Given('the application server is provisioned with an operational certificate valid for {int} seconds', async function (this: LabWorld, seconds: number) {
  const app = await this.runningApplication({ lifetimeSeconds: this.lifetime(seconds) });
  this.certificateBefore = inspectCertificate(app.store.loadOperational()!.certificateChainPem);
});

When('the application renews its certificate at two thirds of its lifetime', async function (this: LabWorld) {
  const renewedAt = await (await this.runningApplication()).renewWhenDue();
  assert.ok(renewedAt < this.certificateBefore!.notAfter, 'the renewal must happen before the certificate expires');
});

Then('the application holds a new certificate with a later expiry and the same identity', async function (this: LabWorld) {
  const app = await this.runningApplication();
  const after = inspectCertificate(app.store.loadOperational()!.certificateChainPem);
  assert.notEqual(after.serialNumber, this.certificateBefore!.serialNumber);
  assert.ok(after.notAfter > this.certificateBefore!.notAfter, 'the renewed certificate must expire later');
  assert.deepEqual([after.subjectCommonName, after.sans, after.extendedKeyUsages], [this.certificateBefore!.subjectCommonName, this.certificateBefore!.sans, ['clientAuth']]);
  assert.equal(app.connected, true, 'the application is connected on the renewed certificate');
});

When('the application is offline until its certificate has expired', async function (this: LabWorld) {
  const app = await this.runningApplication();
  await app.disconnect();
  const { notAfter } = inspectCertificate(app.store.loadOperational()!.certificateChainPem);
  await waitFor("the application's certificate to expire", () => Date.now() > notAfter.getTime(), { timeoutMs: 30_000, intervalMs: 200 });
});

When('the application powers up again', async function (this: LabWorld) {
  await this.recordPowerUp(await this.runningApplication());
});

Then('the application finds its certificate {string} and re-acquires one with its bootstrap credential', async function (this: LabWorld, reason: string) {
  const app = await this.runningApplication();
  const outcome = this.powerUps.get(app)!;
  assert.equal(outcome.validation && !outcome.validation.valid && outcome.validation.reason, reason);
  assert.deepEqual(outcome.path, ['validating', 'discarding', 'obtaining-operational', 'connecting', 'connected']);
  assert.ok(inspectCertificate(app.store.loadOperational()!.certificateChainPem).notAfter.getTime() > Date.now(), 'the new certificate is valid');
});

When("the application's store is damaged: {}", async function (this: LabWorld, defect: string) {
  this.damagedStore = await damageApplicationStore(this, defect);
});

Then("the application's log gives the cause as {string}, without certificate contents", async function (this: LabWorld, cause: string) {
  assertLoggedRefusal(this, await this.runningApplication(), this.damagedStore!, cause);
});

Then('the application holds local.crt, local.key and ca.crt, valid, and is connected', async function (this: LabWorld) {
  assertStoreWhole(await this.runningApplication());
});

Then("the device's telemetry reaches the application again", async function (this: LabWorld) {
  await this.telemetryReachesApplication(this.lastDevice);
});

// --- installation, update and removal by the certificate management service ------------------

When('the service engineer certifies a standby application {string} {} and it installs the certificate', async function (this: LabWorld, identity: string, how: CertificationMethod) {
  this.standby = this.createApplication(identity, this.nextAddress());
  await certifyByServiceTeam(this, this.standby, how);
  await this.standby.connect();
});

Then("the standby application receives the device's telemetry", async function (this: LabWorld) {
  const sent = await this.lastDevice.publishTelemetry();
  await this.standby!.waitForTelemetry((t) => t.message.deviceId === this.lastDevice.identity.deviceId && t.message.seq === sent.seq);
});

When('the service engineer issues the standby application a new certificate and it installs it', async function (this: LabWorld) {
  this.replacedCertificate = this.standby!.store.loadOperational();
  await certifyByServiceTeam(this, this.standby!, "from the client's own CSR");
});

Then("the standby application's session moved to the new certificate", async function (this: LabWorld) {
  const standby = this.standby!;
  assert.notEqual(serialOf(standby.store.loadOperational()!), serialOf(this.replacedCertificate!));
  assert.equal(standby.log.find('certificate-installed').at(-1)?.replaced, inspectCertificate(this.replacedCertificate!.certificateChainPem).serialNumber);
  assert.equal(standby.connected, true);
  await this.telemetryReachesApplication(this.lastDevice); // the primary is undisturbed
  const sent = await this.lastDevice.publishTelemetry();
  await standby.waitForTelemetry((t) => t.message.seq === sent.seq && t.message.deviceId === this.lastDevice.identity.deviceId);
});

Then('once the engineer revokes the old one as superseded, the broker refuses it and the standby application stays connected', async function (this: LabWorld) {
  await this.admin.revoke(serialOf(this.replacedCertificate!), 'superseded');
  const refusal = await waitFor('the broker to refuse the superseded certificate', () => brokerRefusal(this, this.replacedCertificate!, 'superseded-probe'), { timeoutMs: 10_000, intervalMs: 250 });
  assert.match(refusal, REVOKED_ALERT);
  this.assertUndisturbed([this.standby!]);
});

When("the standby application's certificate is removed and the engineer revokes it", async function (this: LabWorld) {
  this.replacedCertificate = this.standby!.store.loadOperational();
  await this.standby!.removeCertificate();
  await this.admin.revoke(serialOf(this.replacedCertificate!), 'cessationOfOperation');
});

Then('the standby application holds no certificate and the broker refuses the removed one', async function (this: LabWorld) {
  const standby = this.standby!;
  assert.deepEqual([standby.store.loadOperational(), standby.connected], [undefined, false]);
  assert.ok(standby.log.find('certificate-removed').length > 0, 'the removal is logged');
  const refusal = await brokerRefusal(this, this.replacedCertificate!, 'removed-probe');
  assert.ok(refusal, 'the broker accepted a removed, revoked certificate');
  assert.match(refusal, REVOKED_ALERT);
});

When('the service engineer delivers the application a certificate made for {string}', async function (this: LabWorld, identity: string) {
  const app = await this.runningApplication();
  this.replacedCertificate = app.store.loadOperational();
  const issued = await this.admin.issueCertificate({ identity, keyGeneration: 'server' });
  this.lastError = await app.installCertificate({ certificateChainPem: issued.certificateChainPem, privateKeyPem: issued.privateKeyPem }).then(() => undefined, (err: Error) => err);
});

Then('the application refuses the installation because of {string} and logs it', async function (this: LabWorld, reason: string) {
  assert.ok(this.lastError instanceof CertificateInstallationError, `the installation was not refused: ${String(this.lastError)}`);
  assert.equal(this.lastError.reason, reason);
  assert.equal((await this.runningApplication()).log.find('certificate-installation-refused').at(-1)?.reason, reason);
});

Then('the application still holds its own certificate and its session', async function (this: LabWorld) {
  const app = await this.runningApplication();
  assert.equal(serialOf(app.store.loadOperational()!), serialOf(this.replacedCertificate!));
  this.assertUndisturbed([app]);
  await this.telemetryReachesApplication(await this.connectedDevice());
});

// --- failures by cause -------------------------------------------------------------------------

When('the application connects to a broker that {}', async function (this: LabWorld, misconfiguration: BrokerMisconfiguration) {
  const app = await this.runningApplication();
  this.impostor = await startMisconfiguredBroker(misconfiguration, this.owned('ca-keys').pki.intermediate);
  this.onCleanup(() => this.impostor!.stop());
  this.lastError = await app.connect({ host: this.impostor.host, port: this.impostor.port }).then(() => undefined, (err: Error) => err);
});

When("the application's clock runs {int} days {word} and it connects to the broker", async function (this: LabWorld, days: number, direction: string) {
  const app = await this.runningApplication();
  await app.disconnect();
  app.clockOffsetMs = (direction === 'behind' ? -1 : 1) * days * DAY_MS;
  this.onCleanup(async () => (app.clockOffsetMs = 0));
  this.lastError = await app.connect().then(() => undefined, (err: Error) => err);
});
