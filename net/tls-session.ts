// A client's TLS identity, loaded once, and its session, resumed on reconnect. OpenSSL 3 takes
// about 1 ms (more under load) to decode a key and a certificate chain into a new context, which
// Node does for every connection given `cert` and `key`; a device keeps one context per
// certificate instead. A reconnect with the same certificate offers the last session ticket the
// broker gave it (RFC 8446 §2.2): the broker skips the certificate checks it already made, at
// half its CPU. Never across certificates: a session carries the certificate it was made with.
// Never across servers or names either: Node checks the server's identity (its name against the
// certificate) only on a full handshake, so a session made with one name and offered under
// another would skip that check: sessions are kept per host, port and expected name.
import { createSecureContext, type SecureContext, type TLSSocket } from 'node:tls';

export interface MutualTlsInput {
  ca: string | string[];
  /** The client certificate chain (PEM, leaf first) and its key (PEM). */
  cert: string;
  key: string;
}

/** A client context for mutual TLS, TLS 1.2 minimum (tls-policy.ts), trusting exactly `ca`. */
export function mutualTlsContext(input: MutualTlsInput): SecureContext {
  return createSecureContext({ ca: input.ca, cert: input.cert, key: input.key, minVersion: 'TLSv1.2' });
}

/** The context and the resumable session of one certificate. */
export class TlsIdentity {
  readonly context: SecureContext;
  /** The last session each server offered, by `peerKey`, for the next connection to it. */
  readonly #sessions = new Map<string, Buffer>();

  constructor(readonly input: MutualTlsInput) {
    this.context = mutualTlsContext(input);
  }

  /** Whether this identity holds exactly these files. */
  holds(input: MutualTlsInput): boolean {
    return this.input.cert === input.cert && this.input.key === input.key && String(this.input.ca) === String(input.ca);
  }

  /** The session to offer `peer`: only one made with it, under the same expected name. */
  sessionFor(peer: string): Buffer | undefined {
    return this.#sessions.get(peer);
  }

  /**
   * Every new stream of a connection: Nagle off (a reconnect builds a new stream, which would
   * otherwise send with Nagle's delays), and the server's session tickets kept for that peer.
   */
  tune(socket: TLSSocket, peer: string): void {
    socket.setNoDelay(true);
    socket.on('session', (session: Buffer) => this.#sessions.set(peer, session));
  }
}

/** Which server a session belongs to: where it was reached and the name its certificate had to carry. */
export function peerKey(host: string, port: number, servername: string | undefined): string {
  return `${host}:${port}/${servername ?? host}`;
}
