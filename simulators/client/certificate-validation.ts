// What a device checks about its certificate store at power-up (seed 000 "Certificate Use
// Workflow", seed 003 "Certificate Validation"): the first failed check is the reason the device
// logs before discarding its operational certificate. Messages name files, dates, serials and
// names, never certificate or key contents: they end up in logs and reports.
import { constants, createPrivateKey, createPublicKey, verify, X509Certificate as NodeX509, type KeyObject } from 'node:crypto';
import { x509 } from '../../environments/pki/x509.ts';
import { splitPemChain } from '../../environments/pki/csr.ts';
import { chainsToRoot, inspectCertificate } from './certificate-inspection.ts';
import { STORE_FILES } from './certificate-store.ts';
import { deviceSan } from '../device/device-identity.ts';

export const VALIDATION_REASONS = [
  'missing-files',
  'key-permissions',
  'malformed-certificate',
  'key-mismatch',
  'not-yet-valid',
  'expired',
  'wrong-eku',
  'untrusted-ca',
  'revoked',
  'identity-mismatch',
] as const;

export type ValidationReason = (typeof VALIDATION_REASONS)[number];

export const VALIDATION_REASON_LABELS: Record<ValidationReason, string> = {
  'missing-files': 'Certificate files missing',
  'key-permissions': 'Private key readable by others',
  'malformed-certificate': 'Malformed certificate or key',
  'key-mismatch': 'Private key does not match certificate',
  'not-yet-valid': 'Certificate not yet valid (clock skew)',
  expired: 'Certificate expired',
  'wrong-eku': 'Wrong extended key usage (client only required)',
  'untrusted-ca': 'Certificate not issued by a trusted CA',
  revoked: 'Certificate revoked',
  'identity-mismatch': 'Certificate identity does not match the device',
};

/** A device's clock may lag the CA's by this much before a fresh certificate counts as "not yet valid". */
export const DEFAULT_CLOCK_SKEW_TOLERANCE_MS = 5 * 60 * 1000;

export interface StoreContents {
  certificateChainPem?: string;
  privateKeyPem?: string;
  caPem?: string;
  /** st_mode of the key file; unchecked when absent (the caller did not stat it). */
  keyFileMode?: number;
}

export interface ValidationInput {
  store: StoreContents;
  /** The expected subject CN. */
  deviceId: string;
  /** The SAN URI binding the certificate to its holder; a device's urn:ecm-lab:device:<id> by default. */
  expectedSan?: string;
  now: Date;
  crlPems?: string[];
  clockSkewToleranceMs?: number;
}

export interface ValidCertificateFacts {
  serial: string;
  notBefore: Date;
  notAfter: Date;
  subjectCommonName: string | undefined;
  issuerCommonName: string | undefined;
  deviceSan: string;
  extendedKeyUsages: string[];
  sha256Fingerprint: string;
  /** Certificates in local.crt, leaf included. */
  chainLength: number;
  /** CRLs that were authenticated and consulted for at least one certificate of the path. */
  crlsApplied: number;
  /** CRLs not parsable, from another issuer, or with a signature that does not verify. */
  crlsIgnored: number;
}

export type ValidationResult =
  | { valid: true; facts: ValidCertificateFacts }
  | { valid: false; reason: ValidationReason; message: string };

const CERT = STORE_FILES.operationalCert;
const KEY = STORE_FILES.operationalKey;
const CA = STORE_FILES.caCert;
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';

const fail = (reason: ValidationReason, message: string): ValidationResult => ({ valid: false, reason, message });
const iso = (d: Date) => d.toISOString();
const cn = (dn: string) => /(?:^|\n)CN=([^\n]*)/.exec(dn)?.[1] ?? dn.replace(/\n/g, ', ');

interface Parsed {
  certs: NodeX509[];
  pems: string[];
}

/** Every BEGIN marker must open a block that parses; a truncated last block is otherwise silently dropped. */
function parseBundle(pem: string): Parsed | string {
  const pems = splitPemChain(pem);
  const markers = pem.match(/-----BEGIN CERTIFICATE-----/g)?.length ?? 0;
  if (pems.length === 0) return 'contains no complete PEM certificate';
  if (markers !== pems.length) return `has ${markers} certificate headers but only ${pems.length} complete PEM blocks (truncated?)`;
  const certs: NodeX509[] = [];
  for (const [i, block] of pems.entries()) {
    try {
      certs.push(new NodeX509(block));
    } catch {
      return `certificate ${i + 1} of ${pems.length} is not a parsable X.509 certificate`;
    }
  }
  return { certs, pems };
}

function spki(key: KeyObject): Buffer {
  return key.export({ type: 'spki', format: 'der' });
}

// --- minimal DER reading -------------------------------------------------------------------
// @peculiar/x509 2.0.0 drops every revoked entry of a CRL that has no nextUpdate (optional in
// RFC 5280's ASN.1), and its CRL verify() is async. A revoked device must never pass because of
// that, so the few fields revocation needs are read straight from the DER.

interface Tlv {
  tag: number;
  start: number;
  body: number;
  end: number;
}

