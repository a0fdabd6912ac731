import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  firmwareCounts,
  generateIdentities,
  IdentityError,
  MAX_IDENTITIES,
  parseFirmwareMix,
  REVEOS_MODELS,
  validateFirmwareMix,
  type FirmwareMix,
} from '../../../simulators/device/identity.ts';

const MIX = { '2.1': 70, '2.0': 20, '1.4': 10 };
const tally = (values: string[]) => values.reduce<Record<string, number>>((t, v) => ({ ...t, [v]: (t[v] ?? 0) + 1 }), {});

describe('generateIdentities', () => {
  test('ids, serial numbers and models have the documented shape', () => {
    const ids = generateIdentities({ count: 500, seed: 7 });
    for (const d of ids) {
      assert.match(d.deviceId, /^RVS-[0-9A-Z]{8}$/);
      assert.match(d.serialNumber, /^SN(1[89]|2[0-5])(0[1-9]|[1-4]\d|5[0-2])-\d{8}$/);
      assert.ok((REVEOS_MODELS as readonly string[]).includes(d.model));
      assert.equal(d.firmwareVersion, '2.1', 'default mix: all current firmware');
    }
    assert.equal(Object.keys(tally(ids.map((d) => d.model))).length, REVEOS_MODELS.length, 'every model occurs');
  });

  test('the same seed gives the same identities; another seed gives other ones', () => {
    const a = generateIdentities({ count: 300, seed: 42, firmwareMix: MIX });
    assert.deepEqual(generateIdentities({ count: 300, seed: 42, firmwareMix: MIX }), a);
    const b = generateIdentities({ count: 300, seed: 43, firmwareMix: MIX });
    const shared = new Set(a.map((d) => d.deviceId));
    assert.equal(b.filter((d) => shared.has(d.deviceId)).length, 0);
    assert.notDeepEqual(b.map((d) => d.firmwareVersion), a.map((d) => d.firmwareVersion), 'the shuffle depends on the seed');
  });

  test('ids and serial numbers are unique within a large fleet', () => {
    const ids = generateIdentities({ count: 20_000, seed: 1 });
    assert.equal(new Set(ids.map((d) => d.deviceId)).size, 20_000);
    assert.equal(new Set(ids.map((d) => d.serialNumber.slice(-8))).size, 20_000);
  });

  test('segments (offset ranges) are disjoint and reproduce the devices of one big run', () => {
    const whole = generateIdentities({ count: 1000, seed: 9 });
    const first = generateIdentities({ count: 400, seed: 9, offset: 0 });
    const second = generateIdentities({ count: 600, seed: 9, offset: 400 });
    const firstIds = new Set(first.map((d) => d.deviceId));
    assert.equal(second.filter((d) => firstIds.has(d.deviceId)).length, 0);
    const strip = ({ firmwareVersion: _, ...rest }: { firmwareVersion: string; deviceId: string; serialNumber: string; model: string }) => rest;
    assert.deepEqual([...first, ...second].map(strip), whole.map(strip));
    // An offset in the middle of a faker block gives the same plate fields too.
    assert.deepEqual(generateIdentities({ count: 3, seed: 9, offset: 257 }).map(strip), whole.slice(257, 260).map(strip));
  });

  test('the firmware mix is matched exactly and shuffled', () => {
    const ids = generateIdentities({ count: 1000, seed: 3, firmwareMix: MIX });
    assert.deepEqual(tally(ids.map((d) => d.firmwareVersion)), { '2.1': 700, '2.0': 200, '1.4': 100 });
    const firstHundred = tally(ids.slice(0, 100).map((d) => d.firmwareVersion));
    assert.equal(Object.keys(firstHundred).length, 3, 'not in blocks: the first 100 devices mix all versions');
    assert.ok(ids.slice(0, 700).some((d) => d.firmwareVersion !== '2.1'));
  });

  test('each segment holds the mix on its own (largest remainder rounding)', () => {
    const ids = generateIdentities({ count: 7, seed: 3, offset: 1000, firmwareMix: MIX });
    assert.deepEqual(tally(ids.map((d) => d.firmwareVersion)), { '2.1': 5, '2.0': 1, '1.4': 1 });
  });

  test('count 0 is an empty fleet; invalid counts, offsets and seeds are refused', () => {
    assert.deepEqual(generateIdentities({ count: 0, seed: 1 }), []);
    assert.throws(() => generateIdentities({ count: -1, seed: 1 }), /count must be an integer >= 0, got -1/);
    assert.throws(() => generateIdentities({ count: 1.5, seed: 1 }), /count must be an integer/);
    assert.throws(() => generateIdentities({ count: 1, seed: 1, offset: -3 }), /offset must be an integer >= 0, got -3/);
    assert.throws(() => generateIdentities({ count: 1, seed: 0.5 }), /seed must be an integer, got 0\.5/);
    assert.throws(() => generateIdentities({ count: 2, seed: 1, offset: MAX_IDENTITIES - 1 }), (e: unknown) => e instanceof IdentityError && /must not exceed 100000000/.test(e.message));
    assert.throws(() => generateIdentities({ count: 10, seed: 1, firmwareMix: { '2.1': 50 } }), /sum to 50, must be 100/);
  });

  test('negative and large seeds work and differ', () => {
    const a = generateIdentities({ count: 5, seed: -1 });
    const b = generateIdentities({ count: 5, seed: 2 ** 40 + 1 });
    assert.deepEqual(generateIdentities({ count: 5, seed: -1 }), a);
    assert.notDeepEqual(a.map((d) => d.deviceId), b.map((d) => d.deviceId));
  });
});

