// Probes of a TLS listener's policy: which protocol versions and cipher suites it accepts, and
// whether a client verifies the server's identity. Two tools, because no modern TLS library can
// even offer the suites a server must refuse (Node's OpenSSL has no 3DES, RC4 or EXPORT):
// - probeTls(): a real handshake with node:tls (versions, what node:tls can still offer);
// - sendClientHello(): one hand-made TLS ClientHello offering exactly the given suites, and the
//   server's first answer (ServerHello or alert), without ever completing a handshake.
import net from 'node:net';
import tls from 'node:tls';
import { randomBytes } from 'node:crypto';

export type TlsProbeOutcome =
  | { ok: true; protocol: string; cipher: string; authorized: boolean }
  | { ok: false; stage: 'client' | 'handshake'; code: string; message: string };

export interface TlsProbeOptions {
  host: string;
  port: number;
  /** Trust anchors; the server's chain must verify against them. */
  ca?: string;
  /** SNI and the name the server certificate is checked against. */
  servername?: string;
  cert?: string;
  key?: string;
  localAddress?: string;
  minVersion?: tls.SecureVersion;
  maxVersion?: tls.SecureVersion;
  ciphers?: string;
  timeoutMs?: number;
}

/** A client limited to `version`: it offers every version from TLS 1.0 up to that one (a downgrade attempt). */
export function offeringUpTo(version: tls.SecureVersion): Pick<TlsProbeOptions, 'minVersion' | 'maxVersion'> {
  return { minVersion: 'TLSv1', maxVersion: version };
}

