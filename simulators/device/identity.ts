// Reproducible identities for simulated Reveos fleets. A device's id and serial number depend
// only on (seed, index), so a fleet split into segments (offset ranges, run by separate
// processes or machines) gets the same devices as one big run, and no two segments share an id:
// ids are a keyed permutation of the index, not random draws that could collide.
import { Faker, base, en } from '@faker-js/faker';
import type { DeviceIdentity } from './device-identity.ts';

export const REVEOS_MODELS = ['Reveos R1', 'Reveos R2', 'Reveos R2 Plus'] as const;

/** Version -> percentage of the fleet, e.g. { '2.1': 70, '2.0': 20, '1.4': 10 }. */
export type FirmwareMix = Record<string, number>;

export const DEFAULT_FIRMWARE_MIX: FirmwareMix = { '2.1': 100 };

export interface GenerateIdentitiesOptions {
  count: number;
  seed: number;
  /** Exact per call: each call (each segment) holds the mix, rounded by largest remainder. */
  firmwareMix?: FirmwareMix;
  /** Index of the first device; segments [offset, offset + count) never share ids. */
  offset?: number;
}

export class IdentityError extends Error {
  override name = 'IdentityError';
}

const ID_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const ID_LENGTH = 8;
const ID_SPACE = 36 ** ID_LENGTH; // 2.8e12
const SERIAL_DIGITS = 8;
const SERIAL_SPACE = 10 ** SERIAL_DIGITS;
/** The serial number's space is the smaller one: beyond it serials would repeat. */
export const MAX_IDENTITIES = SERIAL_SPACE;
const FAKER_BLOCK = 256;

// --- keyed permutation: a 4-round balanced Feistel network with cycle walking ----------------

function mix32(x: number): number {
  // murmur3's finalizer: enough diffusion for ids that should look unrelated, not cryptography.
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

function roundKeys(seed: number, purpose: number): number[] {
  const keys: number[] = [];
  let k = mix32((seed | 0) ^ mix32(Math.floor(seed / 2 ** 32) ^ purpose));
  for (let i = 0; i < 4; i++) keys.push((k = mix32(k + 0x9e3779b9 + i)));
  return keys;
}

/** A bijection of [0, space) onto itself; space < 2^52. */
function permute(index: number, space: number, keys: number[]): number {
  // Halves just wide enough for the space, so cycle walking takes fewer than 4 rounds on average.
  const halfBits = Math.ceil(Math.log2(space) / 2);
  const half = 2 ** halfBits;
  const mask = half - 1;
  let v = index;
  do {
    let left = Math.floor(v / half);
    let right = v % half;
    for (const key of keys) {
      const next = left ^ (mix32(right ^ key) & mask);
      left = right;
      right = next;
    }
    v = left * half + right;
  } while (v >= space); // the walk stays on the cycle of index and ends inside [0, space)
  return v;
}

function base36(value: number, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) {
    out = ID_ALPHABET[value % 36]! + out;
    value = Math.floor(value / 36);
  }
  return out;
}

// --- firmware -------------------------------------------------------------------------------

const VERSION = /^\d+\.\d+$/;

export function validateFirmwareMix(mix: FirmwareMix): FirmwareMix {
  const entries = Object.entries(mix);
  if (entries.length === 0) throw new IdentityError('firmware mix is empty: give at least one version:percentage');
  for (const [version, pct] of entries) {
    if (!VERSION.test(version)) throw new IdentityError(`firmware version "${version}" must look like N.N (e.g. 2.1)`);
    if (!(Number.isFinite(pct) && pct >= 0)) throw new IdentityError(`percentage of firmware ${version} must be a number >= 0, got ${pct}`);
  }
  const sum = entries.reduce((s, [, pct]) => s + pct, 0);
  if (Math.abs(sum - 100) > 1e-9) throw new IdentityError(`firmware percentages sum to ${+sum.toFixed(6)}, must be 100`);
  return mix;
}

