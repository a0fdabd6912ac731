// A client's TLS identity, loaded once, and its session, resumed on reconnect. OpenSSL 3 takes
// about 1 ms (more under load) to decode a key and a certificate chain into a new context, which
// Node does for every connection given `cert` and `key`; a device keeps one context per
// certificate instead. A reconnect with the same certificate offers the last session ticket the
// broker gave it (RFC 8446 §2.2): the broker skips the certificate checks it already made, at
// half its CPU. Never across certificates: a session carries the certificate it was made with.
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
  /** The last session the server offered, for the next connection. */
  session: Buffer | undefined;

  constructor(readonly input: MutualTlsInput) {
    this.context = mutualTlsContext(input);
  }

  /** Whether this identity holds exactly these files. */
  holds(input: MutualTlsInput): boolean {
    return this.input.cert === input.cert && this.input.key === input.key && String(this.input.ca) === String(input.ca);
  }

  /**
   * Every new stream of a connection: Nagle off (a reconnect builds a new stream, which would
   * otherwise send with Nagle's delays), and the server's session tickets kept.
   */
  tune(socket: TLSSocket): void {
    socket.setNoDelay(true);
    socket.on('session', (session: Buffer) => (this.session = session));
  }
}
