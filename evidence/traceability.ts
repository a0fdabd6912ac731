// The traceability matrix: requirement -> the scenarios whose tags name it -> each scenario's
// outcome in a run, with a verdict per requirement (evidence/verdicts.ts: a known-gap scenario is
// never proof, a deviation is always shown), the DEV ids of the deviations register that name it,
// and the reviewed notes (requirement-notes.json): why nothing shows it, what its scenarios do not
// show. Pure: it joins the catalogue, the scenarios read from features/, the register and one
// run's results. The same document, built for another target (containers, a customer's lab) is
// that target's conformance report, and diffTraceability compares two.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CAPABILITIES, CAPABILITY_DESCRIPTIONS, type Capability } from '../conformance/target/capabilities.ts';
import type { Requirement } from './requirements.ts';
import type { Outcome, RunResults } from './run-results.ts';
import type { ScenarioRef } from './scenarios.ts';
import { decideVerdict, emptyVerdictCounts, type Verdict } from './verdicts.ts';

export type { Verdict } from './verdicts.ts';

/** @2: the verdicts of evidence/verdicts.ts, known-gap scenarios, deviations. */
export const TRACEABILITY_SCHEMA = 'ecm-lab/traceability@2';

export interface ScenarioOutcome {
  key: string;
  uri: string;
  line: number;
  name: string;
  feature: string;
  attack: boolean;
  /** Documents a known gap: shown, never counted as proof. */
  knownGap: boolean;
  /** An attack that succeeds by design (a known gap). */
  gapAttack: boolean;
  outcome: Outcome;
  /** Why it failed (the failing step's message) or why it did not run. */
  reason?: string;
  /** What it needs of the target that the target does not grant (then it did not run). */
  needs?: Capability[];
  durationMs?: number;
  /** The component logs its assertions read, and where from (a file, or a command's output). */
  evidence?: string[];
}

export interface RequirementRow extends Requirement {
  verdict: Verdict;
  /** The verdict's rule, in words (evidence/verdicts.ts). */
  why: string;
  scenarios: ScenarioOutcome[];
  /** For a requirement no scenario names: why (reviewed). */
  reason?: string;
  /** What its passing scenarios do not show (reviewed): the verdict is at best "partly shown". */
  partial?: string;
  /** Context that does not change the verdict (reviewed). */
  caveat?: string;
  /** DEV ids of the deviations register that name it: the verdict is at best "proven with deviation". */
  deviations: string[];
}

export interface Traceability {
  schema: typeof TRACEABILITY_SCHEMA;
  generatedAt: string;
  /** What the scenarios ran against: 'local' for `ecm-lab run`, a target's name for `--target`. */
  target: string;
  /** The capabilities the target granted (every one for the lab the suite starts itself). */
  granted: Capability[];
  /** The run the outcomes come from; null when there was none. */
  run: { source: string; startedAt?: string; finishedAt?: string; success?: boolean; cucumberVersion?: string } | null;
  totals: {
    requirements: number;
    byVerdict: Record<Verdict, number>;
    scenarios: number;
    byOutcome: Record<Outcome, number>;
  };
  requirements: RequirementRow[];
}

export interface RequirementNotes {
  notProven: Record<string, string>;
  partlyShown: Record<string, string>;
  caveats: Record<string, string>;
}

const here = path.dirname(fileURLToPath(import.meta.url));
export const NOTES_FILE = path.join(here, 'requirement-notes.json');

export function readNotes(file = NOTES_FILE): RequirementNotes {
  const { notProven = {}, partlyShown = {}, caveats = {} } = JSON.parse(readFileSync(file, 'utf8')) as Partial<RequirementNotes>;
  return { notProven, partlyShown, caveats };
}

/** A requirement no scenario proves and no reviewed reason explains: the page says so in these words. */
export const NO_REASON = 'NO REASON GIVEN: no scenario names it and evidence/requirement-notes.json does not say why';

/** "not run: needs broker-log (read the broker's log ...)": what the report says of a gated scenario. */
export function needsReason(needs: readonly Capability[]): string {
  return `not run: needs ${needs.map((c) => `${c} (${CAPABILITY_DESCRIPTIONS[c]})`).join(', ')}`;
}

function outcomeOf(s: ScenarioRef, run: RunResults | undefined, source: string, granted: ReadonlySet<Capability>): ScenarioOutcome {
  const base = { key: s.key, uri: s.uri, line: s.line, name: s.name, feature: s.feature, attack: s.attack, knownGap: s.knownGap, gapAttack: s.gapAttack };
  const needs = s.needs.filter((c) => !granted.has(c));
  const r = run?.byKey.get(s.key);
  // A gated scenario that ran anyway (a tag expression of the user's own) is reported as it ran.
  if (!r && needs.length > 0) return { ...base, outcome: 'not-run', needs, reason: needsReason(needs) };
  if (!run) return { ...base, outcome: 'not-run', reason: `no run: ${source} does not exist` };
  if (!r) return { ...base, outcome: 'not-run', reason: 'not in this run (not selected by its tags or paths, or added since)' };
  return { ...base, outcome: r.outcome, durationMs: r.durationMs, ...(r.message ? { reason: r.message } : {}), ...(r.evidence ? { evidence: r.evidence } : {}) };
}

