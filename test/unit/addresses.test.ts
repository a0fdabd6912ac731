import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loopbackAddress } from '../../simulators/client/addresses.ts';

test('client addresses are distinct loopback addresses outside 127.0.0.x, never .0 or .255', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 5000; i++) {
    const address = loopbackAddress(i);
    const octets = address.split('.').map(Number);
    assert.equal(octets[0], 127);
    assert.notEqual(octets[1], 0);
    assert.ok(octets[3]! >= 1 && octets[3]! <= 254, address);
    seen.add(address);
  }
  assert.equal(seen.size, 5000);
});

test('workers get disjoint ranges, and out-of-range indexes are refused', () => {
  const worker0 = new Set(Array.from({ length: 3000 }, (_, i) => loopbackAddress(i, 0)));
  for (let i = 0; i < 3000; i++) assert.ok(!worker0.has(loopbackAddress(i, 1)));
  assert.throws(() => loopbackAddress(-1), RangeError);
  assert.throws(() => loopbackAddress(1 << 16), RangeError);
});
