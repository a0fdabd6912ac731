// The distributed fleet as far as one machine allows: the lab listens on an address of its own
// (lab.listenAddress 127.0.0.2, another address than the one every client defaults to), and load
// segments attach to it through its description alone, one as a separate process and one as a
// container of the `ecm-lab` image; their reports merge. Traffic stays on 127.0.0.0/8: this host's
// one other address (eth0) is not a loopback target, and no dummy interface can be made here
// (deploy/k8s/README.md says why). Needs the local images: `ecm-lab images build`.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chownSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { renderContainersConf } from '../../environments/containers/engine.ts';
import { IMAGE_USER, localImage } from '../../environments/containers/images.ts';
import { waitFor } from '../../environments/wait.ts';
import type { PerfSummary } from '../../evidence/perf/summary-schema.ts';
import { startCli } from '../support/cli.ts';

const run = promisify(execFile);
const ADDRESS = '127.0.0.2';

interface Description {
  listenAddress: string;
  workDir: string;
  acmeWebroot: string;
  logs: Record<string, string>;
  processes: Array<{ name: string; pid: number }>;
  trustAnchors: { root: string; bootstrapRoot: string };
  ca: { url: string; x5cAudience: string };
  bootstrapCa: { url: string };
  broker: { host: string; port: number; legacyPort: number };
  provisioning: { url: string; insecureUrl: string; acmeDirectory: string };
}

/** Local addresses of the TCP sockets the given processes listen on (/proc: no tool of the lab's own). */
function listenersOf(pids: number[]): string[] {
  const inodes = new Set(
    pids.flatMap((pid) =>
      readdirSync(`/proc/${pid}/fd`).flatMap((fd) => {
        try {
          return [/^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1]].filter((i): i is string => !!i);
        } catch {
          return [];
        }
      }),
    ),
  );
  const hexIp = (hex: string) => [3, 2, 1, 0].map((i) => parseInt(hex.slice(i * 2, i * 2 + 2), 16)).join('.');
  return readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((f) => f[3] === '0A' && inodes.has(f[9]!))
    .map((f) => `${hexIp(f[1]!.split(':')[0]!)}:${parseInt(f[1]!.split(':')[1]!, 16)}`);
}

/** openssl's own verdict on a server's certificate: chains to `ca` and names the IP address. */
async function opensslVerify(port: number, caFile: string, ip: string): Promise<string> {
  const { stdout } = await run('sh', ['-c', `openssl s_client -connect ${ADDRESS}:${port} -CAfile ${caFile} -verify_ip ${ip} -verify_return_error </dev/null 2>&1 || true`], { timeout: 10_000 });
  return /Verify return code: (\d+ \([^)]*\))/.exec(stdout)?.[1] ?? stdout;
}

