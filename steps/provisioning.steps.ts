import assert from 'node:assert/strict';
import { Given, Then, When } from '@cucumber/cucumber';
import { waitFor } from '../environments/wait.ts';
import { inspectCertificate } from '../x509/certificates.ts';
import { assertBrokerRefuses, assertReconnectRefused } from './support/broker-refusal.ts';
import { assertPlainHttpBootstrapServed, assertPlainHttpRefuses, bootstrapOverPlainHttp } from './support/plain-http-bootstrap.ts';
import { attempt, auditedReason, auditedRefusal } from './support/audited-refusals.ts';
import type { LabWorld } from './support/world.ts';

/** White-list entries of each syntax that cover exactly one given address (seed 004 §2.3.2). */
function entryCovering(kind: string, address: string): string {
  const [a, b, c, d] = address.split('.').map(Number) as [number, number, number, number];
  switch (kind) {
    case 'single address':
      return address;
    case 'CIDR block':
      return `${a}.${b}.${c}.0/24`;
    case 'address range':
      return `${a}.${b}.${c}.${d}-${a}.${b}.${c}.${Math.min(d + 5, 254)}`;
    case 'address and mask':
      return `${a}.${b}.${c}.${d & 0xf0}/255.255.255.240`;
    default:
      throw new Error(`unknown white-list entry kind "${kind}"`);
  }
}

Given("the service engineer has turned provisioning ON for the installation's addresses", async function (this: LabWorld) {
  await this.admin.turnOn();
  await this.admin.setWhitelist(this.installationWhitelist);
});

Given('the provisioning service is OFF', async function (this: LabWorld) {
  await this.admin.turnOff();
  assert.equal((await this.admin.state()).enabled, false);
});

Given('the service engineer turns provisioning ON with a white list holding a {string} for a new device', async function (this: LabWorld, kind: string) {
  const device = this.createDevice();
  await this.admin.turnOn();
  await this.admin.setWhitelist([entryCovering(kind, device.address)]);
});

Given('the service engineer turns provisioning ON for another address only', async function (this: LabWorld) {
  const listed = this.nextAddress();
  const device = this.createDevice();
  await this.admin.turnOn();
  await this.admin.setWhitelist([listed]);
  assert.notEqual(device.address, listed);
});

Given('a new device', function (this: LabWorld) {
  this.createDevice();
});

When('the device asks for its bootstrap certificate', async function (this: LabWorld) {
  this.lastRequest = await attempt(() => this.lastDevice.provision());
});

Then('the device receives a bootstrap certificate for its own address', function (this: LabWorld) {
  assert.equal(this.lastRequest?.error, undefined, `provisioning failed: ${this.lastRequest?.error?.message}`);
  const bootstrap = this.lastDevice.store.loadBootstrap();
  assert.ok(bootstrap, 'no bootstrap certificate in the store');
  assert.deepEqual(inspectCertificate(bootstrap.certificateChainPem).sans.ip, [this.lastDevice.address]);
});

Then('the request is refused because {string}', async function (this: LabWorld, words: string) {
  await auditedRefusal(this, this.lastDevice, this.lastRequest!, auditedReason(words));
  assert.equal(this.lastDevice.store.loadBootstrap(), undefined, 'a refused device must hold no certificate');
});

When('the new device sends a CSR for its own identity to the plain-HTTP bootstrap endpoint', async function (this: LabWorld) {
  await bootstrapOverPlainHttp(this);
});

Then('it holds a bootstrap credential under the bootstrap root naming only its own address, and the service audits it as served', async function (this: LabWorld) {
  await assertPlainHttpBootstrapServed(this);
});

Then('the broker refuses that bootstrap credential with {string}', async function (this: LabWorld, alert: string) {
  await assertBrokerRefuses(this, this.lastDevice.store.loadBootstrap()!, alert);
});

Then('with it the device obtains its operational certificate, connects and its telemetry reaches the application', async function (this: LabWorld) {
  await this.lastDevice.getCertificate();
  await this.lastDevice.connect();
  await this.telemetryReachesApplication(this.lastDevice);
});

