// What a failed mutual-TLS connection means for the client that made it. The seeds ask the
// application and devices to log connection failures by cause (seed 000 "Managing Application").
export type ConnectionFailureCause =
  | 'broker-untrusted'
  | 'host-name-mismatch'
  | 'own-certificate-revoked'
  | 'own-certificate-expired'
  | 'own-certificate-refused'
  | 'tls-configuration'
  | 'network';

/** The broker said no to this client's certificate: discard it and re-acquire one. */
export class CertificateRefusedByBrokerError extends Error {
  override name = 'CertificateRefusedByBrokerError';
  constructor(
    readonly failure: ConnectionFailureCause,
    message: string,
  ) {
    super(message);
  }
}

/** This client does not trust the broker's certificate (e.g. the root was rotated, UC-05). */
export class BrokerUntrustedError extends Error {
  override name = 'BrokerUntrustedError';
  readonly failure: ConnectionFailureCause = 'broker-untrusted';
}

const RULES: Array<[RegExp, ConnectionFailureCause]> = [
  [/unable to get local issuer certificate|self[- ]signed certificate|certificate signature failure|unable to verify the first certificate/i, 'broker-untrusted'],
  [/Hostname\/IP does not match|ERR_TLS_CERT_ALTNAME_INVALID/i, 'host-name-mismatch'],
  [/alert certificate revoked/i, 'own-certificate-revoked'],
  [/alert certificate expired/i, 'own-certificate-expired'],
  [/alert (unknown ca|bad certificate|unsupported certificate|certificate unknown|certificate required)/i, 'own-certificate-refused'],
  [/wrong version number|protocol version|no shared cipher|handshake failure/i, 'tls-configuration'],
];

export function classifyConnectionFailure(error: unknown): ConnectionFailureCause {
  const text = error instanceof Error ? `${error.message} ${(error as { code?: string }).code ?? ''}` : String(error);
  return RULES.find(([pattern]) => pattern.test(text))?.[1] ?? 'network';
}

/** Rethrows a connection failure as the error type the power-up workflow acts on. */
export function explainConnectionFailure(error: unknown): Error {
  const cause = classifyConnectionFailure(error);
  const message = `${cause}: ${error instanceof Error ? error.message.trim() : String(error)}`;
  if (cause === 'broker-untrusted') return new BrokerUntrustedError(message);
  if (cause.startsWith('own-certificate')) return new CertificateRefusedByBrokerError(cause, message);
  return error instanceof Error ? error : new Error(message);
}
