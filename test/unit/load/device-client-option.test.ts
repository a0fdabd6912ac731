import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveLoadOptions, type LoadCliOptions } from '../../../bin/commands/load-options.ts';

const BASE: LoadCliOptions = { scenario: 'full-flow', gracefulStop: '2m', segment: '1/1', seed: '1', workers: '1', maxProvisioningP99: '30s', maxDeliveryP99: '1s', maxConnectP99: '10s', baselines: false, baselineSigns: '1', baselineFlows: '1', baselineMessages: '100', baselineHandshakes: '10', out: 'x' };

test('--device-client: node by default (not recorded), native recorded in the run configuration', () => {
  const node = resolveLoadOptions(BASE);
  assert.ok('plan' in node && node.plan.config.deviceClient === undefined);
  const native = resolveLoadOptions({ ...BASE, deviceClient: 'native', mix: '2.1:100' });
  assert.ok('plan' in native, JSON.stringify(native));
  assert.equal(native.plan.config.deviceClient, 'native');
});

test('--device-client native refuses, each by name, what ecm-device cannot serve', () => {
  const cases: Array<[Partial<LoadCliOptions>, RegExp]> = [
    [{ mix: '2.1:70,2.0:20,1.4:10' }, /--device-client native: --mix has firmware 2\.0, 1\.4; only 2\.1/],
    [{ faults: 'broker-restart' }, /--device-client native: --faults are not served/],
    [{ preMadeKeys: true }, /--device-client native: --pre-made-keys is not served/],
    [{ workers: '2' }, /--device-client native: --workers > 1/],
    [{ certLifetime: '2m' }, /--device-client native: --cert-lifetime is not served/],
    [{ lab: 'lab-1' }, /--device-client native: --lab: an attached lab is not served/],
    [{ scenario: 'renewal-soak' }, /--device-client native: the renewal-soak scenario is not served, only full-flow/],
    [{ scenario: 'mqtt-publish' }, /--device-client native: the mqtt-publish scenario is not served/],
    [{ certificates: 'issued' }, /--device-client native: the mqtt-publish scenario is not served/],
  ];
  for (const [options, message] of cases) {
    const resolved = resolveLoadOptions({ ...BASE, deviceClient: 'native', ...options });
    assert.ok('problems' in resolved, `${JSON.stringify(options)} was accepted`);
    assert.match(resolved.problems.join('\n'), message);
  }
  const unknown = resolveLoadOptions({ ...BASE, deviceClient: 'rust' } as unknown as LoadCliOptions);
  assert.ok('problems' in unknown);
  assert.match(unknown.problems.join('\n'), /^--device-client: Invalid option: expected one of "node"\|"native"/);
});
