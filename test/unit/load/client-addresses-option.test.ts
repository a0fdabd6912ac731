import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveLoadOptions, type LoadCliOptions } from '../../../bin/commands/load-options.ts';

const BASE: LoadCliOptions = { scenario: 'full-flow', gracefulStop: '2m', segment: '1/1', seed: '1', workers: '1', maxProvisioningP99: '30s', maxDeliveryP99: '1s', maxConnectP99: '10s', baselines: false, baselineSigns: '1', baselineFlows: '1', baselineMessages: '100', baselineHandshakes: '10', out: 'x' };

test('--client-addresses: a block is resolved into the plan; a malformed one is named; a /32 is refused for the scenarios whose devices enrol beside their application', () => {
  const block = resolveLoadOptions({ ...BASE, clientAddresses: '127.77.0.0/16' });
  assert.ok('plan' in block, JSON.stringify(block));
  assert.equal(block.plan.clientAddresses, '127.77.0.0/16');
  const plain = resolveLoadOptions(BASE);
  assert.ok('plan' in plain && plain.plan.clientAddresses === undefined, 'the loopback blocks unless asked');
  const bad = resolveLoadOptions({ ...BASE, clientAddresses: '127.77.0.1/16' });
  assert.ok('problems' in bad);
  assert.deepEqual(bad.problems, ['--client-addresses: "127.77.0.1/16" has host bits set: the block is 127.77.0.0/16']);
  for (const scenario of ['full-flow', 'renewal-soak'] as const) {
    const shared = resolveLoadOptions({ ...BASE, scenario, clientAddresses: '127.77.0.9/32' });
    assert.ok('problems' in shared, scenario);
    assert.match(shared.problems.join('\n'), new RegExp(`--client-addresses: 127\\.77\\.0\\.9/32 is one address, which the ${scenario} scenario's application would share with its devices: .*\\(identity-not-named\\)`));
  }
  for (const scenario of ['bootstrap-endpoint', 'mqtt-publish'] as const) assert.ok('plan' in resolveLoadOptions({ ...BASE, scenario, clientAddresses: '127.77.0.9/32' }), scenario);
});

test('--client-addresses with one block per segment: taken for a fleet segment, refused for a count that does not match and for a request scenario', () => {
  const two = resolveLoadOptions({ ...BASE, segment: '2/2', clientAddresses: '127.79.1.0/24,127.79.2.0/24' });
  assert.ok('plan' in two, JSON.stringify(two));
  assert.equal(two.plan.clientAddresses, '127.79.1.0/24,127.79.2.0/24');
  const three = resolveLoadOptions({ ...BASE, segment: '1/3', clientAddresses: '127.79.1.0/24,127.79.2.0/24' });
  assert.ok('problems' in three);
  assert.deepEqual(three.problems, ['--client-addresses: 2 blocks for 3 segments: give one block all segments share, or one per segment in segment order']);
  const requests = resolveLoadOptions({ ...BASE, scenario: 'bootstrap-endpoint', segment: '1/2', clientAddresses: '127.79.1.0/24,127.79.2.0/24' });
  assert.ok('problems' in requests);
  assert.match(requests.problems.join('\n'), /one block per segment is for the fleet scenarios; the bootstrap-endpoint scenario takes one block/);
  const sharedInList = resolveLoadOptions({ ...BASE, segment: '1/2', clientAddresses: '127.79.1.0/24,127.79.2.9/32' });
  assert.ok('problems' in sharedInList);
  assert.match(sharedInList.problems.join('\n'), /127\.79\.2\.9\/32 is one address/);
});
