// One MQTT connection to the broker that reports how it ended instead of throwing: what refusal
// scenarios dial with (no certificate, a forged one, a revoked one, another listener). Each probe
// leaves from an address the broker's log names, so its lines are this connection's own.
import assert from 'node:assert/strict';
import { attemptMqttConnection, type ConnectionOutcome } from '../../simulators/adversary/mqtt-probe.ts';
import { markLog, waitForConnectionLine, type LogMark } from './logs.ts';
import type { ScenarioBase } from './scenario-base.ts';

export interface BrokerProbeOptions {
  /** The client certificate (chain) and key to present; none by default. */
  credential?: { certificateChainPem: string; privateKeyPem: string };
  /** The address to dial from (a client's own); a fresh one by default. */
  from?: string;
  /** `probe-<address>` by default. */
  clientId?: string;
  /** Another listener of the broker than its mutual-TLS one (the legacy listener). */
  port?: number;
  /** The trust anchor the probe checks the broker with; the installation's root by default. */
  trustedRootPem?: string;
  /** Mark the broker's log first, for the connection's own lines (@needs:broker-log). */
  watchLog?: boolean;
}

export interface BrokerProbeResult {
  address: string;
  outcome: ConnectionOutcome;
  /** Where the broker's log stood before the connection (with watchLog). */
  mark: LogMark | undefined;
}

export class BrokerProbe {
  /** The last probe of the scenario. */
  last: BrokerProbeResult | undefined;

  constructor(private readonly scenario: ScenarioBase) {}

  async connect(options: BrokerProbeOptions = {}): Promise<BrokerProbeResult> {
    const { lab, endpoints } = this.scenario.session;
    const address = options.from ?? this.scenario.nextAddress();
    const mark = options.watchLog ? markLog(this.scenario.logFile('mosquitto')) : undefined;
    const outcome = await attemptMqttConnection({
      host: lab.broker.host,
      port: options.port ?? lab.broker.port,
      clientId: options.clientId ?? `probe-${address}`,
      trustedRootPem: options.trustedRootPem ?? endpoints.trustedRootPem,
      localAddress: address,
      ...options.credential,
    });
    this.last = { address, outcome, mark };
    return this.last;
  }

  /** The broker's answer to a connection that must be refused: the error naming its alert. */
  refusedWith(alert: string, probe = this.current): string {
    const { outcome, address } = probe;
    assert.ok(!outcome.connected, `the broker accepted the connection from ${address}`);
    assert.match(outcome.error, new RegExp(`alert ${alert}`), `the connection failed, but not with the broker's alert "${alert}": ${outcome.error}`);
    return outcome.error;
  }

  /** The broker's line for the probe's connection matching `pattern` (after its own mark, or `since`); attached to the report. */
  async logged(pattern: RegExp, options: { probe?: BrokerProbeResult; since?: LogMark } = {}): Promise<string> {
    const probe = options.probe ?? this.current;
    const mark = options.since ?? probe.mark;
    assert.ok(mark, 'the probe did not watch the broker log');
    const line = await waitForConnectionLine(mark, probe.address, pattern);
    this.scenario.attach(line, { mediaType: 'text/plain', fileName: 'mosquitto.txt' });
    return line;
  }

  private get current(): BrokerProbeResult {
    assert.ok(this.last, 'no connection was attempted');
    return this.last;
  }
}
