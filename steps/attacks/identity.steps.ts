// Attacks on another device's identity: X5C and the bootstrap endpoint for a held identity, a
// second identity on one credential, an operational certificate as X5C credential, and a
// connection under another device's client id.
import assert from 'node:assert/strict';
import { Given, Then, When } from '@cucumber/cucumber';
import type { MqttClient } from 'mqtt';
import { waitForConnectionLine } from '../../environments/local/mosquitto-log.ts';
import { csrToBootstrapEndpoint, x5cSign, x5cToken, type X5cCredential } from '../../simulators/adversary/issuance-attempts.ts';
import { deviceSan, topics, type ReveosDevice } from '../../simulators/device/reveos-device.ts';
import { connectMqtt } from '../../simulators/client/mqtt-connection.ts';
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

When("the attacker connects with the victim's client id and a persistent session", async function (this: LabWorld) {
  const { lab, config } = this.session;
  const credential = this.attacker!.store.loadOperational()!;
  await this.beginAttack();
  const connection: MqttClient = await connectMqtt({ host: lab.broker.host, port: lab.broker.port, clientId: victimOf(this).identity.deviceId, clean: false, trustedRootPem: this.attacker!.trustedRootPem, certificateChainPem: credential.certificateChainPem, privateKeyPem: credential.privateKeyPem, localAddress: this.attacker!.address });
  this.onCleanup(() => connection.endAsync(true));
  connection.on('message', (_topic, payload) => this.intercepted.push(payload.toString('utf8')));
  await connection.subscribeAsync(topics.commands(config.broker.topicRoot, victimOf(this).identity.deviceId), { qos: 1 });
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

Then("the attacker receives none of the victim's queued commands", function (this: LabWorld) {
  assert.deepEqual(this.intercepted.filter((m) => m.includes(this.queuedCommandId!)), []);
});
