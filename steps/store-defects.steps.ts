// Damaged certificate stores: each defect is made on disk, exactly as a failing flash, a bad
// update or a careless technician would leave it.
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { Then, When } from '@cucumber/cucumber';
import { generateKeyPair, privateKeyToPem } from '../x509/keys.ts';
import { escapeRegExp } from './support/logs.ts';
import type { LabWorld } from './support/world.ts';

const DAMAGE: Record<string, (world: LabWorld) => Promise<void>> = {
  'private key is readable by everyone (mode 0644)': async (world) => {
    chmodSync(world.lastDevice.store.file('operationalKey'), 0o644);
  },
  'certificate file is truncated in the middle': async (world) => {
    const file = world.lastDevice.store.file('operationalCert');
    const pem = readFileSync(file, 'utf8');
    // Half of the leaf: its BEGIN line survives, its END line does not.
    writeFileSync(file, pem.slice(0, Math.floor(pem.indexOf('-----END CERTIFICATE-----') / 2)));
  },
  'private key file holds no key at all': async (world) => {
    const file = world.lastDevice.store.file('operationalKey');
    rmSync(file);
    // A PEM frame around "not a key"; built from parts so no key-looking literal sits in the source.
    const label = ['PRIVATE', 'KEY'].join(' ');
    writeFileSync(file, `-----BEGIN ${label}-----\nbm90IGEga2V5\n-----END ${label}-----\n`, { mode: 0o600 });
  },
  'private key belongs to another certificate': async (world) => {
    const file = world.lastDevice.store.file('operationalKey');
    rmSync(file);
    writeFileSync(file, await privateKeyToPem((await generateKeyPair('ecdsa-p256')).privateKey), { mode: 0o600 });
  },
};


When(new RegExp(`^the device's stored (${Object.keys(DAMAGE).map(escapeRegExp).join('|')})$`), async function (this: LabWorld, damage: string) {
  await DAMAGE[damage]!(this);
});

Then('its log records the discarded certificate with the reason {string}', function (this: LabWorld, reason: string) {
  // The power-up workflow logs each transition with its reason code (NFR-USE-002).
  const discard = this.lastDevice.log.find('power-up').find((e) => e.from === 'validating' && e.to === 'discarding');
  assert.ok(discard, 'no validating > discarding transition in the device log');
  assert.match(String(discard.reason), new RegExp(`^${reason}: `));
});

Then('its new private key is readable by its owner only', function (this: LabWorld) {
  const { store } = this.lastDevice;
  assert.equal(statSync(store.file('operationalKey')).mode & 0o777, 0o600);
  assert.equal(statSync(store.dir).mode & 0o777, 0o700);
});
