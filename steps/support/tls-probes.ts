// TLS probes of the installation's listeners (broker, step-ca, provisioning service): a handshake
// limited to legacy versions, or a bare ClientHello offering chosen cipher suites, each from an
// address of its own, and what the probed listener recorded of the refusal, read where it records
// it (the broker's and step-ca's logs, the service's audit log).
import assert from 'node:assert/strict';
import type { SecureVersion } from 'node:tls';
import { CIPHER_SUITES, offeringUpTo, probeTls, sendClientHello, TLS_VERSIONS, type CipherSuiteName, type ClientHelloAnswer, type TlsProbeOutcome } from '../../simulators/adversary/tls-probe.ts';
import { escapeRegExp, markLog, waitFor, waitForConnectionLine, waitForLogLine, type LogMark } from './logs.ts';
import type { ScenarioBase } from './scenario-base.ts';

export const LISTENERS = ['broker', 'step-ca', 'provisioning service'] as const;
export type Listener = (typeof LISTENERS)[number];

/** The last probe of a listener: where it came from, where the logs stood, what it got. */
export interface TlsAttempt {
  listener: Listener;
  address: string;
  logMark: LogMark | undefined;
  probe?: TlsProbeOutcome;
  hello?: ClientHelloAnswer;
}

const hostAndPort = (url: string) => ({ host: new URL(url).hostname, port: Number(new URL(url).port) });

export class TlsProbes {
  last: TlsAttempt | undefined;
  /** What each listener answered to the last ClientHello sent to all of them. */
  readonly answers = new Map<Listener, ClientHelloAnswer>();

  constructor(private readonly scenario: ScenarioBase) {}

  private target(listener: Listener): { host: string; port: number } {
    const { lab } = this.scenario.session;
    if (listener === 'broker') return { host: lab.broker.host, port: lab.broker.port };
    return hostAndPort(listener === 'step-ca' ? lab.ca.url : lab.provisioning.url);
  }

  /** Each probe leaves from its own loopback address, so every listener's record of it is unambiguous. */
  private begin(listener: Listener): TlsAttempt {
    // Only the probed listener's log is read (the service records refusals in its audit log).
    const log = listener === 'broker' ? 'mosquitto' : listener === 'step-ca' ? 'step-ca' : undefined;
    this.last = { listener, address: this.scenario.nextAddress(), logMark: log && markLog(this.scenario.logFile(log)) };
    return this.last;
  }

  /** The last probe, which must have been of `listener` when one is named. */
  current(listener?: Listener): TlsAttempt {
    assert.ok(this.last, 'no TLS probe was made in this scenario');
    if (listener) assert.equal(this.last.listener, listener);
    return this.last;
  }

  /** A full handshake by a client that speaks nothing newer than `version`. */
  async legacyHandshake(listener: Listener, version: SecureVersion): Promise<TlsProbeOutcome> {
    const attempt = this.begin(listener);
    attempt.probe = await probeTls({ ...this.target(listener), ca: this.scenario.session.endpoints.trustedRootPem, localAddress: attempt.address, ...offeringUpTo(version) });
    return attempt.probe;
  }

  /** A TLS 1.2 ClientHello offering only `suites`; the listener's first answer. */
  async offer(listener: Listener, suites: CipherSuiteName[]): Promise<ClientHelloAnswer> {
    const attempt = this.begin(listener);
    attempt.hello = await sendClientHello({ ...this.target(listener), version: TLS_VERSIONS['TLSv1.2'], suites: suites.map((s) => CIPHER_SUITES[s]), localAddress: attempt.address });
    return attempt.hello;
  }

  async offerEveryListener(suites: CipherSuiteName[]): Promise<void> {
    for (const listener of LISTENERS) this.answers.set(listener, await this.offer(listener, suites));
  }

  /** What the last probed listener recorded for its refused handshake, and where. */
  async recorded(cause: 'version' | 'cipher', attempt = this.current()): Promise<string> {
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
          async () => (await this.scenario.admin.audit(200)).find((r) => r.event === 'tls-handshake' && r.sourceIp === attempt.address && r.reason === reason),
          { timeoutMs: 5000, intervalMs: 100 },
        );
        assert.equal(record.decision, 'refused');
        return JSON.stringify(record);
      }
    }
  }
}
