// The CLI's conventions from the command line, as a user or a pipeline meets them: --version;
// one exit-code scheme (0 ok, 1 a test or threshold failed, 2 bad input of any kind with one
// line and the hint, 3 the lab could not run); --json on run, load and contract with nothing
// else on stdout; run's --out, --junit and --no-pdf, and a missing Chromium that only skips the
// PDF; durations in one format; internal commands out of the help. Real processes throughout:
// one `ecm-lab up` lab for load and contract, and `ecm-lab run` starting labs of its own.
// The one scenario the runs select, by name: a line number moves whenever the feature's tags do.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { repoRoot } from '../../environments/tools/tools.ts';
import { waitFor } from '../../environments/wait.ts';
import { startCli, type CliRun } from '../support/cli.ts';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'ecm-cli-'));
const labFile = path.join(scratch, 'lab.json');
let up: CliRun | undefined;
const ONE_SCENARIO = ['features/first-device.feature', '--name', '^A client without a certificate is refused by the broker$'];

async function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const run = startCli(args, env);
  const { code } = await run.exit;
  return { code, stdout: run.stdout(), stderr: run.stderr() };
}

/** stdout holds exactly one JSON object (and its newline): nothing a pipeline would have to strip. */
function onlyJson(stdout: string): Record<string, unknown> {
  assert.equal(stdout.trim().split('\n').length, 1, `stdout is more than one JSON line:\n${stdout.slice(0, 2000)}`);
  return JSON.parse(stdout) as Record<string, unknown>;
}

before(async () => {
  up = startCli(['up', '--json', '--serve-challenges']);
  const line = await waitFor(
    'ecm-lab up to print its JSON line',
    () => (up!.child.exitCode !== null ? Promise.reject(new Error(`ecm-lab up exited ${up!.child.exitCode}: ${up!.stderr()}`)) : up!.stdout().includes('\n') && up!.stdout().split('\n')[0]),
    { timeoutMs: 120_000, intervalMs: 100 },
  );
  writeFileSync(labFile, line);
  chmodSync(labFile, 0o600);
});

after(async () => {
  if (up && up.child.exitCode === null) {
    up.child.kill('SIGTERM');
    await up.exit;
  }
  rmSync(scratch, { recursive: true, force: true });
});

test('--version prints the version of package.json', async () => {
  const { version } = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string };
  const run = await cli(['--version']);
  assert.equal(run.code, 0);
  assert.equal(run.stdout.trim(), version);
});

test('bad input of every kind exits 2 with one line and the hint, never the whole help', async () => {
  const cases: Array<[string[], RegExp, NodeJS.ProcessEnv?]> = [
    [['load', '--bogus'], /^error: unknown option '--bogus'\n\(run 'ecm-lab load --help' for its options\)$/],
    [['up', '--backend', 'nope'], /^error: option '--backend <backend>' argument 'nope' is invalid\. Allowed choices are local, containers\.\n\(run 'ecm-lab up --help' for its options\)$/],
    [['bogus'], /^error: unknown command 'bogus'\n\(run 'ecm-lab --help' for its commands\)$/],
    [['contract', '--target'], /^error: option '--target <file>' argument missing\n/],
    [['load', '--sign-at', 'nowhere'], /argument 'nowhere' is invalid\. Allowed choices are service, step-ca/],
    // --target is a target file in run and contract; load's old name for --sign-at says so.
    [['load', '--scenario', 'x5c-sign', '--target', 'step-ca'], /--target: names a target file \(run, contract\); where x5c-sign sends its requests is --sign-at step-ca/],
    [['load', '--duration', '1m30'], /--duration: "1m30" is not a duration such as 1m30s/],
    [['run', '--bogus'], /^ecm-lab: cucumber-js refuses the arguments: error: unknown option '--bogus' \(see 'ecm-lab run --help' and 'npx cucumber-js --help'\)$/],
    [['run', '--', '--tags', '@uc01 and'], /^ecm-lab: cucumber-js refuses the arguments: Tag expression "\(@uc01 and\)" could not be parsed/],
    [['run', 'features/no-such.feature:3'], /^ecm-lab: no such feature file: features\/no-such\.feature:3$/],
    [['--config', path.join(scratch, 'missing.json'), 'doctor'], /^ecm-lab: cannot read config file .*missing\.json/],
    [['doctor'], /readinessTimeoutMs: must be a duration such as "1m30s"/, { ECM_LAB_READINESS_TIMEOUT_MS: 'soon' }],
    [['contract', '--target', path.join(scratch, 'missing-target.json')], /^ecm-lab: .*missing-target\.json/],
  ];
  for (const [args, message, env] of cases) {
    const run = await cli(args, env);
    const what = `ecm-lab ${args.join(' ')}`;
    assert.equal(run.code, 2, `${what} exited ${run.code}: ${run.stderr}`);
    assert.match(run.stderr.trim(), message, what);
    assert.doesNotMatch(run.stderr, /Usage:/, `${what} printed the whole help`);
    assert.ok(run.stderr.trim().split('\n').length <= 3, `${what}: more than the line and the hint:\n${run.stderr}`);
    assert.equal(run.stdout, '', `${what} wrote to stdout`);
  }
});

