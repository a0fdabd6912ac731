// The client's checks of certificates against its own identity and trust (seed 003 "Certificate
// Validation"): the stored operational certificate, the stored bootstrap certificate (still good
// for X5C?), and a bundle the certificate management service delivers for installation.
import { statSync } from 'node:fs';
import type { CertificateStore } from './certificate-store.ts';
import type { ClientLog } from './client-log.ts';
import { validateCertificateStore, type ValidCertificateFacts, type ValidationReason, type ValidationResult } from './certificate-validation.ts';

/** What the checks need of a client. */
export interface CheckingClient {
  readonly commonName: string;
  readonly store: CertificateStore;
  readonly log: ClientLog;
  /** The SAN its operational certificate must carry (the identity binding, seed 003). */
  readonly expectedSan: string | undefined;
  readonly trustedRootPem: string;
  readonly bootstrapRootPem: string;
}

/** What the certificate management service delivers for installation (seed 000 "installation of certificates"). */
export interface CertificateBundle {
  certificateChainPem: string;
  /** Absent when the client made the key itself (createCertificateRequest): it never left the client. */
  privateKeyPem?: string;
}

/** A bundle the client would not install, with the validation's reason (never the bundle's contents). */
export class CertificateInstallationError extends Error {
  override name = 'CertificateInstallationError';
  constructor(
    readonly reason: ValidationReason | 'no-key',
    message: string,
  ) {
    super(message);
  }
}

/** Validates the stored operational certificate, its key file's mode included. */
export function validateStored(client: CheckingClient, crlPems: string[], now: Date): ValidationResult {
  const operational = client.store.loadOperationalFiles();
  let keyFileMode: number | undefined;
  try {
    keyFileMode = statSync(client.store.file('operationalKey')).mode;
  } catch {
    // missing: reported as missing-files
  }
  return validateCertificateStore({
    store: { ...operational, caPem: client.store.loadCaCertificate(), keyFileMode },
    deviceId: client.commonName,
    expectedSan: client.expectedSan,
    now,
    crlPems,
  });
}

/**
 * Whether the bootstrap certificate can still authorize X5C requests: every check of the
 * operational one except the device-id SAN, since a bootstrap certificate names the address,
 * against the bootstrap root it chains to.
 */
export function hasValidBootstrap(client: CheckingClient, crlPems: string[], now: Date): boolean {
  const bootstrap = client.store.loadBootstrap();
  if (!bootstrap) return false;
  const result = validateCertificateStore({
    store: { certificateChainPem: bootstrap.certificateChainPem, privateKeyPem: bootstrap.privateKeyPem, caPem: client.bootstrapRootPem },
    deviceId: client.commonName,
    expectedSan: client.expectedSan,
    now,
    crlPems,
  });
  return result.valid || result.reason === 'identity-mismatch';
}

/**
 * A delivered bundle checked like a stored certificate (chain to the trusted root, key, identity,
 * dates, client-only) before it replaces anything; with the key it pairs with (the bundle's, or
 * the pending one of the client's own CSR). A bundle that fails is refused with that reason, logged.
 */
export function checkBundle(client: CheckingClient, bundle: CertificateBundle, now: Date): { privateKeyPem: string; facts: ValidCertificateFacts } {
  const privateKeyPem = bundle.privateKeyPem ?? client.store.loadPendingKey();
  if (!privateKeyPem) {
    client.log.write('certificate-installation-refused', { reason: 'no-key' });
    throw new CertificateInstallationError('no-key', 'the bundle has no key and no certificate request of this client is pending');
  }
  const result = validateCertificateStore({
    store: { certificateChainPem: bundle.certificateChainPem, privateKeyPem, caPem: client.trustedRootPem },
    deviceId: client.commonName,
    expectedSan: client.expectedSan,
    now,
  });
  if (!result.valid) {
    client.log.write('certificate-installation-refused', { reason: result.reason, detail: result.message });
    throw new CertificateInstallationError(result.reason, `${result.reason}: ${result.message}`);
  }
  return { privateKeyPem, facts: result.facts };
}
