import assert from 'node:assert/strict';
import { test } from 'node:test';
import { moduleOf, summarise, windowOf, type CpuProfile } from '../../scripts/cpuprofile-summary.ts';

const ROOT = '/repo';
const frame = (functionName: string, url: string, lineNumber = 0) => ({ functionName, url, lineNumber });

/** root -> device (simulators/client) -> sign (native); root -> axios request; root -> (idle) */
function profile(): CpuProfile {
  return {
    nodes: [
      { id: 1, callFrame: frame('(root)', ''), children: [2, 4, 5] },
      { id: 2, callFrame: frame('provision', 'file:///repo/simulators/client/acme.ts', 9), children: [3] },
      { id: 3, callFrame: frame('sign', '') },
      { id: 4, callFrame: frame('request', 'file:///repo/node_modules/axios/dist/node/axios.cjs', 99) },
      { id: 5, callFrame: frame('(idle)', '') },
    ],
    startTime: 0,
    // Samples at 0, 1, 2, 3, 4, 5 ms (each lasts until the next one).
    samples: [2, 3, 3, 4, 5, 5],
    timeDeltas: [0, 1000, 1000, 1000, 1000, 1000],
    endTime: 6000,
  };
}

test('a frame is named by its package, builtin or project folder', () => {
  assert.equal(moduleOf('file:///repo/node_modules/@peculiar/x509/build/x509.cjs.js', ROOT), '@peculiar/x509');
  assert.equal(moduleOf('file:///repo/node_modules/axios/dist/node/axios.cjs', ROOT), 'axios');
  assert.equal(moduleOf('node:_tls_wrap', ROOT), 'node:tls');
  assert.equal(moduleOf('node:internal/crypto/sig', ROOT), 'node:crypto');
  assert.equal(moduleOf('file:///repo/simulators/client/x.ts', ROOT), 'simulators/client');
  assert.equal(moduleOf('', ROOT), '(native)');
});

test('native self time goes to the caller, idle time to no module', () => {
  const s = summarise(profile(), ROOT);
  assert.equal(s.totalMs, 5); // the last sample has no successor: no duration
  assert.equal(s.idleMs, 1);
  assert.equal(s.busyMs, 4);
  assert.deepEqual(s.selfByFunction.get('sign (native)'), { ms: 2, module: 'simulators/client' });
  assert.equal(s.selfByModule.get('simulators/client'), 3);
  assert.equal(s.selfByModule.get('axios'), 1);
  assert.equal(s.selfByModule.has('(native)'), false);
  assert.equal(s.inclusiveByModule.get('simulators/client'), 3);
});

test('a window keeps only its samples', () => {
  const s = summarise(profile(), ROOT, { fromMs: 1, toMs: 2 });
  assert.equal(s.busyMs, 2);
  assert.deepEqual([...s.selfByModule], [['simulators/client', 2]]);
});

test("--window-from: a run's CPU window, on the monotonic clock, cut out of a profile that started earlier", () => {
  const p = { ...profile(), startTime: 5_000_000, endTime: 5_006_000 };
  const run = { measured: { cpu: { provisioning: { monotonicUs: { start: 5_001_000, end: 5_002_000 } }, run: { monotonicUs: { start: 5_000_000, end: 5_006_000 } } } } };
  const cut = windowOf(run, 'provisioning', p.startTime);
  assert.deepEqual(cut, { fromMs: 1, toMs: 2 });
  assert.equal(summarise(p, ROOT, cut).busyMs, 2);
  assert.equal(summarise(p, ROOT, windowOf(run, 'run', p.startTime)).busyMs, 4);
  assert.throws(() => windowOf({ measured: { cpu: { run: {} } } }, 'provisioning', 0, 'old.json'), /old\.json records no provisioning window on the monotonic clock/);
});
