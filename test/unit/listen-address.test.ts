// Where the lab listens (lab.listenAddress, lab.allowRemote): loopback unless the config says
// otherwise explicitly, an address the schema and this host accept, and the configuration the
// components then start with.
import assert from 'node:assert/strict';
import type os from 'node:os';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../../config/config.ts';
import { hostHasAddress, placedConfig, serverNamesOf } from '../../environments/lab/listen-address.ts';

const refusal = (env: NodeJS.ProcessEnv): string => {
  try {
    loadConfig({ env });
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.message;
  }
  assert.fail(`accepted ${JSON.stringify(env)}`);
};

/** A host with one network interface besides lo, as os.networkInterfaces() describes it. */
const interfaces = { lo: [{ address: '127.0.0.1', family: 'IPv4' }], eth0: [{ address: '192.0.2.2', family: 'IPv4' }, { address: 'fd00::2', family: 'IPv6' }] } as unknown as ReturnType<typeof os.networkInterfaces>;

test('the lab listens on 127.0.0.1 unless told otherwise, and anywhere in 127.0.0.0/8 without more', () => {
  const config = loadConfig({ env: {} });
  assert.equal(config.lab.listenAddress, '127.0.0.1');
  assert.equal(config.lab.allowRemote, false);
  assert.equal(placedConfig(config), config, 'nothing moves');
  const second = loadConfig({ env: { ECM_LAB_LISTEN_ADDRESS: '127.0.0.2' } });
  assert.equal(second.lab.listenAddress, '127.0.0.2');
});

test('an address outside 127.0.0.0/8 is refused without lab.allowRemote, naming the key, and accepted with it', () => {
  assert.match(refusal({ ECM_LAB_LISTEN_ADDRESS: '192.0.2.2' }), /lab\.listenAddress: 192\.0\.2\.2 is outside 127\.0\.0\.0\/8: set lab\.allowRemote to true/);
  assert.match(refusal({ ECM_LAB_LISTEN_ADDRESS: '192.0.2.2', ECM_LAB_ALLOW_REMOTE: 'false' }), /set lab\.allowRemote to true/);
  assert.equal(loadConfig({ env: { ECM_LAB_LISTEN_ADDRESS: '192.0.2.2', ECM_LAB_ALLOW_REMOTE: 'true' } }).lab.listenAddress, '192.0.2.2');
  assert.match(refusal({ ECM_LAB_ALLOW_REMOTE: 'yes' }), /lab\.allowRemote: /);
});

test('what names no one address is refused: the unspecified, a multicast or the broadcast address, legacy and host-name forms', () => {
  const allow = { ECM_LAB_ALLOW_REMOTE: 'true' };
  assert.match(refusal({ ...allow, ECM_LAB_LISTEN_ADDRESS: '0.0.0.0' }), /not the unspecified address 0\.0\.0\.0/);
  assert.match(refusal({ ...allow, ECM_LAB_LISTEN_ADDRESS: '224.0.0.1' }), /not the multicast address/);
  assert.match(refusal({ ...allow, ECM_LAB_LISTEN_ADDRESS: '255.255.255.255' }), /not the broadcast address/);
  for (const form of ['127.1', '0x7f.0.0.1', 'lab.example', '::1']) assert.match(refusal({ ...allow, ECM_LAB_LISTEN_ADDRESS: form }), /lab\.listenAddress: must be an IPv4 address/, form);
});

test('the components start on the listen address, step-ca names it first, the certificates name it beside loopback', () => {
  const config = placedConfig(loadConfig({ env: { ECM_LAB_LISTEN_ADDRESS: '192.0.2.2', ECM_LAB_ALLOW_REMOTE: 'true' } }), interfaces);
  assert.deepEqual([config.ca.host, config.broker.host, config.provisioning.host], ['192.0.2.2', '192.0.2.2', '192.0.2.2']);
  assert.equal(config.externalCa.host, '127.0.0.1', 'the external CA, a third party on this host, stays on loopback');
  assert.deepEqual(config.ca.dnsNames, ['192.0.2.2', 'localhost', '127.0.0.1']);
  assert.deepEqual(serverNamesOf(config).ipAddresses, ['127.0.0.1', '192.0.2.2']);
  assert.deepEqual(serverNamesOf(loadConfig({ env: {} })).ipAddresses, ['127.0.0.1']);
});

test('an address this host does not have is refused before anything starts, naming the ones it has', () => {
  assert.equal(hostHasAddress('127.3.4.5', interfaces), true, 'all of 127.0.0.0/8 is on lo');
  assert.equal(hostHasAddress('192.0.2.2', interfaces), true);
  assert.equal(hostHasAddress('192.0.2.3', interfaces), false);
  const config = loadConfig({ env: { ECM_LAB_LISTEN_ADDRESS: '192.0.2.3', ECM_LAB_ALLOW_REMOTE: 'true' } });
  assert.throws(() => placedConfig(config, interfaces), (err: Error) => err instanceof ConfigError && /lab\.listenAddress 192\.0\.2\.3 is not an address of this host \(its IPv4 addresses: 127\.0\.0\.1, 192\.0\.2\.2; any of 127\.0\.0\.0\/8\)/.test(err.message));
});
