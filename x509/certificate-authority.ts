// Certificate authorities in code: roots, intermediates, leaves and CSRs signed with WebCrypto keys,
// for the lab's own PKI (the root, the intermediate step-ca signs with, the broker's certificate,
// readiness probes, foreign CAs in tests) and the simulated external CA.
import { randomBytes } from 'node:crypto';
import { x509 } from './x509.ts';
import { subjectAltNameWithOtherNames } from './device-id.ts';
import { algorithmParams, generateKeyPair, privateKeyToPem, type KeyAlgorithm } from './keys.ts';

const DAY_MS = 24 * 60 * 60 * 1000;
/** Backdating absorbs small clock differences between the lab and the components it starts. */
const BACKDATE_MS = 60 * 1000;

/** A CA certificate as its relying parties know it: no key (an external root's stays in its own process). */
export interface CaCertificate {
  certificate: x509.X509Certificate;
  /** PEM of the certificate alone. */
  certificatePem: string;
  algorithm: KeyAlgorithm;
}

export interface Issuer {
  certificate: x509.X509Certificate;
  keys: CryptoKeyPair;
  algorithm: KeyAlgorithm;
}

export interface IssuedCertificate extends Issuer, CaCertificate {
  privateKeyPem: string;
}

export type ExtendedKeyUsageName = 'serverAuth' | 'clientAuth';

export interface LeafRequest {
  commonName: string;
  dnsNames?: string[];
  ipAddresses?: string[];
  uris?: string[];
  /** otherName SANs with UTF8String values (seed 003's device id); not with ipAddresses. */
  otherNames?: { oid: string; utf8: string }[];
  extendedKeyUsages: ExtendedKeyUsageName[];
  /** CRL distribution point URLs (the broker applies the issuing CA's CRL only to leaves naming it). */
  crlDistributionPoints?: string[];
  notBefore?: Date;
  notAfter?: Date;
  algorithm?: KeyAlgorithm;
}

function serialNumber(): string {
  // 16 random bytes with the top bit cleared so the DER INTEGER stays positive.
  const bytes = randomBytes(16);
  bytes[0] = bytes[0]! & 0x7f;
  return bytes.toString('hex');
}

function distinguishedName(commonName: string, organization?: string): string {
  const escape = (v: string) => v.replace(/([,+"\\<>;=])/g, '\\$1');
  return organization ? `CN=${escape(commonName)}, O=${escape(organization)}` : `CN=${escape(commonName)}`;
}

/** A certificate together with the key pair its holder kept (a CA certificate that came back for a CSR). */
export async function finish(certificate: x509.X509Certificate, keys: CryptoKeyPair, algorithm: KeyAlgorithm): Promise<IssuedCertificate> {
  return {
    certificate,
    keys,
    algorithm,
    certificatePem: certificate.toString('pem'),
    privateKeyPem: await privateKeyToPem(keys.privateKey),
  };
}

export async function createRootCa(options: {
  commonName: string;
  organization: string;
  algorithm: KeyAlgorithm;
  validityDays: number;
}): Promise<IssuedCertificate> {
  const keys = await generateKeyPair(options.algorithm);
  const now = Date.now();
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: distinguishedName(options.commonName, options.organization),
    notBefore: new Date(now - BACKDATE_MS),
    notAfter: new Date(now + options.validityDays * DAY_MS),
    signingAlgorithm: algorithmParams(options.algorithm).signing,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 1, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return finish(certificate, keys, options.algorithm);
}

export async function createIntermediateCa(
  issuer: Issuer,
  options: { commonName: string; organization: string; algorithm: KeyAlgorithm; validityDays: number },
): Promise<IssuedCertificate> {
  const keys = await generateKeyPair(options.algorithm);
  const now = Date.now();
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: distinguishedName(options.commonName, options.organization),
    issuer: issuer.certificate.subject,
    notBefore: new Date(now - BACKDATE_MS),
    notAfter: new Date(Math.min(now + options.validityDays * DAY_MS, issuer.certificate.notAfter.getTime())),
    signingAlgorithm: algorithmParams(issuer.algorithm).signing,
    publicKey: keys.publicKey,
    signingKey: issuer.keys.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(issuer.keys.publicKey),
    ],
  });
  return finish(certificate, keys, options.algorithm);
}