export function buildTraceability(input: {
  requirements: Requirement[];
  scenarios: ScenarioRef[];
  run: RunResults | undefined;
  /** The run's message file, as it should be named on the page. */
  runSource: string;
  notes: RequirementNotes;
  /** requirement id -> DEV ids of the deviations register (deviationsByRequirement). */
  deviations: ReadonlyMap<string, readonly string[]>;
  target: string;
  /** What the target granted; every capability when absent (the lab the suite starts itself). */
  granted?: ReadonlySet<Capability>;
  now?: Date;
}): Traceability {
  const { requirements, scenarios, run, runSource, notes, target, deviations } = input;
  const granted = input.granted ?? new Set(CAPABILITIES);
  const outcomes = new Map(scenarios.map((s) => [s.key, outcomeOf(s, run, runSource, granted)]));
  const rows: RequirementRow[] = requirements.map((req) => {
    const named = scenarios.filter((s) => s.requirements.includes(req.id)).map((s) => outcomes.get(s.key)!);
    const devs = [...(deviations.get(req.id) ?? [])];
    const partial = notes.partlyShown[req.id];
    const { verdict, why } = decideVerdict({
      proofs: named.filter((s) => !s.knownGap).map((s) => s.outcome),
      gaps: named.filter((s) => s.knownGap).map((s) => s.outcome),
      ...(partial ? { partial } : {}),
      deviations: devs,
    });
    return {
      ...req,
      verdict,
      why,
      scenarios: named,
      deviations: devs,
      ...(verdict === 'not-shown' ? { reason: notes.notProven[req.id] ?? NO_REASON } : {}),
      ...(partial ? { partial } : {}),
      ...(notes.caveats[req.id] ? { caveat: notes.caveats[req.id] } : {}),
    };
  });
  const byVerdict = emptyVerdictCounts();
  for (const r of rows) byVerdict[r.verdict]++;
  const byOutcome: Record<Outcome, number> = { passed: 0, failed: 0, skipped: 0, 'not-run': 0 };
  for (const o of outcomes.values()) byOutcome[o.outcome]++;
  return {
    schema: TRACEABILITY_SCHEMA,
    generatedAt: (input.now ?? new Date()).toISOString(),
    target,
    granted: CAPABILITIES.filter((c) => granted.has(c)),
    run: run ? { source: runSource, startedAt: run.startedAt, finishedAt: run.finishedAt, success: run.success, cucumberVersion: run.cucumberVersion } : null,
    totals: { requirements: rows.length, byVerdict, scenarios: outcomes.size, byOutcome },
    requirements: rows,
  };
}

export interface TraceabilityChange {
  id: string;
  before: Verdict | 'absent';
  after: Verdict | 'absent';
  /** Scenarios of this requirement whose outcome changed: key, before, after. */
  scenarios: Array<{ key: string; name: string; before: Outcome | 'absent'; after: Outcome | 'absent' }>;
}

/**
 * What changed between two matrices (two runs, or two targets' conformance reports): every
 * requirement whose verdict or whose scenarios' outcomes differ.
 */
export function diffTraceability(before: Traceability, after: Traceability): TraceabilityChange[] {
  const ids = [...new Set([...before.requirements.map((r) => r.id), ...after.requirements.map((r) => r.id)])];
  const a = new Map(before.requirements.map((r) => [r.id, r]));
  const b = new Map(after.requirements.map((r) => [r.id, r]));
  const changes: TraceabilityChange[] = [];
  for (const id of ids) {
    const x = a.get(id);
    const y = b.get(id);
    const xs = new Map((x?.scenarios ?? []).map((s) => [s.key, s]));
    const ys = new Map((y?.scenarios ?? []).map((s) => [s.key, s]));
    const scenarios = [...new Set([...xs.keys(), ...ys.keys()])]
      .map((key) => ({ key, name: (ys.get(key) ?? xs.get(key))!.name, before: xs.get(key)?.outcome ?? ('absent' as const), after: ys.get(key)?.outcome ?? ('absent' as const) }))
      .filter((s) => s.before !== s.after);
    const verdictBefore = x?.verdict ?? 'absent';
    const verdictAfter = y?.verdict ?? 'absent';
    if (verdictBefore !== verdictAfter || scenarios.length > 0) changes.push({ id, before: verdictBefore, after: verdictAfter, scenarios });
  }
  return changes;
}
