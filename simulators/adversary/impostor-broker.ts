// An impostor MQTT broker: a TLS listener on loopback whose certificate names the real broker's
// host ("localhost", 127.0.0.1) but comes from a CA the clients do not trust - or a misconfigured
// broker: a defective certificate from the lab's own CA, or TLS versions no client accepts. It answers nothing
// and records what each client sent after the handshake: a client that verifies the broker
// hangs up without sending a single MQTT byte (no CONNECT, no client id, no credentials).
import net from 'node:net';
import tls from 'node:tls';
import { once } from 'node:events';
import { serverTlsOptions } from '../../net/tls-policy.ts';
import { createRootCa, issueLeaf, type IssuedCertificate } from '../../x509/certificate-authority.ts';

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

export interface ImpostorOptions {
  host?: string;
  /**
   * The certificate it presents (chain and key) and its issuer's subject: by default one for the
   * broker's names from a foreign CA; a misconfigured broker's defective one otherwise.
   */
  certificate?: { certificateChainPem: string; privateKeyPem: string; issuer: string };
  /** A broken TLS configuration: the only protocol versions it speaks. */
  versions?: { min: tls.SecureVersion; max: tls.SecureVersion };
}

async function foreignCertificate(): Promise<NonNullable<ImpostorOptions['certificate']>> {
  const foreignRoot = await createRootCa({ commonName: 'Impostor Root CA', organization: 'not-the-lab', algorithm: 'ecdsa-p256', validityDays: 2 });
  const server = await issueLeaf(foreignRoot, {
    commonName: 'localhost',
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1'],
    extendedKeyUsages: ['serverAuth'],
  });
  return { certificateChainPem: `${server.certificatePem}\n${foreignRoot.certificatePem}\n`, privateKeyPem: server.privateKeyPem, issuer: foreignRoot.certificate.subject };
}

export async function startImpostorBroker(options: ImpostorOptions = {}): Promise<ImpostorBroker> {
  const host = options.host ?? '127.0.0.1';
  const certificate = options.certificate ?? (await foreignCertificate());
  const sessions: ImpostorSession[] = [];
  const sockets = new Set<net.Socket>();
  const byPeer = new Map<string, ImpostorSession>();
  const peer = (socket: net.Socket) => `${(socket.remoteAddress ?? '').replace(/^::ffff:/, '')}:${socket.remotePort}`;
  // Versions below TLS 1.2 need OpenSSL's security level 0 on this side.
  const versions = options.versions ? { minVersion: options.versions.min, maxVersion: options.versions.max, ciphers: 'DEFAULT@SECLEVEL=0' } : {};
  const listener = tls.createServer({
    ...serverTlsOptions({ cert: certificate.certificateChainPem, key: certificate.privateKeyPem }),
    ...versions,
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
    issuer: certificate.issuer,
    sessions,
    async stop() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => listener.close(() => resolve()));
    },
  };
}

/** How a misconfigured broker is broken (seed 000: the causes the application must log apart). */
export const BROKER_MISCONFIGURATIONS = ['presents an expired certificate', 'presents a certificate that is not for servers', 'presents a certificate from a foreign CA', 'offers only TLS 1.1'] as const;
export type BrokerMisconfiguration = (typeof BROKER_MISCONFIGURATIONS)[number];

/**
 * A broker listener broken in one way only: its certificate comes from the lab's own issuing CA
 * (so trust is not the problem) unless the defect is the CA itself.
 */
export async function startMisconfiguredBroker(defect: BrokerMisconfiguration, labIssuer: IssuedCertificate): Promise<ImpostorBroker> {
  if (!BROKER_MISCONFIGURATIONS.includes(defect)) throw new Error(`unknown broker misconfiguration "${defect}"; known: ${BROKER_MISCONFIGURATIONS.join(', ')}`);
  if (defect === 'presents a certificate from a foreign CA') return startImpostorBroker();
  const day = 24 * 3600 * 1000;
  const leaf = await issueLeaf(labIssuer, {
    commonName: 'localhost',
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1'],
    extendedKeyUsages: defect === 'presents a certificate that is not for servers' ? ['clientAuth'] : ['serverAuth'],
    ...(defect === 'presents an expired certificate' ? { notBefore: new Date(Date.now() - 2 * day), notAfter: new Date(Date.now() - day) } : {}),
  });
  const certificate = { certificateChainPem: `${leaf.certificatePem}\n${labIssuer.certificatePem}\n`, privateKeyPem: leaf.privateKeyPem, issuer: labIssuer.certificate.subject };
  return startImpostorBroker({ certificate, ...(defect === 'offers only TLS 1.1' ? { versions: { min: 'TLSv1', max: 'TLSv1.1' } } : {}) });
}
