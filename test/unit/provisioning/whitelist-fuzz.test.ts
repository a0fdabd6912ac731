// Property-based tests of the white-list parser (fast-check): whatever an engineer types, the
// parser either accepts it or says why with a WhitelistError; what it accepts normalizes to a
// fixed point; and matches() agrees with a plain reference for IPv4 single, CIDR, range and mask.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Whitelist, WhitelistError, parseWhitelist, parseWhitelistEntry } from '../../../services/provisioning/whitelist.ts';

const RUNS = { numRuns: 2000 };

// --- generators ----------------------------------------------------------------------------------

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const prefix4 = fc.integer({ min: 0, max: 32 });
const ipv4Text = (n: number) => [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff].join('.');
const maskText = (p: number) => ipv4Text(p === 0 ? 0 : (0xffffffff << (32 - p)) >>> 0);

/** Text made of the characters white-list entries are made of, so the parser's deeper paths are hit. */
const entryLike = fc.string({
  unit: fc.constantFrom(...'0123456789abcdefABCDEF.:/-% \t'.split(''), '::', '::ffff:', '255', '/24', '/255.255.255.0', '-10.0.0.1', '1.2.3.4'),
  maxLength: 24,
});

/** A syntactically plausible entry of any of the four forms, IPv4 or IPv6, sometimes with junk around it. */
const plausibleEntry = fc.oneof(
  fc.ipV4(),
  fc.ipV6(),
  fc.ipV4Extended(),
  fc.tuple(fc.ipV4(), fc.integer({ min: -1, max: 40 })).map(([a, p]) => `${a}/${p}`),
  fc.tuple(fc.ipV6(), fc.integer({ min: -1, max: 140 })).map(([a, p]) => `${a}/${p}`),
  fc.tuple(fc.ipV4(), fc.ipV4()).map(([a, b]) => `${a}-${b}`),
  fc.tuple(fc.ipV6(), fc.ipV6()).map(([a, b]) => `${a} - ${b}`),
  fc.tuple(fc.ipV4(), fc.ipV6()).map(([a, b]) => `${a}-${b}`),
  fc.tuple(fc.ipV4(), fc.oneof(prefix4.map(maskText), fc.ipV4())).map(([a, m]) => `${a}/${m}`),
  fc.tuple(fc.ipV4(), fc.ipV6()).map(([a, m]) => `${a}/${m}`),
  fc.tuple(fc.ipV6(), fc.string({ maxLength: 6 })).map(([a, z]) => `${a}%${z}`),
);

const anyEntry = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 40 }), entryLike, plausibleEntry, plausibleEntry.map((e) => ` ${e}\t`));

// --- properties ----------------------------------------------------------------------------------

test('parseWhitelistEntry returns an entry or throws a WhitelistError naming a problem, for any text', () => {
  fc.assert(
    fc.property(anyEntry, (text) => {
      try {
        const entry = parseWhitelistEntry(text);
        assert.equal(entry.text, text);
        assert.ok(['single', 'cidr', 'range', 'mask'].includes(entry.kind));
      } catch (error) {
        if (!(error instanceof WhitelistError)) throw error;
        assert.ok(error.problems.length >= 1 && error.problems.every((p) => p.length > 0));
      }
    }),
    RUNS,
  );
});

test('parseWhitelist reports one problem per invalid entry and accepts only lists without any', () => {
  fc.assert(
    fc.property(fc.array(anyEntry, { maxLength: 8 }), (entries) => {
      const invalid = entries.filter((e) => {
        try {
          parseWhitelistEntry(e);
          return false;
        } catch {
          return true;
        }
      }).length;
      try {
        const list = parseWhitelist(entries);
        assert.equal(invalid, 0);
        assert.ok(list.size <= entries.length);
      } catch (error) {
        if (!(error instanceof WhitelistError)) throw error;
        assert.equal(error.problems.length, invalid);
      }
    }),
    RUNS,
  );
});

test('parse -> normalize -> parse is a fixed point: same kind, family, bounds and normalized text', () => {
  fc.assert(
    fc.property(plausibleEntry, (text) => {
      let entry;
      try {
        entry = parseWhitelistEntry(text);
      } catch (error) {
        if (error instanceof WhitelistError) return; // invalid input: covered above
        throw error;
      }
      const again = parseWhitelistEntry(entry.normalized);
      assert.deepEqual({ ...again, text: entry.text }, entry, `re-parsing ${entry.normalized} (from ${JSON.stringify(text)})`);
      assert.equal(parseWhitelistEntry(again.normalized).normalized, again.normalized);
    }),
    RUNS,
  );
});

/** The reference: an IPv4 entry is an inclusive interval of 32-bit integers. */
type Interval = { text: string; first: number; last: number };

const ipv4Entry: fc.Arbitrary<Interval> = fc.oneof(
  u32.map((a) => ({ text: ipv4Text(a), first: a, last: a })),
  fc.tuple(u32, prefix4).map(([a, p]) => {
    const size = 2 ** (32 - p);
    const first = Math.floor(a / size) * size;
    return { text: `${ipv4Text(a)}/${p}`, first, last: first + size - 1 };
  }),
  fc.tuple(u32, prefix4).map(([a, p]) => {
    const size = 2 ** (32 - p);
    const first = Math.floor(a / size) * size;
    return { text: `${ipv4Text(a)}/${maskText(p)}`, first, last: first + size - 1 };
  }),
  fc.tuple(u32, u32).map(([a, b]) => ({ text: `${ipv4Text(Math.min(a, b))}-${ipv4Text(Math.max(a, b))}`, first: Math.min(a, b), last: Math.max(a, b) })),
);

test('matches() agrees with a numeric reference for IPv4 single, CIDR, mask and range entries', () => {
  fc.assert(
    fc.property(fc.array(ipv4Entry, { minLength: 1, maxLength: 4 }), fc.array(u32, { maxLength: 8 }), (intervals, randomProbes) => {
      const list = parseWhitelist(intervals.map((i) => i.text));
      // Random addresses rarely hit a small entry: probe every boundary and its neighbours too.
      const probes = [...randomProbes, ...intervals.flatMap((i) => [i.first - 1, i.first, i.last, i.last + 1])].filter((n) => n >= 0 && n <= 0xffffffff);
      for (const n of probes) {
        const expected = intervals.some((i) => i.first <= n && n <= i.last);
        assert.equal(list.matches(ipv4Text(n)), expected, `${ipv4Text(n)} against ${intervals.map((i) => i.text).join(', ')}`);
        // Node reports IPv4 peers of a dual-stack socket in mapped form: same answer.
        assert.equal(list.matches(`::ffff:${ipv4Text(n)}`), expected, `::ffff:${ipv4Text(n)}`);
      }
    }),
    RUNS,
  );
});

test('matches() never throws and never matches what is not an address', () => {
  const list = parseWhitelist(['0.0.0.0/0', '::/0']);
  fc.assert(
    fc.property(anyEntry, (text) => {
      const matched = list.matches(text);
      const isAddress = (() => {
        // A source address may carry an IPv6 zone id (fe80::1%eth0): matched by its address.
        const address = text.trim().replace(/^([0-9a-f:.]*:[0-9a-f:.]*)%[0-9a-z]+$/i, '$1');
        try {
          return parseWhitelistEntry(address).kind === 'single';
        } catch {
          return false;
        }
      })();
      // Everything is inside 0.0.0.0/0 or ::/0, so a match means "is a valid address".
      assert.equal(matched, isAddress, JSON.stringify(text));
    }),
    RUNS,
  );
  assert.equal(Whitelist.empty.matches('127.0.0.1'), false);
});