test('a lab that cannot run exits 3 and names what is missing', async () => {
  const run = await cli(['load', '--scenario', 'bootstrap-endpoint', '--devices', '1', '--no-baselines', '--out', path.join(scratch, 'perf')], { ECM_LAB_TOOLS_BIN_DIR: path.join(scratch, 'no-tools') });
  assert.equal(run.code, 3, run.stderr);
  assert.match(run.stderr, /ecm-lab: step-ca not found .*install it with: bash scripts\/bootstrap\.sh/);
});

test('the top-level help lists the commands without the internal ones, and the exit codes', async () => {
  const run = await cli(['--help']);
  assert.equal(run.code, 0);
  for (const command of ['doctor', 'up', 'run', 'contract', 'load', 'bench', 'report', 'images']) assert.match(run.stdout, new RegExp(`^  ${command}\\b`, 'm'), command);
  assert.doesNotMatch(run.stdout, /^ {2}compose\b/m, 'compose <role> is what a container of compose.yaml runs, not a user command');
  assert.match(run.stdout, /^ {2}2 +bad input of any kind/m);
  assert.match(run.stdout, /^ {2}3 +the lab could not run/m);
});

test('load --json against a running lab: the result on stdout, a broken threshold exits 1, durations in one format', async () => {
  const out = path.join(scratch, 'perf');
  // 1m30s where load read only single units before; a bare number where it read milliseconds.
  const run = await cli(['load', '--lab', labFile, '--scenario', 'bootstrap-endpoint', '--devices', '6', '--vus', '2', '--graceful-stop', '1m30s', '--max-provisioning-p99', '0.5ms', '--out', out, '--run-id', 'json', '--json'], { ECM_LAB_READINESS_TIMEOUT_MS: '1m30s' });
  assert.equal(run.code, 1, run.stderr);
  const result = onlyJson(run.stdout) as { schema: string; exitCode: number; scenario: string; thresholds: Array<{ name: string; ok: boolean; limit: number }>; iterations: { completed: number }; report: { summary: string } };
  assert.equal(result.schema, 'ecm-lab/load-result@1');
  assert.equal(result.exitCode, 1);
  assert.equal(result.scenario, 'bootstrap-endpoint');
  assert.equal(result.iterations.completed, 6);
  assert.deepEqual(result.thresholds.filter((t) => !t.ok).map((t) => [t.name, t.limit]), [['bootstrap credential p99', 0.5]]);
  assert.equal(JSON.parse(readFileSync(result.report.summary, 'utf8')).runId, 'json');
  assert.match(run.stderr, /thresholds broken: bootstrap credential p99/);
  assert.match(run.stderr, /iterations +6\/6 completed/, 'the human summary goes to stderr');
});

