// Certificates that must be refused, made on purpose for refusal scenarios: each differs from a
// good device certificate in exactly one way.
import { createRootCa, issueLeaf, type Issuer, type IssuedCertificate } from '../../x509/certificate-authority.ts';
import { deviceSan } from '../device/device-identity.ts';

export const forgedKinds = ['expired', 'not yet valid', 'server-only', 'foreign CA'] as const;
export type ForgedKind = (typeof forgedKinds)[number];

const HOUR = 3600 * 1000;

/**
 * `issuer` is the lab's issuing CA and `crlUrl` its CRL distribution point: with it the broker's
 * CRL check passes, so the refusal is caused by the one defect and nothing else.
 */
export async function forgeClientCertificate(kind: ForgedKind, issuer: Issuer, crlUrl: string, deviceId: string): Promise<{ chainPem: string; privateKeyPem: string }> {
  const base = { commonName: deviceId, uris: [deviceSan(deviceId)], crlDistributionPoints: [crlUrl] };
  const now = Date.now();
  let leaf: IssuedCertificate;
  let chainIssuer: Issuer = issuer;
  switch (kind) {
    case 'expired':
      leaf = await issueLeaf(issuer, { ...base, extendedKeyUsages: ['clientAuth'], notBefore: new Date(now - 48 * HOUR), notAfter: new Date(now - 24 * HOUR) });
      break;
    case 'not yet valid':
      // A device whose clock runs a day behind sees exactly this (seed 000: clock skew).
      leaf = await issueLeaf(issuer, { ...base, extendedKeyUsages: ['clientAuth'], notBefore: new Date(now + 24 * HOUR), notAfter: new Date(now + 48 * HOUR) });
      break;
    case 'server-only':
      leaf = await issueLeaf(issuer, { ...base, extendedKeyUsages: ['serverAuth'] });
      break;
    case 'foreign CA': {
      chainIssuer = await createRootCa({ commonName: 'Foreign Root CA', organization: 'not-the-lab', algorithm: 'ecdsa-p256', validityDays: 30 });
      leaf = await issueLeaf(chainIssuer, { ...base, extendedKeyUsages: ['clientAuth'] });
      break;
    }
  }
  const chainPem = chainIssuer === issuer ? `${leaf.certificatePem}\n${issuer.certificate.toString('pem')}\n` : `${leaf.certificatePem}\n`;
  return { chainPem, privateKeyPem: leaf.privateKeyPem };
}

/**
 * A bootstrap credential from the genuine bootstrap CA, for the given address, that expired an
 * hour ago: what a device returning after a long absence (or a thief of an old one) holds.
 */
export async function expiredBootstrapCredential(bootstrapIssuer: Issuer, address: string): Promise<{ certificateChainPem: string; privateKeyPem: string }> {
  const now = Date.now();
  const leaf = await issueLeaf(bootstrapIssuer, {
    commonName: address,
    ipAddresses: [address],
    extendedKeyUsages: ['clientAuth'],
    notBefore: new Date(now - 2 * HOUR),
    notAfter: new Date(now - HOUR),
  });
  return { certificateChainPem: `${leaf.certificatePem}\n${bootstrapIssuer.certificate.toString('pem')}\n`, privateKeyPem: leaf.privateKeyPem };
}
