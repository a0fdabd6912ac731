// Issue 15's proofs: the Gherkin suite against installations it did not start. The target is a
// lab run by a separate `ecm-lab up --json` process, treated as external:
//   1. the same results as the built-in run, with what the target withholds listed as not run;
//   2. the step CLI as the device's client, through the command-line driver interface;
//   3. a broker of the team's beside that lab (a target naming only its broker and the lab):
//      configured like the lab's, the suite passes on it; misconfigured (no require_certificate,
//      anonymous allowed, the lab's own certificates), it fails the scenarios that broker breaks,
//      each for the cause it breaks them.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { CAPABILITIES } from '../../conformance/target/capabilities.ts';
import { ManagedProcess } from '../../environments/local/child-process.ts';
import { freePort } from '../../environments/local/ports.ts';
import { locateTool, repoRoot } from '../../environments/tools/tools.ts';
import { waitFor } from '../../environments/wait.ts';
import { requirements } from '../../evidence/requirements.ts';
import { readScenarios } from '../../evidence/scenarios.ts';
import type { ScenarioOutcome, Traceability } from '../../evidence/traceability.ts';
import net from 'node:net';
import { startCli, type CliRun } from '../support/cli.ts';

const SUBSET = '@uc01 or @uc02 or @uc03 or @attack';
const dir = mkdtempSync(path.join(os.tmpdir(), 'ecm-lab-target-test-'));
let up: CliRun;
let description: Record<string, unknown> & { name: string; workDir: string; grants: string[]; broker: { host: string; port: number } };

/** `ecm-lab up --json` in its own process; its first stdout line is the target. */
async function startUp(): Promise<void> {
  const config = path.join(dir, 'up-config.json');
  // The built-in session turns server-side key generation on (steps/support/lab-session.ts); so does this lab.
  writeFileSync(config, JSON.stringify({ provisioning: { serverKeyGen: true } }));
  up = startCli(['--config', config, 'up', '--json']);
  const line = await waitFor(
    'ecm-lab up --json to print the lab',
    () => (up.child.exitCode !== null ? Promise.reject(new Error(`ecm-lab up exited ${up.child.exitCode}: ${up.stderr()}`)) : up.stdout().includes('\n') && up.stdout().split('\n')[0]),
    { timeoutMs: 120_000, intervalMs: 200 },
  );
  description = JSON.parse(line) as typeof description;
}

function writeTarget(name: string, changes: Record<string, unknown> = {}): string {
  const file = path.join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify({ ...description, name, ...changes }));
  return file;
}

/** One `ecm-lab run` (cucumber, Allure, evidence), its output and its conformance report. */
async function runSuite(args: string[], conformanceOf: string): Promise<{ code: number; output: string; report: Traceability }> {
  const run = startCli(['run', '--out', path.join(dir, 'reports'), ...args], { FORCE_COLOR: '0' });
  const { code } = await run.exit;
  const output = `${run.stdout()}${run.stderr()}`;
  const report = JSON.parse(readFileSync(path.join(dir, 'reports/conformance', conformanceOf, 'conformance.json'), 'utf8')) as Traceability;
  return { code: code ?? -1, output, report };
}

/** Every scenario of a report once (a scenario proving two requirements is listed under both). */
function scenariosOf(t: Traceability): Map<string, ScenarioOutcome> {
  return new Map(t.requirements.flatMap((r) => r.scenarios).map((s) => [s.key, s]));
}

before(async () => {
  await startUp();
});

after(async () => {
  if (up && up.child.exitCode === null) {
    up.child.kill('SIGINT');
    await Promise.race([up.exit, once(up.child, 'exit'), new Promise((resolve) => setTimeout(resolve, 30_000).unref())]);
    if (up.child.exitCode === null) up.child.kill('SIGKILL');
  }
  rmSync(dir, { recursive: true, force: true });
});

