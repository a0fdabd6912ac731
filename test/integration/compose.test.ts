// compose.yaml (the seed's PoC topology) with podman-compose: up provisions the devices, down
// keeps the named volumes, and after a second up every device reconnects with the certificate
// in its volume, without provisioning again: nothing new is issued (NFR-REL-002). `down -v`
// leaves no container, volume or network of the project. Needs `ecm-lab images build`.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { COMPOSE_PORTS } from '../../environments/compose/compose-stack.ts';
import { renderContainersConf } from '../../environments/containers/engine.ts';
import { repoRoot } from '../../environments/tools/tools.ts';
import { waitFor } from '../../environments/wait.ts';
import { ProvisioningAdminClient } from '../../simulators/client/admin-client.ts';

const run = promisify(execFile);
const project = `ecm-lab-compose-${process.pid}`;
const dir = mkdtempSync(path.join(os.tmpdir(), 'ecm-compose-'));
const conf = path.join(dir, 'containers.conf');
writeFileSync(conf, renderContainersConf());
const env = { ...process.env, CONTAINERS_CONF: conf };

/** podman-compose as the README runs it on this machine kind (scripts/podman-compose-host.py). */
const compose = (...args: string[]) => run('python3', [path.join(repoRoot, 'scripts/podman-compose-host.py'), '-p', project, '-f', path.join(repoRoot, 'compose.yaml'), ...args], { env, cwd: repoRoot, maxBuffer: 16 * 1024 * 1024 });
const podman = async (...args: string[]) => (await run('podman', args, { env, maxBuffer: 16 * 1024 * 1024 })).stdout;
const listed = async (kind: 'ps' | 'volume' | 'network', all = true) => {
  const args = kind === 'ps' ? ['ps', ...(all ? ['--all'] : []), '--filter', `label=io.podman.compose.project=${project}`, '--format', '{{.Names}}'] : [kind, 'ls', '--filter', `label=io.podman.compose.project=${project}`, '--format', '{{.Name}}'];
  return (await podman(...args)).split('\n').filter(Boolean);
};

interface ComposeEvent {
  event: string;
  identity?: string;
  state?: string;
  path?: string[];
  stored?: boolean;
  topic?: string;
}

async function events(service: string): Promise<ComposeEvent[]> {
  const { stdout, stderr } = await run('podman', ['logs', `${project}_${service}_1`], { env, maxBuffer: 16 * 1024 * 1024 });
  return `${stdout}\n${stderr}`.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as ComposeEvent);
}

const powerUp = (service: string) =>
  waitFor(`${service} to power up`, async () => (await events(service)).find((e) => e.event === 'power-up'), { timeoutMs: 120_000, intervalMs: 500 });

const volumePath = async (name: string) => (await podman('volume', 'inspect', `${project}_${name}`, '--format', '{{.Mountpoint}}')).trim();

async function admin(): Promise<ProvisioningAdminClient> {
  const { adminToken } = JSON.parse(readFileSync(path.join(await volumePath('provisioning'), 'compose-service.json'), 'utf8')) as { adminToken: string };
  const root = readFileSync(path.join(await volumePath('public'), 'root_ca.crt'), 'utf8');
  return new ProvisioningAdminClient(`https://127.0.0.1:${COMPOSE_PORTS.serviceHttps}`, adminToken, root);
}

test('compose up, down, up: the devices keep their certificates and reconnect without provisioning again', async (t) => {
  t.after(async () => {
    await compose('down', '-v').catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });
  await compose('up', '-d');
  const first = await powerUp('device-1');
  assert.equal(first.state, 'connected', JSON.stringify(first));
  assert.equal(first.stored, false, 'a new installation: nothing stored yet');
  assert.ok(first.path!.includes('provisioning'), `provisioned on first power-up: ${first.path!.join(' > ')}`);
  assert.equal((await powerUp('device-2')).state, 'connected');
  await waitFor('lumia to receive device-1 telemetry', async () => (await events('lumia')).some((e) => e.event === 'telemetry'), { timeoutMs: 60_000, intervalMs: 500 });
  const issuedBefore = (await (await admin()).inventory('RVS-PoC-0001')).length;
  assert.ok(issuedBefore >= 1, 'the inventory holds device-1');
  assert.deepEqual(await listed('network'), [], 'host networking only: no network of the project');

  await compose('down');
  assert.deepEqual(await listed('ps'), [], 'down removes every container');
  assert.ok((await listed('volume')).includes(`${project}_device-1`), 'the named volumes (certificate storage) stay');

  await compose('up', '-d');
  const again = await powerUp('device-1');
  assert.equal(again.state, 'connected', JSON.stringify(again));
  assert.equal(again.stored, true, 'the certificate in its volume was valid');
  assert.deepEqual(again.path, ['validating', 'connecting', 'connected'], 'connected without provisioning again');
  assert.equal((await powerUp('device-2')).stored, true);
  assert.equal((await (await admin()).inventory('RVS-PoC-0001')).length, issuedBefore, 'nothing new was issued to device-1');
  await waitFor('lumia to receive telemetry again', async () => (await events('lumia')).some((e) => e.event === 'telemetry'), { timeoutMs: 60_000, intervalMs: 500 });

  await compose('down', '-v');
  assert.deepEqual(await listed('ps'), [], 'no container left');
  assert.deepEqual(await listed('volume'), [], 'down -v removes the volumes');
});