function tlv(der: Uint8Array, at: number): Tlv {
  if (at + 2 > der.length) throw new Error('truncated DER');
  let length = der[at + 1]!;
  let body = at + 2;
  if (length & 0x80) {
    const n = length & 0x7f;
    if (n < 1 || n > 4) throw new Error('unsupported DER length');
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + der[body++]!;
  }
  if (body + length > der.length) throw new Error('truncated DER');
  return { tag: der[at]!, start: at, body, end: body + length };
}

function children(der: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let at = parent.body; at < parent.end; at = out[out.length - 1]!.end) out.push(tlv(der, at));
  return out;
}

const SEQUENCE = 0x30;
const INTEGER = 0x02;
const UTC_TIME = 0x17;
const GENERALIZED_TIME = 0x18;

function normalizeSerial(hex: string): string {
  return hex.toLowerCase().replace(/^(00)+(?=.)/, '');
}

/** The raw issuer Name of a certificate: names are compared as DER, as issuers encode them. */
function certificateIssuerDer(cert: NodeX509): Buffer {
  const der = cert.raw;
  const tbs = children(der, tlv(der, 0))[0]!;
  const fields = children(der, tbs);
  const offset = fields[0]!.tag === 0xa0 ? 1 : 0; // [0] version is optional
  const issuer = fields[offset + 2]!;
  return der.subarray(issuer.start, issuer.end);
}

interface ParsedCrl {
  issuerDer: Buffer;
  tbs: Buffer;
  signature: Buffer;
  algorithm: { name: string; hash?: { name: string }; saltLength?: number };
  serials: Set<string>;
}

function parseCrls(pem: string): ParsedCrl[] {
  const blocks = pem.match(/-----BEGIN (?:X509 )?CRL-----[\s\S]+?-----END (?:X509 )?CRL-----/g) ?? [];
  if (blocks.length === 0) throw new Error('no CRL block');
  return blocks.map((block) => {
    const crl = new x509.X509Crl(block);
    const der = Buffer.from(crl.rawData);
    const [tbsTlv, , sigTlv] = children(der, tlv(der, 0));
    if (!tbsTlv || !sigTlv) throw new Error('incomplete CRL');
    const fields = children(der, tbsTlv);
    let i = fields[0]?.tag === INTEGER ? 1 : 0;
    i += 1; // signature AlgorithmIdentifier
    const issuer = fields[i++]!;
    i += 1; // thisUpdate
    if (fields[i]?.tag === UTC_TIME || fields[i]?.tag === GENERALIZED_TIME) i += 1; // nextUpdate
    const serials = new Set<string>();
    if (fields[i]?.tag === SEQUENCE) {
      for (const entry of children(der, fields[i]!)) {
        const serial = children(der, entry)[0]!;
        serials.add(normalizeSerial(der.subarray(serial.body, serial.end).toString('hex')));
      }
    }
    return {
      issuerDer: der.subarray(issuer.start, issuer.end),
      tbs: der.subarray(tbsTlv.start, tbsTlv.end),
      signature: der.subarray(sigTlv.body + 1, sigTlv.end), // first byte: unused bits
      algorithm: crl.signatureAlgorithm as ParsedCrl['algorithm'],
      serials,
    };
  });
}

function crlSignedBy(crl: ParsedCrl, issuer: NodeX509): boolean {
  const hash = crl.algorithm.hash?.name.replace('-', '').toLowerCase();
  try {
    switch (crl.algorithm.name) {
      case 'ECDSA':
      case 'RSASSA-PKCS1-v1_5':
        return !!hash && verify(hash, crl.tbs, issuer.publicKey, crl.signature);
      case 'RSA-PSS':
        return (
          !!hash &&
          verify(hash, crl.tbs, { key: issuer.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: crl.algorithm.saltLength ?? 32 }, crl.signature)
        );
      case 'Ed25519':
      case 'Ed448':
        return verify(null, crl.tbs, issuer.publicKey, crl.signature);
      default:
        return false;
    }
  } catch {
    return false;
  }
}

// --- the checks, in the order a device reports them -------------------------------------------

