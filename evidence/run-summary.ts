// The run summary for a demo, as data: what the run ran on, the requirements with their verdicts,
// the deviations and reviewed notes that qualify them, every attack tried and what became of it
// (refused, or a known gap's attack that succeeds by design), and the latest performance run's
// headline (or none). Built from the traceability matrix and the deviations register, so the
// summary (and its PDF) and the matrix can never disagree, and carry the same caveats.
import type { Deviation } from './deviations.ts';
import type { RunEnvironment } from './environment.ts';
import type { PerfHeadline } from './perf/headline.ts';
import type { Outcome } from './run-results.ts';
import type { ScenarioOutcome, Traceability, Verdict } from './traceability.ts';

/** @2: verdicts of evidence/verdicts.ts, attack results, deviations. */
export const RUN_SUMMARY_SCHEMA = 'ecm-lab/run-summary@2';

/**
 * refused: an @attack scenario passed (the attack was refused as it demands); not-refused: it
 * failed; succeeds-by-design: a known gap's attack (@known-gap-attack) passed, i.e. the attack
 * worked, as documented; gap-changed: that scenario failed, the gap may have closed; not-run.
 */
export type AttackResult = 'refused' | 'not-refused' | 'succeeds-by-design' | 'gap-changed' | 'not-run';

export interface SummaryRequirement {
  id: string;
  title: string;
  source: string;
  verdict: Verdict;
  why: string;
  passed: number;
  total: number;
  deviations: string[];
  reason?: string;
  partial?: string;
  caveat?: string;
}

export interface RunSummary {
  schema: typeof RUN_SUMMARY_SCHEMA;
  generatedAt: string;
  target: string;
  run: Traceability['run'];
  environment: RunEnvironment;
  scenarios: Traceability['totals']['byOutcome'] & { total: number };
  byVerdict: Traceability['totals']['byVerdict'];
  requirements: SummaryRequirement[];
  /** @attack scenarios (must be refused) and @known-gap-attack scenarios (succeed by design: knownGap). */
  attacks: Array<{ name: string; feature: string; key: string; outcome: Outcome; knownGap: boolean; result: AttackResult }>;
  deviations: Array<Pick<Deviation, 'id' | 'kind' | 'title' | 'requirements' | 'lab' | 'why'>>;
  perf: PerfHeadline | null;
}

export function attackResult(s: Pick<ScenarioOutcome, 'outcome' | 'gapAttack'>): AttackResult {
  if (s.outcome === 'not-run' || s.outcome === 'skipped') return 'not-run';
  if (s.gapAttack) return s.outcome === 'passed' ? 'succeeds-by-design' : 'gap-changed';
  return s.outcome === 'passed' ? 'refused' : 'not-refused';
}

export function buildRunSummary(t: Traceability, environment: RunEnvironment, perf: PerfHeadline | undefined, deviations: readonly Deviation[] = [], now = new Date()): RunSummary {
  const attacks = new Map<string, RunSummary['attacks'][number]>();
  for (const r of t.requirements) {
    for (const s of r.scenarios) {
      if (!(s.attack || s.gapAttack) || attacks.has(s.key)) continue;
      attacks.set(s.key, { name: s.name, feature: s.feature, key: s.key, outcome: s.outcome, knownGap: s.gapAttack, result: attackResult(s) });
    }
  }
  return {
    schema: RUN_SUMMARY_SCHEMA,
    generatedAt: now.toISOString(),
    target: t.target,
    run: t.run,
    environment,
    scenarios: { ...t.totals.byOutcome, total: t.totals.scenarios },
    byVerdict: t.totals.byVerdict,
    requirements: t.requirements.map((r) => ({
      id: r.id,
      title: r.title,
      source: r.source,
      verdict: r.verdict,
      why: r.why,
      passed: r.scenarios.filter((s) => s.outcome === 'passed' && !s.knownGap).length,
      total: r.scenarios.filter((s) => !s.knownGap).length,
      deviations: r.deviations,
      ...(r.reason ? { reason: r.reason } : {}),
      ...(r.partial ? { partial: r.partial } : {}),
      ...(r.caveat ? { caveat: r.caveat } : {}),
    })),
    attacks: [...attacks.values()].sort((a, b) => a.key.localeCompare(b.key, 'en', { numeric: true })),
    deviations: deviations.map(({ id, kind, title, requirements, lab, why }) => ({ id, kind, title, requirements, lab, why })),
    perf: perf ?? null,
  };
}
