// Attacks on the broker: a session opened with a bootstrap credential, another device's client id.
import assert from 'node:assert/strict';
import { Then, When } from '@cucumber/cucumber';
import { waitForConnectionLine } from '../support/logs.ts';
import { attemptMqttConnection } from '../../simulators/adversary/mqtt-probe.ts';
import type { LabWorld } from '../support/world.ts';

When('the attacker connects to the broker with its bootstrap credential', async function (this: LabWorld) {
  const { lab, endpoints } = this.session;
  const credential = this.attacker!.store.loadBootstrap()!;
  await this.beginAttack();
  this.lastConnection = await attemptMqttConnection({ host: lab.broker.host, port: lab.broker.port, clientId: this.attacker!.identity.deviceId, trustedRootPem: endpoints.trustedRootPem, certificateChainPem: credential.certificateChainPem, privateKeyPem: credential.privateKeyPem, localAddress: this.attacker!.address });
});

Then('the broker refuses the TLS handshake with the alert {string}', function (this: LabWorld, alert: string) {
  const outcome = this.lastConnection;
  assert.ok(outcome && !outcome.connected, 'the broker accepted the connection');
  assert.match(outcome.error, new RegExp(`alert ${alert}`));
});

Then("the broker logs the attacker's failed handshake {string}", async function (this: LabWorld, text: string) {
  const line = await waitForConnectionLine(this.attackMark('mosquitto'), this.attacker!.address, new RegExp(text));
  this.attach(line, { mediaType: 'text/plain', fileName: 'mosquitto.txt' });
});
