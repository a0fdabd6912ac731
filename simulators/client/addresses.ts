// The source addresses of the simulated clients. Servers see real, distinct source addresses:
// the provisioning service white-lists them, and a device's ACME identifier is its address, so
// the bootstrap CA validates http-01 on it. By default every client gets its own loopback address
// (Linux routes all of 127.0.0.0/8 to lo; 127.0.0.x stays free for the lab's services). A
// configured IPv4 block (a target's `clients.addresses`, `ecm-lab load --client-addresses`) puts
// the clients on addresses a remote installation can reach; a /32 is one address every client
// shares (a pod has one IP).
import os from 'node:os';
import ipaddr from 'ipaddr.js';

const FIRST_OCTET = 10;
const PER_WORKER = 1 << 16;

/** The address of client number `index` (0-based) of cucumber worker / segment `worker`: the default plan. */
export function loopbackAddress(index: number, worker = 0): string {
  if (!Number.isInteger(index) || index < 0 || index >= PER_WORKER) throw new RangeError(`client index ${index} is outside 0..${PER_WORKER - 1}`);
  // 254 hosts per /24 keeps .0 and .255 out of use, which some tools treat specially.
  const second = Math.floor(index / (254 * 256));
  const rest = index % (254 * 256);
  const third = Math.floor(rest / 254);
  const fourth = (rest % 254) + 1;
  const octet = FIRST_OCTET + worker * 2 + second;
  if (octet > 254) throw new RangeError(`worker ${worker} is beyond the loopback range`);
  return `127.${octet}.${third}.${fourth}`;
}

export class AddressPlanError extends Error {
  override name = 'AddressPlanError';
}

const toNumber = (a: ipaddr.IPv4) => a.toByteArray().reduce((n, b) => n * 256 + b, 0);
const toText = (n: number) => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
const usableOctet = (n: number) => n % 256 !== 0 && n % 256 !== 255;

/** Parses "a.b.c.d/p" (four decimal octets, as the white list requires); host bits must be clear. */
function parseBlock(cidr: string): { base: number; prefix: number } {
  const [address = '', prefixText, ...rest] = cidr.trim().split('/');
  if (rest.length > 0 || prefixText === undefined || !/^\d{1,2}$/.test(prefixText) || !ipaddr.IPv4.isValidFourPartDecimal(address)) {
    throw new AddressPlanError(`"${cidr}" is not an IPv4 CIDR block (e.g. 127.77.0.0/16, or 10.1.2.3/32 for one address)`);
  }
  if (Number(prefixText) > 32) throw new AddressPlanError(`"${cidr}": an IPv4 prefix is /0 to /32`);
  const [parsed, prefix] = ipaddr.IPv4.parseCIDR(`${address}/${prefixText}`);
  const base = toNumber(ipaddr.IPv4.networkAddressFromCIDR(`${address}/${prefix}`));
  if (base !== toNumber(parsed)) throw new AddressPlanError(`"${cidr}" has host bits set: the block is ${toText(base)}/${prefix}`);
  return { base, prefix };
}

/** One worker's share of a configured block: its first address and how many it spans. */
interface Share {
  base: number;
  size: number;
}

/** The offsets of a share that a client may use: .0 and .255 are left out, as the default plan does. */
function usableCount(share: Share): number {
  if (share.size === 1) return 1;
  if (share.size >= 256) return (share.size / 256) * 254;
  return Array.from({ length: share.size }, (_, i) => share.base + i).filter(usableOctet).length;
}

function usableAt(share: Share, i: number): number {
  if (share.size === 1) return share.base;
  if (share.size >= 256) return share.base + Math.floor(i / 254) * 256 + (i % 254) + 1;
  let seen = -1;
  for (let n = share.base; n < share.base + share.size; n++) if (usableOctet(n) && ++seen === i) return n;
  throw new RangeError(`offset ${i} is outside the block`);
}

export interface AddressPlanOptions {
  /** Parallel workers that share the block (cucumber workers): each gets an equal part of it. */
  workers?: number;
  /** Addresses kept for applications at the top of each part (one per load segment). */
  applications?: number;
}

/**
 * Hands out client addresses by (worker, index), a worker's white-list range and its
 * applications' addresses. Without a block it is the default loopback plan, address for address.
 */
export class AddressPlan {
  static readonly default = new AddressPlan(undefined, {});

  /** The configured block in canonical form; undefined for the default plan. */
  readonly block: string | undefined;
  /** Every client (and the application) shares one address. */
  readonly shared: boolean;
  /** On 127.0.0.0/8: always bindable on Linux, and never reaches another host. */
  readonly loopback: boolean;
  readonly #shares: Share[];
  readonly #applications: number;

  private constructor(cidr: string | undefined, options: AddressPlanOptions) {
    this.#applications = options.applications ?? 1;
    if (cidr === undefined) {
      this.block = undefined;
      this.shared = false;
      this.loopback = true;
      this.#shares = [];
      return;
    }
    const { base, prefix } = parseBlock(cidr);
    const size = 2 ** (32 - prefix);
    const workers = Math.max(1, options.workers ?? 1);
    this.block = `${toText(base)}/${prefix}`;
    this.shared = size === 1;
    this.loopback = ipaddr.IPv4.parse(toText(base)).range() === 'loopback' && ipaddr.IPv4.parse(toText(base + size - 1)).range() === 'loopback';
    // Parts of equal, aligned size (each its own CIDR block, a white-list entry); a /32 is one
    // address every worker shares.
    const parts = this.shared ? 1 : 2 ** Math.ceil(Math.log2(workers));
    const part = size / parts;
    if (!this.shared && part < 2) throw new AddressPlanError(`${this.block} holds ${size} addresses: too few for ${workers} parallel workers (each needs a part of at least 2)`);
    this.#shares = Array.from({ length: parts }, (_, w) => ({ base: base + w * part, size: part }));
  }

