// Reads the facts a test or a device checks about a certificate, without printing its contents.
import { createHash, X509Certificate as NodeX509 } from 'node:crypto';
import { x509 } from '../../environments/pki/x509.ts';
import { splitPemChain } from '../../environments/pki/csr.ts';

export interface CertificateFacts {
  subjectCommonName: string | undefined;
  issuerCommonName: string | undefined;
  serialNumber: string;
  notBefore: Date;
  notAfter: Date;
  sans: { dns: string[]; ip: string[]; uri: string[] };
  extendedKeyUsages: Array<'serverAuth' | 'clientAuth' | string>;
  sha256Fingerprint: string;
}

const EKU_NAMES: Record<string, string> = {
  [x509.ExtendedKeyUsage.serverAuth]: 'serverAuth',
  [x509.ExtendedKeyUsage.clientAuth]: 'clientAuth',
};

function commonName(name: x509.Name | string): string | undefined {
  const text = typeof name === 'string' ? name : name.toString();
  return /(?:^|,\s*)CN=([^,]+)/.exec(text)?.[1];
}

export function inspectCertificate(pem: string): CertificateFacts {
  const cert = new x509.X509Certificate(pem);
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  const names = san?.names.toJSON() ?? [];
  const eku = cert.getExtension(x509.ExtendedKeyUsageExtension);
  return {
    subjectCommonName: commonName(cert.subject),
    issuerCommonName: commonName(cert.issuer),
    serialNumber: cert.serialNumber.toLowerCase(),
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    sans: {
      dns: names.filter((n) => n.type === 'dns').map((n) => n.value),
      ip: names.filter((n) => n.type === 'ip').map((n) => n.value),
      uri: names.filter((n) => n.type === 'url').map((n) => n.value),
    },
    extendedKeyUsages: Array.from(eku?.usages ?? [], (u) => EKU_NAMES[String(u)] ?? String(u)),
    sha256Fingerprint: createHash('sha256').update(Buffer.from(cert.rawData)).digest('hex'),
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
