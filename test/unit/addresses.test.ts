import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AddressPlan, AddressPlanError, checkAddressPlan, loopbackAddress } from '../../simulators/client/addresses.ts';
import { arrivesOnClientAddress } from '../../simulators/acme/http01-responder.ts';

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

test('the default plan hands out the addresses, ranges and application address of before, literally', () => {
  const plan = AddressPlan.default;
  assert.equal(AddressPlan.fromCidr(undefined).address(7, 2), plan.address(7, 2));
  // The white lists of the suite and the tests name these very addresses.
  assert.equal(plan.address(0), '127.10.0.1');
  assert.equal(plan.address(253), '127.10.0.254');
  assert.equal(plan.address(254), '127.10.1.1');
  assert.equal(plan.address(900, 3), '127.16.3.139');
  assert.equal(plan.workerRange(0), '127.10.0.0/15');
  assert.equal(plan.workerRange(2), '127.14.0.0/15');
  assert.equal(plan.applicationAddress(0), '127.11.2.4');
  assert.equal(plan.applicationAddress(1), '127.13.2.4');
  for (const [i, w] of [[0, 0], [65_000, 0], [77, 5], [12_345, 120]] as const) assert.equal(plan.address(i, w), loopbackAddress(i, w));
  assert.ok(plan.loopback && !plan.shared);
  assert.ok(plan.contains('127.10.0.1') && plan.contains('::ffff:127.200.1.1') && !plan.contains('10.0.0.1'));
});

test('a configured block: addresses in order without .0 and .255, the application at the top, the block as the white-list entry', () => {
  const plan = AddressPlan.fromCidr('127.77.0.0/16');
  assert.equal(plan.block, '127.77.0.0/16');
  assert.deepEqual([0, 1, 253, 254].map((i) => plan.address(i)), ['127.77.0.1', '127.77.0.2', '127.77.0.254', '127.77.1.1']);
  assert.equal(plan.workerRange(), '127.77.0.0/16');
  assert.equal(plan.applicationAddress(), '127.77.255.254');
  assert.equal(plan.capacity(), 256 * 254 - 1);
  assert.ok(plan.contains('127.77.3.4') && !plan.contains('127.78.0.1') && !plan.contains('127.10.0.1'));
  // A small block: /29 is .8-.15, all usable; segments' applications take the top addresses.
  const small = AddressPlan.fromCidr('10.1.2.8/29', { applications: 2 });
  assert.deepEqual(Array.from({ length: 6 }, (_, i) => small.address(i)), ['10.1.2.8', '10.1.2.9', '10.1.2.10', '10.1.2.11', '10.1.2.12', '10.1.2.13']);
  assert.deepEqual([small.applicationAddress(0, 0), small.applicationAddress(0, 1)], ['10.1.2.15', '10.1.2.14']);
  assert.ok(!small.loopback);
  // Parallel workers split the block into aligned parts of their own.
  const split = AddressPlan.fromCidr('127.77.0.0/16', { workers: 3 });
  assert.deepEqual([0, 1, 2, 3].map((w) => split.workerRange(w)), ['127.77.0.0/18', '127.77.64.0/18', '127.77.128.0/18', '127.77.192.0/18']);
  assert.equal(split.address(0, 1), '127.77.64.1');
  assert.equal(split.applicationAddress(1), '127.77.127.254');
});

test('a /32 is one address every client, every worker and the application share', () => {
  const plan = AddressPlan.fromCidr('127.77.0.9/32', { workers: 4 });
  assert.ok(plan.shared);
  assert.deepEqual(new Set([plan.address(0), plan.address(5000), plan.address(3, 2), plan.applicationAddress(), plan.applicationAddress(3)]), new Set(['127.77.0.9']));
  assert.equal(plan.workerRange(3), '127.77.0.9/32');
  assert.equal(plan.capacity(), Number.POSITIVE_INFINITY);
});

