// Refusal paths: the broker's ACL, clients refusing an untrusted or misnamed broker, replayed and
// tampered ACME requests through the gate, forged X5C tokens, renewal of a revoked certificate.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { defineParameterType, Given, Then, When } from '@cucumber/cucumber';
import type { MqttClient } from 'mqtt';
import * as jose from 'jose';
import { markLog, readSince, waitForLogLine, type LogMark } from '../environments/log-watch.ts';
import { waitFor } from '../environments/wait.ts';
import { request, type HttpResponse } from '../environments/local/https-client.ts';
import { createKeyAndCsr } from '../environments/pki/csr.ts';
import { generateKeyPair, privateKeyToPem } from '../environments/pki/keys.ts';
import { deviceSan, topics, type ReveosDevice } from '../simulators/device/reveos-device.ts';
import { RawAcmeClient, tamperSignature, type AcmeAnswer, type SignedAcmeRequest } from '../simulators/adversary/acme-raw.ts';
import { enableBrokerDebugLog, waitForConnectionLine } from '../environments/local/mosquitto-log.ts';
import { attemptBrokerConnection, type BrokerAttempt } from '../simulators/adversary/broker-identity.ts';
import type { CertificateClient } from '../simulators/client/certificate-client.ts';
import { inspectCertificate } from '../simulators/client/certificate-inspection.ts';
import { startImpostorBroker, type ImpostorBroker } from '../simulators/adversary/impostor-broker.ts';
import { connectMqtt } from '../simulators/client/mqtt-connection.ts';
import { signX5cToken } from '../simulators/client/x5c-sign.ts';
import { scenarioState } from './support/scenario-state.ts';
import type { LabWorld } from './support/world.ts';

type Role = 'device' | 'application';
defineParameterType({ name: 'clientRole', regexp: /device|application/, transformer: (s: string) => s as Role });

interface ForgedPublish {
  topic: string;
  qos: 0 | 1;
  marker: string;
  connection: MqttClient;
  closed: boolean;
  mark: LogMark;
}

interface State {
  victim?: ReveosDevice;
  attacker?: ReveosDevice;
  forged?: ForgedPublish;
  impostor?: ImpostorBroker;
  attempt?: BrokerAttempt;
  brokerMark?: LogMark;
  stepCaMark?: LogMark;
  acme?: RawAcmeClient;
  captured?: SignedAcmeRequest[];
  answers?: AcmeAnswer[];
  orderUrl?: string;
  response?: HttpResponse;
  operationalBefore?: number;
  serialBefore?: string;
  error?: unknown;
}

const state = scenarioState<State>();

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

async function clientFor(world: LabWorld, role: Role): Promise<CertificateClient> {
  return role === 'device' ? world.lastDevice : world.runningApplication();
}

async function operationalCount(world: LabWorld, deviceId: string): Promise<number> {
  return (await world.admin.inventory(deviceId)).filter((c) => c.kind === 'operational').length;
}

// --- the broker's ACL -------------------------------------------------------------------------

Given('a device connected to the broker and another device holding its own operational certificate', async function (this: LabWorld) {
  const s = state(this);
  s.victim = this.createDevice();
  await s.victim.provision();
  await s.victim.getCertificate();
  await s.victim.connect();
  s.attacker = this.createDevice();
  await s.attacker.provision();
  await s.attacker.getCertificate();
});

When(/^the other device publishes a forged message on the first device's (telemetry|command) topic at QoS (0|1)$/, async function (this: LabWorld, kind: string, qosText: string) {
  const s = state(this);
  const victim = s.victim!;
  const attacker = s.attacker!;
  const { lab, config } = this.session;
  const qos = Number(qosText) as 0 | 1;
  const topic = kind === 'telemetry' ? topics.telemetry(config.broker.topicRoot, victim.identity.deviceId) : topics.commands(config.broker.topicRoot, victim.identity.deviceId);
  const marker = `forged-${randomUUID()}`;
  const payload =
    kind === 'telemetry'
      ? { deviceId: victim.identity.deviceId, seq: 1_000_000, sentAt: Date.now(), firmwareVersion: '2.1', readings: { forged: 1 }, marker }
      : { commandId: marker, name: 'identify' };
  // "Denied PUBLISH" is a debug-level line: turned on for this scenario only.
  this.onCleanup(await enableBrokerDebugLog(lab.mosquitto));
  const mark = markLog(lab.mosquitto.logFile);
  const operational = attacker.store.loadOperational()!;
  // The attacker's own identity (its certificate CN), the way its firmware would connect.
  const connection = await connectMqtt({
    host: lab.broker.host,
    port: lab.broker.port,
    clientId: attacker.identity.deviceId,
    trustedRootPem: attacker.trustedRootPem,
    certificateChainPem: operational.certificateChainPem,
    privateKeyPem: operational.privateKeyPem,
    localAddress: attacker.address,
  });
  s.forged = { topic, qos, marker, connection, closed: false, mark };
  connection.on('close', () => (s.forged!.closed = true));
  this.onCleanup(() => connection.endAsync(true));
  // QoS 1: resolves on the PUBACK, which MQTT 3.1.1 sends whether or not the ACL allowed it.
  await connection.publishAsync(topic, JSON.stringify(payload), { qos });
});

