// "The broker refuses": the TLS alert the broker sent on this very connection, and the broker's
// own log line for it (the lines of that connection's address, broker-probe.ts). A connection
// that failed for another reason (no broker listening, a timeout, the client's own distrust)
// carries no such alert and has no such line, so it never passes for a refusal.
import assert from 'node:assert/strict';
import { markLog } from './logs.ts';
import type { CertificateClient } from '../../simulators/client/certificate-client.ts';
import type { StoredPair } from '../../simulators/client/certificate-store.ts';
import type { LabWorld } from './world.ts';

/** What OpenSSL makes Mosquitto log for a client certificate it refused. */
const VERIFY_FAILED = /certificate verify failed/;

export interface BrokerRefusal {
  address: string;
  /** The client's error, naming the broker's alert. */
  error: string;
  /** The broker's line for the connection from `address`. */
  line: string;
}

/** One connection with `credential` from an address of its own: refused with `alert`, and logged for that connection. */
export async function assertBrokerRefuses(world: LabWorld, credential: StoredPair, alert: string, options: { clientId?: string; logged?: RegExp } = {}): Promise<BrokerRefusal> {
  const probe = await world.brokerProbe.connect({ credential, clientId: options.clientId, watchLog: true });
  const error = world.brokerProbe.refusedWith(alert, probe);
  return { address: probe.address, error, line: await world.brokerProbe.logged(options.logged ?? VERIFY_FAILED, { probe }) };
}

/** The client reconnects from its own address with its stored certificate: refused with `alert`, and logged for that connection. */
export async function assertReconnectRefused(world: LabWorld, client: CertificateClient, alert: string): Promise<BrokerRefusal> {
  const mark = markLog(world.logFile('mosquitto'));
  const error = await client.connect().then(
    () => assert.fail(`the broker accepted ${client.commonName}'s reconnect`),
    (err: Error) => err.message,
  );
  const reconnect = { address: client.address, outcome: { connected: false as const, error }, mark };
  world.brokerProbe.refusedWith(alert, reconnect);
  return { address: client.address, error, line: await world.brokerProbe.logged(VERIFY_FAILED, { probe: reconnect }) };
}
