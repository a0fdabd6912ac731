// What a failed mutual-TLS connection means for the client that made it. The seeds ask the
// application and devices to log connection failures by cause (seed 000 "Managing Application").
import { request } from '../../net/https-client.ts';
import { DEFAULT_CLOCK_SKEW_TOLERANCE_MS } from './certificate-validation.ts';

export type ConnectionFailureCause =
  | 'broker-untrusted'
  | 'broker-certificate-expired'
  | 'broker-certificate-invalid'
  /** The broker's certificate is outside its validity by this client's clock, which disagrees with the server's time. */
  | 'clock-skew'
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
  // Node's own verification of the server's certificate (codes from OpenSSL's X509_V_ERR_*).
  [/CERT_HAS_EXPIRED|^certificate has expired/i, 'broker-certificate-expired'],
  [/CERT_NOT_YET_VALID|INVALID_PURPOSE|CERT_SIGNATURE_FAILURE|unsupported certificate purpose|certificate signature failure|^certificate is not yet valid/i, 'broker-certificate-invalid'],
  [/unable to get local issuer certificate|self[- ]signed certificate|unable to verify the first certificate/i, 'broker-untrusted'],
  [/Hostname\/IP does not match|ERR_TLS_CERT_ALTNAME_INVALID/i, 'host-name-mismatch'],
  [/alert certificate revoked/i, 'own-certificate-revoked'],
  [/alert certificate expired/i, 'own-certificate-expired'],
  [/alert (unknown ca|bad certificate|unsupported certificate|certificate unknown|certificate required)/i, 'own-certificate-refused'],
  [/wrong version number|protocol version|no shared cipher|handshake failure/i, 'tls-configuration'],
];

export function classifyConnectionFailure(error: unknown): ConnectionFailureCause {
  const text = error instanceof Error ? `${error.message} ${(error as { code?: string }).code ?? ''}` : String(error);
  if (error instanceof ClockSkewError) return 'clock-skew';
  return RULES.find(([pattern]) => pattern.test(text))?.[1] ?? 'network';
}

/**
 * The broker's certificate looked expired or not yet valid, and this client's clock is off from
 * the server's time by more than the tolerance: the date, not the certificate, is wrong (seed 000:
 * "log a connection failure due to date/time synchronization issues").
 */
export class ClockSkewError extends Error {
  override name = 'ClockSkewError';
  readonly failure: ConnectionFailureCause = 'clock-skew';
  constructor(
    readonly skewMs: number,
    readonly tlsError: string,
  ) {
    super(`the local clock is ${describeSkew(skewMs)} the server's time, so the broker's certificate looks ${/not yet/i.test(tlsError) ? 'not yet valid' : 'expired'} (${tlsError})`);
  }
}

function describeSkew(skewMs: number): string {
  const abs = Math.abs(skewMs);
  const amount = abs >= 86_400_000 ? `${(abs / 86_400_000).toFixed(1)} days` : abs >= 3_600_000 ? `${(abs / 3_600_000).toFixed(1)} hours` : `${Math.round(abs / 1000)} s`;
  return `${amount} ${skewMs > 0 ? 'ahead of' : 'behind'}`;
}

/** Rethrows a connection failure as the error type the power-up workflow acts on. */
export function explainConnectionFailure(error: unknown): Error {
  const cause = classifyConnectionFailure(error);
  const message = `${cause}: ${error instanceof Error ? error.message.trim() : String(error)}`;
  if (cause === 'broker-untrusted') return new BrokerUntrustedError(message);
  if (cause.startsWith('own-certificate')) return new CertificateRefusedByBrokerError(cause, message);
  return error instanceof Error ? error : new Error(message);
}

/**
 * A server certificate that looks expired or not yet valid may be a wrong clock: asks the
 * provisioning service for the time (the Date header of its plain-HTTP health check). The answer
 * only names the failure's cause; it decides nothing about trust.
 */
export async function clockSkewBehind(err: unknown, client: { insecureUrl: string; address: string; now: () => Date }): Promise<unknown> {
  const cause = classifyConnectionFailure(err);
  const text = err instanceof Error ? err.message : String(err);
  if (cause !== 'broker-certificate-expired' && !(cause === 'broker-certificate-invalid' && /not yet valid/i.test(text))) return err;
  try {
    const res = await request(`${client.insecureUrl}/health`, { localAddress: client.address });
    const serverTime = Date.parse(String(res.headers.date));
    const skewMs = client.now().getTime() - serverTime;
    return Number.isFinite(skewMs) && Math.abs(skewMs) > DEFAULT_CLOCK_SKEW_TOLERANCE_MS ? new ClockSkewError(skewMs, text.trim()) : err;
  } catch {
    return err; // no time reference: the certificate's own cause stands
  }
}
