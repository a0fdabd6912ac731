// The containers backend against the real engine (podman here): `ecm-lab up --backend containers
// --json` prints the local backend's JSON shape and the components answer; no container, and no
// engine service of the lab's, is left after SIGTERM, after SIGKILL of the lab process (the
// watchdog), or when a lab process died with its watchdog (the reaper at the next start).
// Needs the local images: `ecm-lab images build` (the containers CI script runs it first).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { request } from '../../net/https-client.ts';
import { waitFor } from '../../environments/wait.ts';
import { startCli, type CliRun } from '../support/cli.ts';
import { isAlive } from '../support/processes.ts';

const run = promisify(execFile);

/** The lab's containers as the engine's own CLI lists them (running or not). */
async function containersOf(labId: string): Promise<string[]> {
  const { stdout } = await run('podman', ['ps', '--all', '--filter', `label=ecm-lab.lab=${labId}`, '--format', '{{.Names}}']);
  return stdout.split('\n').filter(Boolean);
}

/** podman API services whose socket is this lab process's own. */
function engineServicesOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .filter((e) => {
      try {
        return readFileSync(`/proc/${e}/cmdline`, 'utf8').includes(`ecm-lab-engine-${pid}/podman.sock`) && isAlive(Number(e));
      } catch {
        return false;
      }
    })
    .map(Number);
}

async function firstJsonLine(cli: CliRun): Promise<Record<string, any>> {
  const line = await waitFor(
    'ecm-lab up --json to print its endpoints',
    () => {
      if (cli.child.exitCode !== null) throw new Error(`ecm-lab up exited early: ${cli.stderr()}`);
      return cli.stdout().split('\n').find((l) => l.startsWith('{'));
    },
    { timeoutMs: 120_000 },
  );
  return JSON.parse(line);
}

/** The keys of a JSON value, recursively (values differ between runs, the shape must not). */
function shape(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(shape);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shape(v)]).sort(([a], [b]) => String(a).localeCompare(String(b))));
  return typeof value;
}

test('ecm-lab up --backend containers --json: the local backend\'s shape, components answering from containers, nothing left after SIGTERM', async (t) => {
  const local = startCli(['up', '--json']);
  t.after(() => local.child.kill('SIGKILL'));
  const localLab = await firstJsonLine(local);
  local.child.kill('SIGTERM');
  await local.exit;

  const cli = startCli(['up', '--backend', 'containers', '--json']);
  t.after(() => cli.child.kill('SIGKILL'));
  const lab = await firstJsonLine(cli);
  assert.equal(lab.backend, 'containers');
  assert.deepEqual(shape({ ...lab, backend: 'local' }), shape(localLab), 'the same JSON keys and value types as the local backend');
  const officialPresent = await run('podman', ['image', 'exists', 'smallstep/step-ca:0.30.2']).then(() => true, () => false);
  if (!officialPresent) assert.match(cli.stderr(), /the official image smallstep\/step-ca:\S+ cannot be pulled .*using the locally built localhost\/ecm-lab\/step-ca:/, 'the fallback is said');

  const names = await containersOf(lab.id);
  assert.equal(names.length, 4, `one container per component: ${names.join(', ')}`);
  for (const p of lab.processes as Array<{ name: string; pid: number }>) assert.ok(isAlive(p.pid), `${p.name}: its container's process ${p.pid} is a host process`);
  const root = readFileSync(lab.ca.rootPem, 'utf8');
  assert.equal((await request(`${lab.ca.url}/health`, { ca: root })).json<{ status: string }>().status, 'ok', 'step-ca answers');
  const bootstrapRoot = readFileSync(lab.bootstrapCa.rootPem, 'utf8');
  assert.ok((await request(lab.bootstrapCa.acmeDirectory, { ca: bootstrapRoot })).json<Record<string, string>>().newOrder, 'the bootstrap authority serves ACME');
  const status = await request(`${lab.provisioning.url}/api/v1/admin/state`, { ca: root, headers: { authorization: `Bearer ${lab.provisioning.adminToken}` } });
  assert.equal(status.status, 200, 'the provisioning service answers its admin API');
  // The broker logs into the bind-mounted log directory itself: it started its TLS listener.
  assert.match(readFileSync(lab.logs.mosquitto, 'utf8'), /Opening ipv4 listen socket on port \d+/);
  // Keys stay the service's own, 0600, in the work directory the containers share.
  assert.equal(statSync(`${lab.workDir}/provisioning/jwk.json`).mode & 0o777, 0o600);

  cli.child.kill('SIGTERM');
  const exit = await cli.exit;
  assert.equal(exit.code, 143);
  assert.deepEqual(await containersOf(lab.id), [], 'no container of the lab is left');
  await waitFor('the lab\'s podman API service to stop', () => engineServicesOf(cli.child.pid!).length === 0, { timeoutMs: 30_000 });
  assert.equal(existsSync(lab.workDir), false, 'the work directory (keys) is removed');
});

test('SIGKILL of the lab process: the watchdog removes every container and stops the engine service', async () => {
  const cli = startCli(['up', '--backend', 'containers', '--json']);
  const lab = await firstJsonLine(cli);
  assert.equal((await containersOf(lab.id)).length, 4);
  cli.child.kill('SIGKILL');
  await cli.exit;
  await waitFor('the watchdog to remove the lab\'s containers', async () => (await containersOf(lab.id)).length === 0, { timeoutMs: 60_000, intervalMs: 250 });
  await waitFor('the lab\'s podman API service to stop', () => engineServicesOf(cli.child.pid!).length === 0, { timeoutMs: 30_000 });
  // A killed lab cannot remove its work directory: the test does.
  rmSync(lab.workDir, { recursive: true, force: true });
});

test('containers of a lab process that died with its watchdog are removed when the next lab starts', async () => {
  // What a lab whose watchdog was killed too would leave: a running container labelled with a
  // process that no longer exists on this host.
  const dead = 2 ** 22 + 12345; // above pid_max's default range: no such process
  const labId = `orphan-${process.pid}`;
  const conf = `${os.tmpdir()}/ecm-orphan-${process.pid}.conf`;
  const { renderContainersConf } = await import('../../environments/containers/engine.ts');
  await import('node:fs/promises').then((fs) => fs.writeFile(conf, renderContainersConf()));
  const { localImage } = await import('../../environments/containers/images.ts');
  const image = await localImage('mosquitto', '.tools/bin');
  try {
    await run('podman', ['run', '--detach', '--network', 'host', '--entrypoint', '/bin/sleep',
      '--label', `ecm-lab.session=dead-${dead}`, '--label', `ecm-lab.lab=${labId}`, '--label', `ecm-lab.owner-pid=${dead}`, '--label', `ecm-lab.owner-host=${os.hostname()}`,
      image, '300'], { env: { ...process.env, CONTAINERS_CONF: conf } });
    assert.equal((await containersOf(labId)).length, 1);
    const images = startCli(['images', 'build']);
    const exit = await images.exit;
    assert.equal(exit.code, 0, images.stderr());
    assert.match(images.stderr(), /removed \d+ container\(s\) left by lab processes that no longer exist/);
    assert.deepEqual(await containersOf(labId), []);
  } finally {
    await run('podman', ['rm', '--force', '--time', '0', ...(await containersOf(labId))]).catch(() => undefined);
    rmSync(conf, { force: true });
  }
});