  /** The default plan when `cidr` is undefined. Throws AddressPlanError naming what is wrong. */
  static fromCidr(cidr: string | undefined, options: AddressPlanOptions = {}): AddressPlan {
    return cidr === undefined ? new AddressPlan(undefined, options) : new AddressPlan(cidr, options);
  }

  #share(worker: number): Share {
    const share = this.shared ? this.#shares[0] : this.#shares[worker];
    if (!share) throw new RangeError(`worker ${worker} has no part of ${this.block} (${this.#shares.length} parts)`);
    return share;
  }

  /** How many clients (besides the applications) one worker can have. */
  capacity(worker = 0): number {
    if (this.block === undefined) return PER_WORKER - 1;
    if (this.shared) return Number.POSITIVE_INFINITY;
    return Math.max(0, usableCount(this.#share(worker)) - this.#applications);
  }

  /** Throws AddressPlanError when `clients` do not fit in a worker's part. */
  requireCapacity(clients: number, worker = 0): void {
    const capacity = this.capacity(worker);
    if (clients > capacity) {
      const what = this.#shares.length > 1 ? `worker ${worker}'s part of ${this.block}` : `${this.block}`;
      throw new AddressPlanError(`${what} holds ${capacity} client addresses (besides ${this.#applications} for applications; .0 and .255 are never used): ${clients} clients need a larger block`);
    }
  }

  /** The address of client `index` (0-based) of `worker`. */
  address(index: number, worker = 0): string {
    if (this.block === undefined) return loopbackAddress(index, worker);
    if (!Number.isInteger(index) || index < 0) throw new RangeError(`client index ${index} is not a non-negative integer`);
    if (this.shared) return toText(this.#shares[0]!.base);
    this.requireCapacity(index + 1, worker);
    return toText(usableAt(this.#share(worker), index));
  }

  /** The CIDR block holding every address the plan gives a worker: a white list entry. */
  workerRange(worker = 0): string {
    if (this.block === undefined) return `127.${FIRST_OCTET + worker * 2}.0.0/15`;
    const share = this.#share(worker);
    return `${toText(share.base)}/${32 - Math.log2(share.size)}`;
  }

  /**
   * Application `n`'s address in a worker's part: always the same one, so that a re-provisioned
   * application is recognised as the same host (its white-list entry names it).
   */
  applicationAddress(worker = 0, n = 0): string {
    if (this.block === undefined) return loopbackAddress(PER_WORKER - 1 - n, worker);
    if (this.shared) return toText(this.#shares[0]!.base);
    const share = this.#share(worker);
    const usable = usableCount(share);
    if (n >= this.#applications || n >= usable) throw new RangeError(`application ${n} has no address in ${this.workerRange(worker)}`);
    return toText(usableAt(share, usable - 1 - n));
  }

  /** Whether an address is one this plan hands out (any worker's part); loopback's for the default plan. */
  contains(address: string): boolean {
    const plain = address.startsWith('::ffff:') ? address.slice(7) : address;
    if (!ipaddr.IPv4.isValidFourPartDecimal(plain)) return false;
    if (this.block === undefined) return plain.startsWith('127.');
    const n = toNumber(ipaddr.IPv4.parse(plain));
    return this.#shares.some((s) => n >= s.base && n < s.base + s.size);
  }
}

/** Where the plan came from, for messages: the key or option that named it, and the flag that allows a remote block. */
export interface PlanSource {
  name: string;
  /** What lets a block outside 127.0.0.0/8 be used, as the user writes it. */
  remoteFlag: string;
}

/**
 * A plan this host can use: outside loopback only when the installation is remote (`allowRemote`),
 * and then every address it hands out (`clients` of them, or the whole block) must be on an
 * interface of this host. One line naming the key or option on failure.
 */
export function checkAddressPlan(plan: AddressPlan, source: PlanSource, options: { allowRemote: boolean; clients?: number; interfaces?: NodeJS.Dict<os.NetworkInterfaceInfo[]> }): void {
  if (plan.block === undefined || plan.loopback) {
    if (options.clients !== undefined) requireOrName(plan, source, options.clients);
    return;
  }
  if (!options.allowRemote) throw new AddressPlanError(`${source.name}: ${plan.block} is outside 127.0.0.0/8: ${source.remoteFlag}`);
  if (options.clients !== undefined) requireOrName(plan, source, options.clients);
  const own = new Set(Object.values(options.interfaces ?? os.networkInterfaces()).flatMap((list) => (list ?? []).filter((i) => i.family === 'IPv4').map((i) => i.address)));
  const missing = firstMissing(plan, options.clients, own);
  if (missing !== undefined) throw new AddressPlanError(`${source.name}: ${missing} (of ${plan.block}) is not an address of this host: assign it to an interface (its IPv4 addresses: ${[...own].join(', ') || 'none'})`);
}

/** The first address the plan hands out (`clients` of them, or all) that the host does not have; the search stops there. */
function firstMissing(plan: AddressPlan, clients: number | undefined, own: Set<string>): string | undefined {
  if (plan.shared) return own.has(plan.address(0)) ? undefined : plan.address(0);
  const count = Math.min(clients ?? plan.capacity(), plan.capacity());
  for (let i = 0; i < count; i++) if (!own.has(plan.address(i))) return plan.address(i);
  return own.has(plan.applicationAddress()) ? undefined : plan.applicationAddress();
}

function requireOrName(plan: AddressPlan, source: PlanSource, clients: number): void {
  try {
    plan.requireCapacity(clients);
  } catch (err) {
    throw new AddressPlanError(`${source.name}: ${(err as Error).message}`);
  }
}
