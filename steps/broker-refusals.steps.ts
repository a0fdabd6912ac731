import assert from 'node:assert/strict';
import { Then, When } from '@cucumber/cucumber';
import { markLog, waitForLogLine } from '../environments/log-watch.ts';
import { createRootCa, issueLeaf } from '../environments/pki/certificate-authority.ts';
import { attemptMqttConnection } from '../simulators/shared/mqtt-probe.ts';
import type { LabWorld } from './support/world.ts';

/** What Mosquitto (OpenSSL) logs for each refusal cause. */
const BROKER_LOGGED_CAUSES: Record<string, RegExp> = {
  'no client certificate': /peer did not return a certificate/,
  'an untrusted issuer': /certificate verify failed|unknown ca/i,
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

When('a client connects to the broker without a client certificate', async function (this: LabWorld) {
  await connectAs(this, {});
});

When('a client connects to the broker with a certificate issued by a foreign CA', async function (this: LabWorld) {
  const foreignRoot = await createRootCa({ commonName: 'Foreign Root CA', organization: 'not-the-lab', algorithm: 'ecdsa-p256', validityDays: 30 });
  const leaf = await issueLeaf(foreignRoot, { commonName: 'RVS-FOREIGN', extendedKeyUsages: ['clientAuth'] });
  await connectAs(this, { certificateChainPem: leaf.certificatePem, privateKeyPem: leaf.privateKeyPem });
});

Then('the broker refuses the connection because of {string}', async function (this: LabWorld, cause: string) {
  const outcome = this.lastConnection;
  assert.ok(outcome, 'no connection was attempted');
  assert.equal(outcome.connected, false, 'the broker accepted a connection it must refuse');
  const logged = BROKER_LOGGED_CAUSES[cause];
  assert.ok(logged, `unknown refusal cause "${cause}"; known: ${Object.keys(BROKER_LOGGED_CAUSES).join(', ')}`);
  await waitForLogLine(this.brokerLogMark!, logged);
});
