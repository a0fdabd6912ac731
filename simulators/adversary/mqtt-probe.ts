// A single connection attempt that reports its outcome instead of throwing: refusal scenarios
// need to know that the broker said no, and how.
import mqtt from 'mqtt';
import { clientTlsOptions } from '../../net/tls-policy.ts';
import type { MqttConnectOptions } from '../../net/mqtt-connection.ts';

/** The credentials and addresses of a client connection (mqtt-connection.ts), tried once. */
export interface ConnectionAttempt
  extends Pick<MqttConnectOptions, 'host' | 'port' | 'clientId' | 'trustedRootPem' | 'certificateChainPem' | 'privateKeyPem' | 'username' | 'password' | 'localAddress'> {
  timeoutMs?: number;
}

export type ConnectionOutcome = { connected: true } | { connected: false; error: string };

export async function attemptMqttConnection(attempt: ConnectionAttempt): Promise<ConnectionOutcome> {
  const client = mqtt.connect({
    protocol: 'mqtts',
    host: attempt.host,
    port: attempt.port,
    clientId: attempt.clientId,
    ...clientTlsOptions({ ca: attempt.trustedRootPem, cert: attempt.certificateChainPem, key: attempt.privateKeyPem, localAddress: attempt.localAddress }),
    ...(attempt.username === undefined ? {} : { username: attempt.username, password: attempt.password }),
    reconnectPeriod: 0,
    connectTimeout: attempt.timeoutMs ?? 5000,
  } as mqtt.IClientOptions);
  try {
    return await new Promise<ConnectionOutcome>((resolve) => {
      client.once('connect', () => resolve({ connected: true }));
      client.once('error', (err) => resolve({ connected: false, error: err.message }));
      // With TLS 1.3 the server's refusal of a client certificate arrives after the handshake,
      // as an alert that closes the socket before CONNACK.
      client.once('close', () => resolve({ connected: false, error: 'connection closed before CONNACK' }));
    });
  } finally {
    client.end(true);
  }
}
