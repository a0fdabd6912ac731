import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import { RpcClosedError, RpcPeer, type Channel } from '../../net/rpc.ts';

/** Two ends of an in-memory channel (asynchronous, like IPC). */
function pair(): [Channel, Channel] {
  const a = new EventEmitter();
  const b = new EventEmitter();
  const end = (self: EventEmitter, other: EventEmitter): Channel => ({
    send: (m) => void setImmediate(() => other.emit('message', structuredClone(m))),
    onMessage: (listener) => void self.on('message', listener),
  });
  return [end(a, b), end(b, a)];
}

interface Api {
  [method: string]: (params: never) => unknown;
  double(params: { n: number }): Promise<number>;
  fail(): Promise<void>;
}

test('calls reach the handler and answer with its result; failures come back as errors', async () => {
  const [left, right] = pair();
  new RpcPeer<Api, Record<string, never>>(right, { double: async ({ n }) => n * 2, fail: async () => { throw new Error('no'); } });
  const client = new RpcPeer<Record<string, never>, Api>(left, {});
  assert.equal(await client.call('double', { n: 21 }), 42);
  await assert.rejects(client.call('fail'), /^Error: no$/);
});

test('pending calls are rejected when the channel closes, and new ones refused', async () => {
  const [left, right] = pair();
  new RpcPeer<Api, Record<string, never>>(right, { double: () => new Promise(() => undefined), fail: async () => undefined });
  const client = new RpcPeer<Record<string, never>, Api>(left, {});
  const pending = client.call('double', { n: 1 });
  client.close('the other side exited');
  await assert.rejects(pending, (err: Error) => err instanceof RpcClosedError && /double did not complete: the other side exited/.test(err.message));
  await assert.rejects(client.call('double', { n: 1 }), RpcClosedError);
});

test('a call of a method the other side does not offer fails with its name', async () => {
  const [left, right] = pair();
  new RpcPeer<Record<string, never>, Record<string, never>>(right, {});
  const client = new RpcPeer<Record<string, never>, Api>(left, {});
  await assert.rejects(client.call('double', { n: 1 }), /no handler for double/);
});
