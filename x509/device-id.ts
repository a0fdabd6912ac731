// Seed 003's device binding: the device id in an otherName SAN (`otherName.1 =
// 1.3.6.1.4.1.12345.1.1;UTF8:<id>`). Read with @peculiar/asn1-x509, because Node's
// X509Certificate.subjectAltName prints an otherName of an unknown OID as "<unsupported>".
import { X509Certificate } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate, GeneralName, id_ce_subjectAltName, OtherName as AsnOtherName, SubjectAlternativeName } from '@peculiar/asn1-x509';
import { x509 } from './x509.ts';

/** Seed 003's OID (a private enterprise arc of the example's); configurable as trust.deviceIdOid. */
export const DEVICE_ID_OID = '1.3.6.1.4.1.12345.1.1';

export interface OtherName {
  oid: string;
  /** The value's text when it is a UTF8String (what the seed specifies); undefined for any other ASN.1 type. */
  value: string | undefined;
}

/** The inner value of an otherName ([0] EXPLICIT ANY): a UTF8String (tag 12) gives its text. */
function utf8Value(der: Uint8Array): string | undefined {
  if (der[0] !== 0x0c || der.length < 2) return undefined;
  let length = der[1]!;
  let offset = 2;
  if (length & 0x80) {
    const bytes = length & 0x7f;
    if (bytes === 0 || bytes > 3 || der.length < 2 + bytes) return undefined;
    length = 0;
    for (let i = 0; i < bytes; i++) length = (length << 8) | der[2 + i]!;
    offset = 2 + bytes;
  }
  if (offset + length !== der.length) return undefined;
  return Buffer.from(der.subarray(offset, offset + length)).toString('utf8');
}

/** Every otherName SAN of a certificate (PEM, first block, or DER). */
export function otherNames(certificate: string | Uint8Array): OtherName[] {
  const der = new Uint8Array(new X509Certificate(typeof certificate === 'string' ? certificate : Buffer.from(certificate)).raw);
  const cert = AsnConvert.parse(der, Certificate);
  const extension = cert.tbsCertificate.extensions?.find((e) => e.extnID === id_ce_subjectAltName);
  if (!extension) return [];
  const names = AsnConvert.parse(extension.extnValue.buffer, SubjectAlternativeName);
  return Array.from(names).flatMap((n) => (n.otherName ? [{ oid: n.otherName.typeId, value: utf8Value(new Uint8Array(n.otherName.value)) }] : []));
}

/** The device ids a certificate carries under `oid` (seed 003: exactly one, equal to its CN). */
export function deviceIdsOf(certificate: string | Uint8Array, oid: string = DEVICE_ID_OID): (string | undefined)[] {
  return otherNames(certificate).filter((n) => n.oid === oid).map((n) => n.value);
}

/** A DER UTF8String. */
function utf8Der(text: string): ArrayBuffer {
  const bytes = Buffer.from(text, 'utf8');
  const length = bytes.length < 0x80 ? [bytes.length] : bytes.length < 0x100 ? [0x81, bytes.length] : [0x82, bytes.length >> 8, bytes.length & 0xff];
  return new Uint8Array([0x0c, ...length, ...bytes]).buffer;
}

/**
 * A SAN extension with URIs and otherNames (UTF8String values), which @peculiar/x509's JSON names
 * cannot express for an arbitrary OID: for certificates a scenario makes on purpose.
 */
export function subjectAltNameWithOtherNames(names: { dnsNames?: string[]; uris?: string[]; otherNames: { oid: string; utf8: string }[] }): x509.Extension {
  const asn = new SubjectAlternativeName([
    ...(names.dnsNames ?? []).map((dNSName) => new GeneralName({ dNSName })),
    ...(names.uris ?? []).map((uniformResourceIdentifier) => new GeneralName({ uniformResourceIdentifier })),
    ...names.otherNames.map((o) => new GeneralName({ otherName: new AsnOtherName({ typeId: o.oid, value: utf8Der(o.utf8) }) })),
  ]);
  return new x509.Extension(id_ce_subjectAltName, false, AsnConvert.serialize(asn));
}
