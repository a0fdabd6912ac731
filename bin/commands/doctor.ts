// ecm-lab doctor: every tool with its version, pin and path; what is missing and the fix.
import { execFile } from 'node:child_process';
import net from 'node:net';
import { promisify } from 'node:util';
import { loadConfig } from '../../config/config.ts';
import { EXIT } from '../exit-codes.ts';
import { inspectTool, locateDynamicSecurityPlugin, toolNames, versionPins, type ToolReport } from '../../environments/tools/tools.ts';

const run = promisify(execFile);

interface Check {
  name: string;
  ok: boolean;
  detail: string;
  fix?: string;
}

async function goCheck(): Promise<Check> {
  try {
    const { stdout } = await run('go', ['version']);
    const version = /go(\d+\.\d+(\.\d+)?)/.exec(stdout)?.[1] ?? 'unknown';
    const [major, minor] = version.split('.').map(Number);
    const [wantMajor, wantMinor] = versionPins.minimumGo.split('.').map(Number);
    const ok = major! > wantMajor! || (major === wantMajor && minor! >= wantMinor!);
    return { name: 'go', ok, detail: `${version} (needs >= ${versionPins.minimumGo} to build step-ca, step and ecm-connect)`, fix: ok ? undefined : 'install Go >= ' + versionPins.minimumGo };
  } catch {
    return { name: 'go', ok: false, detail: 'not found (needed only to build step-ca, step and ecm-connect)', fix: 'install Go >= ' + versionPins.minimumGo };
  }
}

/** Devices bind their sockets to their own 127.x.y.z address; the kernel must allow it. */
function loopbackCheck(): Promise<Check> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', (err) =>
      resolve({ name: 'loopback 127.0.0.0/8', ok: false, detail: `cannot bind 127.10.0.1: ${err.message}`, fix: 'route 127.0.0.0/8 to lo (Linux does by default)' }),
    );
    server.listen(0, '127.10.0.1', () => server.close(() => resolve({ name: 'loopback 127.0.0.0/8', ok: true, detail: 'devices can use their own 127.x.y.z address' })));
  });
}

function acmePortCheck(port: number): Check {
  if (port === 0 || port >= 1024) return { name: 'http-01 port', ok: true, detail: port === 0 ? 'a free high port per run (step-ca --insecure --acme-http-port)' : `${port}` };
  const root = process.getuid?.() === 0;
  return {
    name: 'http-01 port',
    ok: root,
    detail: `${port} needs root or CAP_NET_BIND_SERVICE`,
    fix: root ? undefined : 'set ca.acmeHttpPort to 0 (default) or grant CAP_NET_BIND_SERVICE to node',
  };
}

function dynamicSecurityCheck(): Check {
  try {
    return { name: 'mosquitto dynsec plugin', ok: true, detail: `${locateDynamicSecurityPlugin()} (disconnects a revoked client alone)` };
  } catch (err) {
    return { name: 'mosquitto dynsec plugin', ok: false, detail: (err as Error).message, fix: 'bash scripts/bootstrap.sh' };
  }
}

function toolCheck(t: ToolReport): Check {
  return {
    name: t.name,
    ok: t.ok,
    detail: t.ok ? `${t.version} (pinned ${t.pinned})  ${t.path}` : `${t.problem}${t.version ? ` (found ${t.version} at ${t.path})` : ''}; pinned ${t.pinned}`,
    fix: t.fix,
  };
}

/**
 * The containers backend's engine, its API socket and its images. An engine is optional (the
 * local backend needs none), so only a backend: containers configuration makes these failures.
 */
async function containerChecks(config: ReturnType<typeof loadConfig>): Promise<Check[]> {
  const required = config.backend === 'containers';
  const { acquireEngine } = await import('../../environments/containers/engine.ts');
  const { imageExists, imageNames, localImage, officialReference } = await import('../../environments/containers/images.ts');
  let lease: Awaited<ReturnType<typeof acquireEngine>>;
  try {
    lease = await acquireEngine();
  } catch (err) {
    return [{ name: 'container engine', ok: !required, detail: `${(err as Error).message}${required ? '' : ' (only the containers backend needs one)'}`, fix: 'bash scripts/bootstrap.sh (podman from Debian), or set DOCKER_HOST' }];
  }
  try {
    const { engine } = lease;
    const checks: Check[] = [
      {
        name: 'container engine',
        ok: true,
        detail: `${engine.kind} ${engine.version} (API ${engine.apiVersion})${engine.containersConf ? `, CONTAINERS_CONF ${engine.containersConf}` : ''}`,
      },
      {
        name: 'engine socket',
        ok: true,
        detail: engine.owned ? `${engine.dockerHost} (podman system service started for this command; each lab starts its own and stops it with the lab)` : `${engine.dockerHost} (DOCKER_HOST or a running engine)`,
      },
    ];
    for (const name of imageNames) {
      const image = await localImage(name, config.toolsBinDir).catch((err: Error) => `(${err.message})`);
      const present = image.startsWith('(') ? false : await imageExists(image);
      const official = name === 'step-ca' || name === 'mosquitto' ? officialReference(name) : undefined;
      const officialPresent = official ? await imageExists(official) : false;
      checks.push({
        name: `image ${name}`,
        ok: present || officialPresent || !required,
        detail: `${official ? `official ${official}: ${officialPresent ? 'present' : 'not present'}; ` : ''}local ${image}: ${present ? 'present' : 'not built'}`,
        fix: present || officialPresent ? undefined : 'node bin/ecm-lab.js images build',
      });
    }
    return checks;
  } finally {
    await lease.release();
  }
}

export async function doctorCommand(global: { config?: string }, opts: { json?: boolean }): Promise<void> {
  const config = loadConfig({ file: global.config });
  const tools = await Promise.all(toolNames.map((name) => inspectTool(name, config.toolsBinDir)));
  const checks: Check[] = [
    { name: 'node', ok: Number(process.versions.node.split('.')[0]) >= 20, detail: process.versions.node + ' (needs >= 20)' },
    await goCheck(),
    ...tools.map(toolCheck),
    dynamicSecurityCheck(),
    await loopbackCheck(),
    acmePortCheck(config.ca.acmeHttpPort),
    ...(await containerChecks(config)),
  ];
  if (opts.json) {
    console.log(JSON.stringify({ ok: checks.every((c) => c.ok), checks }, null, 2));
  } else {
    const width = Math.max(...checks.map((c) => c.name.length));
    for (const c of checks) {
      console.log(`${c.ok ? 'ok     ' : 'MISSING'}  ${c.name.padEnd(width)}  ${c.detail}`);
      if (!c.ok && c.fix) console.log(`${' '.repeat(9 + width)}  fix: ${c.fix}`);
    }
  }
  if (!checks.every((c) => c.ok)) process.exitCode = EXIT.failed;
}
