// Writes the evidence of a run beside its reports: reports/traceability/ (index.html and
// traceability.json), reports/summary/ (index.html, summary.json, summary.pdf), the deviations
// register the two link to (reports/deviations/index.html) and the target's
// conformance report, reports/conformance/<target>/ (the same matrix, kept per target so that
// `ecm-lab report diff` can compare a team's installation with the reference lab). Called by
// `ecm-lab run` after cucumber and Allure, and by `ecm-lab report evidence` on the last run.
// It lives in evidence/ with the model and pages it assembles: it is what turns a run into
// something a stakeholder or an auditor reads, not part of running the scenarios.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { deviationsByRequirement, readDeviations } from './deviations.ts';
import { renderDeviationsHtml } from './deviations-render.ts';
import { runEnvironment } from './environment.ts';
import { latestPerfHeadline } from './perf/headline.ts';
import { printToPdf } from './pdf.ts';
import { requirements } from './requirements.ts';
import { readRunResults } from './run-results.ts';
import { buildRunSummary } from './run-summary.ts';
import { renderRunSummaryHtml } from './run-summary-html.ts';
import { readScenarios, type TagProblem } from './scenarios.ts';
import type { Capability } from '../conformance/target/capabilities.ts';
import { buildTraceability, readNotes } from './traceability.ts';
import { renderTraceabilityHtml } from './traceability-html.ts';

export interface PublishOptions {
  repoRoot: string;
  reportsDir: string;
  target: string;
  /** What the target granted; every capability when absent. */
  granted?: ReadonlySet<Capability>;
  toolsBinDir?: string;
  /** Secrets known by value (the admin token) that must never reach a page. */
  secrets?: string[];
  /** Print the summary to PDF (needs Chromium). */
  pdf?: boolean;
}

export interface Published {
  traceabilityHtml: string;
  traceabilityJson: string;
  summaryHtml: string;
  summaryJson: string;
  summaryPdf?: string;
  deviationsHtml: string;
  conformanceHtml: string;
  conformanceJson: string;
  /** Scenarios that did not run because they need what the target does not grant. */
  conformance: { notRunByNeeds: number };
  /** Requirement tags the tag check would refuse; the pages are written anyway, with them left out. */
  tagProblems: TagProblem[];
}

export async function publishEvidence(o: PublishOptions): Promise<Published> {
  const reqs = requirements();
  const deviations = readDeviations();
  const { scenarios, problems } = readScenarios(o.repoRoot, new Set(reqs.map((r) => r.id)));
  const messages = path.join(o.reportsDir, 'cucumber', 'messages.ndjson');
  const matrix = buildTraceability({
    requirements: reqs,
    scenarios,
    run: readRunResults(messages, o.secrets),
    runSource: path.relative(o.repoRoot, messages),
    notes: readNotes(),
    deviations: deviationsByRequirement(deviations),
    target: o.target,
    granted: o.granted,
  });
  const traceDir = path.join(o.reportsDir, 'traceability');
  const summaryDir = path.join(o.reportsDir, 'summary');
  const deviationsDir = path.join(o.reportsDir, 'deviations');
  const conformanceDir = path.join(o.reportsDir, 'conformance', o.target);
  for (const dir of [traceDir, summaryDir, deviationsDir, conformanceDir]) mkdirSync(dir, { recursive: true });
  const gated = new Set(matrix.requirements.flatMap((r) => r.scenarios).filter((s) => s.needs?.length).map((s) => s.key));
  const out: Published = {
    traceabilityHtml: path.join(traceDir, 'index.html'),
    traceabilityJson: path.join(traceDir, 'traceability.json'),
    summaryHtml: path.join(summaryDir, 'index.html'),
    summaryJson: path.join(summaryDir, 'summary.json'),
    deviationsHtml: path.join(deviationsDir, 'index.html'),
    conformanceHtml: path.join(conformanceDir, 'index.html'),
    conformanceJson: path.join(conformanceDir, 'conformance.json'),
    conformance: { notRunByNeeds: gated.size },
    tagProblems: problems,
  };
  writeFileSync(out.traceabilityJson, `${JSON.stringify(matrix, null, 2)}\n`);
  writeFileSync(out.traceabilityHtml, renderTraceabilityHtml(matrix, { allure: '../allure-report/index.html', cucumber: '../cucumber/report.html', summary: '../summary/index.html', deviations: '../deviations/index.html' }, deviations));
  writeFileSync(out.conformanceJson, `${JSON.stringify(matrix, null, 2)}\n`);
  writeFileSync(out.conformanceHtml, renderTraceabilityHtml(matrix, { allure: '../../allure-report/index.html', cucumber: '../../cucumber/report.html', summary: '../../summary/index.html', deviations: '../../deviations/index.html' }, deviations));
  writeFileSync(out.deviationsHtml, renderDeviationsHtml(deviations, { matrix: '../traceability/index.html', summary: '../summary/index.html' }));
  const summary = buildRunSummary(matrix, await runEnvironment(o.toolsBinDir), latestPerfHeadline(o.reportsDir), deviations);
  writeFileSync(out.summaryJson, `${JSON.stringify(summary, null, 2)}\n`);
  writeFileSync(out.summaryHtml, renderRunSummaryHtml(summary));
  if (o.pdf !== false) {
    out.summaryPdf = path.join(summaryDir, 'summary.pdf');
    await printToPdf(out.summaryHtml, out.summaryPdf, o.toolsBinDir);
  }
  return out;
}
