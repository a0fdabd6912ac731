import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ClientLog } from '../../../simulators/client/client-log.ts';
import { CrlCache, CrlStaleError, crlCacheState } from '../../../simulators/client/crl-cache.ts';

const HOUR = 3600_000;
const T0 = new Date(Date.UTC(2026, 0, 1));

test('a copy is fresh up to its maximum age, stale after, empty before the first fetch', () => {
  assert.deepEqual(crlCacheState(undefined, T0, 48 * HOUR), { state: 'empty' });
  assert.equal(crlCacheState(T0, new Date(T0.getTime() + 48 * HOUR), 48 * HOUR).state, 'fresh');
  assert.equal(crlCacheState(T0, new Date(T0.getTime() + 48 * HOUR + 1), 48 * HOUR).state, 'stale');
});

test('the cache keeps the last good copy through failed refreshes, says crl-stale once, and refuses to be trusted until a refresh', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'crl-cache-'));
  try {
    let now = T0.getTime();
    let online = true;
    const log = new ClientLog('RVS-1');
    const cache = new CrlCache({ dir, log, now: () => new Date(now), fetch: async () => (online ? ['-----BEGIN X509 CRL-----\nAA==\n-----END X509 CRL-----'] : Promise.reject(new Error('offline'))), policy: { refreshIntervalMs: 24 * HOUR, maxAgeMs: 48 * HOUR } });
    assert.throws(() => cache.trusted(), CrlStaleError);
    assert.equal(await cache.refresh(), true);
    assert.equal(cache.trusted().length, 1);
    online = false;
    now += 49 * HOUR;
    assert.equal(await cache.refresh(), false);
    assert.equal(cache.crls.length, 1, 'the last good copy stays');
    assert.throws(() => cache.trusted(), /49 h old, more than the 48 h/);
    cache.check();
    assert.deepEqual(log.find('crl-stale').map((e) => [e.ageHours, e.maxAgeHours]), [[null, 48], [49, 48]], 'once per episode: empty, then stale');
    online = true;
    await cache.refresh();
    assert.equal(cache.trusted().length, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
