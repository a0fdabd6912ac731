// Which of Mosquitto's log lines belong to one client address's connection: a refused handshake's
// OpenSSL lines name no address, and another connection may open between its accept and its error.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connectionLinesOf } from '../../environments/mosquitto-log.ts';

const log = (lines: string[]) => lines.map((l) => `2026-12-02T20:00:00: ${l}`);

// Mosquitto's lines, as it writes them.
const opened = (addressAndPort: string) => `New connection from ${addressAndPort} on port 8883.`;
const connected = (addressAndPort: string, id: string) => `New client connected from ${addressAndPort} as ${id} (p2, c1, k30).`;
const VERIFY_FAILED = 'OpenSSL Error[0]: error:0A000086:SSL routines::certificate verify failed';
const BAD_CERTIFICATE = 'OpenSSL Error[0]: error:0A000412:SSL routines::sslv3 alert bad certificate';
const UNKNOWN_DISCONNECTED = 'Client <unknown> disconnected: Protocol error.';
const UNKNOWN_CLOSED = 'Client <unknown> closed its connection.';

test("a refused handshake's lines are its own, also when another connection opens in between", () => {
  const lines = log([
    opened('127.10.0.96:45543'), opened('127.0.0.1:32906'), connected('127.0.0.1:32906', 'ecm-lab-probe'),
    VERIFY_FAILED, UNKNOWN_DISCONNECTED,
    opened('127.10.0.97:41000'), BAD_CERTIFICATE, UNKNOWN_DISCONNECTED,
  ]);
  const mine = connectionLinesOf(lines, '127.10.0.96');
  assert.equal(mine.length, 3);
  assert.match(mine[1]!, /certificate verify failed/);
  assert.ok(!mine.some((l) => /127\.0\.0\.1|bad certificate/.test(l)), 'nothing of the probe or of the next client');
  assert.deepEqual(connectionLinesOf(lines, '127.10.0.97').map((l) => l.split(': ').slice(1).join(': ')), ['New connection from 127.10.0.97:41000 on port 8883.', 'OpenSSL Error[0]: error:0A000412:SSL routines::sslv3 alert bad certificate', 'Client <unknown> disconnected: Protocol error.']);
});

test('an accepted connection ends at its "New client connected"; a failed accept is one line; a second attempt opens again', () => {
  const lines = log([
    opened('127.10.0.5:1000'), connected('127.10.0.5:1000', 'RVS-5'), VERIFY_FAILED,
    'Client connection from 127.10.0.5 failed: error:0A00010B:SSL routines::wrong version number.',
    opened('127.10.0.5:1001'), UNKNOWN_CLOSED,
  ]);
  const mine = connectionLinesOf(lines, '127.10.0.5');
  assert.equal(mine.length, 5);
  assert.ok(!mine.some((l) => /certificate verify failed/.test(l)), 'an error after the accepted connection is not its own');
  assert.deepEqual(connectionLinesOf(lines, '127.10.0.50'), [], 'an address is matched whole, not as a prefix');
});

test("another connection's end may come first: the window stays open while that connection is unresolved", () => {
  const lines = log([opened('127.10.0.96:45543'), opened('127.0.0.1:32906'), UNKNOWN_CLOSED, VERIFY_FAILED, UNKNOWN_DISCONNECTED, VERIFY_FAILED]);
  const mine = connectionLinesOf(lines, '127.10.0.96');
  assert.ok(mine.some((l) => /certificate verify failed/.test(l)), mine.join('\n'));
  assert.equal(mine.length, 4, 'the window ends at the second "Client <unknown>" line: nothing after it');
});