/** Parses "2.1:70,2.0:20,1.4:10" (CLI and environment form). */
export function parseFirmwareMix(text: string): FirmwareMix {
  const mix: FirmwareMix = {};
  const parts = text.split(',').map((p) => p.trim());
  if (text.trim() === '') throw new IdentityError('firmware mix is empty: expected e.g. "2.1:70,2.0:20,1.4:10"');
  for (const part of parts) {
    const match = /^([^:\s]+)\s*:\s*([^:\s]+)$/.exec(part);
    if (!match) throw new IdentityError(`firmware mix entry "${part}" must be version:percentage, e.g. 2.1:70`);
    const [, version, pctText] = match as unknown as [string, string, string];
    if (!VERSION.test(version)) throw new IdentityError(`firmware version "${version}" must look like N.N (e.g. 2.1)`);
    if (!/^\d+(\.\d+)?$/.test(pctText)) throw new IdentityError(`percentage "${pctText}" of firmware ${version} must be a non-negative number such as 70 or 33.3`);
    if (version in mix) throw new IdentityError(`firmware version ${version} appears twice`);
    mix[version] = Number(pctText);
  }
  return validateFirmwareMix(mix);
}

/** Per-version device counts for `count` devices: floors, then the largest remainders get the rest. */
export function firmwareCounts(mix: FirmwareMix, count: number): Array<[string, number]> {
  const entries = Object.entries(validateFirmwareMix(mix));
  const quotas = entries.map(([version, pct], order) => ({ version, order, exact: (count * pct) / 100, n: Math.floor((count * pct) / 100) }));
  let left = count - quotas.reduce((s, q) => s + q.n, 0);
  // Ties go to the version listed first, so the result never depends on sort stability.
  for (const q of [...quotas].sort((a, b) => b.exact - b.n - (a.exact - a.n) || a.order - b.order)) {
    if (left-- <= 0) break;
    q.n += 1;
  }
  return quotas.map((q) => [q.version, q.n]);
}

// --- identities -----------------------------------------------------------------------------

function checkCount(name: string, value: number): void {
  if (!(Number.isSafeInteger(value) && value >= 0)) throw new IdentityError(`${name} must be an integer >= 0, got ${value}`);
}

export function generateIdentities(options: GenerateIdentitiesOptions): DeviceIdentity[] {
  const { count, seed } = options;
  const offset = options.offset ?? 0;
  checkCount('count', count);
  checkCount('offset', offset);
  if (!Number.isSafeInteger(seed)) throw new IdentityError(`seed must be an integer, got ${seed}`);
  if (offset + count > MAX_IDENTITIES) throw new IdentityError(`offset + count must not exceed ${MAX_IDENTITIES} (got ${offset + count})`);

  const faker = new Faker({ locale: [en, base] });
  const idKeys = roundKeys(seed, 1);
  const serialKeys = roundKeys(seed, 2);
  const seedWords = [seed >>> 0, Math.floor(seed / 2 ** 32) >>> 0];

  const firmware = firmwareCounts(options.firmwareMix ?? DEFAULT_FIRMWARE_MIX, count).flatMap(([v, n]) => Array<string>(n).fill(v));
  faker.seed([...seedWords, offset, count, 0x5eed]); // never the same array as a block seed
  const shuffled = faker.helpers.shuffle(firmware);

  // Reseeding faker is costly (~60 µs), so it is seeded once per block of indexes and drawn in
  // order from the block start: a device's fields still depend on (seed, index) alone.
  const plate = () => ({
    model: faker.helpers.arrayElement(REVEOS_MODELS),
    // Manufacturing year and week as on a type plate; uniqueness comes from the permuted digits.
    year: faker.number.int({ min: 18, max: 25 }),
    week: faker.number.int({ min: 1, max: 52 }),
  });
  let block = -1;
  return Array.from({ length: count }, (_, i) => {
    const index = offset + i;
    if (Math.floor(index / FAKER_BLOCK) !== block) {
      block = Math.floor(index / FAKER_BLOCK);
      faker.seed([...seedWords, block]);
      for (let skipped = block * FAKER_BLOCK; skipped < index; skipped++) plate();
    }
    const { model, year, week } = plate();
    const digits = String(permute(index, SERIAL_SPACE, serialKeys)).padStart(SERIAL_DIGITS, '0');
    return {
      deviceId: `RVS-${base36(permute(index, ID_SPACE, idKeys), ID_LENGTH)}`,
      serialNumber: `SN${year}${String(week).padStart(2, '0')}-${digits}`,
      model,
      firmwareVersion: shuffled[i]!,
    };
  });
}
