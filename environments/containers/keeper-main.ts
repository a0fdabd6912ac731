// The engine watchdog: one per lab process, in its own process group, so neither Ctrl-C to the
// lab's terminal nor the lab's death ends it first. It starts the podman API service when the lab
// owns it, says "ready", and waits on its stdin, the lab's pipe. When that closes (the lab
// released the engine, or died: SIGKILL included) it removes every container labelled with the
// lab process's session, stops the service, removes the runtime directory and exits.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { openSync, rmSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { listContainers, ping, removeContainer } from './engine-api.ts';

interface KeeperOptions {
  sessionId: string;
  dockerHost: string;
  runtimeDir: string;
  ownerPid: number;
  podman?: { socket: string; containersConf: string; binary: string };
}

const options = JSON.parse(process.argv[2] ?? '{}') as KeeperOptions;
const endpoint = { dockerHost: options.dockerHost };
const log = (line: string) => console.error(`${new Date().toISOString()} keeper[${process.pid}] for lab process ${options.ownerPid}: ${line}`);
let service: ChildProcess | undefined;

async function startService(): Promise<void> {
  const { podman } = options;
  if (!podman) return;
  rmSync(podman.socket, { force: true });
  const out = openSync(path.join(options.runtimeDir, 'podman-service.log'), 'a', 0o600);
  // --time=0: the service never exits on its own while idle; the keeper ends it.
  service = spawn(podman.binary, ['system', 'service', '--time=0', options.dockerHost], { env: { ...process.env, CONTAINERS_CONF: podman.containersConf }, stdio: ['ignore', out, out] });
  const deadline = Date.now() + 20_000;
  while (!(await ping(endpoint, 1000))) {
    if (service.exitCode !== null) throw new Error(`podman system service exited with code ${service.exitCode}; see ${path.join(options.runtimeDir, 'podman-service.log')}`);
    if (Date.now() > deadline) throw new Error('podman system service did not answer within 20 s');
    await delay(50);
  }
  log(`podman API service pid ${service.pid} on ${options.dockerHost}`);
}

/**
 * Removes the session's containers until none is listed (bounded): a container whose creation
 * was still under way when the lab died appears only a moment later.
 */
async function removeSessionContainers(): Promise<boolean> {
  const deadline = Date.now() + 30_000;
  let quietRounds = 0;
  while (Date.now() < deadline) {
    try {
      const left = await listContainers(endpoint, `ecm-lab.session=${options.sessionId}`);
      for (const container of left) {
        await removeContainer(endpoint, container.Id);
        log(`removed ${container.Names.join(',')} (${container.Id.slice(0, 12)})`);
      }
      quietRounds = left.length === 0 ? quietRounds + 1 : 0;
      if (quietRounds >= 2) return true;
    } catch (err) {
      log(`could not list or remove containers (will retry): ${(err as Error).message}`);
    }
    await delay(250);
  }
  return false;
}

let cleaning: Promise<void> | undefined;
function cleanUp(reason: string): Promise<void> {
  return (cleaning ??= (async () => {
    log(`${reason}: removing the session's containers`);
    const clean = await removeSessionContainers();
    if (!clean) log('containers may be left: the next lab to start removes them (engine.ts reapOrphans)');
    if (service && service.exitCode === null) {
      const exited = once(service, 'exit');
      service.kill('SIGTERM');
      const killer = setTimeout(() => service?.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
      log('podman API service stopped');
    }
    if (options.podman) rmSync(options.podman.socket, { force: true });
    // The runtime directory (socket, containers.conf, logs) stays only if something went wrong.
    if (clean) rmSync(options.runtimeDir, { recursive: true, force: true });
  })());
}

// The terminal's signals reach the lab, not this group; a direct SIGTERM/SIGHUP still cleans up.
for (const signal of ['SIGTERM', 'SIGHUP', 'SIGINT'] as const) process.on(signal, () => void cleanUp(signal).finally(() => process.exit(0)));

try {
  await startService();
} catch (err) {
  process.stdout.write(`failed: ${(err as Error).message}\n`);
  await cleanUp('start failed');
  process.exit(1);
}
process.stdout.write('ready\n');
process.stdin.resume();
process.stdin.on('data', () => undefined);
await new Promise<void>((resolve) => {
  process.stdin.once('end', resolve);
  process.stdin.once('close', resolve);
  process.stdin.once('error', resolve);
});
await cleanUp('the lab closed its pipe');
process.exit(0);
