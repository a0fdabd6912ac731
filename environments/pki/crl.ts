// CRLs the lab signs itself: the external root's CRL that revokes an intermediate (UC-04), and
// the final CRL of a retired intermediate listing every certificate it issued.
import type { Issuer } from './certificate-authority.ts';
import { algorithmParams } from '../../x509/keys.ts';
import { x509 } from '../../x509/x509.ts';

export interface CrlEntry {
  /** Hexadecimal serial. */
  serial: string;
  reason: x509.X509CrlReason;
}

/** A positive DER INTEGER in hex: even length, and a leading 00 when the top bit is set. */
function derSerial(hex: string): string {
  let out = hex.toLowerCase().replace(/^0x/, '');
  if (out.length % 2 === 1) out = `0${out}`;
  if (Number.parseInt(out.slice(0, 2), 16) >= 0x80) out = `00${out}`;
  return out;
}

/** No Issuing Distribution Point: the CRL covers every certificate of its issuer. */
export async function createCrl(issuer: Issuer, entries: CrlEntry[], validityDays = 30): Promise<string> {
  const now = new Date();
  const crl = await x509.X509CrlGenerator.create({
    issuer: issuer.certificate.subject,
    thisUpdate: now,
    nextUpdate: new Date(now.getTime() + validityDays * 24 * 3600 * 1000),
    signingAlgorithm: algorithmParams(issuer.algorithm).signing,
    signingKey: issuer.keys.privateKey,
    extensions: [await x509.AuthorityKeyIdentifierExtension.create(issuer.keys.publicKey)],
    entries: entries.map((e) => ({ serialNumber: derSerial(e.serial), reason: e.reason, revocationDate: now })),
  });
  // OpenSSL (the broker) reads only the "X509 CRL" label; the library writes "CRL".
  return x509.PemConverter.encode(crl.rawData, 'X509 CRL');
}
