// The traceability matrix: verdicts from a run's real cucumber message stream, a reviewed
// reason for every requirement no scenario names (and none left for one a scenario names), the
// diff of two matrices, and pages that carry no key, token or certificate. The verdict rules
// themselves are tested in verdicts.test.ts, the register in deviations.test.ts.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { requirements } from '../../../evidence/requirements.ts';
import { readRunResults } from '../../../evidence/run-results.ts';
import { buildRunSummary } from '../../../evidence/run-summary.ts';
import { renderRunSummaryHtml } from '../../../evidence/run-summary-html.ts';
import { readFeature, readScenarios } from '../../../evidence/scenarios.ts';
import { buildTraceability, diffTraceability, NO_REASON, readNotes } from '../../../evidence/traceability.ts';
import { renderTraceabilityHtml } from '../../../evidence/traceability-html.ts';
import type { RunEnvironment } from '../../../evidence/environment.ts';
import { repoRoot } from '../../../environments/tools/tools.ts';

const defined = new Set(requirements().map((r) => r.id));

test('every requirement no scenario names has a reviewed reason, and no reason is kept for one a scenario names', () => {
  const { scenarios } = readScenarios(repoRoot, defined);
  const named = new Set(scenarios.flatMap((s) => s.requirements));
  const notes = readNotes();
  const unexplained = [...defined].filter((id) => !named.has(id) && !notes.notProven[id]);
  assert.deepEqual(unexplained, [], 'give each a reason in evidence/requirement-notes.json (notProven), or tag a scenario that exercises it');
  const stale = Object.keys(notes.notProven).filter((id) => named.has(id));
  assert.deepEqual(stale, [], 'a scenario now names these: remove their notProven reason from evidence/requirement-notes.json');
  const orphan = Object.keys(notes.partlyShown).filter((id) => !named.has(id));
  assert.deepEqual(orphan, [], 'partlyShown says what the scenarios of a requirement do not show: these have no scenario (give a notProven reason instead)');
  const unknown = [...Object.keys(notes.notProven), ...Object.keys(notes.partlyShown), ...Object.keys(notes.caveats)].filter((id) => !defined.has(id));
  assert.deepEqual(unknown, [], 'requirement-notes.json names ids the catalogue does not define');
});

// A message stream as cucumber-js 12 writes it (envelope shapes of @cucumber/messages 32).
const ts = (s: number) => ({ seconds: s, nanos: 0 });
const PEM = '-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----';
const JWT = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl';
const TOKEN = 'adm1n-t0ken-of-this-lab-43-characters-long';
function messages(): string {
  const e: unknown[] = [
    { meta: { protocolVersion: '32.2.0', implementation: { name: 'cucumber-js', version: '12.9.0' }, cpu: { name: 'x64' }, os: { name: 'linux' }, runtime: { name: 'node.js' } } },
    { testRunStarted: { timestamp: ts(100) } },
    { pickle: { id: 'p1', uri: 'features/f.feature', location: { line: 4 }, name: 'passes', language: 'en', steps: [], tags: [], astNodeIds: [] } },
    { pickle: { id: 'p2', uri: 'features/f.feature', location: { line: 8 }, name: 'fails', language: 'en', steps: [], tags: [], astNodeIds: [] } },
    { testCase: { id: 't1', pickleId: 'p1', testSteps: [] } },
    { testCase: { id: 't2', pickleId: 'p2', testSteps: [] } },
    // p1 fails once and is retried: the last attempt is its result.
    { testCaseStarted: { id: 's1a', testCaseId: 't1', attempt: 0, timestamp: ts(101) } },
    { testStepFinished: { testCaseStartedId: 's1a', testStepId: 'x', testStepResult: { status: 'FAILED', message: 'flaky', duration: ts(0) }, timestamp: ts(102) } },
    { testCaseFinished: { testCaseStartedId: 's1a', willBeRetried: true, timestamp: ts(102) } },
    { testCaseStarted: { id: 's1b', testCaseId: 't1', attempt: 1, timestamp: ts(103) } },
    { testStepFinished: { testCaseStartedId: 's1b', testStepId: 'x', testStepResult: { status: 'PASSED', duration: ts(0) }, timestamp: ts(104) } },
    { testCaseFinished: { testCaseStartedId: 's1b', willBeRetried: false, timestamp: ts(105) } },
    { testCaseStarted: { id: 's2', testCaseId: 't2', attempt: 0, timestamp: ts(105) } },
    { testStepFinished: { testCaseStartedId: 's2', testStepId: 'y', testStepResult: { status: 'PASSED', duration: ts(0) }, timestamp: ts(106) } },
    { attachment: { testCaseStartedId: 's2', testStepId: 'y', fileName: 'evidence.json', mediaType: 'application/json', contentEncoding: 'IDENTITY', body: JSON.stringify([{ component: 'mosquitto', source: 'command', command: ['podman', 'logs', '-f', 'broker'], path: '/tmp/x/mosquitto.log' }, { component: 'step-ca', source: 'file', path: '/var/log/step-ca.log' }, { component: 'bootstrap-ca', source: 'command', command: ['logs', '--token', TOKEN], path: '/tmp/x/b.log' }]) } },
    { testStepFinished: { testCaseStartedId: 's2', testStepId: 'z', testStepResult: { status: 'FAILED', message: `expected ${PEM} with ${JWT} and Bearer ${TOKEN} to be refused\n    at stack`, duration: ts(0) }, timestamp: ts(107) } },
    { testStepFinished: { testCaseStartedId: 's2', testStepId: 'w', testStepResult: { status: 'SKIPPED', duration: ts(0) }, timestamp: ts(107) } },
    { testCaseFinished: { testCaseStartedId: 's2', willBeRetried: false, timestamp: ts(108) } },
    { testRunFinished: { success: false, timestamp: ts(110) } },
  ];
  return e.map((x) => JSON.stringify(x)).join('\n');
}

