// An attacker's MQTT session that records every message from the moment the socket opens: the
// listener is attached before the CONNECT goes out, so a message the broker sends right after its
// CONNACK (a persistent session's queue, in the same TCP segment) cannot slip by unrecorded, as it
// would when a listener is attached once connectAsync() resolved.
import type { Socket } from 'node:net';
import mqtt, { type MqttClient } from 'mqtt';
import { waitFor } from '../../environments/wait.ts';
import { clientTlsOptions } from '../../net/tls-policy.ts';
import type { MqttConnectOptions } from '../client/mqtt-connection.ts';

export interface RecordedMessage {
  topic: string;
  payload: string;
}

export interface ListeningSession {
  readonly received: readonly RecordedMessage[];
  /** The first recorded message matching `predicate`, already received or arriving within `timeoutMs`. */
  waitForMessage(predicate: (m: RecordedMessage) => boolean, timeoutMs: number): Promise<RecordedMessage>;
  close(): Promise<void>;
}

export type ListeningOptions = Pick<MqttConnectOptions, 'host' | 'port' | 'clientId' | 'clean' | 'trustedRootPem' | 'certificateChainPem' | 'privateKeyPem' | 'localAddress'>;

/** Connects (mutual TLS), recording from the first byte, and subscribes to `topics` at QoS 1. */
export async function openListeningSession(options: ListeningOptions, topics: string[]): Promise<ListeningSession> {
  const received: RecordedMessage[] = [];
  const client: MqttClient = mqtt.connect({
    protocol: 'mqtts',
    host: options.host,
    port: options.port,
    clientId: options.clientId,
    clean: options.clean ?? true,
    ...clientTlsOptions({ ca: options.trustedRootPem, cert: options.certificateChainPem, key: options.privateKeyPem, localAddress: options.localAddress }),
    protocolVersion: 4,
    reconnectPeriod: 0,
    connectTimeout: 10_000,
  } as mqtt.IClientOptions);
  client.on('message', (topic, payload) => received.push({ topic, payload: payload.toString('utf8') }));
  // What this session receives is the evidence; a later error (the broker closing it) is not.
  client.on('error', () => undefined);
  try {
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
      client.once('close', () => reject(new Error('connection closed before CONNACK')));
    });
    (client.stream as unknown as Socket).setNoDelay?.(true);
    await client.subscribeAsync(topics, { qos: 1 });
  } catch (err) {
    client.end(true);
    throw err;
  }
  return {
    received,
    waitForMessage: (predicate, timeoutMs) => waitFor('a message on the listening session', () => received.find(predicate), { timeoutMs, intervalMs: 20 }),
    close: () => client.endAsync(true),
  };
}
