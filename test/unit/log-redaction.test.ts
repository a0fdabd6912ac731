// The components' logs are published with the reports: a JWT in their output never reaches the
// log file, however the output is cut into chunks, and output without one is passed on byte for
// byte (environments/local/child-process.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { redactingLines } from '../../environments/local/child-process.ts';

const TOKEN = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJSVlMtMDAwMSJ9.c2lnbmF0dXJl';

async function through(chunks: Buffer[]): Promise<Buffer> {
  const redact = redactingLines();
  const out: Buffer[] = [];
  redact.on('data', (chunk: Buffer) => out.push(chunk));
  const ended = new Promise((resolve) => redact.on('end', resolve));
  for (const chunk of chunks) redact.write(chunk);
  redact.end();
  await ended;
  return Buffer.concat(out);
}

/** Every way of cutting `bytes` into two chunks. */
const cuts = (bytes: Buffer) => Array.from({ length: bytes.length + 1 }, (_, i) => [bytes.subarray(0, i), bytes.subarray(i)]);

test('a token is redacted wherever the output is cut, and the rest of each line is kept', async () => {
  const input = Buffer.from(`{"level":"info","msg":"sign","ott":"${TOKEN}","device":"RVS-0001 – µ"}\nnext line\npartial last`);
  for (const chunks of cuts(input)) {
    const text = (await through(chunks)).toString('utf8');
    assert.equal(text, '{"level":"info","msg":"sign","ott":"[REDACTED-JWT]","device":"RVS-0001 – µ"}\nnext line\npartial last');
  }
});

test('output without a token is passed on byte for byte, invalid UTF-8 included', async () => {
  const input = Buffer.concat([Buffer.from('New client connected from 127.10.0.1 as RVS-0001 (p2, c1, k30).\n'), Buffer.from([0xff, 0xfe, 0x0a]), Buffer.from('µs\n')]);
  for (const chunks of cuts(input)) assert.deepEqual(await through(chunks), input);
});

test('a token in the unterminated last line is redacted when the output ends', async () => {
  assert.equal((await through([Buffer.from(`ott=${TOKEN.slice(0, 20)}`), Buffer.from(TOKEN.slice(20))])).toString(), 'ott=[REDACTED-JWT]');
});
