// The few DER encodings a certificate request needs (X.690): lengths, tags, object identifiers,
// strings. Small on purpose: the lab's CSRs have one fixed shape (csr.ts), and ASN.1 built in
// JavaScript object by object (@peculiar/x509) cost 2.5 ms a CSR, most of a device's CPU.
import { isIPv4, isIPv6 } from 'node:net';

/** A tag-length-value; `content` is the concatenation of the parts. */
export function tlv(tag: number, ...content: Uint8Array[]): Buffer {
  const body = Buffer.concat(content);
  const n = body.length;
  const length = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : n < 0x10000 ? [0x82, n >> 8, n & 0xff] : [0x83, n >> 16, (n >> 8) & 0xff, n & 0xff];
  return Buffer.concat([Buffer.from([tag, ...length]), body]);
}

export const sequence = (...parts: Uint8Array[]) => tlv(0x30, ...parts);
export const set = (...parts: Uint8Array[]) => tlv(0x31, ...parts);
export const nullValue = () => Buffer.from([0x05, 0x00]);
export const integerZero = () => Buffer.from([0x02, 0x01, 0x00]);
/** A BIT STRING of whole bytes (no unused bits). */
export const bitString = (bytes: Uint8Array) => tlv(0x03, Buffer.from([0]), bytes);
export const octetString = (bytes: Uint8Array) => tlv(0x04, bytes);

/** An OBJECT IDENTIFIER from its dotted form. */
export function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number);
  if (arcs.length < 2 || arcs.some((a) => !Number.isSafeInteger(a) || a < 0)) throw new Error(`"${dotted}" is not an object identifier`);
  const bytes: number[] = [];
  for (const arc of [arcs[0]! * 40 + arcs[1]!, ...arcs.slice(2)]) {
    const base128 = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) base128.unshift((v & 0x7f) | 0x80);
    bytes.push(...base128);
  }
  return tlv(0x06, Buffer.from(bytes));
}

/** PrintableString when the text fits its alphabet (as @peculiar/x509 and OpenSSL choose), UTF8String otherwise. */
export function directoryString(text: string): Buffer {
  return /^[A-Za-z0-9 '()+,\-./:=?]*$/.test(text) ? tlv(0x13, Buffer.from(text, 'ascii')) : tlv(0x0c, Buffer.from(text, 'utf8'));
}

/** The bytes of an IPv4 or IPv6 address, as an iPAddress GeneralName carries them. */
export function ipBytes(address: string): Buffer {
  if (isIPv4(address)) return Buffer.from(address.split('.').map(Number));
  if (!isIPv6(address)) throw new Error(`"${address}" is not an IP address`);
  const [head, tail = ''] = address.includes('::') ? address.split('::') : [address, undefined];
  const groups = (part: string | undefined) => (part ? part.split(':') : []);
  const h = groups(head);
  const t = groups(tail);
  const all = address.includes('::') ? [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t] : h;
  if (all.length !== 8) throw new Error(`"${address}" is not an IPv6 address this encoder takes (no embedded IPv4)`);
  return Buffer.from(all.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff]));
}
