// Policy check of the CSR a device sends to the bootstrap endpoint. The endpoint is reachable over
// an insecure channel (FR-PS-004), so every input is hostile until proven otherwise: the check
// returns a typed refusal instead of throwing, and the caller logs and answers with it.
import { createPublicKey, type KeyObject } from 'node:crypto';
import { x509 } from '../../x509/x509.ts';

export type CsrRejectionCode = 'malformed' | 'too-large' | 'bad-signature' | 'weak-key' | 'unsupported-key' | 'bad-subject';
export type EcCurve = 'P-256' | 'P-384';

export interface CsrPolicy {
  /** Upper bound on the input as received (PEM text or DER), checked before any parsing. */
  maxBytes: number;
  minRsaBits: number;
  allowedCurves: readonly EcCurve[];
  maxCommonNameLength: number;
  /** The CN becomes a file name, MQTT identity and log field downstream, hence the narrow alphabet. */
  commonNamePattern: RegExp;
}

export const defaultCsrPolicy: Readonly<CsrPolicy> = Object.freeze<CsrPolicy>({
  maxBytes: 16 * 1024,
  minRsaBits: 2048,
  allowedCurves: ['P-256', 'P-384'],
  maxCommonNameLength: 64,
  commonNamePattern: /^[A-Za-z0-9._:-]+$/,
});

export type CsrCheckResult =
  | {
      ok: true;
      csr: x509.Pkcs10CertificateRequest;
      commonName: string;
      /** Subject alternative names requested in the CSR, e.g. { type: 'ip', value: '127.0.0.5' }. */
      sans: x509.JsonGeneralNames;
      /** Human-readable key summary for logs: "ECDSA P-256", "RSA 2048". */
      keyDescription: string;
    }
  | { ok: false; code: CsrRejectionCode; message: string };

type Refusal = Extract<CsrCheckResult, { ok: false }>;

const refuse = (code: CsrRejectionCode, message: string): Refusal => ({ ok: false, code, message });

const PEM_LABELS = ['CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST'];
/** Node's names for the curves WebCrypto (and step-ca) know by their NIST names. */
const CURVE_NAMES: Record<string, string> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521', prime192v1: 'P-192', secp224r1: 'P-224' };
const WEAK_CURVES = new Set(['P-192', 'P-224']);

function byteLength(input: string | Uint8Array | ArrayBuffer): number {
  return typeof input === 'string' ? Buffer.byteLength(input, 'utf8') : input.byteLength;
}

function toDer(input: string | Uint8Array | ArrayBuffer): ArrayBuffer | Refusal {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : Buffer.from(input instanceof ArrayBuffer ? new Uint8Array(input) : input);
  const text = bytes.toString('latin1');
  // Text before the armour (openssl -text output, a pasted comment) is tolerated, as by openssl.
  if (!text.includes('-----BEGIN ')) return new Uint8Array(bytes).buffer;
  let blocks: x509.PemStruct[];
  try {
    blocks = x509.PemConverter.decodeWithHeaders(text);
  } catch (error) {
    return refuse('malformed', `PEM could not be decoded: ${(error as Error).message}`);
  }
  if (blocks.length === 0) return refuse('malformed', 'PEM has no complete BEGIN/END block (truncated?)');
  if (blocks.length > 1) return refuse('malformed', `PEM has ${blocks.length} blocks; exactly one CERTIFICATE REQUEST is expected`);
  const block = blocks[0]!;
  if (!PEM_LABELS.includes(block.type)) return refuse('malformed', `PEM block is a ${block.type}, not a CERTIFICATE REQUEST`);
  return block.rawData;
}

/**
 * Total length the outer DER SEQUENCE claims, or undefined if the bytes do not start with one.
 * Checked before the library sees the bytes: given anything not starting with 0x30 it guesses
 * hex/base64 text, and it silently ignores bytes after the SEQUENCE (smuggled data).
 */
function outerDerLength(der: Uint8Array): number | undefined {
  if (der.length < 2 || der[0] !== 0x30) return undefined;
  const first = der[1]!;
  if (first < 0x80) return 2 + first;
  const count = first & 0x7f;
  // DER forbids the indefinite form (0x80); four length bytes already exceed any size limit.
  if (count === 0 || count > 4 || der.length < 2 + count) return undefined;
  let length = 0;
  for (let i = 0; i < count; i++) length = length * 256 + der[2 + i]!;
  return 2 + count + length;
}

function parse(der: ArrayBuffer): x509.Pkcs10CertificateRequest | Refusal {
  const bytes = new Uint8Array(der);
  const claimed = outerDerLength(bytes);
  if (claimed === undefined) return refuse('malformed', 'input is neither a PEM CERTIFICATE REQUEST nor DER (no ASN.1 SEQUENCE)');
  if (claimed > bytes.length) return refuse('malformed', `DER is truncated: ${bytes.length} of ${claimed} bytes`);
  if (claimed < bytes.length) return refuse('malformed', `${bytes.length - claimed} unexpected bytes after the certificate request`);
  try {
    const csr = new x509.Pkcs10CertificateRequest(der);
    // Touch the lazily decoded parts so a broken subject or extension surfaces here as malformed.
    void csr.subjectName;
    void csr.extensions;
    return csr;
  } catch (error) {
    return refuse('malformed', `not a PKCS#10 certificate request: ${(error as Error).message}`);
  }
}

