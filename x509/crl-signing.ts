// CRLs signed outside step-ca: the root's CRL that revokes an intermediate (UC-04: the lab's own
// root, or the simulated external CA's), and the final CRL of a retired intermediate listing every
// certificate it issued.
import { AsnConvert } from '@peculiar/asn1-schema';
import { CRLNumber, id_ce_cRLNumber } from '@peculiar/asn1-x509';
import type { Issuer } from './certificate-authority.ts';
import { algorithmParams } from './keys.ts';
import { x509 } from './x509.ts';

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

export interface CrlOptions {
  /** How long it is valid (its nextUpdate); 30 days by default. */
  validityMs?: number;
  /** RFC 5280 §5.2.3 cRLNumber, which a reader uses to tell a newer CRL from a replayed older one. */
  crlNumber?: number;
  /** When each entry was revoked (hex serial → date); now by default. */
  revokedAt?: (serial: string) => Date | undefined;
}

/** No Issuing Distribution Point: the CRL covers every certificate of its issuer. */
export async function createCrl(issuer: Issuer, entries: CrlEntry[], options: CrlOptions = {}): Promise<string> {
  const now = new Date();
  const extensions: x509.Extension[] = [await x509.AuthorityKeyIdentifierExtension.create(issuer.keys.publicKey)];
  if (options.crlNumber !== undefined) extensions.push(new x509.Extension(id_ce_cRLNumber, false, AsnConvert.serialize(new CRLNumber(options.crlNumber))));
  const crl = await x509.X509CrlGenerator.create({
    issuer: issuer.certificate.subject,
    thisUpdate: now,
    nextUpdate: new Date(now.getTime() + (options.validityMs ?? 30 * 24 * 3600 * 1000)),
    signingAlgorithm: algorithmParams(issuer.algorithm).signing,
    signingKey: issuer.keys.privateKey,
    extensions,
    entries: entries.map((e) => ({ serialNumber: derSerial(e.serial), reason: e.reason, revocationDate: options.revokedAt?.(e.serial) ?? now })),
  });
  // OpenSSL (the broker) reads only the "X509 CRL" label; the library writes "CRL".
  return x509.PemConverter.encode(crl.rawData, 'X509 CRL');
}
