// What `ecm-lab run --json` prints on stdout: the run's verdict for a pipeline, read from the
// traceability matrix the run just wrote (so it can never disagree with the pages), and where
// every report is.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Traceability } from '../../evidence/traceability.ts';

export const RUN_RESULT_SCHEMA = 'ecm-lab/run-result@1';

export interface RunResult {
  schema: typeof RUN_RESULT_SCHEMA;
  exitCode: number;
  target: string;
  /** null when the evidence pages could not be written (then exitCode is not 0). */
  scenarios: (Traceability['totals']['byOutcome'] & { total: number }) | null;
  requirements: Traceability['totals']['byVerdict'] | null;
  failed: Array<{ key: string; name: string; feature: string; reason?: string }>;
  reports: Record<'dir' | 'summary' | 'traceability' | 'conformance' | 'junit' | 'allure' | 'cucumber' | 'logs', string> & { summaryPdf: string | null };
  warnings: string[];
}

export function runResult(o: { exitCode: number; target: string; reports: string; junit: string; logs: string; pdf: boolean; warnings: string[] }): RunResult {
  const matrixFile = path.join(o.reports, 'traceability', 'traceability.json');
  const matrix = existsSync(matrixFile) ? (JSON.parse(readFileSync(matrixFile, 'utf8')) as Traceability) : undefined;
  const failed = new Map<string, RunResult['failed'][number]>();
  for (const s of matrix?.requirements.flatMap((r) => r.scenarios) ?? []) {
    if (s.outcome === 'failed') failed.set(s.key, { key: s.key, name: s.name, feature: s.feature, ...(s.reason ? { reason: s.reason } : {}) });
  }
  const pdf = path.join(o.reports, 'summary', 'summary.pdf');
  return {
    schema: RUN_RESULT_SCHEMA,
    exitCode: o.exitCode,
    target: o.target,
    scenarios: matrix ? { ...matrix.totals.byOutcome, total: matrix.totals.scenarios } : null,
    requirements: matrix ? matrix.totals.byVerdict : null,
    failed: [...failed.values()],
    reports: {
      dir: o.reports,
      summary: path.join(o.reports, 'summary', 'index.html'),
      summaryPdf: o.pdf && existsSync(pdf) ? pdf : null,
      traceability: path.join(o.reports, 'traceability', 'index.html'),
      conformance: path.join(o.reports, 'conformance', o.target, 'index.html'),
      junit: o.junit,
      allure: path.join(o.reports, 'allure-report', 'index.html'),
      cucumber: path.join(o.reports, 'cucumber', 'report.html'),
      logs: o.logs,
    },
    warnings: o.warnings,
  };
}
