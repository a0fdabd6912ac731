// The fleet as containers: the `ecm-lab` image run as N local containers the way the Kubernetes
// Indexed Job (deploy/k8s/fleet-shared-lab-job.yaml) runs it, each with JOB_COMPLETION_INDEX set as
// Kubernetes sets it and the same command line, against one shared lab (itself on the containers
// backend); their merged report matches a single run of the same total.
// Needs the local images: `ecm-lab images build`.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chownSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
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

/** The Job's pod command (deploy/k8s/fleet-shared-lab-job.yaml), with this test's sizes. */
const SEGMENT_COMMAND =
  'exec node /opt/ecm-lab/bin/ecm-lab.js load --lab "$LAB" --devices "$DEVICES" --seed "$SEED" --rate 15 --duration 4s --interval 250 ' +
  '--segment "$((JOB_COMPLETION_INDEX + 1))/$SEGMENTS" --run-id "$RUN-seg-$JOB_COMPLETION_INDEX" --out "$OUT"';

test('the ecm-lab image as N containers with JOB_COMPLETION_INDEX: merged segments match a single run of the same total', async (t) => {
  const out = mkdtempSync(path.join(os.tmpdir(), 'ecm-fleet-containers-'));
  const conf = path.join(out, 'containers.conf');
  writeFileSync(conf, renderContainersConf());
  const image = await localImage('ecm-lab', '.tools/bin');
  const label = `ecm-lab.test=fleet-${process.pid}`;
  t.after(async () => {
    const { stdout } = await run('podman', ['ps', '--all', '--quiet', '--filter', `label=${label}`]).catch(() => ({ stdout: '' }));
    const ids = stdout.split('\n').filter(Boolean);
    if (ids.length > 0) await run('podman', ['rm', '--force', '--time', '0', ...ids]);
    rmSync(out, { recursive: true, force: true });
  });

  const up = startCli(['up', '--backend', 'containers', '--json', '--serve-challenges']);
  t.after(() => up.child.kill('SIGTERM'));
  const line = await waitFor('ecm-lab up --json', () => {
    if (up.child.exitCode !== null) throw new Error(`ecm-lab up exited: ${up.stderr()}`);
    return up.stdout().split('\n').find((l) => l.startsWith('{'));
  }, { timeoutMs: 120_000 });
  const lab = JSON.parse(line) as { workDir: string; acmeWebroot: string; logs: Record<string, string> };
  const labFile = path.join(out, 'lab.json');
  writeFileSync(labFile, line, { mode: 0o600 });
  // The pods run as the image's non-root user. The lab here runs as root, so the directories a
  // pod writes (the shared webroot, the reports, the lab file it reads) are handed to that user,
  // as a Kubernetes fsGroup on the shared volumes would.
  const owner = (p: string) => chownSync(p, IMAGE_USER.uid, IMAGE_USER.gid);
  for (const dir of [out, labFile, lab.acmeWebroot, path.join(lab.acmeWebroot, '.well-known'), path.join(lab.acmeWebroot, '.well-known', 'acme-challenge')]) owner(dir);

  const pod = (index: number, env: Record<string, string>) =>
    run('podman', [
      'run', '--rm', '--network', 'host', '--label', label,
      ...[lab.workDir, path.dirname(lab.logs['step-ca']!), out].flatMap((dir) => ['--volume', `${dir}:${dir}`]),
      '--env', `JOB_COMPLETION_INDEX=${index}`, '--env', `LAB=${labFile}`, '--env', `OUT=${out}`,
      ...Object.entries(env).flatMap(([k, v]) => ['--env', `${k}=${v}`]),
      '--entrypoint', '/bin/sh', image, '-c', SEGMENT_COMMAND,
    ], { env: { ...process.env, CONTAINERS_CONF: conf }, maxBuffer: 16 * 1024 * 1024 });

  const segments = { SEGMENTS: '2', DEVICES: '30', SEED: '1', RUN: 'fleet' };
  const pods = await Promise.allSettled([pod(0, segments), pod(1, segments)]);
  for (const p of pods) assert.equal(p.status, 'fulfilled', p.status === 'rejected' ? String((p.reason as Error & { stderr?: string }).stderr ?? p.reason) : '');
  // The single run: the same total from one container, with other identities (a seed of its
  // own) because the shared lab has already enrolled the segments' devices.
  await pod(0, { SEGMENTS: '1', DEVICES: '30', SEED: '2', RUN: 'single' });

  const merge = startCli(['report', 'merge', path.join(out, 'fleet-seg-0'), path.join(out, 'fleet-seg-1'), '--out', out, '--run-id', 'merged']);
  assert.equal((await merge.exit).code, 0, merge.stderr());
  const summary = (id: string) => JSON.parse(readFileSync(path.join(out, id, 'summary.json'), 'utf8')) as PerfSummary;
  const [seg0, seg1, merged, single] = ['fleet-seg-0', 'fleet-seg-1', 'merged', 'single-seg-0'].map(summary) as [PerfSummary, PerfSummary, PerfSummary, PerfSummary];
  assert.equal(seg1.segment.firstDevice, seg0.devices.requested, 'JOB_COMPLETION_INDEX chose disjoint, contiguous segments');
  assert.deepEqual(merged.devices, single.devices, 'device counts match the single run exactly');
  assert.equal(merged.devices.provisioned, 30);
  assert.equal(merged.provisioning.latencyMs.count, single.provisioning.latencyMs.count, 'one provisioning sample per device, merged exactly');
  assert.equal(merged.mqtt.messages.lost, 0);
  assert.equal(merged.mqtt.messages.received, merged.mqtt.messages.sent);
  const [a, b] = [merged.mqtt.messages.sent, single.mqtt.messages.sent];
  assert.ok(Math.abs(a - b) <= 0.25 * Math.max(a, b), `messages sent: merged ${a} vs single ${b}`);
  assert.deepEqual(readdirSync(path.join(lab.acmeWebroot, '.well-known', 'acme-challenge')), [], 'every challenge a pod published was removed');
});
