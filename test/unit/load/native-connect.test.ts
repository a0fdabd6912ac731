// The native connect generator's pure parts: the plan the lab hands it, how its failures read,
// the option that chooses it, the hash doctor and bootstrap compare, and its own Go tests (the
// hand-written MQTT packets).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { resolveLoadOptions, type LoadCliOptions } from '../../../bin/commands/load-options.ts';
import { nativeConnectSourceHash, repoRoot } from '../../../environments/tools/tools.ts';
import { describeFailures } from '../../../load/baselines/handshake-baseline.ts';
import { nativeConnectPlan } from '../../../load/baselines/native-handshakes.ts';

const BASE: LoadCliOptions = { scenario: 'mqtt-connect-storm', gracefulStop: '2m', segment: '1/1', seed: '1', workers: '1', maxProvisioningP99: '30s', maxDeliveryP99: '1s', maxConnectP99: '10s', baselines: true, baselineSigns: '1', baselineFlows: '1', baselineMessages: '100', baselineHandshakes: '10', out: 'x' };

test('the plan names the broker by its host unless told otherwise, and bounds every connection and the whole', () => {
  const connections = Array.from({ length: 250 }, (_, i) => ({ clientId: `d-${i}`, certFile: `/w/${i}.crt`, keyFile: `/w/${i}.key` }));
  const plan = nativeConnectPlan({ host: '127.0.0.1', port: 8883 }, '/w/root.crt', connections, 10);
  assert.equal(plan.serverName, '127.0.0.1');
  assert.equal(plan.connectTimeoutMs, 10_000);
  assert.equal(plan.overallTimeoutMs, 60_000 + 3 * 60_000, 'a minute, and one per started hundred connections');
  assert.equal(plan.connections.length, 250);
  assert.equal(nativeConnectPlan({ host: '127.0.0.1', port: 1, serverName: 'broker.lab' }, 'ca', connections.slice(0, 1), 1).serverName, 'broker.lab');
  const huge = nativeConnectPlan({ host: '127.0.0.1', port: 1 }, 'ca', Array.from({ length: 10_000 }, () => connections[0]!), 1);
  assert.equal(huge.overallTimeoutMs, 3_600_000, 'never more than an hour');
});

test('failures read one per connection, the first five, with the count of the rest', () => {
  const failures = Array.from({ length: 7 }, (_, i) => ({ clientId: `d-${i}`, stage: 'tls' as const, reason: 'remote error: tls: unknown certificate authority' }));
  const text = describeFailures(failures);
  assert.match(text, /^d-0: tls: remote error: tls: unknown certificate authority; d-1: /);
  assert.match(text, /d-4: tls: [^;]+; and 2 more$/);
  assert.doesNotMatch(text, /d-5/);
});

test('--handshake-client: node by default, native or both where a handshake baseline runs, refused elsewhere with the reason', () => {
  const plain = resolveLoadOptions(BASE);
  assert.ok('plan' in plain && plain.plan.baselines.handshakeClient === 'node', JSON.stringify(plain));
  const both = resolveLoadOptions({ ...BASE, handshakeClient: 'both' });
  assert.ok('plan' in both && both.plan.baselines.handshakeClient === 'both');
  const unknown = resolveLoadOptions({ ...BASE, handshakeClient: 'rust' } as unknown as LoadCliOptions);
  assert.ok('problems' in unknown);
  assert.match(unknown.problems.join('\n'), /^--handshake-client: Invalid option: expected one of "node"\|"native"\|"both"/);
  const sign = resolveLoadOptions({ ...BASE, scenario: 'x5c-sign', handshakeClient: 'native' });
  assert.ok('problems' in sign);
  assert.match(sign.problems.join('\n'), /--handshake-client: the x5c-sign scenario has no handshake baseline \(full-flow, mqtt-publish, mqtt-connect-storm have\)/);
  const none = resolveLoadOptions({ ...BASE, baselines: false, handshakeClient: 'native' });
  assert.ok('problems' in none);
  assert.match(none.problems.join('\n'), /--handshake-client native: --no-baselines leaves the handshake baseline out/);
});

test('doctor and bootstrap compute the same hash of the sources (a binary from other sources is stale)', () => {
  const script = execFileSync('bash', [path.join(repoRoot, 'scripts/build-native-connect.sh'), '--hash'], { encoding: 'utf8' }).trim();
  assert.match(script, /^[0-9a-f]{16}$/);
  assert.equal(nativeConnectSourceHash(), script);
});

test("ecm-connect's own Go tests pass (CONNECT, CONNACK codes, the remaining length)", () => {
  const output = execFileSync('go', ['test', './...'], { cwd: path.join(repoRoot, 'load/native-connect'), encoding: 'utf8', env: { ...process.env, CGO_ENABLED: '0' } });
  assert.match(output, /^ok\s+ecm-lab\/load\/native-connect/m);
});
