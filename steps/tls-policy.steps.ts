// TLS policy of every listener: protocol versions and cipher suites, refused and logged.
import assert from 'node:assert/strict';
import { defineParameterType, Then, When } from '@cucumber/cucumber';
import type { SecureVersion } from 'node:tls';
import { escapeRegExp, markLog, waitFor, waitForConnectionLine, waitForLogLine } from './support/logs.ts';
import {
  CIPHER_SUITES,
  probeTls,
  sendClientHello,
  STRONG_TLS12_SUITES,
  TLS_VERSIONS,
  WEAK_SUITE_FAMILIES,
  type CipherSuiteName,
  type ClientHelloAnswer,
} from '../simulators/adversary/tls-probe.ts';
import type { LabWorld } from './support/world.ts';

const LISTENERS = ['broker', 'step-ca', 'provisioning service'] as const;
type Listener = (typeof LISTENERS)[number];

defineParameterType({ name: 'tlsListener', regexp: /broker|step-ca|provisioning service/, transformer: (s: string) => s as Listener });

/** Legacy CBC-mode suites with SHA-1 MACs, ECDSA and RSA variants. */
const CBC_SHA1_SUITES: CipherSuiteName[] = ['TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA', 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA'];

type Attempt = NonNullable<LabWorld['tlsAttempt']> & { listener: Listener };

function target(world: LabWorld, listener: Listener): { host: string; port: number } {
  const { lab } = world.session;
  switch (listener) {
    case 'broker':
      return { host: lab.broker.host, port: lab.broker.port };
    case 'step-ca':
      return { host: new URL(lab.ca.url).hostname, port: Number(new URL(lab.ca.url).port) };
    case 'provisioning service': {
      const url = new URL(lab.provisioning.url);
      return { host: url.hostname, port: Number(url.port) };
    }
  }
}

/** Each probe leaves from its own loopback address, so every listener's record of it is unambiguous. */
function begin(world: LabWorld, listener: Listener): Attempt {
  // Only the probed listener's log is read (the service records refusals in its audit log).
  const log = listener === 'broker' ? 'mosquitto' : listener === 'step-ca' ? 'step-ca' : undefined;
  const attempt: Attempt = { listener, address: world.nextAddress(), logMark: log && markLog(world.logFile(log)) };
  world.tlsAttempt = attempt;
  return attempt;
}

function current(world: LabWorld): Attempt {
  const attempt = world.tlsAttempt as Attempt | undefined;
  assert.ok(attempt, 'no TLS probe was made in this scenario');
  return attempt;
}

async function offer(world: LabWorld, listener: Listener, suites: CipherSuiteName[]): Promise<ClientHelloAnswer> {
  const attempt = begin(world, listener);
  attempt.hello = await sendClientHello({ ...target(world, listener), version: TLS_VERSIONS['TLSv1.2'], suites: suites.map((s) => CIPHER_SUITES[s]), localAddress: attempt.address });
  return attempt.hello;
}


/** What each listener records for a refused handshake, and where. */
async function expectRecorded(world: LabWorld, attempt: Attempt, cause: 'version' | 'cipher'): Promise<string> {
  switch (attempt.listener) {
    case 'broker':
      // Mosquitto names the OpenSSL reason on the lines after "New connection from <addr>:<port>".
      return waitForConnectionLine(attempt.logMark!, attempt.address, cause === 'version' ? /SSL routines::unsupported protocol/ : /SSL routines::no shared cipher/);
    case 'step-ca':
      // Go's net/http logs every failed handshake with the peer address and the reason.
      return waitForLogLine(
        attempt.logMark!,
        new RegExp(`TLS handshake error from ${escapeRegExp(attempt.address)}:\\d+: tls: ${cause === 'version' ? 'client offered only unsupported versions' : 'no cipher suite supported by both client and server'}`),
      );
    case 'provisioning service': {
      const reason = cause === 'version' ? 'ERR_SSL_UNSUPPORTED_PROTOCOL' : 'ERR_SSL_NO_SHARED_CIPHER';
      const record = await waitFor(
        `an audit record of the refused handshake from ${attempt.address}`,
        async () => (await world.admin.audit(200)).find((r) => r.event === 'tls-handshake' && r.sourceIp === attempt.address && r.reason === reason),
        { timeoutMs: 5000, intervalMs: 100 },
      );
      assert.equal(record.decision, 'refused');
      return JSON.stringify(record);
    }
  }
}

When('a client limited to {word} connects to the {tlsListener}', async function (this: LabWorld, version: string, listener: Listener) {
  assert.ok(version === 'TLSv1.1' || version === 'TLSv1', `unsupported legacy version ${version}`);
  const attempt = begin(this, listener);
  attempt.probe = await probeTls({
    ...target(this, listener),
    ca: this.session.endpoints.trustedRootPem,
    localAddress: attempt.address,
    minVersion: 'TLSv1',
    maxVersion: version as SecureVersion,
  });
});

Then('the handshake fails with the alert {string}', function (this: LabWorld, alert: string) {
  const { probe } = current(this);
  assert.ok(probe, 'no handshake was attempted');
  assert.equal(probe.ok, false, `the listener accepted ${probe.ok ? `${probe.protocol} with ${probe.cipher}` : ''}`);
  assert.equal(probe.stage, 'handshake', `the client could not even try: ${probe.message}`);
  // OpenSSL spells TLS alerts "tlsv1 alert <description>" whatever the negotiated version.
  assert.match(probe.message, new RegExp(`alert ${escapeRegExp(alert)}`));
});

Then('the {tlsListener} records the refusal as an unsupported protocol version', async function (this: LabWorld, listener: Listener) {
  const attempt = current(this);
  assert.equal(attempt.listener, listener);
  this.attach(await expectRecorded(this, attempt, 'version'), { mediaType: 'text/plain', fileName: `${listener}-refusal.txt` });
});

When('a client offers the {tlsListener} only {word} cipher suites at TLS 1.2', async function (this: LabWorld, listener: Listener, family: string) {
  const suites = WEAK_SUITE_FAMILIES[family];
  assert.ok(suites, `unknown cipher suite family "${family}"; known: ${Object.keys(WEAK_SUITE_FAMILIES).join(', ')}`);
  await offer(this, listener, suites);
});

Then('the {tlsListener} answers with the alert {string}', function (this: LabWorld, listener: Listener, alert: string) {
  const { hello, listener: probed } = current(this);
  assert.equal(probed, listener);
  assert.ok(hello, 'no ClientHello was sent');
  assert.deepEqual(hello.kind === 'alert' ? { kind: 'alert', name: hello.name, fatal: hello.level === 2 } : hello, { kind: 'alert', name: alert, fatal: true });
});

Then('the {tlsListener} records the refusal as no shared cipher', async function (this: LabWorld, listener: Listener) {
  const attempt = current(this);
  assert.equal(attempt.listener, listener);
  this.attach(await expectRecorded(this, attempt, 'cipher'), { mediaType: 'text/plain', fileName: `${listener}-refusal.txt` });
});

const controlAnswers = new WeakMap<LabWorld, Map<Listener, ClientHelloAnswer>>();

When('a client offers every listener only ECDHE AEAD cipher suites at TLS 1.2', async function (this: LabWorld) {
  const answers = new Map<Listener, ClientHelloAnswer>();
  for (const listener of LISTENERS) answers.set(listener, await offer(this, listener, STRONG_TLS12_SUITES));
  controlAnswers.set(this, answers);
});

Then('every listener answers with a ServerHello choosing an ECDHE AES-GCM suite', function (this: LabWorld) {
  const answers = controlAnswers.get(this)!;
  for (const listener of LISTENERS) {
    const answer = answers.get(listener);
    assert.equal(answer?.kind, 'server-hello', `${listener}: ${JSON.stringify(answer)}`);
    assert.ok(answer.kind === 'server-hello' && STRONG_TLS12_SUITES.includes(answer.cipherSuiteName as CipherSuiteName), `${listener} chose ${JSON.stringify(answer)}`);
    assert.equal(answer.version, TLS_VERSIONS['TLSv1.2']);
  }
});

When('a client offers the {tlsListener} only ECDHE CBC-mode SHA-1 cipher suites at TLS 1.2', async function (this: LabWorld, listener: Listener) {
  await offer(this, listener, CBC_SHA1_SUITES);
});

Then('the {tlsListener} refuses them', async function (this: LabWorld, listener: Listener) {
  const attempt = current(this);
  assert.equal(attempt.listener, listener);
  assert.equal(attempt.hello?.kind, 'alert', `the ${listener} answered ${JSON.stringify(attempt.hello)}`);
  await expectRecorded(this, attempt, 'cipher');
});
