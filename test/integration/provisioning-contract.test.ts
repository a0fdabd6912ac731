// The provisioning service's contract replayed for real: against the reference lab every recipe
// passes (or is listed as not run, with the need it lacks) and the service is left as it was;
// against a non-conforming server on a real socket, the replay names the (path, method, status)
// that fail and why; the CLI exits 1 on such a target and 2 on an invalid one.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { loadConfig } from '../../config/config.ts';
import { startLocalLab, type StartedLocalLab } from '../../environments/local/local-environment.ts';
import { describeLab } from '../../environments/started-lab.ts';
import { ProvisioningAdminClient } from '../../simulators/client/admin-client.ts';
import { replayContract, type ReplayResult } from '../../conformance/contract/replay.ts';
import { contractTargetFromLab, type ContractTarget } from '../../conformance/contract/target.ts';

const run = promisify(execFile);
const CLI = path.resolve(import.meta.dirname, '../../bin/ecm-lab.js');

let lab: StartedLocalLab;
let applicationIdentity: string;
let scratch: string;

before(async () => {
  const config = loadConfig({ env: {} });
  applicationIdentity = config.broker.applicationIdentity;
  lab = await startLocalLab(config);
  scratch = mkdtempSync(path.join(tmpdir(), 'ecm-contract-'));
});
after(async () => {
  await lab?.stop();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

const byKey = (results: ReplayResult[]) => new Map(results.map((r) => [r.key, r]));

/** Answers /health as the contract says, the admin state in a wrong shape, and 500 to the rest. */
async function nonConformingServer(): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const json = (status: number, body: unknown, type = 'application/json') => res.writeHead(status, { 'content-type': type }).end(JSON.stringify(body));
    req.resume();
    if (req.url === '/health') return json(200, { status: 'ok' });
    if (req.url === '/api/v1/admin/state') return json(200, { enabled: 'yes' });
    return json(500, { error: 'internal', message: 'not implemented' }, 'application/problem+json');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}` };
}

test('the reference service meets its contract: every recipe passes or names the need it lacks, and the state is restored', async () => {
  const admin = new ProvisioningAdminClient(lab.provisioning.url, lab.provisioning.adminToken, readFileSync(lab.ca.rootPem, 'utf8'));
  await admin.turnOn();
  await admin.setWhitelist(['127.0.0.77']);
  const before = await admin.state();

  const replay = await replayContract(contractTargetFromLab(lab, applicationIdentity));
  const failed = replay.results.filter((r) => r.outcome === 'failed');
  assert.deepEqual(failed.map((r) => `${r.key}: ${r.reason}`), []);
  assert.deepEqual(replay.restoreProblems, []);
  const results = byKey(replay.results);
  for (const key of ['POST /api/v1/bootstrap 200', 'POST /api/v1/bootstrap 403', 'POST /1.0/sign 201', 'POST /1.0/renew 201', 'PUT /api/v1/admin/whitelist 409', 'POST /api/v1/admin/legacy-credentials 409', 'POST /webhooks/acme-window 403', 'POST /webhooks/x5c-identity 403']) {
    assert.equal(results.get(key)?.outcome, 'passed', key);
  }
  assert.deepEqual(results.get('POST /api/v1/bootstrap 403')?.answered, [403, 403, 403]);
  for (const r of replay.results.filter((x) => x.outcome === 'not-run')) assert.match(r.reason, /^needs (race|ca-down|step-ca-identity|serverkeygen-on)\b/, r.key);
  assert.ok(replay.results.filter((r) => r.outcome === 'passed').length >= 60);

  const after = await admin.state();
  assert.equal(after.enabled, true);
  assert.deepEqual(after.whitelist, before.whitelist, 'the white list is back as it was');
  const legacy = (await admin.raw('GET', '/api/v1/admin/legacy-credentials')).json<{ credentials: { identity: string }[] }>();
  assert.deepEqual(legacy.credentials.filter((c) => c.identity.startsWith('CT-')), [], 'the replay deleted its legacy credentials');
});

test('against a non-conforming server on a real socket the replay names each failing (path, method, status)', async (t) => {
  const { server, url } = await nonConformingServer();
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const target: ContractTarget = { ...contractTargetFromLab(lab, applicationIdentity), name: 'broken', url, insecureUrl: url };
  const replay = await replayContract(target);
  const results = byKey(replay.results);
  assert.equal(results.get('GET /health 200')?.outcome, 'passed', 'what conforms passes');
  assert.equal(results.get('GET /api/v1/admin/state 200')?.outcome, 'failed');
  assert.match(results.get('GET /api/v1/admin/state 200')!.reason, /\/enabled must be boolean/);
  assert.equal(results.get('POST /1.0/sign 400')?.outcome, 'failed');
  assert.match(results.get('POST /1.0/sign 400')!.reason, /expected status 400, got 500 \(internal\)/);
  assert.match(results.get('POST /api/v1/bootstrap 413')!.reason, /arranging the target failed: PUT \/api\/v1\/admin\/whitelist answered 500/, 'a recipe that cannot arrange its state says so');
  assert.match(results.get('GET /api/v1/admin/audit 401')!.reason, /request 1: expected status 401, got 500/);
  assert.ok(replay.results.filter((r) => r.outcome === 'failed').length > 40);
});

test('ecm-lab contract --target: exit 1 and a report without the admin token on a failing target, exit 2 on an invalid one', async (t) => {
  const { server, url } = await nonConformingServer();
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const description = describeLab(lab) as { provisioning: Record<string, unknown> };
  const targetFile = path.join(scratch, 'broken.json');
  writeFileSync(targetFile, JSON.stringify({ ...description, name: 'broken', provisioning: { ...description.provisioning, url, insecureUrl: url } }));
  const out = path.join(scratch, 'reports');
  const failing = await run(process.execPath, [CLI, 'contract', '--target', targetFile, '--out', out]).catch((err: { code: number; stdout: string }) => err);
  assert.equal('code' in failing ? failing.code : 0, 1);
  assert.match(failing.stdout, /FAIL GET \/api\/v1\/admin\/state 200 .*\/enabled must be boolean/);
  const report = readFileSync(path.join(out, 'broken', 'contract.json'), 'utf8');
  assert.ok(!report.includes(lab.provisioning.adminToken), 'no admin token in the report');
  assert.ok(JSON.parse(report).summary.failed > 0);

  const invalidFile = path.join(scratch, 'invalid.json');
  writeFileSync(invalidFile, JSON.stringify({ provisioning: { url: 'https://192.0.2.1/' } }));
  const invalid = await run(process.execPath, [CLI, 'contract', '--target', invalidFile, '--out', out]).catch((err: { code: number; stderr: string }) => err);
  assert.equal('code' in invalid ? invalid.code : 0, 2);
  assert.match(invalid.stderr, /provisioning\.url: must be on loopback/);
});
