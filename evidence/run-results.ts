// What a cucumber run says about each scenario, read from its message stream
// (reports/cucumber/messages.ndjson, cucumber's own protocol): the outcome of each pickle's last
// attempt, keyed by the pickle's location (file:line) like the scenarios read from features/.
import { existsSync, readFileSync } from 'node:fs';
import { TimeConversion, type Envelope, type TestStepResult } from '@cucumber/messages';
import { redact } from './redact.ts';

export type Outcome = 'passed' | 'failed' | 'skipped' | 'not-run';

export interface ScenarioResult {
  outcome: Exclude<Outcome, 'not-run'>;
  /** The first line of the failing step's message, for a failed scenario. */
  message?: string;
  durationMs: number;
  /** The component logs its assertions read, and from where (its evidence.json attachment). */
  evidence?: string[];
}

export interface RunResults {
  /** When the run started and finished (ISO), and whether cucumber called it a success. */
  startedAt?: string;
  finishedAt?: string;
  success?: boolean;
  cucumberVersion?: string;
  /** By pickle location, `features/x.feature:12`. */
  byKey: Map<string, ScenarioResult>;
}

// Worst first: a scenario is as bad as its worst step. strict mode (cucumber.cjs) fails a run
// with undefined, pending or ambiguous steps, so those count as failures here too.
const RANK: Record<string, number> = { FAILED: 6, AMBIGUOUS: 5, UNDEFINED: 4, PENDING: 3, UNKNOWN: 2, SKIPPED: 1, PASSED: 0 };

function outcomeOf(worst: TestStepResult | undefined): ScenarioResult['outcome'] {
  if (!worst || worst.status === 'PASSED') return 'passed';
  return worst.status === 'SKIPPED' ? 'skipped' : 'failed';
}

/** The World attaches the logs a scenario read as evidence.json: [{component, source, path, command?}]. */
const EVIDENCE_ATTACHMENT = 'evidence.json';

function evidenceOf(body: string): string[] {
  try {
    const used = JSON.parse(body) as Array<{ component?: string; source?: string; path?: string; command?: string[] }>;
    return used.map((u) => `${u.component ?? '?'}: ${u.source === 'command' ? `output of \`${(u.command ?? []).join(' ')}\`` : `file ${u.path ?? '?'}`}`);
  } catch {
    return ['(unreadable evidence.json attachment)'];
  }
}

const iso = (t: { seconds: number; nanos: number }) => new Date(TimeConversion.timestampToMillisecondsSinceEpoch(t)).toISOString();

/**
 * Reads a message stream; a missing file is a run that did not happen (undefined). Failure
 * messages are redacted (redact.ts), with `secrets` cut out by value.
 */
export function readRunResults(file: string, secrets: readonly string[] = []): RunResults | undefined {
  if (!existsSync(file)) return undefined;
  const pickleKey = new Map<string, string>();
  const testCasePickle = new Map<string, string>();
  const started = new Map<string, { testCaseId: string; at: number }>();
  const worst = new Map<string, TestStepResult>();
  const evidence = new Map<string, string[]>();
  const results: RunResults = { byKey: new Map() };
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const e = JSON.parse(line) as Envelope;
    if (e.meta) results.cucumberVersion = e.meta.implementation.version;
    else if (e.pickle) pickleKey.set(e.pickle.id, `${e.pickle.uri}:${e.pickle.location?.line ?? 0}`);
    else if (e.testCase) testCasePickle.set(e.testCase.id, e.testCase.pickleId);
    else if (e.testRunStarted) results.startedAt = iso(e.testRunStarted.timestamp);
    else if (e.testCaseStarted) started.set(e.testCaseStarted.id, { testCaseId: e.testCaseStarted.testCaseId, at: TimeConversion.timestampToMillisecondsSinceEpoch(e.testCaseStarted.timestamp) });
    else if (e.attachment?.fileName === EVIDENCE_ATTACHMENT && e.attachment.testCaseStartedId) {
      const body = e.attachment.contentEncoding === 'BASE64' ? Buffer.from(e.attachment.body, 'base64').toString('utf8') : e.attachment.body;
      // A team's log command may carry a credential (a bearer header): redacted like messages.
      evidence.set(e.attachment.testCaseStartedId, evidenceOf(body).map((line) => redact(line, secrets)));
    } else if (e.testStepFinished) {
      const { testCaseStartedId: id, testStepResult: r } = e.testStepFinished;
      const before = worst.get(id);
      if (!before || (RANK[r.status] ?? 2) > (RANK[before.status] ?? 2)) worst.set(id, r);
    } else if (e.testCaseFinished) {
      // A retried attempt is not the result; the last attempt is.
      if (e.testCaseFinished.willBeRetried) continue;
      const s = started.get(e.testCaseFinished.testCaseStartedId);
      const key = s && pickleKey.get(testCasePickle.get(s.testCaseId) ?? '');
      if (!s || !key) continue;
      const w = worst.get(e.testCaseFinished.testCaseStartedId);
      const outcome = outcomeOf(w);
      results.byKey.set(key, {
        outcome,
        ...(outcome === 'failed' ? { message: redact(w?.message ?? w?.exception?.message ?? w?.status ?? 'failed', secrets).split('\n')[0]!.slice(0, 300) } : {}),
        durationMs: Math.round(TimeConversion.timestampToMillisecondsSinceEpoch(e.testCaseFinished.timestamp) - s.at),
        ...(evidence.has(e.testCaseFinished.testCaseStartedId) ? { evidence: evidence.get(e.testCaseFinished.testCaseStartedId) } : {}),
      });
    } else if (e.testRunFinished) {
      results.finishedAt = iso(e.testRunFinished.timestamp);
      results.success = e.testRunFinished.success;
    }
  }
  return results;
}
