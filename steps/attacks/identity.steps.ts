// Attacks on another device's identity: X5C and the bootstrap endpoint for a held identity, a
// second identity on one credential, an operational certificate as X5C credential, and a
// connection under another device's client id.
import assert from 'node:assert/strict';
import { Given, Then, When } from '@cucumber/cucumber';
import { waitForConnectionLine } from '../../environments/local/mosquitto-log.ts';
import { csrToBootstrapEndpoint, x5cSign, x5cToken, type X5cCredential } from '../../simulators/adversary/issuance-attempts.ts';
import { deviceSan, topics, type ReveosDevice } from '../../simulators/device/reveos-device.ts';
import { openListeningSession } from '../../simulators/adversary/listening-session.ts';
import type { LabWorld } from '../support/world.ts';

/** X5C at the service or straight at step-ca, from the attacker's address, for `identity`. */
async function x5cAttack(world: LabWorld, credential: X5cCredential, identity: string, where: string) {
  const { lab, endpoints } = world.session;
  const sans = [deviceSan(identity)];
  const ott = await x5cToken({ credential, ...endpoints.x5c, identity, sans });
  const caUrl = where === 'directly at step-ca' ? lab.ca.url : lab.provisioning.url;
  return world.runAttack(() => x5cSign({ caUrl, rootPem: endpoints.trustedRootPem, ott, identity, sans, from: world.attacker!.address }));
}

const victimOf = (world: LabWorld): ReveosDevice => world.devices.find((d) => d !== world.attacker)!;

Given('a victim device connected to the broker', async function (this: LabWorld) {
  await this.connectedDevice();
});

Given('the attacker holds an operational certificate for its own identity', async function (this: LabWorld) {
  await this.attacker!.getCertificate();
});

When("the attacker trades its bootstrap credential for the victim's identity {}", async function (this: LabWorld, where: string) {
  await x5cAttack(this, this.attacker!.store.loadBootstrap()!, victimOf(this).identity.deviceId, where);
});

When('the attacker trades the same bootstrap credential for a second identity {string} directly at step-ca', async function (this: LabWorld, identity: string) {
  await x5cAttack(this, this.attacker!.store.loadBootstrap()!, identity, 'directly at step-ca');
});

When("the attacker offers the victim's stolen operational certificate and key as the X5C credential directly at step-ca", async function (this: LabWorld) {
  await x5cAttack(this, victimOf(this).store.loadOperational()!, `${this.attacker!.identity.deviceId}-MINTED`, 'directly at step-ca');
});

When('the attacker sends a CSR named after the victim to the bootstrap endpoint', async function (this: LabWorld) {
  await this.runAttack(() => csrToBootstrapEndpoint({ insecureUrl: this.session.lab.provisioning.insecureUrl, commonName: victimOf(this).identity.deviceId, from: this.attacker!.address }));
});

Then("no certificate for the victim's identity was issued during the attack", async function (this: LabWorld) {
  assert.deepEqual((await this.issuedDuringAttack()).filter((c) => c.deviceId === victimOf(this).identity.deviceId), []);
});

// --- another device's client id ----------------------------------------------------------------

Given('the victim has a persistent session with commands queued while it is offline', async function (this: LabWorld) {
  const victim = victimOf(this);
  await victim.disconnect();
  this.queuedCommandId = (await (await this.runningApplication()).queueCommand(victim.identity.deviceId, 'identify', undefined, 30_000)).commandId;
});

/** The attacker's session under the victim's client id, recording from its first byte: the victim's command topic and its own. */
async function hijackSession(world: LabWorld): Promise<void> {
  const { lab, config } = world.session;
  const attacker = world.attacker!;
  await world.beginAttack();
  const own = { host: lab.broker.host, port: lab.broker.port, trustedRootPem: attacker.trustedRootPem, localAddress: attacker.address, ...attacker.store.loadOperational()! };
  const session = await openListeningSession({ ...own, clientId: victimOf(world).identity.deviceId, clean: false }, [victimOf(world), attacker].map((d) => topics.commands(config.broker.topicRoot, d.identity.deviceId)));
  world.attackerSession = session;
  world.onCleanup(() => session.close());
}

/**
 * None of the victim's queued commands reached the attacker's session. A negative needs a bound:
 * the application commands the attacker's own identity, and once that command arrived (within
 * the bound) the broker has delivered whatever it would have queued for this session before it.
 */
async function assertNothingIntercepted(world: LabWorld, timeoutMs: number): Promise<void> {
  const session = world.attackerSession!;
  const control = await (await world.runningApplication()).queueCommand(world.attacker!.identity.deviceId, 'identify', undefined, timeoutMs);
  await session.waitForMessage((m) => m.payload.includes(control.commandId), timeoutMs);
  assert.deepEqual(session.received.filter((m) => m.payload.includes(world.queuedCommandId!)), [], 'the attacker received a command queued for the victim');
}

When("the attacker connects with the victim's client id and a persistent session", async function (this: LabWorld) {
  await hijackSession(this);
});

Then("the broker logs the attacker's connection under the attacker's own identity", async function (this: LabWorld) {
  const line = await waitForConnectionLine(this.attackMark('mosquitto'), this.attacker!.address, /New client connected from .* as \S+/);
  assert.match(line, new RegExp(` as ${this.attacker!.identity.deviceId} `), `the broker kept the client id the attacker sent: ${line}`);
  this.attach(line, { mediaType: 'text/plain', fileName: 'mosquitto.txt' });
});

Then('the victim reconnects and receives its queued commands', async function (this: LabWorld) {
  const victim = victimOf(this);
  await victim.connect();
  await (await this.runningApplication()).waitForReply(this.queuedCommandId!);
  assert.ok(victim.commandsHandled.some((c) => c.commandId === this.queuedCommandId), 'the victim did not get its queued command');
});

Then("the attacker receives none of the victim's queued commands", async function (this: LabWorld) {
  await assertNothingIntercepted(this, 5000);
});
