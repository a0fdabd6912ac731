import assert from 'node:assert/strict';
import { Then, When } from '@cucumber/cucumber';
import { markLog, waitForLogLine } from '../environments/log-watch.ts';
import { crlUrl } from '../environments/pki/ca-json.ts';
import { forgeClientCertificate, forgedKinds, type ForgedKind } from '../simulators/adversary/forged-certificates.ts';
import { attemptMqttConnection } from '../simulators/adversary/mqtt-probe.ts';
import type { LabWorld } from './support/world.ts';

/** What Mosquitto (OpenSSL) logs for each refusal cause. */
const BROKER_LOGGED_CAUSES: Record<string, RegExp> = {
  'no client certificate': /peer did not return a certificate/,
  'an untrusted issuer': /certificate verify failed/,
  'a failed verification': /certificate verify failed/,
};

async function connectAs(world: LabWorld, credentials: { certificateChainPem?: string; privateKeyPem?: string }): Promise<void> {
  const { lab, endpoints } = world.session;
  world.brokerLogMark = markLog(lab.mosquitto.logFile);
  world.lastConnection = await attemptMqttConnection({
    host: lab.broker.host,
    port: lab.broker.port,
    clientId: `probe-${world.nextAddress()}`,
    trustedRootPem: endpoints.trustedRootPem,
    localAddress: world.nextAddress(),
    ...credentials,
  });
}

async function connectWithForged(world: LabWorld, kind: ForgedKind): Promise<void> {
  const { lab, config } = world.session;
  const forged = await forgeClientCertificate(kind, lab.pki.intermediate, crlUrl(config.ca, lab.stepCa.port), `RVS-FORGED-${world.nextAddress()}`);
  await connectAs(world, { certificateChainPem: forged.chainPem, privateKeyPem: forged.privateKeyPem });
}

When('a client connects to the broker without a client certificate', async function (this: LabWorld) {
  await connectAs(this, {});
});

When('a client connects to the broker with a certificate issued by a foreign CA', async function (this: LabWorld) {
  await connectWithForged(this, 'foreign CA');
});

When('a client connects to the broker with a certificate that is {string}', async function (this: LabWorld, kind: string) {
  assert.ok((forgedKinds as readonly string[]).includes(kind), `unknown certificate defect "${kind}"`);
  await connectWithForged(this, kind as ForgedKind);
});

Then('the broker refuses the connection because of {string}', async function (this: LabWorld, cause: string) {
  const outcome = this.lastConnection;
  assert.ok(outcome, 'no connection was attempted');
  assert.equal(outcome.connected, false, 'the broker accepted a connection it must refuse');
  const logged = BROKER_LOGGED_CAUSES[cause];
  assert.ok(logged, `unknown refusal cause "${cause}"; known: ${Object.keys(BROKER_LOGGED_CAUSES).join(', ')}`);
  await waitForLogLine(this.brokerLogMark!, logged);
});

Then('the client is told {string}', function (this: LabWorld, alert: string) {
  const outcome = this.lastConnection;
  assert.ok(outcome && !outcome.connected, 'the connection was not refused');
  // The TLS alert the broker sent names the precise cause; its log line does not.
  assert.match(outcome.error, new RegExp(`alert ${alert}`));
});
