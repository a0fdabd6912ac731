// Attacks on the broker: a session opened with a bootstrap credential, another device's client id.
import { Then, When } from '@cucumber/cucumber';
import type { LabWorld } from '../support/world.ts';

When('the attacker connects to the broker with its bootstrap credential', async function (this: LabWorld) {
  const attacker = this.attacker!;
  await this.attack.begin();
  await this.brokerProbe.connect({ credential: attacker.store.loadBootstrap()!, from: attacker.address, clientId: attacker.identity.deviceId });
});

Then('the broker refuses the TLS handshake with the alert {string}', function (this: LabWorld, alert: string) {
  this.brokerProbe.refusedWith(alert);
});

Then("the broker logs the attacker's failed handshake {string}", async function (this: LabWorld, text: string) {
  await this.brokerProbe.logged(new RegExp(text), { since: this.attack.mark('mosquitto') });
});
