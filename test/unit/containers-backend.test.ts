// Pure parts of the containers backend: backend selection, the podman configuration, the RPC
// framing the service uses over a unix socket when it runs in a container.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../../config/config.ts';
import { renderContainersConf } from '../../environments/containers/engine.ts';
import { RpcPeer } from '../../net/rpc.ts';
import { socketChannel } from '../../net/rpc-socket.ts';

test('the backend is local by default, containers by ECM_LAB_BACKEND or config, and nothing else', () => {
  assert.equal(loadConfig({ env: {} }).backend, 'local');
  assert.equal(loadConfig({ env: { ECM_LAB_BACKEND: 'containers' } }).backend, 'containers');
  assert.equal(loadConfig({ env: {}, overrides: { backend: 'containers' } }).containers.images, 'official');
  assert.equal(loadConfig({ env: { ECM_LAB_IMAGES: 'local' } }).containers.images, 'local');
  assert.throws(() => loadConfig({ env: { ECM_LAB_BACKEND: 'kubernetes' } }), ConfigError);
});

test('containers.conf: runc, cgroupfs, host network, and exactly the limits it is given', () => {
  const conf = renderContainersConf({ nofile: { soft: 4096, hard: 20000 }, nproc: { soft: 4096, hard: 4096 } });
  assert.match(conf, /^runtime = "runc"$/m);
  assert.match(conf, /^cgroup_manager = "cgroupfs"$/m);
  assert.match(conf, /^netns = "host"$/m);
  assert.match(conf, /^default_ulimits = \["nofile=4096:20000", "nproc=4096:4096"\]$/m);
});

test('RPC over a unix socket: calls both ways, values the structured clone keeps, large frames, and a close rejects what is pending', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ecm-rpc-'));
  const socketPath = path.join(dir, 'rpc.sock');
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
  const clientSocket = net.connect(socketPath);
  const serverSocket = await accepted;
  type Api = { [m: string]: (p: never) => unknown; echo(p: { when: Date; big: string }): { when: Date; big: string }; hang(): Promise<void> };
  const service = new RpcPeer<Api, Api>(socketChannel(serverSocket), { echo: (p) => p, hang: () => new Promise<void>(() => undefined) });
  const lab = new RpcPeer<Api, Api>(socketChannel(clientSocket), { echo: (p) => p, hang: () => new Promise<void>(() => undefined) });
  try {
    const when = new Date('2026-12-01T00:00:00Z');
    const big = 'x'.repeat(3 * 1024 * 1024);
    const back = await lab.call('echo', { when, big });
    assert.ok(back.when instanceof Date && back.when.getTime() === when.getTime(), 'a Date stays a Date (as with fork IPC "advanced" serialization)');
    assert.equal(back.big.length, big.length, 'a frame larger than one socket read arrives whole');
    assert.equal((await service.call('echo', { when, big: 'y' })).big, 'y', 'the service calls the lab on the same connection');
    const pending = lab.call('hang');
    serverSocket.destroy();
    await new Promise((r) => clientSocket.once('close', r));
    lab.close('the service went away');
    await assert.rejects(pending, /hang did not complete: the service went away/);
  } finally {
    clientSocket.destroy();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
