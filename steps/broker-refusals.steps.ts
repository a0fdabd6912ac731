import assert from 'node:assert/strict';
import { Then, When } from '@cucumber/cucumber';
import { crlUrl } from '../environments/pki/ca-json.ts';
import { forgeClientCertificate, forgedKinds, type ForgedKind } from '../simulators/adversary/forged-certificates.ts';
import type { LabWorld } from './support/world.ts';

/** What Mosquitto (OpenSSL) logs for each refusal cause. */
const BROKER_LOGGED_CAUSES: Record<string, RegExp> = {
  'no client certificate': /peer did not return a certificate/,
  'an untrusted issuer': /certificate verify failed/,
  'a failed verification': /certificate verify failed/,
  // The legacy listener: a client without a password the dynamic security plugin knows.
  'not authorised': /disconnected, not authori[sz]ed/,
};

/** One connection attempt from an address of its own, which the client id names too, with a forged certificate. */
async function connectWithForged(world: LabWorld, kind: ForgedKind): Promise<void> {
  const lab = world.owned('ca-keys');
  const address = world.nextAddress();
  const forged = await forgeClientCertificate(kind, lab.pki.intermediate, crlUrl(lab.config.ca, lab.stepCa.port), `RVS-FORGED-${address}`);
  await world.brokerProbe.connect({ credential: { certificateChainPem: forged.chainPem, privateKeyPem: forged.privateKeyPem }, from: address, watchLog: true });
}

When('a client connects to the broker without a client certificate', async function (this: LabWorld) {
  await this.brokerProbe.connect({ watchLog: true });
});

When('a client connects to the broker with a certificate issued by a foreign CA', async function (this: LabWorld) {
  await connectWithForged(this, 'foreign CA');
});

When('a client connects to the broker with a certificate that is {string}', async function (this: LabWorld, kind: string) {
  assert.ok((forgedKinds as readonly string[]).includes(kind), `unknown certificate defect "${kind}"`);
  await connectWithForged(this, kind as ForgedKind);
});

Then('the broker refuses the connection because of {string}', async function (this: LabWorld, cause: string) {
  const { outcome } = this.brokerProbe.last ?? assert.fail('no connection was attempted');
  assert.equal(outcome.connected, false, 'the broker accepted a connection it must refuse');
  const logged = BROKER_LOGGED_CAUSES[cause];
  assert.ok(logged, `unknown refusal cause "${cause}"; known: ${Object.keys(BROKER_LOGGED_CAUSES).join(', ')}`);
  // A certificate cause is refused in the TLS handshake; a CONNACK refusal means the broker let the handshake through.
  if (cause !== 'not authorised') assert.doesNotMatch(outcome.error, /^Connection refused/, `the broker completed the TLS handshake without a valid client certificate and refused only at the MQTT level (${outcome.error})`);
  // The line of this very connection (the lines after "New connection from <its address>").
  await this.brokerProbe.logged(logged);
});

Then('the client is told {string}', function (this: LabWorld, alert: string) {
  // The TLS alert the broker sent names the precise cause; its log line does not.
  this.brokerProbe.refusedWith(alert);
});
