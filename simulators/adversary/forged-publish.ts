// A device publishing on a topic outside its own tree, with its own genuine certificate or legacy
// credential: what the broker's ACL (or, for a legacy credential, its dynamic security role) must drop. The connection is kept so the caller can see the broker close it.
import type { MqttClient } from 'mqtt';
import { connectMqtt } from '../../net/mqtt-connection.ts';

export interface ForgedPublish {
  topic: string;
  qos: 0 | 1;
  /** A marker in the payload, to look for at every receiver. */
  marker: string;
  connection: MqttClient;
  /** Whether the broker has closed the connection since. */
  readonly closed: boolean;
}

export async function publishForged(input: {
  broker: { host: string; port: number };
  trustedRootPem: string;
  /** A genuine certificate, or a genuine legacy credential (password, on the legacy listener). */
  credential: { certificateChainPem: string; privateKeyPem: string } | { username: string; password: string };
  /** The attacker's own identity, as its firmware would connect. */
  clientId: string;
  from: string;
  topic: string;
  payload: Record<string, unknown>;
  marker: string;
  qos: 0 | 1;
}): Promise<ForgedPublish> {
  const connection = await connectMqtt({
    host: input.broker.host,
    port: input.broker.port,
    clientId: input.clientId,
    trustedRootPem: input.trustedRootPem,
    ...input.credential,
    localAddress: input.from,
  });
  let closed = false;
  connection.on('close', () => (closed = true));
  // QoS 1: resolves on the PUBACK, which MQTT 3.1.1 sends whether or not the ACL allowed it.
  await connection.publishAsync(input.topic, JSON.stringify({ ...input.payload, marker: input.marker }), { qos: input.qos });
  return {
    topic: input.topic,
    qos: input.qos,
    marker: input.marker,
    connection,
    get closed() {
      return closed;
    },
  };
}
