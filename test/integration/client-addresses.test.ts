// The clients' address plan from the command line: a running lab (`ecm-lab up --json`, without
// --serve-challenges, so it keeps no webroot for anyone) and `ecm-lab load --lab` segments whose
// clients bind a configured block and answer their own http-01 challenges; then `ecm-lab run`
// against that lab as a target whose clients.addresses is another block. What the clients bound
// is read from the provisioning service's audit log (the source address of each sign request,
// the identifier the bootstrap CA validated, the IP SAN of each enrolled bootstrap credential).
// Only loopback traffic: the blocks are in 127.0.0.0/8; the remote refusals send nothing.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import ipaddr from 'ipaddr.js';
import { waitFor } from '../../environments/wait.ts';
import type { PerfSummary } from '../../evidence/perf/summary-schema.ts';
import type { AuditRecord } from '../../services/provisioning/audit-log.ts';
import { startCli, type CliRun } from '../support/cli.ts';
import { ProvisioningAdminClient } from '../../simulators/client/admin-client.ts';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'ecm-addresses-'));
const labFile = path.join(scratch, 'lab.json');
let up: CliRun | undefined;
let lab: { acmeWebroot?: string; logs: Record<string, string> };
let description: { provisioning: { url: string; adminToken: string }; ca: { rootPem: string } };

async function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const run = startCli(args);
  const { code } = await run.exit;
  return { code, stdout: run.stdout(), stderr: run.stderr() };
}

