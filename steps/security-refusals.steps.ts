// Refusal paths: the broker's ACL, clients refusing an untrusted or misnamed broker, replayed and
// tampered ACME requests through the gate, forged X5C tokens, renewal of a revoked certificate.
// The work is in simulators/adversary and the client; the steps say what happened and check it.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { defineParameterType, Given, Then, When } from '@cucumber/cucumber';
import { enableBrokerDebugLog, escapeRegExp, readSince, waitFor, waitForConnectionLine } from './support/logs.ts';
import { generateKeyPair, privateKeyToPem } from '../x509/keys.ts';
import { inspectCertificate } from '../x509/certificates.ts';
import { acmeReadyToFinalize, acmeWithCapture } from '../simulators/adversary/acme-attempts.ts';
import { tamperSignature, type SignedAcmeRequest } from '../simulators/adversary/acme-raw.ts';
import { publishForged } from '../simulators/adversary/forged-publish.ts';
import { startImpostorBroker } from '../simulators/adversary/impostor-broker.ts';
import { x5cSign, x5cToken } from '../simulators/adversary/issuance-attempts.ts';
import type { CertificateClient } from '../simulators/client/certificate-client.ts';
import { deviceSan, topics } from '../simulators/device/reveos-device.ts';
import type { LabWorld } from './support/world.ts';
import { giveLegacyCredential } from './support/service-team.ts';
import { flushClientLogs } from '../simulators/client/client-log.ts';

type Role = 'device' | 'application';
defineParameterType({ name: 'clientRole', regexp: /device|application/, transformer: (s: string) => s as Role });


async function clientFor(world: LabWorld, role: Role): Promise<CertificateClient> {
  return role === 'device' ? world.lastDevice : world.runningApplication();
}

const operationalCount = async (world: LabWorld, deviceId: string) => (await world.admin.inventory(deviceId)).filter((c) => c.kind === 'operational').length;

function nonceOf(signed: SignedAcmeRequest): string {
  const jws = JSON.parse(signed.body) as { protected: string };
  return (JSON.parse(Buffer.from(jws.protected, 'base64url').toString('utf8')) as { nonce: string }).nonce;
}

// --- the broker's ACL -------------------------------------------------------------------------

Given('a device connected to the broker and another device holding its own operational certificate', async function (this: LabWorld) {
  this.victim = await this.connectedDevice();
  this.attacker = this.createDevice();
  await this.attacker.join({ connect: false });
});

Given('a device connected to the broker and another device with firmware {string} on a legacy credential of its own', async function (this: LabWorld, firmwareVersion: string) {
  this.victim = await this.connectedDevice();
  this.attacker = this.createDevice({ firmwareVersion });
  await giveLegacyCredential(this, this.attacker);
});

When(/^the other device publishes a forged message on the first device's (telemetry|command) topic at QoS (0|1)$/, async function (this: LabWorld, kind: string, qos: string) {
  const { lab, config } = this.session;
  const [victim, attacker] = [this.victim!, this.attacker!];
  const root = config.broker.topicRoot;
  const forged = kind === 'telemetry'
    ? { topic: topics.telemetry(root, victim.identity.deviceId), payload: { deviceId: victim.identity.deviceId, seq: 1_000_000, sentAt: Date.now(), firmwareVersion: '2.1', readings: { forged: 1 } } }
    : { topic: topics.commands(root, victim.identity.deviceId), payload: { commandId: `forged-${randomUUID()}`, name: 'identify' } };
  // "Denied PUBLISH" is a debug-level line: turned on for this scenario only.
  this.onCleanup(await enableBrokerDebugLog(this.owned('broker-control').mosquitto));
  await this.attack.begin();
  const marker = (forged.payload as { commandId?: string }).commandId ?? `forged-${randomUUID()}`;
  // A device on a legacy credential dials the password listener with it.
  const legacy = attacker.store.loadLegacyCredential();
  const via = legacy ? { broker: this.legacyBroker(), credential: legacy } : { broker: lab.broker, credential: attacker.store.loadOperational()! };
  this.forged = await publishForged({ ...via, trustedRootPem: attacker.trustedRootPem, clientId: attacker.identity.deviceId, from: attacker.address, ...forged, marker, qos: Number(qos) as 0 | 1 });
  this.onCleanup(() => this.forged!.connection.endAsync(true));
});

