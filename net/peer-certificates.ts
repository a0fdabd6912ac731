// The certificate chain a TLS server presents, as PEMs leaf first: what a listener really serves
// (step-ca's TLS certificate shows which intermediate it signs with now; the broker's and the
// service's show their keys), read from the handshake rather than from the files the lab wrote.
import tls from 'node:tls';
import { pemOfDer } from '../x509/certificates.ts';
import { clientTlsOptions } from './tls-policy.ts';

export interface PeerChainOptions {
  host: string;
  port: number;
  /** Trust anchor the chain must verify against. */
  ca: string;
  servername?: string;
  /** A client certificate, for listeners that require one (the broker). */
  cert?: string;
  key?: string;
  localAddress?: string;
  timeoutMs?: number;
}

/** Completes a handshake and returns the server's chain (leaf first, up to but without the root when the server does not send it). */
export function peerCertificateChain(options: PeerChainOptions): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: options.host,
      port: options.port,
      ...clientTlsOptions({ ca: options.ca, cert: options.cert, key: options.key, servername: options.servername ?? 'localhost', localAddress: options.localAddress }),
    });
    socket.setTimeout(options.timeoutMs ?? 5000, () => socket.destroy(new Error(`TLS handshake with ${options.host}:${options.port} timed out`)));
    socket.once('error', reject);
    socket.once('secureConnect', () => {
      const chain: string[] = [];
      const seen = new Set<string>();
      let cert = socket.getPeerCertificate(true);
      while (cert?.raw && !seen.has(cert.fingerprint256)) {
        seen.add(cert.fingerprint256);
        chain.push(pemOfDer(cert.raw));
        cert = cert.issuerCertificate;
      }
      socket.destroy();
      resolve(chain);
    });
  });
}
