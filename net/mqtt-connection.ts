// MQTT over TLS for every client the lab runs (mqtt.js: devices, the application, the broker's
// admin): mutual TLS with a client certificate, or a password over server-authenticated TLS (the
// legacy listener).
import type { Socket } from 'node:net';
import tls, { type PeerCertificate } from 'node:tls';
import mqtt, { type MqttClient } from 'mqtt';
import { clientTlsOptions } from './tls-policy.ts';

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
}

/** OpenSSL's words and Node's codes for a certificate outside its validity at the given time. */
export function validityError(cert: Pick<PeerCertificate, 'valid_from' | 'valid_to'>, at: Date): Error | undefined {
  if (at.getTime() < Date.parse(cert.valid_from)) return Object.assign(new Error('certificate is not yet valid'), { code: 'CERT_NOT_YET_VALID' });
  if (at.getTime() > Date.parse(cert.valid_to)) return Object.assign(new Error('certificate has expired'), { code: 'CERT_HAS_EXPIRED' });
  return undefined;
}

export async function connectMqtt(options: MqttConnectOptions): Promise<MqttClient> {
  const now = options.now;
  const client = await mqtt.connectAsync({
    protocol: 'mqtts',
    host: options.host,
    port: options.port,
    clientId: options.clientId,
    ...clientTlsOptions({ ca: options.trustedRootPem, cert: options.certificateChainPem, key: options.privateKeyPem, servername: options.servername, localAddress: options.localAddress }),
    ...(now ? { checkServerIdentity: (host: string, cert: PeerCertificate) => tls.checkServerIdentity(host, cert) ?? validityError(cert, now()) } : {}),
    ...(options.username === undefined ? {} : { username: options.username, password: options.password }),
    protocolVersion: 4,
    clean: options.clean ?? true,
    connectTimeout: options.connectTimeoutMs ?? 10_000,
    reconnectPeriod: options.reconnectPeriodMs ?? 0,
    keepalive: 30,
  } as mqtt.IClientOptions);
  // mqtt.js does not pass noDelay to TLS sockets; without it Nagle adds ~40 ms per exchange.
  (client.stream as unknown as Socket).setNoDelay?.(true);
  return client;
}
