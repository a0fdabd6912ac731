// A certificate's serial as the inventory, step-ca's log and the CRLs write it, so that steps
// compare serials of every source alike.
import { inspectCertificate, normalizeSerial } from '../../x509/certificates.ts';

/** The serial of a chain's leaf (a PEM chain, or a stored pair), lower-case hex without leading zeros. */
export function serialOf(certificate: string | { certificateChainPem: string }): string {
  return normalizeSerial(inspectCertificate(typeof certificate === 'string' ? certificate : certificate.certificateChainPem).serialNumber);
}
