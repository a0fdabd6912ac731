// The one certificate facade of the lab, the service and the clients: facts a test or a device
// checks about a certificate (without printing its contents), chains, names, serials and PEM
// bundles, on Node's native X.509 parser. Code outside x509/ never constructs a certificate object
// itself (test/unit/facades.test.ts checks): it asks here.
import { X509Certificate as NodeX509, type KeyObject } from 'node:crypto';

/** Node's native certificate object, for the checks this facade has no name for (signatures, keys). */
export type { NodeX509 as X509Certificate };

/** A certificate as Node's native parser reads it: PEM (the first block of a bundle) or DER bytes. */
export function parseCertificate(input: string | Uint8Array): NodeX509 {
  return new NodeX509(typeof input === 'string' || Buffer.isBuffer(input) ? input : Buffer.from(input));
}

/** The serial as the lab keeps it (normalizeSerial) of a PEM or DER certificate. */
export function certificateSerial(input: string | Uint8Array): string {
  return normalizeSerial(parseCertificate(input).serialNumber);
}

/** The public key of a PEM or DER certificate (what a signature made with its key verifies against). */
export function certificatePublicKey(input: string | Uint8Array): KeyObject {
  return parseCertificate(input).publicKey;
}

/** The DER of a PEM certificate (an x5c entry, a fingerprint's input). */
export function certificateDer(pem: string): Buffer {
  return parseCertificate(pem).raw;
}

/** The PEM of a DER certificate (as a TLS handshake hands it over). */
export function pemOfDer(der: Uint8Array): string {
  return parseCertificate(der).toString();
}

export interface CertificateFacts {
  subjectCommonName: string | undefined;
  issuerCommonName: string | undefined;
  /**
   * Lowercase hex as Node spells it, in whole bytes: a serial whose top byte is below 0x10 starts
   * with "0" (1 in 16 of step-ca's random serials). The service keeps serials without leading
   * zeros: compare with normalizeSerial() or certificateSerial().
   */
  serialNumber: string;
  notBefore: Date;
  notAfter: Date;
  sans: { dns: string[]; ip: string[]; uri: string[] };
  extendedKeyUsages: Array<'serverAuth' | 'clientAuth' | string>;
  sha256Fingerprint: string;
}

const EKU_NAMES: Record<string, string> = {
  '1.3.6.1.5.5.7.3.1': 'serverAuth',
  '1.3.6.1.5.5.7.3.2': 'clientAuth',
};

/** The CN of a distinguished name as Node prints it: one "KEY=value" per line. */
export function commonName(name: string): string | undefined {
  return /^CN=(.*)$/m.exec(name)?.[1];
}

/** Node prints SANs as `DNS:a, IP Address:b, URI:c`, quoting a value (JSON) that holds a separator. */
function subjectAltNames(text: string | undefined): CertificateFacts['sans'] {
  const sans: CertificateFacts['sans'] = { dns: [], ip: [], uri: [] };
  const kinds: Record<string, keyof CertificateFacts['sans']> = { DNS: 'dns', 'IP Address': 'ip', URI: 'uri' };
  for (const [, kind, raw] of (text ?? '').matchAll(/(DNS|IP Address|URI|[A-Za-z ]+):("(?:[^"\\]|\\.)*"|[^,]*)(?:, |$)/g)) {
    const key = kinds[kind!];
    if (key) sans[key].push(raw!.startsWith('"') ? (JSON.parse(raw!) as string) : raw!);
  }
  return sans;
}

/**
 * Node's native X.509 parser: every device inspects each certificate it receives, and the
 * ASN.1 decoding in JavaScript (@peculiar/x509) was a quarter of the swarm's CPU in profiles.
 */
export function inspectCertificate(pem: string): CertificateFacts {
  const cert = new NodeX509(pem);
  return {
    subjectCommonName: commonName(cert.subject),
    issuerCommonName: commonName(cert.issuer),
    serialNumber: cert.serialNumber.toLowerCase(),
    notBefore: new Date(cert.validFrom),
    notAfter: new Date(cert.validTo),
    sans: subjectAltNames(cert.subjectAltName),
    extendedKeyUsages: (cert.keyUsage ?? []).map((oid) => EKU_NAMES[oid] ?? oid),
    sha256Fingerprint: cert.fingerprint256.replace(/:/g, '').toLowerCase(),
  };
}

/**
 * True when the chain (leaf first, intermediates after) links signature by signature up to
 * `rootPem`. Dates are not checked here: expiry has its own reason code in the device's validation.
 */
export function chainsToRoot(chainPem: string, rootPem: string): boolean {
  const chain = splitPemChain(chainPem).map((pem) => new NodeX509(pem));
  const root = new NodeX509(rootPem);
  if (chain.length === 0) return false;
  const path = [...chain, root];
  for (let i = 0; i < path.length - 1; i++) {
    const child = path[i]!;
    const parent = path[i + 1]!;
    if (!child.checkIssued(parent) || !child.verify(parent.publicKey)) return false;
  }
  return true;
}

/**
 * A serial as the lab keeps it: lowercase hex of the integer, no leading zeros, whatever spelling
 * it came in (colons, 0x, case, DER's leading 00). Throws on anything that is not hexadecimal.
 */
export function normalizeSerial(serial: string): string {
  const hex = serial.trim().toLowerCase().replace(/^0x/, '').replace(/[:\s]/g, '');
  if (!/^[0-9a-f]+$/.test(hex)) throw new Error(`serial "${serial}" is not hexadecimal`);
  return hex.replace(/^0+(?=.)/, '');
}

/** Splits a PEM bundle into its certificates, leaf first as servers send them. */
export function splitPemChain(pem: string): string[] {
  return pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}

/** Splits a PEM bundle into its CRLs (OpenSSL writes "X509 CRL", some libraries "CRL"). */
export function splitPemCrls(pem: string): string[] {
  return pem.match(/-----BEGIN (?:X509 )?CRL-----[\s\S]+?-----END (?:X509 )?CRL-----/g) ?? [];
}

/**
 * A public key's algorithm in the lab's names (`ecdsa-p256`, `ecdsa-p384`, `rsa-2048`, ...), read
 * from the key itself: what seed 001 §6.3 (RSA 2048 minimum) is checked against.
 */
export function keyAlgorithmOf(key: KeyObject): string {
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'rsa') return `rsa-${details.modulusLength}`;
  if (key.asymmetricKeyType === 'ec') return { prime256v1: 'ecdsa-p256', secp384r1: 'ecdsa-p384' }[details.namedCurve ?? ''] ?? `ec-${details.namedCurve}`;
  return key.asymmetricKeyType ?? 'unknown';
}
