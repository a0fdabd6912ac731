// step-ca builds every ACME URL from the Host header: the gate forwards only requests that name
// the gate itself, on its listen address or loopback's names, at its own port.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hostIsGate } from '../../../services/provisioning/acme-gate.ts';

test('the gate takes a Host naming it: its listen address, 127.0.0.1 or localhost, at its port', () => {
  for (const host of ['127.0.0.2:8443', '127.0.0.1:8443', 'localhost:8443']) assert.equal(hostIsGate(host, 8443, '127.0.0.2'), true, host);
  assert.equal(hostIsGate('127.0.0.1:8443', 8443), true, 'loopback by default');
});

test('a Host naming another server, another port, or none is not the gate', () => {
  for (const host of ['127.0.0.2:8443', 'evil.example:8443', '127.0.0.1:9443', '127.0.0.1', 'localhost.evil.example:8443', '', undefined]) {
    assert.equal(hostIsGate(host, 8443), false, String(host));
  }
  assert.equal(hostIsGate('192.0.2.10:8443', 8443, '127.0.0.2'), false);
});
