// The retry of a start whose chosen port was taken meanwhile (environments/modules/ports.ts), on
// fakes: only a port in use is retried, never a port given explicitly, and never without bound.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StartFailure } from '../../environments/modules/module.ts';
import { portInUse, startOnFreePorts } from '../../environments/modules/ports.ts';

const inUse = new StartFailure('gave up', 'listen tcp 127.0.0.1:4000: bind: address already in use\n');
const said: string[] = [];
const say = (line: string) => said.push(line);

test('a start that failed on a taken port is tried again on the next chosen port, and says so', async () => {
  const ports = [4000, 4001];
  const tried: number[] = [];
  const started = await startOnFreePorts({ what: 'step-ca', retry: true, say, choose: async () => ports.shift()!, start: async (p) => (tried.push(p), p === 4000 ? Promise.reject(inUse) : `on ${p}`) });
  assert.equal(started, 'on 4001');
  assert.deepEqual(tried, [4000, 4001]);
  assert.match(said.at(-1)!, /step-ca: 4000 was taken by another process before it bound it; starting it on another port \(attempt 2 of 5\)/);
});

test('any other failure, a port given explicitly, or the last attempt is not retried', async () => {
  let calls = 0;
  const other = new StartFailure('gave up', 'unable to load certificate\n');
  await assert.rejects(startOnFreePorts({ what: 'x', retry: true, say, choose: async () => 1, start: async () => (calls++, Promise.reject(other)) }), /gave up/);
  assert.equal(calls, 1);
  calls = 0;
  await assert.rejects(startOnFreePorts({ what: 'x', retry: false, say, choose: async () => 1, start: async () => (calls++, Promise.reject(inUse)) }));
  assert.equal(calls, 1);
  calls = 0;
  await assert.rejects(startOnFreePorts({ what: 'x', retry: true, attempts: 3, say, choose: async () => 1, start: async () => (calls++, Promise.reject(inUse)) }));
  assert.equal(calls, 3);
});

test('Mosquitto\'s and Go\'s wording both count as a port in use; a plain Error does not', () => {
  assert.ok(portInUse(new StartFailure('', '1796623165: Error: Address already in use\n')));
  assert.ok(portInUse(inUse));
  assert.equal(portInUse(new Error('address already in use')), false);
});