/** A leaf certificate for `publicKey`, with what `request` says (nothing comes from the key's holder). */
async function certifyKey(issuer: Issuer, publicKey: CryptoKey, rsa: boolean, request: Omit<LeafRequest, 'algorithm'>): Promise<x509.X509Certificate> {
  const now = Date.now();
  const names: x509.JsonGeneralName[] = [
    ...(request.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(request.ipAddresses ?? []).map((value) => ({ type: 'ip' as const, value })),
    ...(request.uris ?? []).map((value) => ({ type: 'url' as const, value })),
  ];
  const usages = rsa ? x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment : x509.KeyUsageFlags.digitalSignature;
  const ekuOids: Record<ExtendedKeyUsageName, string> = {
    serverAuth: x509.ExtendedKeyUsage.serverAuth,
    clientAuth: x509.ExtendedKeyUsage.clientAuth,
  };
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(usages, true),
    new x509.ExtendedKeyUsageExtension(request.extendedKeyUsages.map((e) => ekuOids[e])),
    await x509.AuthorityKeyIdentifierExtension.create(issuer.keys.publicKey),
  ];
  if (request.otherNames?.length) {
    if (request.ipAddresses?.length) throw new Error('a leaf with otherNames takes DNS names and URIs only');
    extensions.push(subjectAltNameWithOtherNames({ dnsNames: request.dnsNames, uris: request.uris, otherNames: request.otherNames }));
  } else if (names.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(names));
  if (request.crlDistributionPoints?.length) extensions.push(new x509.CRLDistributionPointsExtension(request.crlDistributionPoints));
  return x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: distinguishedName(request.commonName),
    issuer: issuer.certificate.subject,
    notBefore: request.notBefore ?? new Date(now - BACKDATE_MS),
    notAfter: request.notAfter ?? new Date(now + DAY_MS),
    signingAlgorithm: algorithmParams(issuer.algorithm).signing,
    publicKey,
    signingKey: issuer.keys.privateKey,
    extensions,
  });
}

export async function issueLeaf(issuer: Issuer, request: LeafRequest): Promise<IssuedCertificate> {
  const algorithm = request.algorithm ?? issuer.algorithm;
  const keys = await generateKeyPair(algorithm);
  const certificate = await certifyKey(issuer, keys.publicKey, algorithm.startsWith('rsa'), request);
  return finish(certificate, keys, algorithm);
}

/**
 * A leaf certificate for the key in a CSR whose key stays with its holder (a component that
 * made its own key). Only the CSR's proof of possession is used: names and usages come from
 * `request`. Returns the certificate PEM.
 */
export async function issueForCsr(issuer: Issuer, csrPem: string, request: Omit<LeafRequest, 'algorithm'>): Promise<string> {
  const csr = new x509.Pkcs10CertificateRequest(csrPem);
  if (!(await csr.verify())) throw new Error('the CSR signature does not verify: no proof of possession of its key');
  const publicKey = await csr.publicKey.export();
  return (await certifyKey(issuer, publicKey, publicKey.algorithm.name.startsWith('RSA'), request)).toString('pem');
}

/** A new CA key (kept by the caller) and a CSR for it, for a CA that another CA certifies (an external root). */
export async function createCaKeyAndCsr(options: { commonName: string; organization: string; algorithm: KeyAlgorithm }): Promise<{ keys: CryptoKeyPair; csrPem: string }> {
  const keys = await generateKeyPair(options.algorithm);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: distinguishedName(options.commonName, options.organization),
    keys,
    signingAlgorithm: algorithmParams(options.algorithm).signing,
  });
  return { keys, csrPem: csr.toString('pem') };
}

/**
 * A subordinate CA certificate (path length 0: it may sign leaves only) for the key and subject
 * of a CSR whose key stays with its holder. Extensions come from the issuer, never the CSR.
 */
export async function certifySubordinateCsr(
  issuer: Issuer,
  csr: x509.Pkcs10CertificateRequest,
  options: { notAfter: Date; crlDistributionPoints?: string[] },
): Promise<x509.X509Certificate> {
  if (!(await csr.verify())) throw new Error('the CSR signature does not verify: no proof of possession of its key');
  const publicKey = await csr.publicKey.export();
  const now = Date.now();
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(true, 0, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    await x509.SubjectKeyIdentifierExtension.create(publicKey),
    await x509.AuthorityKeyIdentifierExtension.create(issuer.keys.publicKey),
  ];
  if (options.crlDistributionPoints?.length) extensions.push(new x509.CRLDistributionPointsExtension(options.crlDistributionPoints));
  return x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: csr.subject,
    issuer: issuer.certificate.subject,
    notBefore: new Date(now - BACKDATE_MS),
    notAfter: new Date(Math.min(options.notAfter.getTime(), issuer.certificate.notAfter.getTime())),
    signingAlgorithm: algorithmParams(issuer.algorithm).signing,
    publicKey,
    signingKey: issuer.keys.privateKey,
    extensions,
  });
}
