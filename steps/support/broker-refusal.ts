// "The broker refuses": the TLS alert the broker sent on this very connection, and the broker's
// own log line for it (the lines of that connection's address, mosquitto-log.ts). A connection
// that failed for another reason (no broker listening, a timeout, the client's own distrust)
// carries no such alert and has no such line, so it never passes for a refusal.
import assert from 'node:assert/strict';
import { markLog } from '../../environments/log-watch.ts';
import { waitForConnectionLine } from '../../environments/local/mosquitto-log.ts';
import { attemptMqttConnection } from '../../simulators/adversary/mqtt-probe.ts';
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

function assertAlert(error: string, alert: string): void {
  assert.match(error, new RegExp(`alert ${alert}`), `the connection failed, but not with the broker's alert "${alert}": ${error}`);
}

async function loggedFor(world: LabWorld, mark: ReturnType<typeof markLog>, address: string, logged: RegExp): Promise<string> {
  const line = await waitForConnectionLine(mark, address, logged);
  world.attach(line, { mediaType: 'text/plain', fileName: 'mosquitto.txt' });
  return line;
}

/** One connection with `credential` from an address of its own: refused with `alert`, and logged for that connection. */
export async function assertBrokerRefuses(world: LabWorld, credential: StoredPair, alert: string, options: { clientId?: string; logged?: RegExp } = {}): Promise<BrokerRefusal> {
  const { lab, endpoints } = world.session;
  const address = world.nextAddress();
  const mark = markLog(world.logFile('mosquitto'));
  const outcome = await attemptMqttConnection({ host: lab.broker.host, port: lab.broker.port, clientId: options.clientId ?? `probe-${address}`, trustedRootPem: endpoints.trustedRootPem, localAddress: address, ...credential });
  assert.equal(outcome.connected, false, `the broker accepted the connection from ${address}`);
  assertAlert(outcome.error, alert);
  return { address, error: outcome.error, line: await loggedFor(world, mark, address, options.logged ?? VERIFY_FAILED) };
}

/** The client reconnects from its own address with its stored certificate: refused with `alert`, and logged for that connection. */
export async function assertReconnectRefused(world: LabWorld, client: CertificateClient, alert: string): Promise<BrokerRefusal> {
  const mark = markLog(world.logFile('mosquitto'));
  const error = await client.connect().then(
    () => assert.fail(`the broker accepted ${client.commonName}'s reconnect`),
    (err: Error) => err.message,
  );
  assertAlert(error, alert);
  return { address: client.address, error, line: await loggedFor(world, mark, client.address, VERIFY_FAILED) };
}
