// scripts/bootstrap.sh run twice at once in one checkout: the second waits for the first (a lock
// on .tools/bootstrap.lock) instead of running `npm ci` over it, then finds everything installed.
// The "first" here is a shell that holds the same lock until the test lets it go.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../../environments/tools/tools.ts';
import { waitFor } from '../../environments/wait.ts';

const LOCK = path.join(repoRoot, '.tools', 'bootstrap.lock');

test('a second bootstrap of one checkout waits for the first to finish, then completes', { timeout: 120_000 }, async () => {
  const holder = spawn('bash', ['-c', 'exec 9>"$1"; flock 9; echo held; read -r _', 'hold', LOCK], { stdio: ['pipe', 'pipe', 'inherit'] });
  let held = '';
  holder.stdout!.on('data', (d: Buffer) => (held += d.toString()));
  const bootstrap = spawn('bash', [path.join(repoRoot, 'scripts/bootstrap.sh')], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  bootstrap.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  bootstrap.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const ended = once(bootstrap, 'exit');
  try {
    await waitFor('the holder to take the lock', () => held.includes('held'), { timeoutMs: 10_000 });
    await waitFor('the bootstrap to say it waits', () => out.includes('another bootstrap of this checkout is running'), { timeoutMs: 30_000 });
    assert.equal(bootstrap.exitCode, null, 'it waits, it does not give up');
    assert.doesNotMatch(out, /npm packages/, 'nothing is installed while the other holds the lock');
    holder.stdin!.end();
    const [code] = await ended;
    assert.equal(code, 0, out);
    assert.match(out, /npm packages: up to date[\s\S]*\[bootstrap\]\S* done/);
  } finally {
    holder.kill();
    bootstrap.kill();
  }
});