const FEATURE = [
  'Feature: F',
  '',
  '  @FR-PS-002 @attack',
  '  Scenario: passes',
  '    Given x',
  '',
  '  @FR-PS-002 @UC-01',
  '  Scenario: fails',
  '    Given x',
  '',
  '  @UC-02',
  '  Scenario: not run',
  '    Given x',
].join('\n');

function fixture() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ecm-trace-'));
  const file = path.join(dir, 'messages.ndjson');
  writeFileSync(file, messages());
  const run = readRunResults(file, [TOKEN]);
  const { scenarios } = readFeature('features/f.feature', FEATURE, defined);
  const reqs = requirements().filter((r) => ['UC-01', 'UC-02', 'UC-06', 'FR-PS-002', 'FR-PS-003'].includes(r.id));
  const notes = { notProven: { 'UC-06': 'withdrawn by seed 000' }, partlyShown: {}, caveats: { 'FR-PS-002': 'white list only' } };
  return { run, t: buildTraceability({ requirements: reqs, scenarios, run, runSource: 'reports/cucumber/messages.ndjson', notes, deviations: new Map(), target: 'local', now: new Date(0) }) };
}

test("a run's outcomes come from its last attempts; failure messages lose keys, tokens and known secrets", () => {
  const { run } = fixture();
  assert.equal(run?.cucumberVersion, '12.9.0');
  assert.equal(run?.success, false);
  assert.equal(run?.startedAt, new Date(100_000).toISOString());
  assert.deepEqual(run?.byKey.get('features/f.feature:4'), { outcome: 'passed', durationMs: 2000 });
  const failed = run?.byKey.get('features/f.feature:8');
  assert.equal(failed?.outcome, 'failed');
  assert.equal(failed?.message, 'expected [PEM block removed] with [token removed] and Bearer [secret removed] to be refused');
  assert.deepEqual(failed?.evidence, ['mosquitto: output of `podman logs -f broker`', 'step-ca: file /var/log/step-ca.log', 'bootstrap-ca: output of `logs --token [secret removed]`'], 'the logs its assertions read, and from where, without a secret');
  assert.equal(readRunResults(path.join(os.tmpdir(), 'no-such-dir', 'messages.ndjson')), undefined);
});

test('verdicts from a run: failed, not run, and not shown with its reason or, without one, saying so', () => {
  const { t } = fixture();
  const by = Object.fromEntries(t.requirements.map((r) => [r.id, r]));
  assert.equal(by['FR-PS-002']!.verdict, 'failed', 'one of its two scenarios failed');
  assert.equal(by['FR-PS-002']!.caveat, 'white list only');
  assert.equal(by['UC-01']!.verdict, 'failed');
  assert.equal(by['UC-02']!.verdict, 'not-run');
  assert.match(by['UC-02']!.scenarios[0]!.reason!, /not in this run/);
  assert.equal(by['UC-06']!.verdict, 'not-shown');
  assert.equal(by['UC-06']!.reason, 'withdrawn by seed 000');
  assert.equal(by['FR-PS-003']!.verdict, 'not-shown');
  assert.equal(by['FR-PS-003']!.reason, NO_REASON);
  assert.deepEqual(t.totals.byVerdict, { proven: 0, 'proven-with-deviation': 0, 'partly-shown': 0, 'known-gap': 0, 'not-run': 1, failed: 2, 'not-shown': 2 });
  assert.deepEqual(t.totals.byOutcome, { passed: 1, failed: 1, skipped: 0, 'not-run': 1 });
});

