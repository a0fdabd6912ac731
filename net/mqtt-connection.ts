// MQTT over TLS for every client the lab runs (mqtt.js: devices, the application, the broker's
// admin): mutual TLS with a client certificate, or a password over server-authenticated TLS (the
// legacy listener).
import tls, { type PeerCertificate, type TLSSocket } from 'node:tls';
import mqtt, { type MqttClient } from 'mqtt';
import { clientTlsOptions } from './tls-policy.ts';
import { peerKey, TlsIdentity } from './tls-session.ts';

export { TlsIdentity };

export interface MqttConnectOptions {
  host: string;
  port: number;
  clientId: string;
  trustedRootPem: string;
  /** Mutual TLS: the client certificate (chain) and its key. */
  certificateChainPem?: string;
  privateKeyPem?: string;
  /** The legacy listener: a password credential instead of a certificate. */
  username?: string;
  password?: string;
  localAddress?: string;
  /** The name the broker's certificate must carry when it differs from `host`. */
  servername?: string;
  connectTimeoutMs?: number;
  /** 0 = no automatic reconnect (the caller decides). */
  reconnectPeriodMs?: number;
  clean?: boolean;
  /**
   * The client's own clock when it is not the system's (a simulated clock skew). Node verifies
   * certificate dates against the system clock; with this the server certificate's dates are
   * checked again at the client's time, which is what OpenSSL does on a device whose clock is off.
   */
  now?: () => Date;
  /**
   * The client's certificate loaded once (its context, and the session to resume), kept by the
   * client for as long as it holds that certificate; one for this connection otherwise.
   */
  tlsIdentity?: TlsIdentity;
}

/** OpenSSL's words and Node's codes for a certificate outside its validity at the given time. */
export function validityError(cert: Pick<PeerCertificate, 'valid_from' | 'valid_to'>, at: Date): Error | undefined {
  if (at.getTime() < Date.parse(cert.valid_from)) return Object.assign(new Error('certificate is not yet valid'), { code: 'CERT_NOT_YET_VALID' });
  if (at.getTime() > Date.parse(cert.valid_to)) return Object.assign(new Error('certificate has expired'), { code: 'CERT_HAS_EXPIRED' });
  return undefined;
}

export async function connectMqtt(options: MqttConnectOptions): Promise<MqttClient> {
  const now = options.now;
  const cert = options.certificateChainPem;
  const key = options.privateKeyPem;
  const identity = options.tlsIdentity ?? (cert !== undefined && key !== undefined ? new TlsIdentity({ ca: options.trustedRootPem, cert, key }) : undefined);
  // A resumed session skips Node's server-identity check, which a simulated clock's date check
  // rides on: a client with its own clock always makes the full handshake.
  const resume = identity !== undefined && now === undefined;
  const opts = {
    protocol: 'mqtts',
    host: options.host,
    port: options.port,
    clientId: options.clientId,
    ...clientTlsOptions({ ca: options.trustedRootPem, servername: options.servername, localAddress: options.localAddress }),
    ...(identity ? { secureContext: identity.context } : {}),
    ...(now ? { checkServerIdentity: (host: string, peer: PeerCertificate) => tls.checkServerIdentity(host, peer) ?? validityError(peer, now()) } : {}),
    ...(options.username === undefined ? {} : { username: options.username, password: options.password }),
    protocolVersion: 4,
    clean: options.clean ?? true,
    connectTimeout: options.connectTimeoutMs ?? 10_000,
    reconnectPeriod: options.reconnectPeriodMs ?? 0,
    keepalive: 30,
    // The stream builder is wrapped before the first connection (below).
    manualConnect: true,
  } as mqtt.IClientOptions & { session?: Buffer };
  const client = mqtt.connect(opts);
  // Every stream, the first and each one mqtt.js builds to reconnect: Nagle off (mqtt.js does not
  // pass noDelay to TLS sockets; Nagle adds ~40 ms per exchange), the last session offered.
  const internals = client as unknown as { streamBuilder: (c: MqttClient) => TLSSocket };
  const build = internals.streamBuilder;
  const peer = peerKey(options.host, options.port, options.servername);
  internals.streamBuilder = (c) => {
    if (resume) opts.session = identity.sessionFor(peer);
    const socket = build(c);
    if (resume) identity.tune(socket, peer);
    else socket.setNoDelay(true);
    return socket;
  };
  return new Promise<MqttClient>((resolve, reject) => {
    // As mqtt.connectAsync: settled by the first CONNACK, error or end.
    const settle = () => {
      client.off('connect', onConnect);
      client.off('end', onConnect);
      client.off('error', onError);
    };
    const onConnect = () => {
      settle();
      resolve(client);
    };
    const onError = (err: Error) => {
      settle();
      client.end();
      reject(err);
    };
    client.on('connect', onConnect);
    client.on('end', onConnect);
    client.on('error', onError);
    client.connect();
  });
}