/** The audit records written from `offset` (bytes) on. */
function auditFrom(offset: number): AuditRecord[] {
  return readFileSync(lab.logs['provisioning-audit']!).subarray(offset).toString('utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as AuditRecord);
}
const auditSize = () => statSync(lab.logs['provisioning-audit']!).size;
const inBlock = (cidr: string) => (address: unknown) => typeof address === 'string' && ipaddr.IPv4.isValidFourPartDecimal(address.replace(/^::ffff:/, '')) && ipaddr.IPv4.parse(address.replace(/^::ffff:/, '')).match(ipaddr.IPv4.parseCIDR(cidr));

/** What the audit log says the clients of one run bound: sign sources, validated identifiers, enrolled credentials' addresses. */
function boundAddresses(records: AuditRecord[]) {
  return {
    signSources: records.filter((r) => r.event === 'x5c-sign' && r.decision === 'served').map((r) => r.sourceIp),
    identifiers: records.filter((r) => r.event === 'webhook-acme-window' && r.decision === 'served').map((r) => r.identifier),
    enrolled: records.filter((r) => r.event === 'enrolment').map((r) => r.address),
    refused: records.filter((r) => r.decision === 'refused').map((r) => `${r.event} ${String(r.reason)}: ${String(r.message)}`),
  };
}

before(async () => {
  up = startCli(['up', '--json']);
  const line = await waitFor(
    'ecm-lab up to print its JSON line',
    () => (up!.child.exitCode !== null ? Promise.reject(new Error(`ecm-lab up exited ${up!.child.exitCode}: ${up!.stderr()}`)) : up!.stdout().includes('\n') && up!.stdout().split('\n')[0]),
    { timeoutMs: 120_000, intervalMs: 100 },
  );
  writeFileSync(labFile, line, { mode: 0o600 });
  lab = JSON.parse(line) as typeof lab;
  description = JSON.parse(line) as typeof description;
});

after(async () => {
  if (up && up.child.exitCode === null) {
    up.child.kill('SIGTERM');
    await up.exit;
  }
  rmSync(scratch, { recursive: true, force: true });
});

const FLEET = ['--devices', '4', '--rate', '8', '--duration', '1s', '--interval', '250', '--out', scratch];

test('load --lab --client-addresses 127.77.0.0/16: the devices and the application bind the block, and the segment answers its own challenges', async () => {
  assert.equal(lab.acmeWebroot, undefined, 'the lab serves no challenges: only the segment can answer them');
  const mark = auditSize();
  const run = await cli(['load', '--lab', labFile, '--client-addresses', '127.77.0.0/16', '--run-id', 'block', '--seed', '11', ...FLEET]);
  assert.equal(run.code, 0, run.stderr.slice(-3000));
  const summary = JSON.parse(readFileSync(path.join(scratch, 'block', 'summary.json'), 'utf8')) as PerfSummary;
  assert.equal(summary.devices.provisioned, 4, JSON.stringify(summary.errors));
  const answered = /http-01: this command answered (\d+) challenges on 127\.77\.0\.0\/16 port \d+ \(\d+ unknown tokens, (\d+) connections on other addresses refused\)/.exec(run.stderr);
  assert.ok(answered, `the segment reports the challenges it answered:\n${run.stderr.slice(-2000)}`);
  assert.ok(Number(answered[1]) >= 5, `4 devices and the application validated, ${answered[1]} challenges answered`);
  const bound = boundAddresses(auditFrom(mark));
  assert.deepEqual(bound.refused, [], 'nothing was refused');
  for (const [what, addresses] of Object.entries({ 'sign request sources': bound.signSources, 'validated identifiers': bound.identifiers, "enrolled credentials' IP SANs": bound.enrolled })) {
    assert.equal(addresses.length, 5, `${what}: ${addresses.join(', ')}`);
    assert.ok(addresses.every(inBlock('127.77.0.0/16')), `${what} are in 127.77.0.0/16: ${addresses.join(', ')}`);
  }
  assert.equal(new Set(bound.enrolled).size, 5, 'one address per client');
});

test('one block per segment (two machines\' addresses): both segments against one lab, each binding its own block, white-list both, and merge', async () => {
  const blocks = ['127.79.1.0/24', '127.79.2.0/24'];
  const mark = auditSize();
  const segment = (i: number) => cli(['load', '--lab', labFile, '--client-addresses', blocks.join(','), '--segment', `${i}/2`, '--run-id', `blocks-${i}`, ...FLEET, '--devices', '6', '--seed', '13']);
  const runs = await Promise.all([segment(1), segment(2)]);
  runs.forEach((run, i) => assert.equal(run.code, 0, `segment ${i + 1}: ${run.stderr.slice(-3000)}`));
  const merged = await cli(['report', 'merge', path.join(scratch, 'blocks-1'), path.join(scratch, 'blocks-2'), '--out', scratch, '--run-id', 'blocks-merged']);
  assert.equal(merged.code, 0, merged.stderr);
  const summary = JSON.parse(readFileSync(path.join(scratch, 'blocks-merged', 'summary.json'), 'utf8')) as PerfSummary;
  assert.equal(summary.devices.provisioned, 6, JSON.stringify(summary.errors));
  const bound = boundAddresses(auditFrom(mark));
  assert.deepEqual(bound.refused, [], 'nothing was refused');
  // Three devices and one application a segment, each from its own block.
  for (const block of blocks) assert.equal(bound.signSources.filter(inBlock(block)).length, 4, `sign requests from ${block}: ${bound.signSources.join(', ')}`);
  assert.equal(bound.signSources.length, 8, bound.signSources.join(', '));
  // Each segment set the white list: whichever came last, it names both blocks and both applications.
  const admin = new ProvisioningAdminClient(description.provisioning.url, description.provisioning.adminToken, readFileSync(description.ca.rootPem, 'utf8'));
  const whitelist = await admin.whitelist();
  for (const entry of [...blocks, '127.79.1.254=lumia-seg1of2', '127.79.2.254=lumia-seg2of2']) assert.ok(whitelist.includes(entry), `the white list names ${entry}: ${whitelist.join(', ')}`);
});

test('refusals before anything runs: load --client-addresses outside loopback towards a loopback lab (naming the flag) and a block too small; run --target with clients.addresses off loopback without allowRemote', async () => {
  const remote = await cli(['load', '--lab', labFile, '--client-addresses', '198.51.100.0/24', ...FLEET]);
  assert.equal(remote.code, 2, remote.stderr);
  assert.match(remote.stderr, /^ecm-lab load: --client-addresses: 198\.51\.100\.0\/24 is outside 127\.0\.0\.0\/8: the lab \S+ listens on 127\.0\.0\.1: a block outside loopback needs a lab other machines reach \(--lab with a non-loopback listenAddress or "allowRemote": true\)$/m);
  const small = await cli(['load', '--lab', labFile, '--client-addresses', '127.77.9.0/30', ...FLEET]);
  assert.equal(small.code, 2, small.stderr);
  assert.match(small.stderr, /^ecm-lab load: --client-addresses: 127\.77\.9\.0\/30 holds 2 client addresses \(besides 1 for applications; \.0 and \.255 are never used\): 4 clients need a larger block$/m);
  assert.equal(remote.stdout + small.stdout, '');
  // The target side: a documentation address (RFC 5737) without "allowRemote", refused before any lab or scenario starts.
  const target = path.join(scratch, 'remote-clients.json');
  writeFileSync(target, JSON.stringify({ name: 'remote-clients', lab: labFile, clients: { addresses: '198.51.100.7/32' } }));
  const run = await cli(['run', '--target', target, '--out', path.join(scratch, 'refused-run'), '--no-pdf']);
  assert.equal(run.code, 2, run.stderr);
  assert.match(run.stderr, /clients\.addresses: 198\.51\.100\.7\/32 is outside 127\.0\.0\.0\/8: the target must say "allowRemote": true/);
});

test('run --target with clients.addresses 127.78.0.0/16: the scenario\'s application and device come from that block', async () => {
  const target = path.join(scratch, 'target.json');
  writeFileSync(target, JSON.stringify({ name: 'addresses', lab: labFile, applicationIdentity: 'lumia-addresses', clients: { addresses: '127.78.0.0/16' } }));
  const mark = auditSize();
  const run = await cli(['run', '--target', target, '--out', path.join(scratch, 'run'), '--no-pdf', '--', 'features/first-device.feature', '--name', '^A new device is provisioned and its telemetry reaches the application$']);
  assert.equal(run.code, 0, run.stderr.slice(-3000));
  const bound = boundAddresses(auditFrom(mark));
  assert.ok(bound.signSources.length >= 2 && bound.enrolled.length >= 2, `the application and the device were provisioned: ${JSON.stringify(bound)}`);
  for (const address of [...bound.signSources, ...bound.identifiers, ...bound.enrolled]) assert.ok(inBlock('127.78.0.0/16')(address), `${String(address)} is in 127.78.0.0/16: ${JSON.stringify(bound)}`);
});

test('a /32 is one address all clients share: the bootstrap endpoint gives each device its own credential on it; full-flow, whose application would share it, is refused before it runs', async () => {
  const mark = auditSize();
  const run = await cli(['load', '--lab', labFile, '--scenario', 'bootstrap-endpoint', '--client-addresses', '127.77.0.9/32', '--devices', '4', '--seed', '12', '--run-id', 'shared', '--out', scratch]);
  assert.equal(run.code, 0, run.stderr.slice(-3000));
  const records = auditFrom(mark);
  const served = records.filter((r) => r.event === 'bootstrap' && r.decision === 'served');
  assert.equal(new Set(served.map((r) => r.deviceId)).size, 4, `four identities, one credential each: ${JSON.stringify(served)}`);
  assert.deepEqual([...new Set(served.map((r) => r.sourceIp?.replace(/^::ffff:/, '')))], ['127.77.0.9'], 'every request came from the one address');
  assert.deepEqual(records.filter((r) => r.decision === 'refused'), []);
  // Measured once (see the load option's message): devices beside their application on one address are refused by the service.
  const fleet = await cli(['load', '--lab', labFile, '--client-addresses', '127.77.0.9/32', ...FLEET]);
  assert.equal(fleet.code, 2, fleet.stderr);
  assert.match(fleet.stderr, /--client-addresses: 127\.77\.0\.9\/32 is one address, which the full-flow scenario's application would share with its devices: .*\(identity-not-named\)/);
});
