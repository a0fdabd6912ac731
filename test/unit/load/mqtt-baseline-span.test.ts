import assert from 'node:assert/strict';
import { test } from 'node:test';
import { timedFromConnected } from '../../../load/baselines/baselines.ts';

test('an MQTT throughput baseline is timed from the clients connected to the last message, never from the spawn', async () => {
  let clock = 0;
  let resolveConnected!: () => void;
  let resolveLast!: () => void;
  const connected = new Promise<void>((r) => (resolveConnected = r));
  const lastMessage = new Promise<void>((r) => (resolveLast = r));
  let publishedAt: number | undefined;
  const timing = timedFromConnected({ connected, publish: () => (publishedAt = clock), lastMessage }, () => clock);
  // The publisher's process starts and its handshake takes 400 ms: not part of the span.
  clock = 400;
  await Promise.resolve();
  assert.equal(publishedAt, undefined, 'nothing is published before both clients are connected');
  resolveConnected();
  await new Promise((r) => setImmediate(r));
  assert.equal(publishedAt, 400);
  clock = 650;
  resolveLast();
  assert.equal(await timing, 250);
});
