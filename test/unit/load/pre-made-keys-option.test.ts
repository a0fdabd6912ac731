import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveLoadOptions, type LoadCliOptions } from '../../../bin/commands/load-options.ts';

const BASE: LoadCliOptions = { scenario: 'full-flow', gracefulStop: '2m', segment: '1/1', seed: '1', workers: '1', maxProvisioningP99: '30s', maxDeliveryP99: '1s', maxConnectP99: '10s', baselines: false, baselineSigns: '1', baselineFlows: '1', baselineMessages: '100', baselineHandshakes: '10', out: 'x' };

test('--pre-made-keys: full-flow records it in the run configuration; other scenarios refuse it, saying why', () => {
  const full = resolveLoadOptions({ ...BASE, preMadeKeys: true });
  assert.ok('plan' in full, JSON.stringify(full));
  assert.equal(full.plan.config.preMadeKeys, true);
  const plain = resolveLoadOptions(BASE);
  assert.ok('plan' in plain && plain.plan.config.preMadeKeys === undefined, 'off unless asked for');
  const soak = resolveLoadOptions({ ...BASE, scenario: 'renewal-soak', preMadeKeys: true });
  assert.ok('problems' in soak);
  assert.match(soak.problems.join('\n'), /--pre-made-keys: only the full-flow scenario is measured with keys made before the clock \(the renewal-soak scenario makes its keys as devices do\)/);
  const sign = resolveLoadOptions({ ...BASE, scenario: 'x5c-sign', preMadeKeys: true });
  assert.ok('problems' in sign);
  assert.match(sign.problems.join('\n'), /the x5c-sign scenario prepares every credential beforehand/);
});