test('a lab on 127.0.0.2: every listener on that address only, certificates naming it, segments (a process and a container) attached by its description, merged', async (t) => {
  const out = mkdtempSync(path.join(os.tmpdir(), 'ecm-distributed-'));
  const conf = path.join(out, 'containers.conf');
  writeFileSync(conf, renderContainersConf());
  const image = await localImage('ecm-lab', '.tools/bin');
  const label = `ecm-lab.test=distributed-${process.pid}`;
  const up = startCli(['up', '--json', '--serve-challenges'], { ECM_LAB_LISTEN_ADDRESS: ADDRESS });
  t.after(async () => {
    up.child.kill('SIGTERM');
    await up.exit;
    const { stdout } = await run('podman', ['ps', '--all', '--quiet', '--filter', `label=${label}`]).catch(() => ({ stdout: '' }));
    const ids = stdout.split('\n').filter(Boolean);
    if (ids.length > 0) await run('podman', ['rm', '--force', '--time', '0', ...ids]);
    rmSync(out, { recursive: true, force: true });
  });
  const line = await waitFor('ecm-lab up --json', () => {
    if (up.child.exitCode !== null) throw new Error(`ecm-lab up exited: ${up.stderr()}`);
    return up.stdout().split('\n').find((l) => l.startsWith('{'));
  }, { timeoutMs: 90_000 });
  const lab = JSON.parse(line) as Description;
  assert.equal(lab.listenAddress, ADDRESS);
  for (const url of [lab.ca.url, lab.bootstrapCa.url, lab.provisioning.url, lab.provisioning.insecureUrl, lab.provisioning.acmeDirectory]) assert.equal(new URL(url).hostname, ADDRESS, url);
  assert.equal(lab.broker.host, ADDRESS);

  // Bound to the address, not to every address: a wildcard or a 127.0.0.1 listener shows here.
  const listeners = listenersOf(lab.processes.map((p) => p.pid));
  assert.ok(listeners.length >= 6, `listeners: ${listeners.join(', ')}`);
  assert.deepEqual([...new Set(listeners.map((l) => l.split(':')[0]))], [ADDRESS], `listeners of ${lab.processes.map((p) => p.name).join(', ')}: ${listeners.join(', ')}`);

  const root = path.join(out, 'root.pem');
  const bootstrapRoot = path.join(out, 'bootstrap-root.pem');
  writeFileSync(root, lab.trustAnchors.root);
  writeFileSync(bootstrapRoot, lab.trustAnchors.bootstrapRoot);
  const port = (url: string) => Number(new URL(url).port);
  for (const [name, p, ca] of [['step-ca', port(lab.ca.url), root], ['bootstrap-ca', port(lab.bootstrapCa.url), bootstrapRoot], ['provisioning service', port(lab.provisioning.url), root], ['broker', lab.broker.port, root]] as const) {
    assert.equal(await opensslVerify(p, ca, ADDRESS), '0 (ok)', `${name}'s certificate chains to the description's root and names ${ADDRESS}`);
  }
  assert.equal(await opensslVerify(lab.broker.port, root, '127.0.0.9'), '64 (IP address mismatch)', 'the check tells another address apart');

  // The segments see the description only (the process gets a copy elsewhere; the container, which
  // runs as another user on the host's network, the same file handed to that user).
  const labFile = path.join(out, 'lab.json');
  writeFileSync(labFile, line, { mode: 0o600 });
  const owner = (p: string) => chownSync(p, IMAGE_USER.uid, IMAGE_USER.gid);
  for (const dir of [out, labFile, lab.workDir, path.dirname(lab.logs['step-ca']!), lab.acmeWebroot, path.join(lab.acmeWebroot, '.well-known'), path.join(lab.acmeWebroot, '.well-known', 'acme-challenge')]) owner(dir);
  const common = ['--devices', '24', '--rate', '12', '--duration', '4s', '--interval', '250'];
  const processSegment = startCli(['load', ...common, '--lab', labFile, '--segment', '1/2', '--run-id', 'seg-1', '--out', out]);
  const containerSegment = run('podman', [
    'run', '--rm', '--network', 'host', '--label', label,
    ...[lab.workDir, path.dirname(lab.logs['step-ca']!), out].flatMap((dir) => ['--volume', `${dir}:${dir}`]),
    '--entrypoint', 'node', image, '/opt/ecm-lab/bin/ecm-lab.js', 'load', ...common, '--lab', labFile, '--segment', '2/2', '--run-id', 'seg-2', '--out', out,
  ], { env: { ...process.env, CONTAINERS_CONF: conf }, maxBuffer: 16 * 1024 * 1024 });
  const [processExit, container] = await Promise.allSettled([processSegment.exit, containerSegment]);
  assert.equal(processExit.status === 'fulfilled' ? processExit.value.code : processExit.reason, 0, `process segment:\n${processSegment.stderr()}\n${processSegment.stdout()}`);
  assert.equal(container.status, 'fulfilled', container.status === 'rejected' ? String((container.reason as Error & { stderr?: string }).stderr ?? container.reason) : '');

  const merge = startCli(['report', 'merge', path.join(out, 'seg-1'), path.join(out, 'seg-2'), '--out', out, '--run-id', 'merged']);
  assert.equal((await merge.exit).code, 0, merge.stderr());
  const summary = (id: string) => JSON.parse(readFileSync(path.join(out, id, 'summary.json'), 'utf8')) as PerfSummary;
  const [a, b, merged] = ['seg-1', 'seg-2', 'merged'].map(summary) as [PerfSummary, PerfSummary, PerfSummary];
  assert.equal(b.segment.firstDevice, a.devices.requested, 'disjoint, contiguous segments');
  assert.equal(merged.devices.provisioned, 24, JSON.stringify(merged.errors));
  assert.equal(merged.devices.failed, 0);
  assert.equal(merged.provisioning.latencyMs.count, a.provisioning.latencyMs.count + b.provisioning.latencyMs.count);
  assert.equal(merged.mqtt.messages.lost, 0);
  assert.equal(merged.mqtt.messages.received, merged.mqtt.messages.sent);
  // The one lab's authority issued them: step-ca logged one X5C issuance per device of both
  // segments (beside each segment's application).
  const signed = readFileSync(lab.logs['step-ca']!, 'utf8').split('\n').filter((l) => l.includes('path=/1.0/sign') && l.includes('status=201') && l.includes('provisioner=devices'));
  assert.equal(signed.filter((l) => !/subject=lumia-seg/.test(l)).length, 24, `step-ca logged ${signed.length} X5C issuances`);
  assert.equal(up.child.exitCode, null, 'the lab is still running after both segments');
});

test('a listen address outside 127.0.0.0/8 needs lab.allowRemote, and must be one of this host: both refused before anything starts, exit 2', async () => {
  const remote = startCli(['up', '--json'], { ECM_LAB_LISTEN_ADDRESS: '192.0.2.123' });
  assert.equal((await remote.exit).code, 2, remote.stderr());
  assert.match(remote.stderr(), /lab\.listenAddress: 192\.0\.2\.123 is outside 127\.0\.0\.0\/8: set lab\.allowRemote to true/);
  const absent = startCli(['up', '--json'], { ECM_LAB_LISTEN_ADDRESS: '192.0.2.123', ECM_LAB_ALLOW_REMOTE: 'true' });
  assert.equal((await absent.exit).code, 2, absent.stderr());
  assert.match(absent.stderr(), /lab\.listenAddress 192\.0\.2\.123 is not an address of this host/);
  assert.equal(remote.stdout() + absent.stdout(), '', 'no lab was described: none started');
});
