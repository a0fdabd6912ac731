// CRLs read with @peculiar/asn1-x509 (the ASN.1 schemas under @peculiar/x509) and checked with
// Node's crypto, synchronously. @peculiar/x509 2.0.0's X509Crl drops every revoked entry of a
// CRL without nextUpdate (optional in RFC 5280) and verifies asynchronously; a device's store
// validation is synchronous and must never miss a revoked entry. Signatures and names are
// checked on the bytes as they were received (asn1js keeps them): re-encoding a parsed
// structure need not give the same DER.
import { constants, verify, X509Certificate as NodeX509 } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { CertificateList, CRLNumber, Extensions, id_ce_cRLNumber } from '@peculiar/asn1-x509';
import * as asn1js from 'asn1js';
import { normalizeSerial, splitPemCrls } from './certificates.ts';

export interface ParsedCrl {
  /** DER of the issuer Name: names are compared as DER, as issuers encode them. */
  issuerDer: Buffer;
  /** Serials (normalized hex) of every revoked entry. */
  serials: Set<string>;
  thisUpdate: Date;
  nextUpdate: Date | undefined;
  /** RFC 5280 §5.2.3 cRLNumber, when the CRL has one: what tells a newer CRL from a replayed older one. */
  crlNumber: number | undefined;
  /** Whether `issuer`'s key made the CRL's signature. */
  signedBy(issuer: NodeX509): boolean;
}

/** Signature algorithm OIDs of CRLs the lab's CAs and step-ca write, with their Node digest. */
const ALGORITHMS: Record<string, { hash: string | null; pss?: boolean }> = {
  '1.2.840.10045.4.3.2': { hash: 'sha256' }, // ecdsa-with-SHA256
  '1.2.840.10045.4.3.3': { hash: 'sha384' },
  '1.2.840.10045.4.3.4': { hash: 'sha512' },
  '1.2.840.113549.1.1.11': { hash: 'sha256' }, // sha256WithRSAEncryption
  '1.2.840.113549.1.1.12': { hash: 'sha384' },
  '1.2.840.113549.1.1.13': { hash: 'sha512' },
  '1.2.840.113549.1.1.10': { hash: 'sha256', pss: true },
  '1.3.101.112': { hash: null }, // Ed25519
};

const time = (t: { getTime(): Date } | undefined) => t?.getTime();
/** DER tags of the TBSCertList elements told apart by their type ([0] EXPLICIT: crlExtensions). */
const [SEQUENCE, INTEGER, UTC_TIME, GENERALIZED_TIME, EXTENSIONS] = [0x30, 0x02, 0x17, 0x18, 0xa0];

/** The DER of each element of a SEQUENCE, as received. */
function elements(der: Uint8Array): Buffer[] {
  const parsed = asn1js.fromBER(der);
  if (parsed.offset === -1 || !(parsed.result instanceof asn1js.Sequence)) throw new Error('not a DER SEQUENCE');
  return parsed.result.valueBlock.value.map((element) => Buffer.from(element.valueBeforeDecodeView));
}

/** The serial (hex) of a revokedCertificates entry: its first element, an INTEGER. */
function serialOf(entry: Buffer): string {
  const serial = asn1js.fromBER(elements(entry)[0]!).result;
  if (!(serial instanceof asn1js.Integer)) throw new Error('a revoked entry without a serial');
  return Buffer.from(serial.valueBlock.valueHexView).toString('hex');
}

/** The cRLNumber among a TBSCertList's `[0] EXPLICIT Extensions`, as received. */
function crlNumberIn(explicitExtensions: Buffer | undefined): number | undefined {
  if (!explicitExtensions) return undefined;
  const wrapper = asn1js.fromBER(explicitExtensions).result;
  const inner = wrapper instanceof asn1js.Constructed ? wrapper.valueBlock.value[0] : undefined;
  if (!inner) throw new Error('crlExtensions without a SEQUENCE');
  const extension = AsnConvert.parse(Buffer.from(inner.valueBeforeDecodeView), Extensions).find((e) => e.extnID === id_ce_cRLNumber);
  return extension ? AsnConvert.parse(extension.extnValue, CRLNumber).value : undefined;
}

/** Every CRL in a PEM bundle ("X509 CRL" or "CRL" labels); throws on one that does not parse. */
export function parseCrls(pem: string): ParsedCrl[] {
  const blocks = splitPemCrls(pem);
  if (blocks.length === 0) throw new Error('no CRL block');
  return blocks.map((block) => {
    const body = Buffer.from(block.replace(/-----(BEGIN|END) (X509 )?CRL-----/g, '').replace(/\s+/g, ''), 'base64');
    const list = AsnConvert.parse(body, CertificateList);
    const tbs = list.tbsCertList;
    const algorithm = ALGORITHMS[list.signatureAlgorithm.algorithm];
    const signature = Buffer.from(list.signature);
    const signed = elements(body)[0]!;
    // TBSCertList: version INTEGER OPTIONAL, signature, issuer, thisUpdate, nextUpdate OPTIONAL,
    // revokedCertificates SEQUENCE OPTIONAL, [0] extensions. The schema parser misreads the
    // revoked list when nextUpdate is absent, so the list is taken from the elements themselves.
    const fields = elements(signed);
    let at = fields[0]![0] === INTEGER ? 1 : 0;
    const issuer = fields[at + 1]!;
    at += 3;
    if (fields[at]?.[0] === UTC_TIME || fields[at]?.[0] === GENERALIZED_TIME) at += 1;
    const revoked = fields[at]?.[0] === SEQUENCE ? elements(fields[at]!) : [];
    if (fields[at]?.[0] === SEQUENCE) at += 1;
    return {
      issuerDer: issuer,
      serials: new Set(revoked.map((entry) => normalizeSerial(serialOf(entry)))),
      thisUpdate: time(tbs.thisUpdate)!,
      nextUpdate: time(tbs.nextUpdate),
      crlNumber: crlNumberIn(fields[at]?.[0] === EXTENSIONS ? fields[at] : undefined),
      signedBy(issuer: NodeX509): boolean {
        if (!algorithm) return false;
        try {
          const key = algorithm.pss ? { key: issuer.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 } : issuer.publicKey;
          return verify(algorithm.hash, signed, key, signature);
        } catch {
          return false;
        }
      },
    };
  });
}

/** The DER of a certificate's issuer Name, to find the CRLs that speak for it. */
export function issuerDer(cert: NodeX509): Buffer {
  const fields = elements(elements(cert.raw)[0]!);
  // [0] version is optional (context tag 0xa0), then serialNumber, signature, issuer
  return fields[fields[0]![0] === 0xa0 ? 3 : 2]!;
}