Then('the broker logs "Denied PUBLISH" from the other device for that topic', async function (this: LabWorld) {
  const { forged, attacker } = state(this);
  const line = await waitForLogLine(forged!.mark, new RegExp(`Denied PUBLISH from ${escape(attacker!.identity.deviceId)} \\(d0, q${forged!.qos}, r0, m\\d+, '${escape(forged!.topic)}'`));
  this.attach(line, { mediaType: 'text/plain', fileName: 'mosquitto-denied.txt' });
});

Then(/^the forged message never reaches (the application|the first device)$/, async function (this: LabWorld, receiver: string) {
  const { forged, victim } = state(this);
  const app = await this.runningApplication();
  // The broker has already refused the forged message (previous step). A genuine message sent
  // after it is a fence: had the forged one been routed, it would have arrived first.
  if (receiver === 'the application') {
    const fence = await victim!.publishTelemetry({ fence: 1 });
    await app.waitForTelemetry((t) => t.message.deviceId === victim!.identity.deviceId && t.message.seq === fence.seq);
    const forgedSeen = app.received.filter((t) => (t.message as unknown as { marker?: string }).marker === forged!.marker);
    assert.deepEqual(forgedSeen, [], 'the application received the forged telemetry');
  } else {
    const reply = await app.sendCommand(victim!.identity.deviceId, 'identify');
    assert.equal(reply.ok, true);
    assert.ok(victim!.commandsHandled.some((c) => c.commandId === reply.commandId), 'the fence command reached the device');
    assert.deepEqual(victim!.commandsHandled.filter((c) => c.commandId === forged!.marker), [], 'the device executed the forged command');
  }
  assert.equal(victim!.unexpectedDisconnects, 0, 'the victim device was disturbed');
});

Then("the broker closes the other device's connection", async function (this: LabWorld) {
  const { forged, attacker } = state(this);
  await waitFor('the broker to close the publisher\'s connection', () => forged!.closed, { timeoutMs: 5000 });
  // Notice level: "Bad socket read/write on client <id>: Unknown error." (reason 151, quota exceeded).
  await waitForLogLine(forged!.mark, new RegExp(`(Bad socket read/write on client|Client) ${escape(attacker!.identity.deviceId)}[: ]`));
});

// --- clients refusing a broker they must not trust --------------------------------------------

Given('a provisioned device', async function (this: LabWorld) {
  const device = this.createDevice();
  await device.provision();
  await device.getCertificate();
});

Given('an impostor broker on loopback with a certificate for "localhost" and "127.0.0.1" from a foreign CA', async function (this: LabWorld) {
  const impostor = await startImpostorBroker();
  state(this).impostor = impostor;
  this.onCleanup(() => impostor.stop());
});

When('the {clientRole} connects to the impostor broker', async function (this: LabWorld, role: Role) {
  const s = state(this);
  s.attempt = await attemptBrokerConnection(await clientFor(this, role), { host: s.impostor!.host, port: s.impostor!.port });
});

When('the {clientRole} connects to the lab broker as {string}', async function (this: LabWorld, role: Role, servername: string) {
  const s = state(this);
  const client = await clientFor(this, role);
  const { lab } = this.session;
  s.brokerMark = markLog(lab.mosquitto.logFile);
  s.attempt = await attemptBrokerConnection(client, { host: lab.broker.host, port: lab.broker.port, servername });
});

Then('the {clientRole} refuses the broker because it is {string}', function (this: LabWorld, _role: Role, cause: string) {
  const { attempt } = state(this);
  assert.ok(attempt, 'no connection was attempted');
  assert.equal(attempt.connected, false, 'the client connected to a broker it must not trust');
  assert.equal(attempt.cause, cause, attempt.error);
});