test('a block too small for the clients, a malformed block, or one with host bits is refused with a reason', () => {
  const plan = AddressPlan.fromCidr('127.77.0.0/30');
  assert.equal(plan.capacity(), 2); // .1 and .2; .3 is the application's, .0 never used
  assert.throws(() => plan.requireCapacity(3), (e: Error) => e instanceof AddressPlanError && /127\.77\.0\.0\/30 holds 2 client addresses .*3 clients need a larger block/.test(e.message));
  assert.throws(() => plan.address(2), AddressPlanError);
  assert.throws(() => checkAddressPlan(plan, { name: '--client-addresses', remoteFlag: 'x' }, { allowRemote: false, clients: 5 }), /^AddressPlanError: --client-addresses: 127\.77\.0\.0\/30 holds 2/);
  assert.throws(() => AddressPlan.fromCidr('127.77.0.0/31', { workers: 2 }), /too few for 2 parallel workers/);
  for (const bad of ['127.77.0.0', '127.77.0.0/33', '127.1/16', 'fe80::/64', '127.77.0.0/16/2']) assert.throws(() => AddressPlan.fromCidr(bad), AddressPlanError, bad);
  assert.throws(() => AddressPlan.fromCidr('127.77.0.1/16'), /has host bits set: the block is 127\.77\.0\.0\/16/);
});

test('outside loopback: refused without the remote flag (naming it), and every address must be on an interface of this host', () => {
  const source = { name: 'clients.addresses', remoteFlag: 'the target must say "allowRemote": true' };
  const doc = AddressPlan.fromCidr('198.51.100.7/32');
  assert.throws(() => checkAddressPlan(doc, source, { allowRemote: false }), (e: Error) => e.message === 'clients.addresses: 198.51.100.7/32 is outside 127.0.0.0/8: the target must say "allowRemote": true');
  const here = { eth0: [{ address: '192.0.2.10', netmask: '255.255.255.0', family: 'IPv4' as const, mac: '00:00:00:00:00:00', internal: false, cidr: '192.0.2.10/24' }] };
  assert.throws(() => checkAddressPlan(doc, source, { allowRemote: true, interfaces: here }), /^AddressPlanError: clients\.addresses: 198\.51\.100\.7 \(of 198\.51\.100\.7\/32\) is not an address of this host: assign it to an interface \(its IPv4 addresses: 192\.0\.2\.10\)$/);
  // On an interface: accepted (the check reads the interfaces, it sends nothing).
  checkAddressPlan(AddressPlan.fromCidr('192.0.2.10/32'), source, { allowRemote: true, interfaces: here });
  // A block names the first of its addresses that is missing.
  assert.throws(() => checkAddressPlan(AddressPlan.fromCidr('192.0.2.8/30'), source, { allowRemote: true, interfaces: here, clients: 1 }), /192\.0\.2\.8 \(of 192\.0\.2\.8\/30\) is not an address of this host/);
  // Loopback blocks are bindable on Linux without any interface check.
  checkAddressPlan(AddressPlan.fromCidr('127.77.0.0/16'), source, { allowRemote: false, interfaces: {} });
});

test('the challenge responder answers connections on loopback and on the plan\'s addresses only (no traffic: the predicate it applies to each socket)', () => {
  const plan = AddressPlan.fromCidr('198.51.100.0/29');
  for (const local of ['127.0.0.1', '127.77.0.9', '::1', '198.51.100.1', '::ffff:198.51.100.6']) assert.ok(arrivesOnClientAddress(local, plan), local);
  for (const local of ['198.51.100.8', '192.0.2.10', '::ffff:10.0.0.1', undefined]) assert.ok(!arrivesOnClientAddress(local, plan), String(local));
  // The default plan: loopback only, as before.
  assert.ok(!arrivesOnClientAddress('198.51.100.1', undefined) && !arrivesOnClientAddress('198.51.100.1', AddressPlan.default));
});