/** One TLS handshake with node:tls; every failure is reported, never thrown. */
export function probeTls(options: TlsProbeOptions): Promise<TlsProbeOutcome> {
  return new Promise((resolve) => {
    let socket: tls.TLSSocket;
    try {
      socket = tls.connect({
        host: options.host,
        port: options.port,
        ca: options.ca,
        servername: options.servername ?? 'localhost',
        cert: options.cert,
        key: options.key,
        localAddress: options.localAddress,
        minVersion: options.minVersion,
        maxVersion: options.maxVersion,
        ciphers: options.ciphers,
        rejectUnauthorized: true,
        // net.connect options pass through tls.connect; @types/node does not list them.
      } as tls.ConnectionOptions);
    } catch (err) {
      // The client library itself cannot offer what was asked for (e.g. a cipher it lacks).
      const e = err as NodeJS.ErrnoException;
      resolve({ ok: false, stage: 'client', code: e.code ?? 'ERR', message: e.message });
      return;
    }
    socket.setTimeout(options.timeoutMs ?? 5000, () => socket.destroy(Object.assign(new Error('TLS handshake timed out'), { code: 'ETIMEDOUT' })));
    socket.once('secureConnect', () => {
      resolve({ ok: true, protocol: socket.getProtocol() ?? '?', cipher: socket.getCipher().name, authorized: socket.authorized });
      socket.destroy();
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve({ ok: false, stage: 'handshake', code: err.code ?? 'ERR', message: err.message.trim() }));
  });
}

// --- a hand-made ClientHello -------------------------------------------------------------------

/** IANA TLS cipher suite code points, by their RFC names. */
export const CIPHER_SUITES = {
  TLS_RSA_WITH_3DES_EDE_CBC_SHA: 0x000a,
  TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA: 0xc008,
  TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA: 0xc012,
  TLS_RSA_WITH_DES_CBC_SHA: 0x0009,
  TLS_RSA_WITH_RC4_128_SHA: 0x0005,
  TLS_ECDHE_ECDSA_WITH_RC4_128_SHA: 0xc007,
  TLS_ECDHE_RSA_WITH_RC4_128_SHA: 0xc011,
  TLS_RSA_EXPORT_WITH_RC4_40_MD5: 0x0003,
  TLS_RSA_EXPORT_WITH_DES40_CBC_SHA: 0x0008,
  TLS_RSA_WITH_NULL_SHA256: 0x003b,
  TLS_ECDHE_ECDSA_WITH_NULL_SHA: 0xc006,
  TLS_ECDHE_RSA_WITH_NULL_SHA: 0xc010,
  TLS_DH_anon_WITH_AES_128_CBC_SHA: 0x0034,
  TLS_ECDH_anon_WITH_AES_128_CBC_SHA: 0xc018,
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: 0xc02b,
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: 0xc02f,
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA: 0xc009,
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: 0xc013,
} as const;
export type CipherSuiteName = keyof typeof CIPHER_SUITES;

/** Families of suites no listener may accept; each offers the RSA and the ECDSA variants, so a refusal is about the cipher, not the key type. */
export const WEAK_SUITE_FAMILIES: Record<string, CipherSuiteName[]> = {
  '3DES': ['TLS_RSA_WITH_3DES_EDE_CBC_SHA', 'TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA', 'TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA'],
  DES: ['TLS_RSA_WITH_DES_CBC_SHA'],
  RC4: ['TLS_RSA_WITH_RC4_128_SHA', 'TLS_ECDHE_ECDSA_WITH_RC4_128_SHA', 'TLS_ECDHE_RSA_WITH_RC4_128_SHA'],
  EXPORT: ['TLS_RSA_EXPORT_WITH_RC4_40_MD5', 'TLS_RSA_EXPORT_WITH_DES40_CBC_SHA'],
  NULL: ['TLS_RSA_WITH_NULL_SHA256', 'TLS_ECDHE_ECDSA_WITH_NULL_SHA', 'TLS_ECDHE_RSA_WITH_NULL_SHA'],
  anonymous: ['TLS_DH_anon_WITH_AES_128_CBC_SHA', 'TLS_ECDH_anon_WITH_AES_128_CBC_SHA'],
};

/** A strong TLS 1.2 offer: the positive control that shows the hand-made hello itself is sound. */
export const STRONG_TLS12_SUITES: CipherSuiteName[] = ['TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256', 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256'];

export const TLS_VERSIONS = { 'TLSv1.0': 0x0301, 'TLSv1.1': 0x0302, 'TLSv1.2': 0x0303 } as const;

/** RFC 8446 §6 alert descriptions a refusing server may send. */
export const ALERT_NAMES: Record<number, string> = {
  0: 'close_notify',
  10: 'unexpected_message',
  40: 'handshake_failure',
  42: 'bad_certificate',
  47: 'illegal_parameter',
  48: 'unknown_ca',
  50: 'decode_error',
  51: 'decrypt_error',
  70: 'protocol_version',
  71: 'insufficient_security',
  80: 'internal_error',
  86: 'inappropriate_fallback',
  109: 'missing_extension',
  112: 'unrecognized_name',
};

export type ClientHelloAnswer =
  | { kind: 'server-hello'; version: number; cipherSuite: number; cipherSuiteName: string }
  | { kind: 'alert'; level: number; description: number; name: string }
  | { kind: 'closed'; detail: string };

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

function u24(n: number): Buffer {
  return Buffer.from([(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]);
}

function extension(type: number, body: Buffer): Buffer {
  return Buffer.concat([u16(type), u16(body.length), body]);
}

/** A TLS ClientHello record (RFC 5246 §7.4.1.2) offering exactly `suites` at `version`. */
export function buildClientHello(version: number, suites: number[], serverName = 'localhost'): Buffer {
  const name = Buffer.from(serverName, 'ascii');
  const serverNameList = Buffer.concat([Buffer.from([0]), u16(name.length), name]);
  const groups = [0x001d, 0x0017, 0x0018]; // x25519, secp256r1, secp384r1
  const sigAlgs = [0x0403, 0x0503, 0x0804, 0x0805, 0x0401, 0x0501, 0x0203, 0x0201];
  const extensions = Buffer.concat([
    extension(0x0000, Buffer.concat([u16(serverNameList.length), serverNameList])),
    extension(0x000a, Buffer.concat([u16(groups.length * 2), ...groups.map(u16)])),
    extension(0x000b, Buffer.from([1, 0])), // ec_point_formats: uncompressed
    extension(0x000d, Buffer.concat([u16(sigAlgs.length * 2), ...sigAlgs.map(u16)])),
    extension(0xff01, Buffer.from([0])), // renegotiation_info, empty (RFC 5746)
  ]);
  const body = Buffer.concat([
    u16(version),
    randomBytes(32),
    Buffer.from([0]), // no session id
    u16(suites.length * 2),
    ...suites.map(u16),
    Buffer.from([1, 0]), // compression: null only
    u16(extensions.length),
    extensions,
  ]);
  const handshake = Buffer.concat([Buffer.from([1]), u24(body.length), body]);
  return Buffer.concat([Buffer.from([0x16]), u16(0x0301), u16(handshake.length), handshake]);
}

function suiteName(code: number): string {
  return (Object.entries(CIPHER_SUITES).find(([, c]) => c === code)?.[0]) ?? `0x${code.toString(16).padStart(4, '0')}`;
}

/** Reads the server's first record after a ClientHello: a ServerHello, an alert, or nothing. */
export function parseServerAnswer(data: Buffer): ClientHelloAnswer | undefined {
  if (data.length < 5) return undefined;
  const type = data[0]!;
  const length = data.readUInt16BE(3);
  if (data.length < 5 + Math.min(length, 6)) return undefined;
  if (type === 0x15) {
    const level = data[5]!;
    const description = data[6]!;
    return { kind: 'alert', level, description, name: ALERT_NAMES[description] ?? `alert ${description}` };
  }
  if (type === 0x16 && data[5] === 2) {
    // handshake header (4) + version (2) + random (32) + session id (1 + n) + cipher suite (2)
    const sessionIdLength = data[5 + 4 + 2 + 32];
    if (sessionIdLength === undefined) return undefined;
    const at = 5 + 4 + 2 + 32 + 1 + sessionIdLength;
    if (data.length < at + 2) return undefined;
    const cipherSuite = data.readUInt16BE(at);
    return { kind: 'server-hello', version: data.readUInt16BE(9), cipherSuite, cipherSuiteName: suiteName(cipherSuite) };
  }
  return { kind: 'closed', detail: `unexpected record type ${type}` };
}

/** Sends one hand-made ClientHello and reports the server's first answer; the handshake is never completed. */
export function sendClientHello(options: {
  host: string;
  port: number;
  version: number;
  suites: number[];
  serverName?: string;
  localAddress?: string;
  timeoutMs?: number;
}): Promise<ClientHelloAnswer> {
  return new Promise((resolve) => {
    let received = Buffer.alloc(0);
    let settled = false;
    const settle = (answer: ClientHelloAnswer) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve(answer);
    };
    const socket = net.connect({ host: options.host, port: options.port, localAddress: options.localAddress }, () => {
      socket.write(buildClientHello(options.version, options.suites, options.serverName));
    });
    socket.setTimeout(options.timeoutMs ?? 5000, () => settle({ kind: 'closed', detail: 'no answer within the timeout' }));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const answer = parseServerAnswer(received);
      if (answer) settle(answer);
    });
    socket.on('error', (err) => settle({ kind: 'closed', detail: err.message }));
    socket.on('close', () => settle({ kind: 'closed', detail: received.length > 0 ? `closed after ${received.length} unparsable bytes` : 'closed without an answer' }));
  });
}