Then("the {clientRole}'s log records the failed connection with cause {string}", async function (this: LabWorld, role: Role, cause: string) {
  const client = await clientFor(this, role);
  const entry = client.log.find('connect-failed').at(-1);
  assert.equal(entry?.cause, cause, `last connect-failed entry: ${JSON.stringify(entry)}`);
  // ...and the same line is in the run's clients.log, next to the components' logs.
  const lines = readFileSync(this.clientLogFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.ok(lines.some((l) => l.client === client.commonName && l.event === 'connect-failed' && l.cause === cause && l.time === entry!.time), 'clients.log lacks the entry');
});

Then('the impostor broker never received an MQTT byte from the {clientRole}', async function (this: LabWorld, role: Role) {
  const client = await clientFor(this, role);
  const impostor = state(this).impostor!;
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
  const mark = state(this).brokerMark!;
  const line = await waitForConnectionLine(mark, client.address, /unexpected eof while reading|Client <unknown> (closed its connection|disconnected)/);
  assert.doesNotMatch(readSince(mark), new RegExp(`New client connected from ${escape(client.address)}:`));
  this.attach(line, { mediaType: 'text/plain', fileName: 'mosquitto.txt' });
});

// --- replayed and tampered ACME requests through the gate -------------------------------------

function rawAcme(world: LabWorld): RawAcmeClient {
  const { endpoints } = world.session;
  const acme = new RawAcmeClient({ directoryUrl: endpoints.acmeDirectoryUrl, trustedCaPem: endpoints.trustedRootPem, localAddress: world.nextAddress() });
  state(world).acme = acme;
  return acme;
}

function nonceOf(signed: SignedAcmeRequest): string {
  const jws = JSON.parse(signed.body) as { protected: string };
  return (JSON.parse(Buffer.from(jws.protected, 'base64url').toString('utf8')) as { nonce: string }).nonce;
}

Given('a client that obtained a bootstrap certificate through the gate and kept every signed ACME request', async function (this: LabWorld) {
  const acme = rawAcme(this);
  await acme.createAccount();
  const newAccount = acme.sent.at(-1)!;
  const { orderUrl, finalize } = await acme.readyOrder(this.session.responder);
  const { signed } = await acme.signFinalize(finalize);
  const finalized = await acme.send(signed);
  assert.equal(finalized.status, 200, finalized.text);
  const certificate = await acme.post(await acme.certificateUrl(orderUrl), undefined);
  assert.equal(certificate.status, 200, certificate.text);
  assert.deepEqual(inspectCertificate(certificate.text).sans.ip, [acme.options.localAddress]);
  state(this).captured = [newAccount, signed, acme.sent.at(-1)!];
  assert.equal((await this.admin.inventory(acme.options.localAddress)).length, 1);
});

When('it replays its newAccount, finalize and certificate requests unchanged', async function (this: LabWorld) {
  const s = state(this);
  s.stepCaMark = markLog(this.session.lab.logs['bootstrap-ca']!);
  s.answers = [];
  for (const signed of s.captured!) s.answers.push(await s.acme!.send(signed));
});

Then('each replay is refused with the ACME problem {string}', function (this: LabWorld, type: string) {
  const { answers } = state(this);
  assert.equal(answers?.length, 3);
  for (const answer of answers!) {
    assert.equal(answer.status, 400, answer.text);
    assert.equal(answer.problemType, type, answer.text);
  }
});

Then('the bootstrap step-ca logs each replayed nonce as not found', async function (this: LabWorld) {
  const s = state(this);
  for (const signed of s.captured!) {
    await waitForLogLine(s.stepCaMark!, new RegExp(`error="nonce ${escape(nonceOf(signed))} not found".*path=${escape(new URL(signed.url).pathname)} `));
  }
});

Then("the inventory still holds exactly one certificate for the client's address", async function (this: LabWorld) {
  assert.equal((await this.admin.inventory(state(this).acme!.options.localAddress)).length, 1);
});

Given('a client whose ACME order through the gate is ready for finalization', async function (this: LabWorld) {
  const acme = rawAcme(this);
  await acme.createAccount();
  const { orderUrl, finalize } = await acme.readyOrder(this.session.responder);
  const s = state(this);
  s.orderUrl = orderUrl;
  s.captured = [(await acme.signFinalize(finalize)).signed];
});

When('it sends its finalize request with one bit of the JWS signature flipped', async function (this: LabWorld) {
  const s = state(this);
  s.stepCaMark = markLog(this.session.lab.logs['bootstrap-ca']!);
  s.answers = [await s.acme!.send(tamperSignature(s.captured![0]!))];
});

Then('the request is refused with the ACME problem {string}', function (this: LabWorld, type: string) {
  const answer = state(this).answers![0]!;
  assert.equal(answer.status, 400, answer.text);
  assert.equal(answer.problemType, type, answer.text);
});

Then('the bootstrap step-ca logs that it could not verify the JWS', async function (this: LabWorld) {
  const s = state(this);
  await waitForLogLine(s.stepCaMark!, new RegExp(`error="error verifying jws[^"]*".*path=${escape(new URL(s.captured![0]!.url).pathname)} `));
});

Then("the order is still {string} and the inventory holds no certificate for the client's address", async function (this: LabWorld, status: string) {
  const s = state(this);
  const order = await s.acme!.post(s.orderUrl!, undefined);
  assert.equal((order.body as { status?: string }).status, status, order.text);
  assert.deepEqual(await this.admin.inventory(s.acme!.options.localAddress), []);
});

// --- forged X5C tokens and renewal of a revoked certificate -----------------------------------

When("someone presents the device's bootstrap certificate chain in an X5C token signed with a key of their own", async function (this: LabWorld) {
  const s = state(this);
  const device = this.lastDevice;
  const { endpoints, lab } = this.session;
  const bootstrap = device.store.loadBootstrap()!;
  const ownKey = await privateKeyToPem((await generateKeyPair('ecdsa-p256')).privateKey);
  const sans = [deviceSan(device.identity.deviceId)];
  const ott = await signX5cToken({
    provisioner: endpoints.x5c.provisioner,
    audience: endpoints.x5c.audience,
    // The genuine, public chain; the key is not the one the chain certifies.
    bootstrap: { certificateChainPem: bootstrap.certificateChainPem, privateKeyPem: ownKey },
    commonName: device.identity.deviceId,
    sans,
  });
  assert.equal(jose.decodeProtectedHeader(ott).x5c?.length, 2, 'the token carries the genuine bootstrap chain');
  const { csrPem } = await createKeyAndCsr({ commonName: device.identity.deviceId, uris: sans }, 'ecdsa-p256');
  s.operationalBefore = await operationalCount(this, device.identity.deviceId);
  s.stepCaMark = markLog(lab.logs['step-ca']!);
  s.response = await request(`${endpoints.signUrl}/1.0/sign`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ csr: csrPem, ott }),
    ca: endpoints.trustedRootPem,
    localAddress: device.address,
  });
});

