// Certificate signing requests built by the simulated clients themselves: the private key
// is generated here and never leaves the client's process.
import type { KeyAlgorithm } from '../../environments/config.ts';
import { algorithmParams, generateKeyPair, privateKeyToPem } from '../../environments/pki/keys.ts';
import { x509 } from '../../environments/pki/x509.ts';

export interface CsrSubject {
  commonName: string;
  ipAddresses?: string[];
  uris?: string[];
  dnsNames?: string[];
}

export interface KeyAndCsr {
  privateKeyPem: string;
  csrPem: string;
}

export async function createKeyAndCsr(subject: CsrSubject, algorithm: KeyAlgorithm): Promise<KeyAndCsr> {
  const keys = await generateKeyPair(algorithm);
  const names: x509.JsonGeneralName[] = [
    ...(subject.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(subject.ipAddresses ?? []).map((value) => ({ type: 'ip' as const, value })),
    ...(subject.uris ?? []).map((value) => ({ type: 'url' as const, value })),
  ];
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: `CN=${subject.commonName}`,
    keys,
    signingAlgorithm: algorithmParams(algorithm).signing,
    extensions: names.length > 0 ? [new x509.SubjectAlternativeNameExtension(names)] : [],
  });
  return { privateKeyPem: await privateKeyToPem(keys.privateKey), csrPem: csr.toString('pem') };
}

/** Splits a PEM bundle into its certificates, leaf first as servers send them. */
export function splitPemChain(pem: string): string[] {
  return pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}
