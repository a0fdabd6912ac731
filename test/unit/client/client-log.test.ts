import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ClientLog, flushClientLogs } from '../../../simulators/client/client-log.ts';

test("clients sharing a log file write their lines in order, once flushed, the file readable by its owner only", async () => {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'clog-')), 'clients.log');
  const a = new ClientLog('A', file);
  const b = new ClientLog('B', file);
  for (let i = 0; i < 100; i++) (i % 2 ? b : a).write('step', { i });
  await flushClientLogs();
  const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { client: string; i: number });
  assert.deepEqual(lines.map((l) => l.i), Array.from({ length: 100 }, (_, i) => i));
  assert.equal(lines[1]!.client, 'B');
  assert.equal(statSync(file).mode & 0o777, 0o600);
  a.write('later');
  await flushClientLogs();
  assert.equal(readFileSync(file, 'utf8').trim().split('\n').length, 101);
});

test('a log that cannot be written says so at the flush', async () => {
  const log = new ClientLog('C', path.join(os.tmpdir(), 'no-such-dir-ecm', 'clients.log'));
  log.write('lost');
  await assert.rejects(flushClientLogs(), /could not be written/);
});