Then('step-ca refuses the request with HTTP {int}', function (this: LabWorld, status: number) {
  const { response } = state(this);
  assert.equal(response?.status, status, response?.text());
});

Then("step-ca logs that the X5C token's signature does not verify", async function (this: LabWorld) {
  await waitForLogLine(state(this).stepCaMark!, /error="[^"]*x5c\.authorizeToken; error parsing x5c claims: go-jose\/go-jose: error in cryptographic primitive"/);
});

Then('the provisioning service audits the refused X5C request', async function (this: LabWorld) {
  const device = this.lastDevice;
  const records = await this.admin.audit(50);
  assert.ok(records.some((r) => r.event === 'x5c-sign' && r.decision === 'refused' && r.sourceIp === device.address && r.reason === 'step-ca HTTP 401'), 'no audit record of the refusal');
});

Then('the inventory holds no new operational certificate for the device', async function (this: LabWorld) {
  assert.equal(await operationalCount(this, this.lastDevice.identity.deviceId), state(this).operationalBefore);
});

When('the device tries to renew its operational certificate at step-ca', async function (this: LabWorld) {
  const s = state(this);
  const device = this.lastDevice;
  s.serialBefore = inspectCertificate(device.store.loadOperational()!.certificateChainPem).serialNumber;
  s.operationalBefore = await operationalCount(this, device.identity.deviceId);
  s.stepCaMark = markLog(this.session.lab.logs['step-ca']!);
  try {
    await device.renewCertificate();
    s.error = undefined;
  } catch (err) {
    s.error = err;
  }
});

Then('step-ca refuses the renewal with HTTP {int}', function (this: LabWorld, status: number) {
  const { error } = state(this);
  assert.ok(error, 'the renewal succeeded');
  assert.equal((error as { name?: string }).name, 'CaRefusalError', String(error));
  assert.equal((error as { status?: number }).status, status);
});

Then('step-ca logs that the certificate has been revoked', async function (this: LabWorld) {
  const address = this.lastDevice.address;
  await waitForLogLine(state(this).stepCaMark!, new RegExp(`error="cahandler\\.Renew: authority\\.authorizeRenew: certificate has been revoked".*remote-address=${escape(address)} `));
});

Then('the device still holds its revoked certificate and nothing new was issued', async function (this: LabWorld) {
  const s = state(this);
  const device = this.lastDevice;
  assert.equal(inspectCertificate(device.store.loadOperational()!.certificateChainPem).serialNumber, s.serialBefore);
  assert.equal(await operationalCount(this, device.identity.deviceId), s.operationalBefore);
});