test('a bad target file or --withhold is refused before anything runs, every problem named, exit 2', async () => {
  const bad = path.join(dir, 'bad.json');
  writeFileSync(bad, JSON.stringify({ ...description, ca: { ...(description.ca as object), url: 'https://192.168.1.10:9000', rootPem: 'missing.crt' }, grants: ['teleport'] }));
  const run = startCli(['run', '--target', bad]);
  const { code } = await run.exit;
  assert.equal(code, 2, run.stderr());
  for (const problem of ['ca.url: must be on loopback', 'grants.0:']) assert.ok(run.stderr().includes(problem), `${problem} not named in:\n${run.stderr()}`);
  const withheld = startCli(['run', '--target', writeTarget('ecm-lab-up'), '--withhold', 'broker-log,teleport']);
  assert.equal((await withheld.exit).code, 2);
  assert.match(withheld.stderr(), /teleport is not a capability/);
});

test('a lab of another process as the target: the results of the built-in run, and what it withholds listed as not run', { timeout: 900_000 }, async () => {
  const builtIn = await runSuite(['--tags', SUBSET], 'local');
  assert.equal(builtIn.code, 0, `the built-in run failed:\n${builtIn.output.slice(-4000)}`);
  const target = writeTarget('ecm-lab-up');
  const external = await runSuite(['--target', target, '--withhold', 'broker-log', '--tags', SUBSET], 'ecm-lab-up');
  assert.equal(external.code, 0, `the run against the target failed:\n${external.output.slice(-4000)}`);
  assert.deepEqual(external.report.granted, description.grants.filter((g) => g !== 'broker-log'));

  const granted = new Set<string>(external.report.granted);
  const local = scenariosOf(builtIn.report);
  const there = scenariosOf(external.report);
  const ran = [...local.values()].filter((s) => s.outcome !== 'not-run');
  assert.ok(ran.length >= 30, `the built-in run ran only ${ran.length} scenarios of ${SUBSET}`);
  let gatedByWithheld = 0;
  for (const s of ran) {
    const other = there.get(s.key)!;
    const missing = needsOf(s.key).filter((c) => !granted.has(c));
    if (missing.length === 0) {
      assert.equal(other.outcome, s.outcome, `${s.key} ${s.name}: ${s.outcome} built in, ${other.outcome} on the target (${other.reason ?? ''})`);
    } else {
      assert.equal(other.outcome, 'not-run', `${s.key} needs ${missing.join(', ')} yet ran on the target`);
      assert.deepEqual(other.needs, missing);
      assert.match(other.reason!, new RegExp(`^not run: needs ${missing[0]}`));
      if (missing.includes('broker-log')) gatedByWithheld++;
    }
  }
  assert.ok(gatedByWithheld > 0, 'no scenario of the subset reads the broker log: withholding it proved nothing');
  assert.match(external.output, /not run on ecm-lab-up: they need what it does not grant/);
  // The conformance page lists each with its requirements; nothing dropped out silently.
  const page = readFileSync(path.join(dir, 'reports/conformance/ecm-lab-up/index.html'), 'utf8');
  assert.match(page, /Not run on this target/);
  assert.match(page, /not run: needs broker-log/);
  // The admin token of the target is in no report.
  assert.doesNotMatch(page + JSON.stringify(external.report), new RegExp((description.provisioning as { adminToken: string }).adminToken));
});

/** What a scenario needs, as its tags say, read with the parser the reports use. */
function needsOf(key: string): string[] {
  return allScenarios.get(key)?.needs ?? [];
}
const allScenarios = new Map(readScenarios(repoRoot, new Set(requirements().map((r) => r.id))).scenarios.map((s) => [s.key, s]));

/** The step CLI behind the command-line driver interface, through a wrapper that records each operation asked of it. */
function recordingStepCliDriver(name: string): { device: { command: string[]; env: Record<string, string> }; calls: () => string[] } {
  const calls = path.join(dir, `${name}-calls.log`);
  const wrapper = path.join(dir, `${name}-driver.sh`);
  writeFileSync(calls, '');
  writeFileSync(wrapper, `#!/usr/bin/env bash\necho "\${@: -1} $ECM_IDENTITY" >> ${JSON.stringify(calls)}\nexec bash ${JSON.stringify(path.join(repoRoot, 'examples/drivers/step-cli-driver.sh'))} "$@"\n`);
  chmodSync(wrapper, 0o755);
  return { device: { command: [wrapper], env: { STEP: locateTool('step') } }, calls: () => readFileSync(calls, 'utf8').trim().split('\n').filter(Boolean) };
}