describe('firmware mix', () => {
  test('parses the CLI form, whitespace allowed', () => {
    assert.deepEqual(parseFirmwareMix('2.1:70,2.0:20,1.4:10'), MIX);
    assert.deepEqual(parseFirmwareMix(' 2.1 : 33.3, 2.0:33.3 ,1.3:33.4 '), { '2.1': 33.3, '2.0': 33.3, '1.3': 33.4 });
    assert.deepEqual(parseFirmwareMix('2.1:100'), { '2.1': 100 });
  });

  test('precise errors', () => {
    const cases: Array<[string, RegExp]> = [
      ['', /firmware mix is empty/],
      ['2.1:70,2.0:20', /firmware percentages sum to 90, must be 100/],
      ['2.1:70,2.0:40', /sum to 110/],
      ['2.1=70,2.0:30', /entry "2\.1=70" must be version:percentage/],
      ['2.1:70,,2.0:30', /entry "" must be version:percentage/],
      ['2:70,2.0:30', /firmware version "2" must look like N\.N/],
      ['v2.1:70,2.0:30', /firmware version "v2\.1"/],
      ['2.1.3:70,2.0:30', /firmware version "2\.1\.3"/],
      ['2.1:seventy,2.0:30', /percentage "seventy" of firmware 2\.1 must be a non-negative number/],
      ['2.1:-5,2.0:105', /percentage "-5" of firmware 2\.1 must be a non-negative number/],
      ['2.1:50,2.1:50', /firmware version 2\.1 appears twice/],
    ];
    for (const [text, pattern] of cases) {
      assert.throws(() => parseFirmwareMix(text), (e: unknown) => e instanceof IdentityError && pattern.test(e.message), `"${text}"`);
    }
    assert.throws(() => validateFirmwareMix({}), /empty/);
    assert.throws(() => validateFirmwareMix({ '2.1': Number.NaN }), /must be a number >= 0, got NaN/);
  });

  test('largest remainder rounding: exact sums, each count within one of its exact share', () => {
    assert.deepEqual(firmwareCounts(MIX, 7), [['2.1', 5], ['2.0', 1], ['1.4', 1]]);
    assert.deepEqual(firmwareCounts({ '2.1': 33.3, '2.0': 33.3, '1.3': 33.4 }, 10), [['2.1', 3], ['2.0', 3], ['1.3', 4]]);
    assert.deepEqual(firmwareCounts({ '2.1': 50, '2.0': 50 }, 1), [['2.1', 1], ['2.0', 0]], 'a tie goes to the version listed first');
    assert.deepEqual(firmwareCounts(MIX, 0), [['2.1', 0], ['2.0', 0], ['1.4', 0]]);
    const mixes: FirmwareMix[] = [MIX, { '2.1': 33.3, '2.0': 33.3, '1.3': 33.4 }, { '2.1': 1, '2.0': 99 }, { '1.3': 25, '1.4': 25, '2.0': 25, '2.1': 25 }];
    for (const mix of mixes) {
      for (let count = 0; count <= 150; count++) {
        const counts = firmwareCounts(mix, count);
        assert.equal(counts.reduce((s, [, n]) => s + n, 0), count);
        for (const [version, n] of counts) {
          const exact = (count * mix[version]!) / 100;
          assert.ok(n >= Math.floor(exact) && n <= Math.ceil(exact), `${version} x${count}: ${n} vs ${exact}`);
        }
      }
    }
  });
});
