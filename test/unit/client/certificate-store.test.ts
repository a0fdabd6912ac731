import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { CertificateStore } from '../../../simulators/client/certificate-store.ts';

test('the store answers from memory, yet sees a file changed or removed behind its back', () => {
  const store = new CertificateStore(mkdtempSync(path.join(os.tmpdir(), 'store-')));
  store.saveCaCertificate('root A');
  assert.equal(store.loadCaCertificate(), 'root A');
  // Another process (the step CLI, a damaged flash) rewrites the file in place: same name, new content.
  writeFileSync(store.file('caCert'), 'root B, longer');
  assert.equal(store.loadCaCertificate(), 'root B, longer');
  writeFileSync(store.file('caCert'), 'root C, longer'); // same size
  assert.equal(store.loadCaCertificate(), 'root C, longer');
  rmSync(store.file('caCert'));
  assert.equal(store.loadCaCertificate(), undefined);
  store.saveOperational({ certificateChainPem: 'cert', privateKeyPem: 'key' });
  rmSync(store.file('operationalKey'));
  assert.equal(store.loadOperational(), undefined, 'a pair with a file missing is no pair');
});
