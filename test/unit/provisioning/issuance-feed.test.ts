import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { IssuanceFeed, parseIssuanceLine } from '../../../services/provisioning/issuance-feed.ts';

const DER = Buffer.from('3003020101', 'hex');
const line = (fields: string) => `time="2026-12-01T19:00:00Z" level=info ${fields}`;

test('step-ca lines that report an issued certificate, on every issuing path, and nothing else', () => {
  const cert = `certificate="${DER.toString('base64')}"`;
  for (const p of ['/1.0/sign', '/sign', '/1.0/renew', '/renew', '/rekey', '/acme/bootstrap/certificate/abc']) {
    assert.deepEqual(parseIssuanceLine(line(`method=POST path=${p} status=201 ${cert}`))?.der, DER, p);
  }
  assert.equal(parseIssuanceLine(line(`path=/1.0/revoke status=200 ${cert}`)), undefined, 'a revocation logs the revoked certificate');
  assert.equal(parseIssuanceLine(line(`path=/1.0/sign status=403 ${cert}`)), undefined, 'a refusal issued nothing');
  assert.equal(parseIssuanceLine(line('path=/1.0/sign status=201')), undefined);
  // logrus quotes values with spaces and escapes quotes inside them
  assert.ok(parseIssuanceLine(line(`error="a \\"quoted\\" path=/1.0/sign" path=/1.0/renew status=201 certificate=${DER.toString('base64')}`)));
});

test('the feed reads whole lines as they are appended, and a truncated file from its start', () => {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'ecm-feed-')), 'step-ca.log');
  const seen: string[] = [];
  const feed = new IssuanceFeed({ file, onIssued: (i) => seen.push(i.path) });
  feed.poll(); // not written yet
  writeFileSync(file, `${line(`path=/1.0/sign status=201 certificate=${DER.toString('base64')}`)}\n${line('path=/1.0/renew status=201 certif')}`);
  feed.poll();
  assert.deepEqual(seen, ['/1.0/sign'], 'the second line is not complete yet');
  appendFileSync(file, `icate=${DER.toString('base64')}\n`);
  feed.poll();
  assert.deepEqual(seen, ['/1.0/sign', '/1.0/renew']);
  writeFileSync(file, `${line(`path=/rekey status=201 certificate=${DER.toString('base64')}`)}\n`);
  feed.poll();
  assert.deepEqual(seen, ['/1.0/sign', '/1.0/renew', '/rekey']);
});