test('the diff of two matrices names each requirement whose verdict or scenario outcomes changed', () => {
  const { t } = fixture();
  const { scenarios } = readFeature('features/f.feature', FEATURE, defined);
  const reqs = requirements().filter((r) => ['UC-01', 'UC-02', 'UC-06', 'FR-PS-002', 'FR-PS-003'].includes(r.id));
  const allPassed = buildTraceability({
    requirements: reqs,
    scenarios,
    run: { byKey: new Map(scenarios.map((s) => [s.key, { outcome: 'passed' as const, durationMs: 1 }])) },
    runSource: 'x',
    notes: { notProven: {}, partlyShown: {}, caveats: {} },
    deviations: new Map(),
    target: 'containers',
  });
  const changes = diffTraceability(t, allPassed);
  assert.deepEqual(
    changes.map((c) => [c.id, c.before, c.after, c.scenarios.map((s) => `${s.key} ${s.before}->${s.after}`)]),
    [
      ['UC-01', 'failed', 'proven', ['features/f.feature:8 failed->passed']],
      ['UC-02', 'not-run', 'proven', ['features/f.feature:12 not-run->passed']],
      ['FR-PS-002', 'failed', 'proven', ['features/f.feature:8 failed->passed']],
    ],
  );
  assert.deepEqual(diffTraceability(t, t), []);
});

const ENV: RunEnvironment = { machine: { cpus: 2, cpuModel: 'cpu', memoryGiB: 24, os: 'linux' }, node: 'v20', tools: [{ name: 'step-ca', version: '0.30.2', pinned: 'v0.30.2', ok: true }], libraries: { allure: '3.18.0' } };

test('the pages show every requirement, every gap with its reason and every attack, and carry no PEM block, token or known secret', () => {
  const { t } = fixture();
  const matrix = renderTraceabilityHtml(t);
  for (const r of t.requirements) assert.ok(matrix.includes(`id="${r.id}"`), r.id);
  assert.ok(matrix.includes('withdrawn by seed 000'));
  assert.match(matrix, /fails .*logs read: mosquitto: output of `podman logs -f broker`; step-ca: file \/var\/log\/step-ca\.log/, 'the page says which logs a scenario read, and from where');
  assert.ok(matrix.includes('[PEM block removed]'), 'the failure is shown, redacted');
  const summary = buildRunSummary(t, ENV, undefined, [], new Date(0));
  assert.deepEqual(summary.attacks.map((a) => [a.name, a.result]), [['passes', 'refused']]);
  const page = renderRunSummaryHtml(summary);
  assert.match(page, /No perf run/);
  assert.match(page, /1 of 1 attacks that must be refused were refused/);
  for (const text of [matrix, page, JSON.stringify(t), JSON.stringify(summary)]) {
    assert.ok(!text.includes('-----BEGIN'), 'a PEM block');
    assert.ok(!/eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\./.test(text), 'a JWT');
    assert.ok(!text.includes(TOKEN), 'the admin token');
  }
});

test('a scenario needing what the target does not grant is "not run: needs X" with its requirements, on the page too; an unknown capability tag is a tag problem', () => {
  const feature = ['Feature: F', '', '  @UC-01 @needs:broker-log', '  Scenario: reads the broker log', '    Given x', '', '  @UC-01', '  Scenario: endpoints only', '    Given x', '', '  @UC-02 @needs:teleport', '  Scenario: unknown', '    Given x'].join('\n');
  const { scenarios, problems } = readFeature('features/g.feature', feature, defined);
  assert.deepEqual(problems.map((p) => [p.line, p.message.split(' (')[0]]), [[11, '@needs:teleport is not a capability']]);
  assert.deepEqual(scenarios.map((s) => s.needs), [['broker-log'], [], []]);
  const run = { byKey: new Map([[scenarios[1]!.key, { outcome: 'passed' as const, durationMs: 1 }]]) };
  const t = buildTraceability({ requirements: requirements().filter((r) => r.id === 'UC-01'), scenarios, run, runSource: 'x', notes: { notProven: {}, partlyShown: {}, caveats: {} }, deviations: new Map(), target: 'team-a', granted: new Set(['ca-log'] as const) });
  const [uc01] = t.requirements;
  assert.deepEqual(t.granted, ['ca-log']);
  assert.equal(uc01!.verdict, 'partly-shown');
  assert.match(uc01!.why, /1 of 2 scenarios passed/);
  const gated = uc01!.scenarios.find((s) => s.name === 'reads the broker log')!;
  assert.deepEqual([gated.outcome, gated.needs], ['not-run', ['broker-log']]);
  assert.match(gated.reason!, /^not run: needs broker-log \(read the broker's log/);
  const html = renderTraceabilityHtml(t);
  assert.match(html, /Not run on this target/);
  assert.match(html, /reads the broker log.*UC-01.*not run: needs broker-log/s);
  // The lab the suite starts itself grants everything: the same scenario is just "not in this run".
  const local = buildTraceability({ requirements: requirements().filter((r) => r.id === 'UC-01'), scenarios, run, runSource: 'x', notes: { notProven: {}, partlyShown: {}, caveats: {} }, deviations: new Map(), target: 'local' });
  assert.match(local.requirements[0]!.scenarios.find((s) => s.name === 'reads the broker log')!.reason!, /not in this run/);
});