function assertDriverUsed(calls: string[]): void {
  const operations = calls.map((l) => l.split(' ')[0]);
  for (const op of ['provision', 'get-certificate']) assert.ok(operations.includes(op), `the driver was never asked to ${op}: ${operations.join(', ')}`);
  // Only devices went through the command line: the application stayed on the lab's client.
  assert.ok(calls.every((l) => !/ lumia$/.test(l)), 'the application used the device driver');
}

test('the step CLI as the device client of the target, through the command-line driver interface', { timeout: 600_000 }, async () => {
  const driver = recordingStepCliDriver('up');
  const target = writeTarget('ecm-lab-up-step-cli', { clients: { device: driver.device, application: 'lab' } });
  const run = await runSuite(['--target', target, '--tags', '@uc01 or @uc02'], 'ecm-lab-up-step-cli');
  assert.equal(run.code, 0, `the run with the step CLI as the device client failed:\n${run.output.slice(-4000)}`);
  const passed = [...scenariosOf(run.report).values()].filter((s) => s.outcome === 'passed');
  assert.ok(passed.length >= 2, `only ${passed.length} scenarios passed`);
  assertDriverUsed(driver.calls());
});

test('a target of clients only: the lab starts the installation, the team\'s command line is the device client', { timeout: 600_000 }, async () => {
  const driver = recordingStepCliDriver('clients');
  const file = path.join(dir, 'clients-only.json');
  writeFileSync(file, JSON.stringify({ name: 'clients-only', clients: { device: driver.device } }));
  const run = await runSuite(['--target', file, '--tags', '@uc01'], 'clients-only');
  assert.equal(run.code, 0, `the run failed:\n${run.output.slice(-4000)}`);
  // The lab it started grants every capability: nothing is gated.
  assert.equal(run.report.granted.length, CAPABILITIES.length);
  assert.ok([...scenariosOf(run.report).values()].some((s) => s.outcome === 'passed'));
  assertDriverUsed(driver.calls());
});

/** A target naming only the team's broker; the rest is the lab that `ecm-lab up --json` described. */
function teamBrokerTarget(name: string, broker: { port: number; logFile: string }): string {
  const lab = path.join(dir, 'lab.json');
  writeFileSync(lab, JSON.stringify(description));
  const file = path.join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify({ name, lab: path.basename(lab), broker: { host: description.broker.host, port: broker.port, log: { path: broker.logFile } } }));
  return file;
}

const BROKER_FEATURES = ['features/broker-refusals.feature', 'features/uc01-new-installation.feature'];

test("the team's broker, configured like the lab's, beside the lab: the suite passes on it and reads its log", { timeout: 600_000 }, async () => {
  const broker = await startTeamBroker('team-broker', { requireCertificate: true });
  try {
    const run = await runSuite(['--target', teamBrokerTarget('team-broker', broker), ...BROKER_FEATURES], 'team-broker');
    assert.equal(run.code, 0, `the suite failed a broker configured like the lab's:\n${run.output.slice(-4000)}`);
    const scenarios = [...scenariosOf(run.report).values()];
    const uc01 = scenarios.filter((s) => s.uri === 'features/uc01-new-installation.feature');
    assert.ok(uc01.length > 0 && uc01.every((s) => s.outcome === 'passed'), uc01.map((s) => `${s.name}: ${s.outcome} ${s.reason ?? ''}`).join('; '));
    assert.equal(scenarios.find((s) => s.name === 'A client without any certificate is refused')?.outcome, 'passed');
    // The lab's grants less what only the lab's broker gave: its log comes from the team's broker.
    assert.ok(run.report.granted.includes('broker-log') && !run.report.granted.includes('legacy-listener'), run.report.granted.join(', '));
    assert.ok(scenarios.some((s) => s.evidence?.includes(`mosquitto: file ${broker.logFile}`)), "no scenario says it read the team broker's log");
    assert.match(readFileSync(broker.logFile, 'utf8'), /New connection from 127\./, 'the scenarios connected to the team\'s broker');
  } finally {
    await broker.stop();
  }
});

