// StepCaContainer alone, as another project's test would use it (docs/guides/step-ca-container.md):
// no lab, no configuration, a provisioner of its own; it makes its own root, serves from a
// container, and leaves nothing behind. Also: the port race in a container (the held port is
// handed out first, the start is tried again on another). Needs the local images (`ecm-lab images
// build`; the pinned official image is used where a registry serves it).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import { StepCaContainer } from '../../environments/containers/step-ca-container.ts';
import { localImage } from '../../environments/containers/images.ts';
import { renderContainersConf } from '../../environments/containers/engine.ts';
import { freePort } from '../../environments/modules/ports.ts';
import { request } from '../../net/https-client.ts';

const run = promisify(execFile);
const image = () => localImage('step-ca', '.tools/bin');
// The engine's CLI with a containers.conf of this test's: the lab's own goes with its engine service.
const conf = path.join(mkdtempSync(path.join(os.tmpdir(), 'ecm-step-ca-container-')), 'containers.conf');
writeFileSync(conf, renderContainersConf());
after(() => rmSync(path.dirname(conf), { recursive: true, force: true }));
const running = async (id: string) =>
  (await run('podman', ['ps', '--all', '--quiet', '--no-trunc', '--filter', `id=${id}`], { env: { ...process.env, CONTAINERS_CONF: conf } })).stdout.trim() !== '';

test('a StepCaContainer with one ACME provisioner and nothing else: its URL, its root, ACME served, and no container left', async () => {
  let id: string;
  let dir: string;
  {
    await using ca = await new StepCaContainer(await image()).withProvisioners([{ type: 'ACME', name: 'acme' }]).start();
    id = ca.getId();
    dir = ca.caJsonFile.replace(/\/ca\.json$/, '');
    assert.match(ca.getCaUrl(), /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.match(ca.getRootPem(), /^-----BEGIN CERTIFICATE-----/);
    assert.ok(await running(id), 'it runs as a container of the engine');
    const health = await request(`${ca.getCaUrl()}/health`, { ca: ca.getRootPem() });
    assert.equal(health.json<{ status: string }>().status, 'ok');
    const directory = (await request(`${ca.getCaUrl()}/acme/acme/directory`, { ca: ca.getRootPem() })).json<Record<string, string>>();
    assert.ok(directory.newOrder?.startsWith(`${ca.getCaUrl()}/acme/acme/`), JSON.stringify(directory));
    assert.equal(JSON.parse(readFileSync(ca.caJsonFile, 'utf8')).authority.provisioners[0].name, 'acme');
  }
  assert.equal(await running(id), false, 'disposed: the container is removed');
  assert.equal(existsSync(dir), false, 'its temporary directory (keys) is removed');
});

test('in a container too, a chosen port that another process took meanwhile is replaced by another', async () => {
  const held = net.createServer();
  await new Promise<void>((resolve) => held.listen(0, '127.0.0.1', resolve));
  const heldPort = (held.address() as net.AddressInfo).port;
  const handedOut: number[] = [];
  try {
    await using ca = await new StepCaContainer(await image())
      .withProvisioners([{ type: 'ACME', name: 'acme' }])
      .withFreePortSource(async (host) => {
        const port = handedOut.length === 0 ? heldPort : await freePort(host);
        handedOut.push(port);
        return port;
      })
      .start();
    assert.deepEqual([handedOut[0], handedOut.length], [heldPort, 2], 'the held port first, then one more');
    assert.equal(ca.getPort(), handedOut[1]);
    assert.equal((await request(`${ca.getCaUrl()}/health`, { ca: ca.getRootPem() })).status, 200);
  } finally {
    held.close();
  }
});
