// An impostor MQTT broker: a TLS listener on loopback whose certificate names the real broker's
// host ("localhost", 127.0.0.1) but comes from a CA the clients do not trust. It answers nothing
// and records what each client sent after the handshake: a client that verifies the broker
// hangs up without sending a single MQTT byte (no CONNECT, no client id, no credentials).
import net from 'node:net';
import tls from 'node:tls';
import { once } from 'node:events';
import { serverTlsOptions } from '../../net/tls-policy.ts';
import { createRootCa, issueLeaf } from '../../environments/pki/certificate-authority.ts';

export interface ImpostorSession {
  remoteAddress: string;
  /** The TLS handshake completed from the server's side. */
  handshakeCompleted: boolean;
  /** Bytes of application data (MQTT) the client sent. */
  applicationBytes: number;
  /** Why the handshake failed, as the server saw it. */
  handshakeError?: string;
  closed: boolean;
}

export interface ImpostorBroker {
  host: string;
  port: number;
  /** Subject of the impostor's own root, for reports. */
  issuer: string;
  readonly sessions: ImpostorSession[];
  stop(): Promise<void>;
}

export async function startImpostorBroker(host = '127.0.0.1'): Promise<ImpostorBroker> {
  const foreignRoot = await createRootCa({ commonName: 'Impostor Root CA', organization: 'not-the-lab', algorithm: 'ecdsa-p256', validityDays: 2 });
  const server = await issueLeaf(foreignRoot, {
    commonName: 'localhost',
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1'],
    extendedKeyUsages: ['serverAuth'],
  });
  const sessions: ImpostorSession[] = [];
  const sockets = new Set<net.Socket>();
  const byPeer = new Map<string, ImpostorSession>();
  const peer = (socket: net.Socket) => `${(socket.remoteAddress ?? '').replace(/^::ffff:/, '')}:${socket.remotePort}`;
  const listener = tls.createServer({
    ...serverTlsOptions({ cert: `${server.certificatePem}\n${foreignRoot.certificatePem}\n`, key: server.privateKeyPem }),
    // Like the real broker it asks for a client certificate; it accepts any.
    requestCert: true,
    rejectUnauthorized: false,
  });
  // The TCP connection is recorded first: a client that aborts the handshake leaves a socket
  // without a peer address behind.
  listener.on('connection', (socket: net.Socket) => {
    const session: ImpostorSession = { remoteAddress: (socket.remoteAddress ?? '').replace(/^::ffff:/, ''), handshakeCompleted: false, applicationBytes: 0, closed: false };
    sessions.push(session);
    sockets.add(socket);
    const key = peer(socket);
    byPeer.set(key, session);
    socket.once('close', () => {
      session.closed = true;
      sockets.delete(socket);
      byPeer.delete(key);
    });
  });
  listener.on('secureConnection', (socket: tls.TLSSocket) => {
    const session = byPeer.get(peer(socket));
    if (!session) return;
    session.handshakeCompleted = true;
    socket.on('data', (chunk: Buffer) => (session.applicationBytes += chunk.length));
    socket.on('error', () => undefined);
  });
  listener.on('tlsClientError', (err: Error) => {
    // The TLS socket has lost its peer by now; the open session without a handshake is this one.
    const session = [...sessions].reverse().find((s) => !s.handshakeCompleted && s.handshakeError === undefined);
    if (session) session.handshakeError = err.message.trim();
  });
  listener.listen(0, host);
  await once(listener, 'listening');
  return {
    host,
    port: (listener.address() as net.AddressInfo).port,
    issuer: foreignRoot.certificate.subject,
    sessions,
    async stop() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => listener.close(() => resolve()));
    },
  };
}