export function validateCertificateStore(input: ValidationInput): ValidationResult {
  const { store, deviceId, now } = input;
  const tolerance = input.clockSkewToleranceMs ?? DEFAULT_CLOCK_SKEW_TOLERANCE_MS;

  const missing = ([[store.certificateChainPem, CERT], [store.privateKeyPem, KEY], [store.caPem, CA]] as const)
    .filter(([content]) => content === undefined)
    .map(([, file]) => file);
  if (missing.length > 0) return fail('missing-files', `missing ${missing.join(', ')}`);
  const chainPem = store.certificateChainPem!;
  const keyPem = store.privateKeyPem!;
  const caPem = store.caPem!;

  if (store.keyFileMode !== undefined && (store.keyFileMode & 0o077) !== 0) {
    const mode = (store.keyFileMode & 0o777).toString(8).padStart(4, '0');
    return fail('key-permissions', `${KEY} has mode ${mode}: group/other permission bits must be clear (expected 0600)`);
  }

  const chain = parseBundle(chainPem);
  if (typeof chain === 'string') return fail('malformed-certificate', `${CERT} ${chain}`);
  const cas = parseBundle(caPem);
  if (typeof cas === 'string') return fail('malformed-certificate', `${CA} ${cas}`);
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(keyPem);
  } catch {
    return fail('malformed-certificate', `${KEY} is not a parsable unencrypted private key`);
  }
  const leaf = chain.certs[0]!;
  const leafPem = chain.pems[0]!;

  let keyMatches: boolean;
  try {
    keyMatches = spki(createPublicKey(privateKey)).equals(spki(leaf.publicKey));
  } catch {
    keyMatches = false;
  }
  if (!keyMatches) return fail('key-mismatch', `${KEY} does not hold the private key of the certificate in ${CERT} (public keys differ)`);

  // Dates of the whole path: TLS refuses an expired intermediate or root as surely as a leaf.
  // Only the CA certificates that name the chain's top as theirs are checked, so an expired old
  // root kept next to its successor during a root rotation does not fail the store.
  const top = chain.certs[chain.certs.length - 1]!;
  const anchors = cas.certs.filter((ca) => top.checkIssued(ca));
  const dated = [
    ...chain.certs.map((c, i) => ({ cert: c, what: i === 0 ? `${CERT} (leaf CN=${cn(c.subject)})` : `${CERT} (intermediate CN=${cn(c.subject)})` })),
    ...anchors.filter((a) => !chain.certs.some((c) => c.fingerprint256 === a.fingerprint256)).map((a) => ({ cert: a, what: `${CA} (CN=${cn(a.subject)})` })),
  ];
  for (const { cert, what } of dated) {
    const notBefore = new Date(cert.validFrom);
    if (notBefore.getTime() > now.getTime() + tolerance) {
      return fail(
        'not-yet-valid',
        `${what} is valid from ${iso(notBefore)} but the device clock says ${iso(now)} (beyond the ${tolerance} ms skew tolerance): clock skew?`,
      );
    }
  }
  for (const { cert, what } of dated) {
    const notAfter = new Date(cert.validTo);
    if (notAfter.getTime() <= now.getTime()) return fail('expired', `${what} expired at ${iso(notAfter)}; device clock ${iso(now)}`);
  }

  const ekus = leaf.keyUsage ?? [];
  if (!ekus.includes(CLIENT_AUTH) || ekus.includes(SERVER_AUTH)) {
    const names = inspectCertificate(leafPem).extendedKeyUsages;
    return fail('wrong-eku', `${CERT} has extended key usage [${names.join(', ') || 'none'}]; a device certificate must be clientAuth only`);
  }

  const anchor = cas.pems.find((ca) => chainsToRoot(chainPem, ca));
  if (!anchor) {
    return fail(
      'untrusted-ca',
      `${CERT} (issuer CN=${cn(top.issuer)}) does not verify up to any of the ${cas.certs.length} certificate(s) in ${CA}`,
    );
  }

  const path = [...chain.certs, new NodeX509(anchor)];
  const crls: ParsedCrl[] = [];
  let crlsIgnored = 0;
  for (const pem of input.crlPems ?? []) {
    try {
      crls.push(...parseCrls(pem));
    } catch {
      crlsIgnored += 1;
    }
  }
  const applied = new Set<ParsedCrl>();
  for (let i = 0; i < path.length - 1; i++) {
    const cert = path[i]!;
    const issuer = path[i + 1]!;
    const issuerDer = certificateIssuerDer(cert);
    const serial = normalizeSerial(cert.serialNumber);
    for (const crl of crls) {
      if (!crl.issuerDer.equals(issuerDer) || !crlSignedBy(crl, issuer)) continue;
      applied.add(crl);
      if (crl.serials.has(serial)) {
        const what = i === 0 ? `${CERT} (serial ${serial})` : `intermediate CN=${cn(cert.subject)} (serial ${serial})`;
        return fail('revoked', `${what} is listed in a CRL of CN=${cn(issuer.subject)}`);
      }
    }
  }
  crlsIgnored += crls.length - applied.size;

  const facts = inspectCertificate(leafPem);
  const expectedSan = input.expectedSan ?? deviceSan(deviceId);
  if (!facts.sans.uri.includes(expectedSan)) {
    return fail('identity-mismatch', `${CERT} has no SAN ${expectedSan} (SAN URIs: [${facts.sans.uri.join(', ')}])`);
  }
  if (facts.subjectCommonName !== deviceId) {
    return fail('identity-mismatch', `${CERT} subject CN=${facts.subjectCommonName ?? '(none)'} differs from the device id ${deviceId}`);
  }

  return {
    valid: true,
    facts: {
      serial: facts.serialNumber,
      notBefore: facts.notBefore,
      notAfter: facts.notAfter,
      subjectCommonName: facts.subjectCommonName,
      issuerCommonName: facts.issuerCommonName,
      deviceSan: expectedSan,
      extendedKeyUsages: facts.extendedKeyUsages,
      sha256Fingerprint: facts.sha256Fingerprint,
      chainLength: chain.certs.length,
      crlsApplied: applied.size,
      crlsIgnored,
    },
  };
}
