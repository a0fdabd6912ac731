// What a device checks about its certificate store at power-up (seed 000 "Certificate Use
// Workflow", seed 003 "Certificate Validation"): the first failed check is the reason the device
// logs before discarding its operational certificate. Messages name files, dates, serials and
// names, never certificate or key contents: they end up in logs and reports.
import { createPrivateKey, createPublicKey, X509Certificate as NodeX509, type KeyObject } from 'node:crypto';
import { chainsToRoot, commonName, inspectCertificate, normalizeSerial, splitPemChain } from '../../x509/certificates.ts';
import { issuerDer, parseCrls, type ParsedCrl } from '../../x509/crls.ts';
import { STORE_FILES } from './certificate-store.ts';
import { deviceSan } from '../device/device-identity.ts';
import { DEVICE_ID_OID, deviceIdsOf } from '../../x509/device-id.ts';

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
  /** seed 003's device-id otherName OID (DEVICE_ID_OID by default). */
  deviceIdOid?: string;
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
const cn = (dn: string) => commonName(dn) ?? dn.replace(/\n/g, ', ');

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
    return fail('wrong-eku', `${CERT} has extended key usage [${names.join(', ') || 'none'}]; a client certificate (device or application) must be clientAuth only`);
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
    const issuerName = issuerDer(cert);
    const serial = normalizeSerial(cert.serialNumber);
    for (const crl of crls) {
      if (!crl.issuerDer.equals(issuerName) || !crl.signedBy(issuer)) continue;
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
  // seed 003 step 1, "extract and verify device ID": where the certificate carries one (the lab's
  // step-ca puts it in every operational certificate), it must be this client's.
  const deviceIdOid = input.deviceIdOid ?? DEVICE_ID_OID;
  const carried = deviceIdsOf(leafPem, deviceIdOid);
  if (carried.some((id) => id !== deviceId)) {
    return fail('identity-mismatch', `${CERT} carries the device id ${carried.map((id) => id ?? '(not UTF-8)').join(', ')} (otherName ${deviceIdOid}), not ${deviceId}`);
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
