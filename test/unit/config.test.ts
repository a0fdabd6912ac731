import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ConfigError, goDurationMs, loadConfig } from '../../config/config.ts';

test('defaults just work: ECDSA P-256, 24 h operational certificates, free ports, no queue limit', () => {
  const config = loadConfig({ env: {} });
  assert.equal(config.pki.keyAlgorithm, 'ecdsa-p256');
  assert.equal(config.ca.operationalCertDuration, '24h');
  assert.equal(config.ca.port, 0);
  assert.equal(config.ca.acmeHttpPort, 0);
  assert.equal(config.broker.maxQueuedMessages, 0);
  assert.equal(config.broker.host, '127.0.0.1');
});

test('a config file is merged over the defaults and environment variables over the file', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ecm-config-'));
  const file = path.join(dir, 'lab.json');
  writeFileSync(file, JSON.stringify({ pki: { keyAlgorithm: 'rsa-2048' }, ca: { operationalCertDuration: '48h' } }));
  const config = loadConfig({ file, env: { ECM_LAB_OPERATIONAL_CERT_DURATION: '15m' } });
  assert.equal(config.pki.keyAlgorithm, 'rsa-2048');
  assert.equal(config.ca.operationalCertDuration, '15m');
  assert.equal(config.pki.organization, 'ecm-lab', 'unrelated defaults survive the merge');
});

test('invalid values are refused with every problem named by its key', () => {
  assert.throws(
    () => loadConfig({ env: {}, overrides: { pki: { keyAlgorithm: 'rsa-1024' as never }, ca: { operationalCertDuration: 'one day' } } }),
    (err: Error) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /pki\.keyAlgorithm/);
      assert.match(err.message, /ca\.operationalCertDuration: must be a Go duration/);
      return true;
    },
  );
});

test('unknown keys and non-loopback hosts are refused', () => {
  assert.throws(() => loadConfig({ env: {}, overrides: { brokr: {} } as never }), /Unrecognized key/i);
  assert.throws(() => loadConfig({ env: {}, overrides: { broker: { host: '10.0.0.1' as never } } }), /broker\.host/);
});

test('a missing or malformed config file is a ConfigError naming the file', () => {
  assert.throws(() => loadConfig({ file: '/nonexistent/lab.json', env: {} }), /cannot read config file \/nonexistent\/lab\.json/);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ecm-config-'));
  const file = path.join(dir, 'bad.json');
  writeFileSync(file, '{ not json');
  assert.throws(() => loadConfig({ file, env: {} }), /is not valid JSON/);
  writeFileSync(file, '[1,2]');
  assert.throws(() => loadConfig({ file, env: {} }), /must hold a JSON object/);
});

test('ECM_LAB_CONFIG names the config file', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ecm-config-'));
  const file = path.join(dir, 'lab.json');
  writeFileSync(file, JSON.stringify({ readinessTimeoutMs: 1234 }));
  assert.equal(loadConfig({ env: { ECM_LAB_CONFIG: file } }).readinessTimeoutMs, 1234);
});

test('ca.issuer picks the lab\'s own root or an external CA; the watch interval and Go durations are checked', () => {
  assert.equal(loadConfig({ env: {} }).ca.issuer, 'lab');
  const external = loadConfig({ env: { ECM_LAB_CA_ISSUER: 'external', ECM_LAB_EXTERNAL_CRL_CHECK_INTERVAL_MS: '1500' } });
  assert.equal(external.ca.issuer, 'external');
  assert.equal(external.provisioning.externalCrlCheckIntervalMs, 1500);
  assert.equal(external.externalCa.host, '127.0.0.1');
  assert.throws(() => loadConfig({ env: { ECM_LAB_CA_ISSUER: 'paid' } }), /ca\.issuer/);
  assert.throws(() => loadConfig({ env: {}, overrides: { provisioning: { externalCrlCheckIntervalMs: 10 } } }), /provisioning\.externalCrlCheckIntervalMs/);
  assert.throws(() => loadConfig({ env: {}, overrides: { externalCa: { host: '10.0.0.1' as never } } }), /externalCa\.host/);
  assert.equal(goDurationMs('24h'), 86_400_000);
  assert.equal(goDurationMs('1h30m'), 5_400_000);
  assert.equal(goDurationMs('1500ms'), 1500);
});