Then('the plain-HTTP endpoint refuses it a CSR for {} with HTTP {int} {string}', async function (this: LabWorld, what: string, status: number, code: string) {
  await assertPlainHttpRefuses(this, what, status, code);
});

When('the service engineer turns provisioning ON with an auto-off timer of {int} second(s) and white-lists {string}', async function (this: LabWorld, seconds: number, entry: string) {
  await this.admin.turnOn(seconds);
  await this.admin.setWhitelist([entry]);
  const state = await this.admin.state();
  assert.equal(state.enabled, true);
  assert.ok(state.remainingSeconds !== null && state.remainingSeconds <= seconds, 'the remaining time is visible');
});

When('the service engineer turns provisioning ON and white-lists {string}', async function (this: LabWorld, entry: string) {
  await this.admin.turnOn();
  await this.admin.setWhitelist([entry]);
});

When('the service engineer turns provisioning OFF', async function (this: LabWorld) {
  await this.admin.turnOff();
});

Then('the service turns itself OFF within {int} seconds', async function (this: LabWorld, seconds: number) {
  await waitFor('the auto-off timer to turn the service OFF', async () => !(await this.admin.state()).enabled, { timeoutMs: seconds * 1000, intervalMs: 200 });
});

Then('the service is OFF and the white list is empty', async function (this: LabWorld) {
  const state = await this.admin.state();
  assert.equal(state.enabled, false);
  assert.deepEqual(state.whitelist, []);
  assert.deepEqual(await this.admin.whitelist(), []);
});

Given('a provisioned device connected to the broker', async function (this: LabWorld) {
  const device = this.createDevice();
  await device.join();
});

When('the service engineer revokes the device\'s operational certificate', async function (this: LabWorld) {
  const device = this.lastDevice;
  const operational = device.store.loadOperational()!;
  const serial = inspectCertificate(operational.certificateChainPem).serialNumber;
  const revoked = await this.admin.revoke(serial, 'keyCompromise');
  assert.equal(revoked.state, 'revoked');
  await device.disconnect();
});

Then('the broker refuses the device when it reconnects', async function (this: LabWorld) {
  // The broker's TLS alert names the cause (44, certificate_revoked); its log line of the device's connection says the verification failed.
  await assertReconnectRefused(this, this.lastDevice, 'certificate revoked');
});

Given('devices whose operational certificates are active, expiring soon, expired and revoked', async function (this: LabWorld) {
  // Active outlives the 7-day "expiring" window; expiring is inside it; expired lives 5 s.
  const lifetimes: Record<string, number | undefined> = { active: 14 * 24 * 3600, expiring: 3600, expired: 5, revoked: undefined };
  for (const [label, lifetimeSeconds] of Object.entries(lifetimes)) {
    const device = this.createDevice({ deviceId: `RVS-INV-${label.toUpperCase()}-${this.session.worker}-${Date.now() % 100000}` });
    await device.join({ lifetimeSeconds: this.lifetime(lifetimeSeconds), connect: false });
    this.inventoryDevices.set(label, device);
  }
  const revoked = this.inventoryDevices.get('revoked')!;
  await this.admin.revoke(inspectCertificate(revoked.store.loadOperational()!.certificateChainPem).serialNumber, 'superseded');
});

Then('the application shows each of those devices in the same state, judged at its own clock', async function (this: LabWorld) {
  const app = await this.runningApplication();
  const reports = await app.certificateStates(() => this.admin.inventory(), this.session.config.provisioning.expiringWithinSeconds * 1000);
  for (const [label, device] of this.inventoryDevices) assert.equal(reports.find((r) => r.holder === device.identity.deviceId)?.state, label, device.identity.deviceId);
});

Then('the inventory reports each operational certificate in its state', async function (this: LabWorld) {
  for (const [label, device] of this.inventoryDevices) {
    // The 5-second certificate needs a few seconds to expire: wait for the state, bounded.
    await waitFor(
      `the inventory to report ${device.identity.deviceId} as ${label}`,
      async () => (await this.admin.inventory(device.identity.deviceId)).find((c) => c.kind === 'operational')?.state === label,
      { timeoutMs: 15_000, intervalMs: 250 },
    );
  }
});