/** Key policy via Node's key details: @peculiar/x509 does not expose RSA modulus sizes. */
function checkKey(csr: x509.Pkcs10CertificateRequest, policy: CsrPolicy): string | Refusal {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: Buffer.from(csr.publicKey.rawData), format: 'der', type: 'spki' });
  } catch (error) {
    return refuse('unsupported-key', `public key could not be read: ${(error as Error).message}`);
  }
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'rsa') {
    const bits = details.modulusLength ?? 0;
    if (bits < policy.minRsaBits) {
      return refuse('weak-key', `RSA key of ${bits} bits is below the policy minimum of ${policy.minRsaBits}`);
    }
    return `RSA ${bits}`;
  }
  if (key.asymmetricKeyType === 'ec') {
    const curve = CURVE_NAMES[details.namedCurve ?? ''] ?? details.namedCurve ?? 'unknown curve';
    if ((policy.allowedCurves as readonly string[]).includes(curve)) return `ECDSA ${curve}`;
    const allowed = policy.allowedCurves.join(', ');
    return WEAK_CURVES.has(curve)
      ? refuse('weak-key', `ECDSA key on ${curve} is too weak; the policy allows ${allowed}`)
      : refuse('unsupported-key', `ECDSA key on ${curve} is not allowed; the policy allows ${allowed}`);
  }
  return refuse('unsupported-key', `${key.asymmetricKeyType ?? 'unknown'} keys are not supported; use ECDSA (${policy.allowedCurves.join(', ')}) or RSA >= ${policy.minRsaBits} bits`);
}

async function checkSignature(csr: x509.Pkcs10CertificateRequest): Promise<Refusal | undefined> {
  try {
    if (await csr.verify()) return undefined;
    return refuse('bad-signature', 'the CSR signature does not verify with its own public key');
  } catch (error) {
    return refuse('bad-signature', `the CSR signature could not be verified: ${(error as Error).message}`);
  }
}

function checkSubject(csr: x509.Pkcs10CertificateRequest, policy: CsrPolicy): string | Refusal {
  const names = csr.subjectName.getField('CN');
  if (names.length === 0) return refuse('bad-subject', `subject "${csr.subject}" has no CommonName (CN)`);
  if (names.length > 1) return refuse('bad-subject', `subject "${csr.subject}" has ${names.length} CommonNames; exactly one is required`);
  const cn = names[0]!;
  if (cn.length > policy.maxCommonNameLength) {
    return refuse('bad-subject', `CommonName is ${cn.length} characters long; at most ${policy.maxCommonNameLength} are allowed`);
  }
  if (!policy.commonNamePattern.test(cn)) {
    return refuse('bad-subject', `CommonName ${JSON.stringify(cn)} contains characters outside ${policy.commonNamePattern.source}`);
  }
  return cn;
}

function subjectAltNames(csr: x509.Pkcs10CertificateRequest): x509.JsonGeneralNames {
  const ext = csr.extensions.find((e) => e instanceof x509.SubjectAlternativeNameExtension);
  return ext ? (ext as x509.SubjectAlternativeNameExtension).names.toJSON() : [];
}

/**
 * Checks in order size, syntax, key, signature, subject: cheap checks before expensive ones, and
 * the key before the signature because WebCrypto cannot verify with an unsupported key.
 */
export async function checkCsr(input: string | Uint8Array | ArrayBuffer, policy: Partial<CsrPolicy> = {}): Promise<CsrCheckResult> {
  const p: CsrPolicy = { ...defaultCsrPolicy, ...policy };
  const size = byteLength(input);
  if (size > p.maxBytes) return refuse('too-large', `CSR of ${size} bytes exceeds the limit of ${p.maxBytes} bytes`);
  if (size === 0) return refuse('malformed', 'CSR is empty');
  const der = toDer(input);
  if (!(der instanceof ArrayBuffer)) return der;
  const csr = parse(der);
  if (!(csr instanceof x509.Pkcs10CertificateRequest)) return csr;
  try {
    const keyDescription = checkKey(csr, p);
    if (typeof keyDescription !== 'string') return keyDescription;
    const badSignature = await checkSignature(csr);
    if (badSignature) return badSignature;
    const commonName = checkSubject(csr, p);
    if (typeof commonName !== 'string') return commonName;
    return { ok: true, csr, commonName, sans: subjectAltNames(csr), keyDescription };
  } catch (error) {
    // Lazy ASN.1 decoding inside the library can still fail on crafted input; that is bad input,
    // not a server fault.
    return refuse('malformed', `CSR could not be examined: ${(error as Error).message}`);
  }
}