Then('the broker logs "Denied PUBLISH" from the other device for that topic', async function (this: LabWorld) {
  const { topic, qos } = this.forged!;
  await this.attack.loggedMatching('mosquitto', new RegExp(`Denied PUBLISH from ${escapeRegExp(this.attacker!.identity.deviceId)} \\(d0, q${qos}, r0, m\\d+, '${escapeRegExp(topic)}'`));
});

Then(/^the forged message never reaches (the application|the first device)$/, async function (this: LabWorld, receiver: string) {
  const [victim, app, marker] = [this.victim!, await this.runningApplication(), this.forged!.marker];
  // The broker has already refused the forged message (previous step). A genuine message sent
  // after it is a fence: had the forged one been routed, it would have arrived first.
  if (receiver === 'the application') {
    await this.telemetryReachesApplication(victim, { fence: 1 });
    assert.deepEqual(app.received.filter((t) => (t.message as unknown as { marker?: string }).marker === marker), [], 'the application received the forged telemetry');
  } else {
    const reply = await app.sendCommand(victim.identity.deviceId, 'identify');
    assert.ok(victim.commandsHandled.some((c) => c.commandId === reply.commandId), 'the fence command reached the device');
    assert.deepEqual(victim.commandsHandled.filter((c) => c.commandId === marker), [], 'the device executed the forged command');
  }
  this.assertUndisturbed([victim]);
});

Then("the broker closes the other device's connection", async function (this: LabWorld) {
  await waitFor("the broker to close the publisher's connection", () => this.forged!.closed, { timeoutMs: 5000 });
  // Notice level: "Bad socket read/write on client <id>: Unknown error." (reason 151, quota exceeded).
  await this.attack.loggedMatching('mosquitto', new RegExp(`(Bad socket read/write on client|Client) ${escapeRegExp(this.attacker!.identity.deviceId)}[: ]`));
});

// --- clients refusing a broker they must not trust --------------------------------------------

Given('a provisioned device', async function (this: LabWorld) {
  const device = this.createDevice();
  await device.join({ connect: false });
});

Given('an impostor broker on loopback with a certificate for "localhost" and "127.0.0.1" from a foreign CA', async function (this: LabWorld) {
  this.impostor = await startImpostorBroker();
  this.onCleanup(() => this.impostor!.stop());
});

When('the {clientRole} connects to the impostor broker', async function (this: LabWorld, role: Role) {
  const client = await clientFor(this, role);
  this.lastError = await client.connect({ host: this.impostor!.host, port: this.impostor!.port }).then(() => undefined, (err: Error) => err);
});

When('the {clientRole} connects to the lab broker as {string}', async function (this: LabWorld, role: Role, servername: string) {
  const client = await clientFor(this, role);
  await client.disconnect();
  await this.attack.begin();
  this.lastError = await client.connect({ ...this.session.lab.broker, servername }).then(() => undefined, (err: Error) => err);
});

Then('the {clientRole} refuses the broker because it is {string}', async function (this: LabWorld, role: Role, cause: string) {
  const client = await clientFor(this, role);
  assert.ok(this.lastError, 'the client connected to a broker it must not trust');
  assert.equal(client.log.find('connect-failed').at(-1)?.cause, cause, this.lastError.message);
});

