// TLS policy of every listener: protocol versions and cipher suites, refused and logged. The
// probes and the listeners' records of them are in support/tls-probes.ts (the World's `tls`).
import assert from 'node:assert/strict';
import { defineParameterType, Then, When } from '@cucumber/cucumber';
import type { SecureVersion } from 'node:tls';
import { STRONG_TLS12_SUITES, TLS_VERSIONS, WEAK_SUITE_FAMILIES, type CipherSuiteName } from '../simulators/adversary/tls-probe.ts';
import { escapeRegExp } from './support/logs.ts';
import { LISTENERS, type Listener } from './support/tls-probes.ts';
import type { LabWorld } from './support/world.ts';

defineParameterType({ name: 'tlsListener', regexp: /broker|step-ca|provisioning service/, transformer: (s: string) => s as Listener });

/** Legacy CBC-mode suites with SHA-1 MACs, ECDSA and RSA variants. */
const CBC_SHA1_SUITES: CipherSuiteName[] = ['TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA', 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA'];

When('a client limited to {word} connects to the {tlsListener}', async function (this: LabWorld, version: string, listener: Listener) {
  assert.ok(version === 'TLSv1.1' || version === 'TLSv1', `unsupported legacy version ${version}`);
  await this.tls.legacyHandshake(listener, version as SecureVersion);
});

Then('the handshake fails with the alert {string}', function (this: LabWorld, alert: string) {
  const { probe } = this.tls.current();
  assert.ok(probe, 'no handshake was attempted');
  assert.equal(probe.ok, false, `the listener accepted ${probe.ok ? `${probe.protocol} with ${probe.cipher}` : ''}`);
  assert.equal(probe.stage, 'handshake', `the client could not even try: ${probe.message}`);
  // OpenSSL spells TLS alerts "tlsv1 alert <description>" whatever the negotiated version.
  assert.match(probe.message, new RegExp(`alert ${escapeRegExp(alert)}`));
});

Then('the {tlsListener} records the refusal as an unsupported protocol version', async function (this: LabWorld, listener: Listener) {
  this.attach(await this.tls.recorded('version', this.tls.current(listener)), { mediaType: 'text/plain', fileName: `${listener}-refusal.txt` });
});

When('a client offers the {tlsListener} only {word} cipher suites at TLS 1.2', async function (this: LabWorld, listener: Listener, family: string) {
  const suites = WEAK_SUITE_FAMILIES[family];
  assert.ok(suites, `unknown cipher suite family "${family}"; known: ${Object.keys(WEAK_SUITE_FAMILIES).join(', ')}`);
  await this.tls.offer(listener, suites);
});

Then('the {tlsListener} answers with the alert {string}', function (this: LabWorld, listener: Listener, alert: string) {
  const { hello } = this.tls.current(listener);
  assert.ok(hello, 'no ClientHello was sent');
  assert.deepEqual(hello.kind === 'alert' ? { kind: 'alert', name: hello.name, fatal: hello.level === 2 } : hello, { kind: 'alert', name: alert, fatal: true });
});

Then('the {tlsListener} records the refusal as no shared cipher', async function (this: LabWorld, listener: Listener) {
  this.attach(await this.tls.recorded('cipher', this.tls.current(listener)), { mediaType: 'text/plain', fileName: `${listener}-refusal.txt` });
});

When('a client offers every listener only ECDHE AEAD cipher suites at TLS 1.2', async function (this: LabWorld) {
  await this.tls.offerEveryListener(STRONG_TLS12_SUITES);
});

Then('every listener answers with a ServerHello choosing an ECDHE AES-GCM suite', function (this: LabWorld) {
  for (const listener of LISTENERS) {
    const answer = this.tls.answers.get(listener);
    assert.equal(answer?.kind, 'server-hello', `${listener}: ${JSON.stringify(answer)}`);
    assert.ok(answer.kind === 'server-hello' && STRONG_TLS12_SUITES.includes(answer.cipherSuiteName as CipherSuiteName), `${listener} chose ${JSON.stringify(answer)}`);
    assert.equal(answer.version, TLS_VERSIONS['TLSv1.2']);
  }
});

When('a client offers the {tlsListener} only ECDHE CBC-mode SHA-1 cipher suites at TLS 1.2', async function (this: LabWorld, listener: Listener) {
  await this.tls.offer(listener, CBC_SHA1_SUITES);
});

Then('the {tlsListener} refuses them', async function (this: LabWorld, listener: Listener) {
  const attempt = this.tls.current(listener);
  assert.equal(attempt.hello?.kind, 'alert', `the ${listener} answered ${JSON.stringify(attempt.hello)}`);
  await this.tls.recorded('cipher', attempt);
});
