// IP white list of the provisioning service (FR-PS-002). Entry forms follow the commercial DPS
// (seed 004 §2.3.2): 192.168.0.12, 192.168.1.0/24, 192.168.1.1-192.168.1.10,
// 192.168.1.16/255.255.255.240, plus their IPv6 counterparts. A single address may also name
// the identity its device is to hold (seed 000: the list "may need to state unique device
// identifier"): 192.168.0.12=RVS-0042.
import ipaddr from 'ipaddr.js';

type Address = ipaddr.IPv4 | ipaddr.IPv6;
export type AddressFamily = 'ipv4' | 'ipv6';
export type WhitelistEntryKind = 'single' | 'cidr' | 'range' | 'mask';

export interface WhitelistEntry {
  /** Exactly what the engineer typed, so error messages and the admin page can echo it. */
  readonly text: string;
  /** Canonical form of the same kind; duplicates are detected on it. */
  readonly normalized: string;
  readonly kind: WhitelistEntryKind;
  readonly family: AddressFamily;
  /** Lowest and highest address covered, canonical text. */
  readonly first: string;
  readonly last: string;
  /** The identity named for a single address ("address=identity"), if any. */
  readonly identity?: string;
}

export class WhitelistError extends Error {
  /** One message per invalid entry, each naming the entry. */
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(
      problems.length === 1
        ? problems[0]!
        : `${problems.length} invalid white list entries:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    );
    this.name = 'WhitelistError';
    this.problems = problems;
  }
}

const MAX_PREFIX: Record<AddressFamily, number> = { ipv4: 32, ipv6: 128 };
const LABEL: Record<AddressFamily, string> = { ipv4: 'IPv4', ipv6: 'IPv6' };

/**
 * Strict address parsing. ipaddr.parse also accepts legacy inet_aton forms ("127.1", "0x7f.0.0.1",
 * "010.0.0.1" read as octal, "2130706433"), which an engineer would not mean in a white list and
 * Node never reports as a peer address, so IPv4 must be four decimal octets.
 */
function parseStrict(text: string): Address | undefined {
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) return ipaddr.IPv4.parse(text);
  if (ipaddr.IPv6.isValid(text)) return ipaddr.IPv6.parse(text);
  return undefined;
}

/** `entryText` is the whole entry when `text` is only part of it, so the message names both. */
function parseAddress(text: string, entryText: string): Address {
  const context = entryText.trim() === text ? '' : `"${entryText}": `;
  const address = parseStrict(text);
  if (address === undefined) {
    const hint = ipaddr.IPv4.isValid(text) ? ' (IPv4 must be four decimal octets without leading zeros, e.g. 192.168.0.12)' : '';
    throw new WhitelistError([`${context}"${text}" is not a valid IPv4 or IPv6 address${hint}`]);
  }
  // A zone names an interface of one host; it has no meaning in a list of allowed sources.
  if (address.kind() === 'ipv6' && (address as ipaddr.IPv6).zoneId !== undefined) {
    throw new WhitelistError([`${context}"${text}" has an IPv6 zone id, which a white list cannot use`]);
  }
  return address;
}

export function formatAddress(address: Address): string {
  if (address.kind() === 'ipv6') {
    const v6 = address as ipaddr.IPv6;
    // Dotted form is what Node and the engineer show for mapped addresses, not ::ffff:7f00:5.
    return v6.isIPv4MappedAddress() ? `::ffff:${v6.toIPv4Address().toString()}` : v6.toRFC5952String();
  }
  return address.toString();
}

function toBigInt(address: Address): bigint {
  return address.toByteArray().reduce((value, byte) => (value << 8n) | BigInt(byte), 0n);
}

function networkBounds(address: Address, prefix: number): { first: Address; last: Address } {
  const cidr = `${address.toString()}/${prefix}`;
  const type = address.kind() === 'ipv4' ? ipaddr.IPv4 : ipaddr.IPv6;
  return { first: type.networkAddressFromCIDR(cidr), last: type.broadcastAddressFromCIDR(cidr) };
}

function entry(text: string, kind: WhitelistEntryKind, normalized: string, first: Address, last: Address): WhitelistEntry {
  return { text, kind, normalized, family: first.kind(), first: formatAddress(first), last: formatAddress(last) };
}

function parseRange(text: string, trimmed: string): WhitelistEntry {
  const parts = trimmed.split('-').map((p) => p.trim());
  if (parts.length !== 2 || !parts[0] || !parts[1]) {
    throw new WhitelistError([`range "${trimmed}" must be two addresses separated by one "-"`]);
  }
  const start = parseAddress(parts[0], trimmed);
  const end = parseAddress(parts[1], trimmed);
  if (start.kind() !== end.kind()) {
    throw new WhitelistError([`range "${trimmed}" mixes ${LABEL[start.kind()]} and ${LABEL[end.kind()]} addresses`]);
  }
  if (toBigInt(start) > toBigInt(end)) throw new WhitelistError([`range "${trimmed}" starts after it ends`]);
  return entry(text, 'range', `${formatAddress(start)}-${formatAddress(end)}`, start, end);
}

function parsePrefix(trimmed: string, address: Address, prefixText: string): number {
  const family = address.kind();
  if (!/^\d{1,3}$/.test(prefixText)) throw new WhitelistError([`"${trimmed}" has an invalid prefix length "/${prefixText}"`]);
  const prefix = Number(prefixText);
  if (prefix > MAX_PREFIX[family]) {
    throw new WhitelistError([`"${trimmed}" has prefix length /${prefix}, but ${LABEL[family]} allows 0-${MAX_PREFIX[family]}`]);
  }
  return prefix;
}

function parseMask(trimmed: string, address: Address, maskText: string): number {
  const mask = parseAddress(maskText, trimmed);
  if (mask.kind() !== address.kind()) {
    throw new WhitelistError([`"${trimmed}" combines an ${LABEL[address.kind()]} address with an ${LABEL[mask.kind()]} mask`]);
  }
  const prefix = mask.prefixLengthFromSubnetMask();
  if (prefix === null) throw new WhitelistError([`"${trimmed}": mask ${formatAddress(mask)} is not a contiguous netmask`]);
  return prefix;
}

function parseNetwork(text: string, trimmed: string): WhitelistEntry {
  const slash = trimmed.indexOf('/');
  const addressText = trimmed.slice(0, slash).trim();
  const suffix = trimmed.slice(slash + 1).trim();
  if (!addressText || !suffix || suffix.includes('/')) {
    throw new WhitelistError([`"${trimmed}" must be address/prefix or address/mask`]);
  }
  const address = parseAddress(addressText, trimmed);
  const isMask = suffix.includes('.') || suffix.includes(':');
  const prefix = isMask ? parseMask(trimmed, address, suffix) : parsePrefix(trimmed, address, suffix);
  // Host bits are cleared rather than refused (as routers and firewalls do); the normalized form
  // shows the engineer the network that is actually allowed.
  const { first, last } = networkBounds(address, prefix);
  if (!isMask) return entry(text, 'cidr', `${formatAddress(first)}/${prefix}`, first, last);
  const type = address.kind() === 'ipv4' ? ipaddr.IPv4 : ipaddr.IPv6;
  return entry(text, 'mask', `${formatAddress(first)}/${formatAddress(type.subnetMaskFromPrefixLength(prefix))}`, first, last);
}

/** The identity part of "address=identity": what a certificate CN and an MQTT topic level can carry. */
const NAMED_IDENTITY = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

function parseNamedEntry(text: string, trimmed: string): WhitelistEntry {
  const [addressText = '', identity = '', ...rest] = trimmed.split('=').map((p) => p.trim());
  if (rest.length > 0 || !addressText || !identity) throw new WhitelistError([`"${trimmed}" must be address=identity with one "="`]);
  if (!NAMED_IDENTITY.test(identity)) {
    throw new WhitelistError([`"${trimmed}": "${identity}" is not an identity (1-64 letters, digits, ".", "_" or "-", starting with a letter or digit)`]);
  }
  const address = parseWhitelistEntry(addressText);
  if (address.kind !== 'single') throw new WhitelistError([`"${trimmed}": an identity can be named for a single address only, not for a ${address.kind}`]);
  return { ...address, text, normalized: `${address.normalized}=${identity}`, identity };
}

export function parseWhitelistEntry(text: string): WhitelistEntry {
  const trimmed = text.trim();
  if (trimmed === '') throw new WhitelistError(['white list entry is empty']);
  if (trimmed.includes('=')) return parseNamedEntry(text, trimmed);
  if (trimmed.includes('/')) return parseNetwork(text, trimmed);
  if (trimmed.includes('-')) return parseRange(text, trimmed);
  const address = parseAddress(trimmed, text);
  return entry(text, 'single', formatAddress(address), address, address);
}

interface CompiledEntry {
  entry: WhitelistEntry;
  first: bigint;
  last: bigint;
}

export class Whitelist {
  static readonly empty = new Whitelist([]);

  /** Parsed entries, duplicates removed, in the order given. */
  readonly parsedEntries: readonly WhitelistEntry[];
  readonly #compiled: readonly CompiledEntry[];

  /** Use parseWhitelist; this trusts that the entries came from parseWhitelistEntry. */
  constructor(entries: readonly WhitelistEntry[]) {
    this.parsedEntries = Object.freeze([...entries]);
    this.#compiled = entries.map((e) => ({
      entry: e,
      first: toBigInt(ipaddr.parse(e.first)),
      last: toBigInt(ipaddr.parse(e.last)),
    }));
  }

  /** Normalized text of every entry, ready to show or persist. */
  get entries(): string[] {
    return this.parsedEntries.map((e) => e.normalized);
  }

  get size(): number {
    return this.parsedEntries.length;
  }

  /** The first entry covering the address, or undefined; unparsable addresses never match. */
  match(address: string | undefined): WhitelistEntry | undefined {
    if (address === undefined) return undefined;
    const parsed = parseStrict(address.trim());
    if (parsed === undefined) return undefined;
    // Node reports IPv4 clients of a dual-stack socket as ::ffff:a.b.c.d: the plain and the mapped
    // form are the same client, whichever form the entry or the socket uses.
    const candidates: Address[] = [parsed];
    if (parsed.kind() === 'ipv4') candidates.push((parsed as ipaddr.IPv4).toIPv4MappedAddress());
    else if ((parsed as ipaddr.IPv6).isIPv4MappedAddress()) candidates.push((parsed as ipaddr.IPv6).toIPv4Address());
    for (const candidate of candidates) {
      const family = candidate.kind();
      const value = toBigInt(candidate);
      const hit = this.#compiled.find((c) => c.entry.family === family && c.first <= value && value <= c.last);
      if (hit) return hit.entry;
    }
    return undefined;
  }

  matches(address: string | undefined): boolean {
    return this.match(address) !== undefined;
  }

  /** The address an entry names this identity for, if any. */
  namedAddress(identity: string): string | undefined {
    return this.parsedEntries.find((e) => e.identity !== undefined && e.identity.toLowerCase() === identity.toLowerCase())?.first;
  }

  /** The identity an entry names for exactly this address, if any. */
  namedIdentity(address: string | undefined): string | undefined {
    if (address === undefined) return undefined;
    const parsed = parseStrict(address.trim());
    if (parsed === undefined) return undefined;
    const text = formatAddress(parsed);
    return this.parsedEntries.find((e) => e.identity !== undefined && e.first === text)?.identity;
  }
}

/** Parses every entry and reports all invalid ones in one error, so the engineer fixes them at once. */
export function parseWhitelist(entries: readonly string[]): Whitelist {
  const problems: string[] = [];
  const parsed: WhitelistEntry[] = [];
  const seen = new Set<string>();
  const namedAddresses = new Map<string, string>();
  const namedIdentities = new Map<string, string>();
  entries.forEach((text, index) => {
    try {
      const e = parseWhitelistEntry(text);
      if (e.identity !== undefined) {
        const forAddress = namedAddresses.get(e.first);
        const forIdentity = namedIdentities.get(e.identity.toLowerCase());
        if (forAddress !== undefined && forAddress !== e.identity) throw new WhitelistError([`"${text.trim()}": ${e.first} is already named ${forAddress}`]);
        if (forIdentity !== undefined && forIdentity !== e.first) throw new WhitelistError([`"${text.trim()}": ${e.identity} is already named for ${forIdentity}`]);
        namedAddresses.set(e.first, e.identity);
        namedIdentities.set(e.identity.toLowerCase(), e.first);
      }
      if (!seen.has(e.normalized)) {
        seen.add(e.normalized);
        parsed.push(e);
      }
    } catch (error) {
      if (!(error instanceof WhitelistError)) throw error;
      problems.push(...error.problems.map((p) => (text.trim() === '' ? `entry ${index + 1}: ${p}` : p)));
    }
  });
  if (problems.length > 0) throw new WhitelistError(problems);
  return new Whitelist(parsed);
}