test('a misconfigured broker (no require_certificate, anonymous allowed): the suite fails the scenarios it breaks, for that cause', { timeout: 600_000 }, async () => {
  const broker = await startTeamBroker('misconfigured-broker', { requireCertificate: false });
  try {
    const target = teamBrokerTarget('misconfigured-broker', broker);
    const run = await runSuite(['--target', target, ...BROKER_FEATURES], 'misconfigured-broker');
    assert.notEqual(run.code, 0, 'the suite passed a broker that lets clients in without a certificate');
    const scenarios = [...scenariosOf(run.report).values()];
    const noCertificate = scenarios.find((s) => s.name === 'A client without any certificate is refused')!;
    assert.equal(noCertificate.outcome, 'failed');
    assert.match(noCertificate.reason!, /the broker (accepted a connection it must refuse|completed the TLS handshake without a valid client certificate)/);
    // Without require_certificate, Mosquitto ignores use_identity_as_username: a device with a good
    // certificate has no identity there, and UC-01 fails for that cause, not for one of the suite's.
    const uc01 = scenarios.filter((s) => s.uri === 'features/uc01-new-installation.feature');
    assert.ok(uc01.length > 0 && uc01.every((s) => s.outcome === 'failed' && /Bad username or password/.test(s.reason ?? '')), `UC-01 on the misconfigured broker: ${uc01.map((s) => `${s.name}: ${s.outcome} ${s.reason ?? ''}`).join('; ')}`);
    // The report says which log its cause assertions read: the team's broker's, from the file the target names.
    assert.ok(scenarios.some((s) => s.evidence?.includes(`mosquitto: file ${broker.logFile}`)), 'no scenario says it read the target broker\'s log');
    // Forged certificates need the lab's CA keys, which a target does not grant: listed, not run.
    const forged = scenarios.filter((s) => s.needs?.includes('ca-keys'));
    assert.ok(forged.length > 0 && forged.every((s) => s.outcome === 'not-run'));
  } finally {
    await broker.stop();
  }
});

/**
 * A broker of the team's: the target lab's own Mosquitto configuration, certificates, CRL file and
 * ACL on a port of its own, without the legacy listener; misconfigured, less client-certificate checking.
 */
async function startTeamBroker(name: string, options: { requireCertificate: boolean }): Promise<{ port: number; logFile: string; stop(): Promise<void> }> {
  const conf = findFile(description.workDir, 'mosquitto.conf');
  const brokerDir = path.join(dir, name);
  mkdirSync(brokerDir, { recursive: true });
  const port = await freePort(description.broker.host);
  const logFile = path.join(brokerDir, 'mosquitto.log');
  writeFileSync(logFile, '');
  // The dynamic security plugin's state is the real broker's: this one starts from a copy of it.
  const dynsec = path.join(brokerDir, 'dynamic-security.json');
  copyFileSync(findFile(description.workDir, 'dynamic-security.json'), dynsec);
  const out: string[] = [];
  let listeners = 0;
  for (const line of readFileSync(conf, 'utf8').split('\n')) {
    if (/^listener /.test(line) && listeners++ > 0) break; // the legacy listener is left out
    if (/^listener /.test(line)) out.push(`listener ${port} ${description.broker.host}`);
    else if (/^log_dest file /.test(line)) out.push(`log_dest file ${logFile}`);
    else if (/^persistence_location /.test(line)) out.push(`persistence_location ${brokerDir}/`);
    else if (/^plugin_opt_config_file /.test(line)) out.push(`plugin_opt_config_file ${dynsec}`);
    else if (/^require_certificate /.test(line) && !options.requireCertificate) out.push('require_certificate false', 'allow_anonymous true');
    else out.push(line);
  }
  const confFile = path.join(brokerDir, 'mosquitto.conf');
  writeFileSync(confFile, `${out.join('\n')}\n`, { mode: 0o600 });
  const proc = await ManagedProcess.start({ name: `${name} mosquitto`, command: locateTool('mosquitto'), args: ['-c', confFile], logFile: path.join(brokerDir, 'stdout.log') });
  await waitFor(`the ${name} to listen`, () => tcpReachable(description.broker.host, port), { timeoutMs: 15_000, intervalMs: 100 });
  return { port, logFile, stop: () => proc.stop() };
}

function tcpReachable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function findFile(root: string, name: string): string {
  for (const entry of readdirSync(root, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name === name) return path.join(entry.parentPath, entry.name);
  }
  throw new Error(`no ${name} under ${root}`);
}
