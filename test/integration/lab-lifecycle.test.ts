// The local environment against the real step-ca, Mosquitto and provisioning service processes: it starts, it answers, and
// stop() leaves no process behind however the lab ends (stop, SIGTERM, SIGINT, SIGKILL, failed scenario).
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../../config/config.ts';
import { request } from '../../net/https-client.ts';
import { startLocalLab } from '../../environments/local/local-environment.ts';
import { waitFor } from '../../environments/wait.ts';
import { startCli } from '../support/cli.ts';
import { isAlive, processesMentioning } from '../support/processes.ts';

const gone = (pids: number[]) => waitFor(`processes ${pids.join(', ')} to end`, () => pids.every((p) => !isAlive(p)), { timeoutMs: 10_000 });

async function firstJsonLine(run: ReturnType<typeof startCli>): Promise<Record<string, any>> {
  const line = await waitFor(
    'ecm-lab up --json to print its endpoints',
    () => {
      if (run.child.exitCode !== null) throw new Error(`ecm-lab up exited early: ${run.stderr()}`);
      return run.stdout().split('\n').find((l) => l.startsWith('{'));
    },
    { timeoutMs: 60_000 },
  );
  return JSON.parse(line);
}

test('a started lab serves both step-ca authorities and ACME, stops idempotently and leaves no process', async () => {
  const lab = await startLocalLab(loadConfig({ env: {} }));
  const pids = lab.processes().map((p) => p.pid);
  try {
    assert.deepEqual(lab.processes().map((p) => p.name), ['step-ca', 'bootstrap-ca', 'mosquitto', 'provisioning-service']);
    assert.ok(pids.every(isAlive));
    const root = readFileSync(lab.ca.rootPem, 'utf8');
    const bootstrapRoot = readFileSync(lab.bootstrapCa.rootPem, 'utf8');
    assert.notEqual(root, bootstrapRoot, 'two hierarchies');
    assert.equal((await request(`${lab.ca.url}/health`, { ca: root })).json<{ status: string }>().status, 'ok');
    const directory = (await request(lab.bootstrapCa.acmeDirectoryUrl, { ca: bootstrapRoot })).json<Record<string, string>>();
    assert.ok(directory.newOrder?.startsWith(lab.bootstrapCa.url), 'ACME directory of the bootstrap provisioner');
    await assert.rejects(request(lab.bootstrapCa.acmeDirectoryUrl, { ca: root }), /unable to get local issuer certificate/, 'the bootstrap authority is not under the operational root');

    // The provisioning service's signing key is its own: 0600 in its data directory, and ca.json
    // holds only the public half (no private "d").
    const jwkFile = path.join(lab.workDir, 'provisioning', 'jwk.json');
    assert.equal(statSync(jwkFile).mode & 0o777, 0o600);
    const own = JSON.parse(readFileSync(jwkFile, 'utf8')) as { publicJwk: Record<string, string>; privateJwk: Record<string, string> };
    for (const authority of ['step-ca', 'bootstrap-ca']) {
      const caJson = JSON.parse(readFileSync(path.join(lab.workDir, authority, 'ca.json'), 'utf8')) as { authority: { provisioners: Array<{ type: string; key?: Record<string, string> }> } };
      const jwkProvisioner = caJson.authority.provisioners.find((p) => p.type === 'JWK')!;
      assert.equal(jwkProvisioner.key!.x, own.publicJwk.x);
      assert.equal(jwkProvisioner.key!.d, undefined, `no private key component in ${authority}'s ca.json`);
    }
    assert.ok(own.privateJwk.d, 'the service holds the private half');
  } finally {
    await lab.stop();
    await lab.stop();
  }
  assert.ok(pids.every((p) => !isAlive(p)), 'every component process is gone after stop()');
  assert.equal(existsSync(lab.workDir), false, 'the private work directory (keys) is removed');
});

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  test(`ecm-lab up --json prints the endpoints and stops everything on ${signal}`, async (t) => {
    const run = startCli(['up', '--json']);
    // A failed assertion must not leave the lab running.
    t.after(() => run.child.kill('SIGKILL'));
    const lab = await firstJsonLine(run);
    assert.match(lab.ca.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.ok(existsSync(lab.ca.rootPem), 'ca.rootPem is a file');
    assert.equal(lab.broker.host, '127.0.0.1');
    assert.ok(Number.isInteger(lab.broker.port) && lab.broker.port > 0);
    assert.match(lab.provisioning.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.ok(typeof lab.provisioning.adminToken === 'string' && lab.provisioning.adminToken.length >= 32);
    const pids = (lab.processes as Array<{ pid: number }>).map((p) => p.pid);
    assert.ok(existsSync(lab.bootstrapCa.rootPem), 'bootstrapCa.rootPem is a file');
    assert.equal(lab.provisioning.caUrl, lab.provisioning.url, 'the CA URL clients use is the service');
    assert.ok(pids.length === 4 && pids.every(isAlive), 'both step-ca authorities, mosquitto and the provisioning service run');
    run.child.kill(signal);
    const exit = await run.exit;
    assert.equal(exit.code, 128 + (signal === 'SIGINT' ? 2 : 15));
    await gone(pids);
  });
}

test('components die with the lab even when the lab process is SIGKILLed', async () => {
  const run = startCli(['up', '--json']);
  const lab = await firstJsonLine(run);
  const pids = (lab.processes as Array<{ pid: number }>).map((p) => p.pid);
  run.child.kill('SIGKILL');
  await run.exit;
  await gone(pids);
  // A killed lab cannot remove its work directory (its keys, 0600 in 0700): the test does.
  rmSync(lab.workDir, { recursive: true, force: true });
});

test('a failing scenario still stops the lab: no component outlives cucumber', async () => {
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'ecm-lifecycle-'));
  const release = path.join(workDir, 'release');
  const run = startCli(
    ['run', '--out', path.join(workDir, 'reports'), '--', 'test/fixtures/features/failing.feature', '--import', 'steps/**/*.ts', '--import', 'test/fixtures/steps/*.ts', '--format', 'summary'],
    { ECM_LAB_WORK_DIR: workDir, ECM_LAB_FIXTURE_RELEASE: release },
  );
  // The lab's processes mention its work dir on their command lines (ca.json, mosquitto.conf, the service's data dir).
  const seen = await waitFor('the lab components to start', () => processesMentioning(workDir).length === 4 && processesMentioning(workDir), { timeoutMs: 60_000 });
  await import('node:fs/promises').then((fs) => fs.writeFile(release, 'go'));
  const exit = await run.exit;
  // Both streams in the message: a run that failed for another reason (a hook) must say which.
  const output = `exit ${JSON.stringify(exit)}\nstdout:\n${run.stdout()}\nstderr:\n${run.stderr()}`;
  assert.notEqual(exit.code, 0, `the scenario failed, so the run fails\n${output}`);
  assert.match(run.stdout(), /1 scenario \(1 failed\)/, output);
  assert.match(run.stdout(), /failing on purpose/, output);
  await gone(seen);
  assert.deepEqual(processesMentioning(workDir), []);
});

test('a component that cannot start fails the lab with a clear error and leaves nothing running', async () => {
  const blocker = net.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => blocker.once('listening', r));
  const port = (blocker.address() as net.AddressInfo).port;
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'ecm-blocked-'));
  try {
    await assert.rejects(
      startLocalLab(loadConfig({ env: {}, overrides: { workDir, readinessTimeoutMs: 10_000, broker: { port } } })),
      /mosquitto (exited|killed).*see .*mosquitto\.log/,
    );
    assert.deepEqual(processesMentioning(workDir), [], 'step-ca was stopped when the broker failed');
  } finally {
    blocker.close();
  }
});

test('a wrong config file is refused before anything starts, exit code 2', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ecm-badconf-'));
  const file = path.join(dir, 'lab.json');
  await import('node:fs/promises').then((fs) => fs.writeFile(file, JSON.stringify({ ca: { operationalCertDuration: 'tomorrow' } })));
  const run = startCli(['--config', file, 'up']);
  const exit = await run.exit;
  assert.equal(exit.code, 2);
  assert.match(run.stderr(), /ca\.operationalCertDuration: must be a Go duration/);
});
