// One TLS policy for every listener the lab runs (NFR-SEC-001): TLS 1.2 minimum, and for TLS 1.2
// only ECDHE key exchange with AEAD ciphers (Mozilla "intermediate"). TLS 1.3 suites are all AEAD.
import { createSecureContext, type SecureContext } from 'node:tls';

export const TLS12_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

const trustContexts = new Map<string, SecureContext>();
const MAX_TRUST_CONTEXTS = 64;

/**
 * A client secure context trusting exactly `ca`, built once per distinct trust anchor: Node
 * otherwise parses the CA PEM into a fresh context for every new TLS connection, which showed up
 * in CPU profiles of the provisioning service and of the device swarm (addCACert per connection).
 */
export function trustContext(ca: string | string[]): SecureContext {
  const key = Array.isArray(ca) ? ca.join('\n') : ca;
  let context = trustContexts.get(key);
  if (!context) {
    if (trustContexts.size >= MAX_TRUST_CONTEXTS) trustContexts.clear();
    context = createSecureContext({ ca, minVersion: 'TLSv1.2' });
    trustContexts.set(key, context);
  }
  return context;
}

export interface ClientTlsInput {
  /** The CA(s) to trust. */
  ca: string | string[];
  /** A client certificate (chain) and its key, for mutual TLS. */
  cert?: string;
  key?: string;
  /** Name to verify the server certificate against when it differs from the host. */
  servername?: string;
  /** Source address to bind, e.g. a device's own 127.x.y.z. */
  localAddress?: string;
}

/**
 * The TLS options of every client the lab runs (HTTPS, MQTT, agents): TLS 1.2 minimum, the
 * server verified against `ca`. Trust-only clients share one secure context per CA; with a
 * client certificate Node builds its own.
 */
export function clientTlsOptions(input: ClientTlsInput) {
  const mutual = input.cert !== undefined || input.key !== undefined;
  return {
    ca: input.ca,
    cert: input.cert,
    key: input.key,
    servername: input.servername,
    localAddress: input.localAddress,
    minVersion: 'TLSv1.2' as const,
    rejectUnauthorized: true,
    secureContext: mutual ? undefined : trustContext(input.ca),
  };
}

/** The TLS options of every listener the lab's Node code runs (the service's, the impostor's). */
export function serverTlsOptions(input: { cert: string; key: string }) {
  return { cert: input.cert, key: input.key, minVersion: 'TLSv1.2' as const, ciphers: TLS12_CIPHERS };
}

/** A listener that admits only clients with a certificate issued under `ca` (the service's webhook listener for step-ca). */
export function mutualServerTlsOptions(input: { cert: string; key: string; ca: string | string[] }) {
  return { ...serverTlsOptions(input), ca: input.ca, requestCert: true, rejectUnauthorized: true };
}

/** The same floor for step-ca's own listener, in its ca.json `tls` block (TLS 1.2 and 1.3, no renegotiation). */
export const STEP_CA_TLS = { minVersion: 1.2, maxVersion: 1.3, renegotiation: false } as const;
