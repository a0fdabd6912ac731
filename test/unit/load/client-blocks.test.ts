import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ClientBlocks } from '../../../load/client-blocks.ts';
import { FleetAddresses } from '../../../load/fleet-setup.ts';

test('one block per segment: each segment binds its own, its application on its top address, and white-lists every block', () => {
  const second = ClientBlocks.of('10.1.0.0/24, 10.2.0.0/24', { index: 2, count: 2 });
  assert.equal(second.own.block, '10.2.0.0/24');
  assert.equal(second.own.address(0), '10.2.0.1', "the segment's first device takes its block's first address");
  assert.equal(second.deviceOffset(500), 500, "device indexes count from the segment's first device");
  assert.deepEqual([second.application(1), second.application(2)], ['10.1.0.254', '10.2.0.254']);
  assert.deepEqual(second.deviceRanges(), ['10.1.0.0/24', '10.2.0.0/24']);
  assert.deepEqual(second.listenOn(2), ['10.2.0.1', '10.2.0.2', '10.2.0.254'], 'its responder listens on its own clients\' addresses: another segment may share the host');
  const fleet = new FleetAddresses('10.1.0.0/24,10.2.0.0/24', { index: 1, count: 2 });
  assert.deepEqual(fleet.devices(1000), ['10.1.0.0/24', '10.2.0.0/24'], 'every segment sets the same white list');
});

test('one block all segments share: global device indexes, one application address a segment from the top', () => {
  const shared = ClientBlocks.of('127.77.0.0/16', { index: 2, count: 3 });
  assert.equal(shared.perSegment, false);
  assert.equal(shared.deviceOffset(500), 0);
  assert.deepEqual([1, 2, 3].map((i) => shared.application(i)), ['127.77.255.254', '127.77.255.253', '127.77.255.252']);
  assert.deepEqual(shared.deviceRanges(), ['127.77.0.0/16']);
  assert.equal(shared.listenOn(10), undefined, 'a shared block: one socket on every address');
});

test('blocks that do not fit the segments are named', () => {
  assert.throws(() => ClientBlocks.of('10.1.0.0/24,10.2.0.0/24', { index: 1, count: 3 }), /^AddressPlanError: 2 blocks for 3 segments: give one block all segments share, or one per segment in segment order$/);
  assert.throws(() => ClientBlocks.of('10.1.0.0/24,10.1.0.0/24', { index: 1, count: 2 }), /names a block twice/);
  assert.throws(() => ClientBlocks.of('10.1.0.0/24,10.2.0.1/24', { index: 1, count: 2 }), /"10\.2\.0\.1\/24" has host bits set/);
});