test('contract --json against a running lab: one JSON object with the verdict, exit 0', async () => {
  const run = await cli(['contract', '--target', labFile, '--out', path.join(scratch, 'contract'), '--json']);
  assert.equal(run.code, 0, run.stderr.slice(-3000));
  const result = onlyJson(run.stdout) as { schema: string; exitCode: number; target: string; summary: { failed: number; passed: number }; results: unknown[]; report: string };
  assert.equal(result.schema, 'ecm-lab/contract-result@1');
  assert.equal(result.exitCode, 0);
  assert.equal(result.summary.failed, 0);
  assert.ok(result.summary.passed >= 60, `${result.summary.passed} passed`);
  assert.equal(result.results.length, JSON.parse(readFileSync(result.report, 'utf8')).results.length);
  assert.match(run.stderr, /PASS GET \/health 200/, 'the progress goes to stderr');
});

test('run --out --junit --json with Chromium missing: a green run stays green, JUnit is written, the PDF is skipped with a warning', async () => {
  const out = path.join(scratch, 'run');
  const junit = path.join(scratch, 'ci', 'junit.xml');
  const run = await cli(['run', '--out', out, '--junit', junit, '--json', '--', ...ONE_SCENARIO], { ECM_LAB_CHROMIUM: path.join(scratch, 'no-chromium') });
  assert.equal(run.code, 0, run.stderr.slice(-3000));
  const result = onlyJson(run.stdout) as { schema: string; exitCode: number; scenarios: { passed: number; failed: number }; reports: Record<string, string | null>; warnings: string[] };
  assert.equal(result.schema, 'ecm-lab/run-result@1');
  assert.equal(result.exitCode, 0);
  assert.deepEqual([result.scenarios.passed, result.scenarios.failed], [1, 0]);
  assert.equal(result.reports.summaryPdf, null);
  assert.match(result.warnings.join(), /summary\.pdf not written: chromium not found/);
  assert.match(run.stderr, /ecm-lab: warning: summary\.pdf not written: chromium not found .*\(--no-pdf skips the PDF without this warning\)/);
  const xml = readFileSync(junit, 'utf8');
  assert.match(xml, /<testsuite name="ecm-lab"[^>]* tests="1" skipped="0" failures="0" errors="0"/);
  assert.match(xml, /<testcase classname="First device end to end" name="A client without a certificate is refused by the broker"/);
  for (const file of ['cucumber/report.json', 'cucumber/messages.ndjson', 'allure-report/index.html', 'traceability/traceability.json', 'summary/index.html', 'conformance/local/conformance.json']) assert.ok(existsSync(path.join(out, file)), `no ${file} under --out`);
  assert.ok(!existsSync(path.join(out, 'summary', 'summary.pdf')));
  assert.match(readFileSync(path.join(out, 'cucumber', 'messages.ndjson'), 'utf8'), /A client without a certificate is refused by the broker/);
  assert.equal(result.reports.logs, path.join(out, 'logs'));
  assert.ok(existsSync(path.join(out, 'logs')), 'the component logs go with the reports');
});

test('run --no-pdf writes no PDF and warns of nothing; report evidence prints it again when Chromium is there', async () => {
  const out = path.join(scratch, 'run-no-pdf');
  const run = await cli(['run', '--out', out, '--no-pdf', '--', ...ONE_SCENARIO]);
  assert.equal(run.code, 0, run.stderr.slice(-3000));
  assert.ok(existsSync(path.join(out, 'junit.xml')), 'JUnit XML is on by default, under --out');
  assert.match(readFileSync(path.join(out, 'junit.xml'), 'utf8'), /<testsuite [^>]*tests="1" skipped="0" failures="0"/, 'the one scenario ran');
  assert.ok(existsSync(path.join(out, 'summary', 'index.html')));
  assert.ok(!existsSync(path.join(out, 'summary', 'summary.pdf')));
  assert.doesNotMatch(run.stderr, /warning/);
  const again = await cli(['report', 'evidence', '--out', out]);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(readFileSync(path.join(out, 'summary', 'summary.pdf')).subarray(0, 5).toString(), '%PDF-');
  const without = await cli(['report', 'evidence', '--out', out, '--no-pdf']);
  assert.equal(without.code, 0, without.stderr);
  assert.ok(!existsSync(path.join(out, 'summary', 'summary.pdf')), 'no PDF of an earlier run pretends to be this one');
});
