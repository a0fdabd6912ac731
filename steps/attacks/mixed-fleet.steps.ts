// Attacks on the mixed fleet's paths: the identity of a device the service team holds, and
// telemetry whose payload lies about its sender or its firmware.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Given, Then, When } from '@cucumber/cucumber';
import { legacyTopicRoot } from '../../config/firmware-policy.ts';
import { publishForged } from '../../simulators/adversary/forged-publish.ts';
import { topics } from '../../simulators/device/reveos-device.ts';
import { certifyByServiceTeam, giveLegacyCredential } from '../support/service-team.ts';
import type { LabWorld } from '../support/world.ts';
import { flushClientLogs } from '../../simulators/client/client-log.ts';

Given('a victim device with firmware {string} certified by the service team and connected', async function (this: LabWorld, firmwareVersion: string) {
  this.victim = this.createDevice({ firmwareVersion });
  await certifyByServiceTeam(this, this.victim, "from the client's own CSR");
  await this.victim.connect();
});

Given('a victim device with firmware {string} connected on a legacy credential', async function (this: LabWorld, firmwareVersion: string) {
  this.victim = this.createDevice({ firmwareVersion });
  await giveLegacyCredential(this, this.victim);
  await this.victim.connectLegacy(this.victim.store.loadLegacyCredential()!);
});

When("the attacker publishes telemetry on its own topic naming the victim as the sender", async function (this: LabWorld) {
  const [attacker, victim] = [this.attacker!, this.devices.find((d) => d !== this.attacker)!];
  this.victim = victim;
  const topic = topics.telemetry(this.session.config.broker.topicRoot, attacker.identity.deviceId);
  const payload = { deviceId: victim.identity.deviceId, seq: 1, sentAt: Date.now(), firmwareVersion: '2.1', readings: { heartRate: 0 } };
  await this.attack.begin();
  this.forged = await publishForged({ broker: this.session.lab.broker, trustedRootPem: attacker.trustedRootPem, credential: attacker.store.loadOperational()!, clientId: attacker.identity.deviceId, from: attacker.address, topic, payload, marker: 'lying-sender', qos: 1 });
  this.onCleanup(() => this.forged!.connection.endAsync(true));
});

When("the victim's credential is used to send telemetry claiming firmware {string}", async function (this: LabWorld, firmwareVersion: string) {
  const victim = this.victim!;
  const { config } = this.session;
  const topic = topics.telemetry(legacyTopicRoot(config.broker.topicRoot), victim.identity.deviceId);
  const payload = { deviceId: victim.identity.deviceId, seq: 1, sentAt: Date.now(), firmwareVersion, readings: { heartRate: 0 } };
  await this.attack.begin();
  this.forged = await publishForged({ broker: this.legacyBroker(), trustedRootPem: victim.trustedRootPem, credential: victim.store.loadLegacyCredential()!, clientId: victim.identity.deviceId, from: this.nextAddress(), topic, payload, marker: 'claimed-firmware', qos: 1 });
  this.onCleanup(() => this.forged!.connection.endAsync(true));
});

Then('the application refuses the message as {string} and logs the cause', async function (this: LabWorld, cause: string) {
  const app = await this.runningApplication();
  const refusal = await app.waitForRefusal((r) => r.cause === cause && r.topic === this.forged!.topic);
  await flushClientLogs(); // the clients' log is written in batches
  const logged = readFileSync(this.clientLogFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.ok(logged.some((l) => l.client === app.commonName && l.event === 'message-refused' && l.cause === cause && l.topic === refusal.topic), 'clients.log lacks the refusal');
  assert.deepEqual(app.received.filter((t) => (t.message as unknown as { marker?: string }).marker === this.forged!.marker), [], 'the application took the message');
  this.attach(JSON.stringify(refusal), { mediaType: 'application/json', fileName: 'refusal.json' });
});

Then("the victim's telemetry still reaches the application", async function (this: LabWorld) {
  const received = await this.telemetryReachesApplication(this.victim!);
  assert.equal(received.message.deviceId, this.victim!.identity.deviceId);
});
