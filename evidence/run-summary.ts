// The one-page run summary for a demo, as data: what the run ran on, the requirements with
// their verdicts and scenario counts, every attack tried and whether it was refused, and the
// latest performance run's headline (or none). Built from the traceability matrix, so the
// summary and the matrix can never disagree.
import type { RunEnvironment } from './environment.ts';
import type { PerfHeadline } from './perf/headline.ts';
import type { Outcome } from './run-results.ts';
import type { Traceability, Verdict } from './traceability.ts';

export const RUN_SUMMARY_SCHEMA = 'ecm-lab/run-summary@1';

export interface RunSummary {
  schema: typeof RUN_SUMMARY_SCHEMA;
  generatedAt: string;
  target: string;
  run: Traceability['run'];
  environment: RunEnvironment;
  scenarios: Traceability['totals']['byOutcome'] & { total: number };
  requirements: Array<{ id: string; title: string; verdict: Verdict; passed: number; total: number; reason?: string }>;
  /** @attack scenarios: passed means the attack was refused as the scenario demands. */
  attacks: Array<{ name: string; feature: string; key: string; outcome: Outcome; refused: boolean | null }>;
  perf: PerfHeadline | null;
}

export function buildRunSummary(t: Traceability, environment: RunEnvironment, perf: PerfHeadline | undefined, now = new Date()): RunSummary {
  const attacks = new Map<string, RunSummary['attacks'][number]>();
  for (const r of t.requirements) {
    for (const s of r.scenarios) {
      if (!s.attack || attacks.has(s.key)) continue;
      attacks.set(s.key, { name: s.name, feature: s.feature, key: s.key, outcome: s.outcome, refused: s.outcome === 'passed' ? true : s.outcome === 'failed' ? false : null });
    }
  }
  return {
    schema: RUN_SUMMARY_SCHEMA,
    generatedAt: now.toISOString(),
    target: t.target,
    run: t.run,
    environment,
    scenarios: { ...t.totals.byOutcome, total: t.totals.scenarios },
    requirements: t.requirements.map((r) => ({
      id: r.id,
      title: r.title,
      verdict: r.verdict,
      passed: r.scenarios.filter((s) => s.outcome === 'passed').length,
      total: r.scenarios.length,
      ...(r.reason ? { reason: r.reason } : {}),
    })),
    attacks: [...attacks.values()].sort((a, b) => a.key.localeCompare(b.key, 'en', { numeric: true })),
    perf: perf ?? null,
  };
}