Then("the {clientRole}'s log records the failed connection with cause {string}", async function (this: LabWorld, role: Role, cause: string) {
  const client = await clientFor(this, role);
  const entry = client.log.find('connect-failed').at(-1);
  assert.equal(entry?.cause, cause, `last connect-failed entry: ${JSON.stringify(entry)}`);
  // ...and the same line is in the run's clients.log, next to the components' logs.
  await flushClientLogs(); // the clients' log is written in batches
  const lines = readFileSync(this.clientLogFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.ok(lines.some((l) => l.client === client.commonName && l.event === 'connect-failed' && l.cause === cause && l.time === entry!.time), 'clients.log lacks the entry');
});

Then('the impostor broker never received an MQTT byte from the {clientRole}', async function (this: LabWorld, role: Role) {
  const client = await clientFor(this, role);
  const impostor = this.impostor!;
  const sessions = await waitFor(
    `the impostor's sessions from ${client.address} to end`,
    () => {
      const mine = impostor.sessions.filter((s) => s.remoteAddress === client.address);
      return mine.length > 0 && mine.every((s) => s.closed) && mine;
    },
    { timeoutMs: 5000 },
  );
  assert.deepEqual(sessions.map((s) => s.applicationBytes), sessions.map(() => 0), 'the client sent MQTT data (its CONNECT) to the impostor');
  this.attach(JSON.stringify(sessions, null, 1), { mediaType: 'application/json', fileName: 'impostor-sessions.json' });
});

Then('the broker saw the {clientRole} abort the TLS handshake and never received its CONNECT', async function (this: LabWorld, role: Role) {
  const client = await clientFor(this, role);
  const mark = this.attack.mark('mosquitto');
  const line = await waitForConnectionLine(mark, client.address, /unexpected eof while reading|Client <unknown> (closed its connection|disconnected)/);
  assert.doesNotMatch(readSince(mark), new RegExp(`New client connected from ${escapeRegExp(client.address)}:`));
  this.attach(line, { mediaType: 'text/plain', fileName: 'mosquitto.txt' });
});

// --- replayed and tampered ACME requests through the gate -------------------------------------

Given('a client that obtained a bootstrap certificate through the gate and kept every signed ACME request', async function (this: LabWorld) {
  const { endpoints, responder } = this.session;
  const { acme, certificatePem, captured } = await acmeWithCapture({ directoryUrl: endpoints.acmeDirectoryUrl, trustedCaPem: endpoints.trustedRootPem, from: this.nextAddress(), responder });
  assert.deepEqual(inspectCertificate(certificatePem).sans.ip, [acme.options.localAddress]);
  Object.assign(this, { acme, captured });
  assert.equal((await this.admin.inventory(acme.options.localAddress)).length, 1);
});

When('it replays its newAccount, finalize and certificate requests unchanged', async function (this: LabWorld) {
  await this.attack.begin();
  this.acmeAnswers = [];
  for (const signed of this.captured!) this.acmeAnswers.push(await this.acme!.send(signed));
});

Then('each replay is refused with the ACME problem {string}', function (this: LabWorld, type: string) {
  assert.equal(this.acmeAnswers?.length, 3);
  for (const answer of this.acmeAnswers!) {
    assert.equal(answer.status, 400, answer.text);
    assert.equal(answer.problemType, type, answer.text);
  }
});

Then('the bootstrap step-ca logs each replayed nonce as not found', async function (this: LabWorld) {
  for (const signed of this.captured!) {
    await this.attack.loggedMatching('bootstrap-ca', new RegExp(`error="nonce ${escapeRegExp(nonceOf(signed))} not found".*path=${escapeRegExp(new URL(signed.url).pathname)} `));
  }
});

Then("the inventory still holds exactly one certificate for the client's address", async function (this: LabWorld) {
  assert.equal((await this.admin.inventory(this.acme!.options.localAddress)).length, 1);
});

Given('a client whose ACME order through the gate is ready for finalization', async function (this: LabWorld) {
  const { endpoints, responder } = this.session;
  const { acme, orderUrl, finalize } = await acmeReadyToFinalize({ directoryUrl: endpoints.acmeDirectoryUrl, trustedCaPem: endpoints.trustedRootPem, from: this.nextAddress(), responder });
  Object.assign(this, { acme, acmeOrderUrl: orderUrl, captured: [finalize] });
});

When('it sends its finalize request with one bit of the JWS signature flipped', async function (this: LabWorld) {
  await this.attack.begin();
  this.acmeAnswers = [await this.acme!.send(tamperSignature(this.captured![0]!))];
});

Then('the request is refused with the ACME problem {string}', function (this: LabWorld, type: string) {
  const answer = this.acmeAnswers![0]!;
  assert.equal(answer.status, 400, answer.text);
  assert.equal(answer.problemType, type, answer.text);
});

Then('the bootstrap step-ca logs that it could not verify the JWS', async function (this: LabWorld) {
  await this.attack.loggedMatching('bootstrap-ca', new RegExp(`error="error verifying jws[^"]*".*path=${escapeRegExp(new URL(this.captured![0]!.url).pathname)} `));
});

Then("the order is still {string} and the inventory holds no certificate for the client's address", async function (this: LabWorld, status: string) {
  const order = await this.acme!.post(this.acmeOrderUrl!, undefined);
  assert.equal((order.body as { status?: string }).status, status, order.text);
  assert.deepEqual(await this.admin.inventory(this.acme!.options.localAddress), []);
});

// --- forged X5C tokens and renewal of a revoked certificate -----------------------------------

When("someone presents the device's bootstrap certificate chain in an X5C token signed with a key of their own", async function (this: LabWorld) {
  const device = this.lastDevice;
  const { endpoints } = this.session;
  const identity = device.identity.deviceId;
  const sans = [deviceSan(identity)];
  // The genuine, public chain; the key is not the one the chain certifies.
  const credential = { certificateChainPem: device.store.loadBootstrap()!.certificateChainPem, privateKeyPem: await privateKeyToPem((await generateKeyPair('ecdsa-p256')).privateKey) };
  const ott = await x5cToken({ credential, ...endpoints.x5c, identity, sans });
  await this.attack.run(() => x5cSign({ caUrl: endpoints.signUrl, rootPem: endpoints.trustedRootPem, ott, identity, sans, from: device.address }));
});

Then('step-ca refuses the request with HTTP {int}', function (this: LabWorld, status: number) {
  assert.equal(this.attack.outcome?.status, status, this.attack.outcome?.detail);
});

Then("step-ca logs that the X5C token's signature does not verify", async function (this: LabWorld) {
  await this.attack.logged('step-ca', 'x5c.authorizeToken; error parsing x5c claims: go-jose/go-jose: error in cryptographic primitive');
});

Then('the provisioning service audits the refused X5C request', async function (this: LabWorld) {
  await this.attack.audited('step-ca HTTP 401');
});

Then('the inventory holds no new operational certificate for the device', async function (this: LabWorld) {
  assert.deepEqual((await this.attack.issued()).filter((c) => c.deviceId === this.lastDevice.identity.deviceId), []);
});

When('the device tries to renew its operational certificate at step-ca', async function (this: LabWorld) {
  const device = this.lastDevice;
  this.certificateBefore = inspectCertificate(device.store.loadOperational()!.certificateChainPem);
  this.operationalBefore = await operationalCount(this, device.identity.deviceId);
  await this.attack.begin();
  this.lastError = await device.renewCertificate().then(() => undefined, (err: Error) => err);
});

Then('step-ca refuses the renewal with HTTP {int}', function (this: LabWorld, status: number) {
  assert.ok(this.lastError, 'the renewal succeeded');
  assert.equal((this.lastError as { status?: number }).status, status, String(this.lastError));
});

Then('step-ca logs that the certificate has been revoked', async function (this: LabWorld) {
  await this.attack.loggedMatching('step-ca', new RegExp(`error="cahandler\\.Renew: authority\\.authorizeRenew: certificate has been revoked".*remote-address=${escapeRegExp(this.lastDevice.address)} `));
});

Then('the device still holds its revoked certificate and nothing new was issued', async function (this: LabWorld) {
  const device = this.lastDevice;
  assert.equal(inspectCertificate(device.store.loadOperational()!.certificateChainPem).serialNumber, this.certificateBefore!.serialNumber);
  assert.equal(await operationalCount(this, device.identity.deviceId), this.operationalBefore);
});

