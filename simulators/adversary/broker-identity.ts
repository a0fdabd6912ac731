// A client's connection attempt to a broker other than (or named differently from) the one it
// was configured with: the same credentials, trust anchor and logging as CertificateClient.connect,
// plus the target and the TLS server name. Scenarios use it to show a client refusing an
// impostor broker or a broker certificate that does not name the host it dialled.
import type { CertificateClient } from '../client/certificate-client.ts';
import { classifyConnectionFailure, type ConnectionFailureCause } from '../client/connection-errors.ts';
import mqtt from 'mqtt';

export interface BrokerTarget {
  host: string;
  port: number;
  /** The name the client dials and checks the broker certificate against; the host when absent. */
  servername?: string;
}

export type BrokerAttempt = { connected: true } | { connected: false; cause: ConnectionFailureCause; error: string };

export async function attemptBrokerConnection(client: CertificateClient, target: BrokerTarget): Promise<BrokerAttempt> {
  const operational = client.store.loadOperational();
  if (!operational) throw new Error(`${client.commonName} has no operational certificate`);
  try {
    // The options of mqtt-connection.ts's connectMqtt, plus the server name.
    const connection = await mqtt.connectAsync({
      protocol: 'mqtts',
      host: target.host,
      port: target.port,
      servername: target.servername,
      clientId: client.commonName,
      ca: client.trustedRootPem,
      cert: operational.certificateChainPem,
      key: operational.privateKeyPem,
      localAddress: client.address,
      minVersion: 'TLSv1.2',
      rejectUnauthorized: true,
      protocolVersion: 4,
      connectTimeout: 5000,
      reconnectPeriod: 0,
    } as mqtt.IClientOptions);
    await connection.endAsync();
    client.log.write('connected', { broker: `${target.servername ?? target.host}:${target.port}` });
    return { connected: true };
  } catch (err) {
    const cause = classifyConnectionFailure(err);
    const error = err instanceof Error ? err.message.trim() : String(err);
    // The same entry CertificateClient.connect writes (seed 000: failures logged by cause).
    client.log.write('connect-failed', { cause, detail: error, broker: `${target.servername ?? target.host}:${target.port}` });
    return { connected: false, cause, error };
  }
}
