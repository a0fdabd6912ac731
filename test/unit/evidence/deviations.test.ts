// The deviations register (evidence/deviations.json) is the one source of truth: docs/deviations.md
// is rendered from it and must not differ; every entry names requirements of the catalogue and
// quotes seeds that say so; every DEV id another file names exists; and every requirement a
// deviation names shows it, in the matrix row and in the run summary.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { DEVIATIONS_MD, deviationsByRequirement, readDeviations, registerProblems, unknownDeviationIds, type Deviation } from '../../../evidence/deviations.ts';
import { renderDeviationsHtml, renderDeviationsMarkdown } from '../../../evidence/deviations-render.ts';
import { requirements, seedsDir } from '../../../evidence/requirements.ts';
import { readSeedTexts } from '../../../evidence/seeds.ts';
import { featureFiles } from '../../../evidence/scenarios.ts';
import { buildTraceability, NOTES_FILE } from '../../../evidence/traceability.ts';
import { renderTraceabilityHtml } from '../../../evidence/traceability-html.ts';
import { repoRoot } from '../../../environments/tools/tools.ts';

const defined = new Set(requirements().map((r) => r.id));

test('docs/deviations.md is rendered from evidence/deviations.json and does not differ from it', () => {
  assert.equal(readFileSync(DEVIATIONS_MD, 'utf8'), renderDeviationsMarkdown(readDeviations()), 'run node --import tsx evidence/generate-deviations.ts (never edit docs/deviations.md by hand)');
});

test('every entry is sound: numbered in order, a kind, requirements of the catalogue, seed quotes found in their seeds, what the lab does and why', () => {
  const deviations = readDeviations();
  assert.ok(deviations.length >= 10, `only ${deviations.length} deviations`);
  assert.deepEqual(registerProblems(deviations, defined, readSeedTexts(seedsDir())), []);
  // "Where" names files of the repository (a file moved is a register to update).
  const missing = deviations.flatMap((d) => d.where.map((w) => w.split(' ')[0]!).filter((f) => !existsSync(path.join(repoRoot, f))).map((f) => `${d.id}: ${f}`));
  assert.deepEqual(missing, []);
  // The three conflicts are in it.
  const conflicts = deviations.filter((d) => d.kind === 'conflict').flatMap((d) => d.requirements);
  for (const id of ['S003-REN-01', 'S004-WL-02', 'S000-BC-01']) assert.ok(conflicts.includes(id), `${id}: a conflict between seeds`);
  // The checks can fail: a broken entry is named for each fault.
  const good = deviations[0]!;
  const broken: Deviation[] = [{ ...good, id: 'DEV-07', kind: 'conflict', requirements: ['FR-XX-999'], seeds: [{ seed: '001', quote: 'a sentence no seed has' }], why: ' ' }];
  assert.deepEqual(
    registerProblems(broken, defined, readSeedTexts(seedsDir())).map((p) => p.split(/[:,]/)[0]),
    ['DEV-07', 'DEV-07 names FR-XX-999', 'DEV-07 is a conflict but quotes only one seed', 'DEV-07 quote 1', 'DEV-07 must say what the lab does and why'],
  );
});

test('every DEV id named anywhere in the evidence, the features and the docs is in the register', () => {
  const deviations = readDeviations();
  const files = [NOTES_FILE, path.join(repoRoot, 'evidence', 'seed-rules.json'), ...featureFiles(repoRoot).map((f) => path.join(repoRoot, f)), path.join(repoRoot, 'docs', 'trust-model.md'), path.join(repoRoot, 'README.md')];
  const unknown = files.flatMap((f) => unknownDeviationIds(readFileSync(f, 'utf8'), deviations).map((id) => `${path.relative(repoRoot, f)}: ${id}`));
  assert.deepEqual(unknown, []);
  assert.deepEqual(unknownDeviationIds('see DEV-03 and DEV-99', deviations), ['DEV-99']);
});

test('every requirement a deviation names shows its DEV id in its matrix row, linked to the register, and the register page has each entry', () => {
  const deviations = readDeviations();
  const by = deviationsByRequirement(deviations);
  const t = buildTraceability({ requirements: requirements(), scenarios: [], run: undefined, runSource: 'x', notes: { notProven: {}, partlyShown: {}, caveats: {} }, deviations: by, target: 'local' });
  const html = renderTraceabilityHtml(t, { deviations: '../deviations/index.html' }, deviations);
  for (const [id, devs] of by) {
    const row = html.match(new RegExp(`<tr id="${id}">.*?</tr>`))?.[0] ?? '';
    for (const dev of devs) assert.ok(row.includes(`<a href="../deviations/index.html#${dev}">${dev}</a>`), `${id}'s row lacks ${dev}`);
    assert.deepEqual(t.requirements.find((r) => r.id === id)?.deviations, devs);
  }
  const page = renderDeviationsHtml(deviations, { matrix: '../traceability/index.html', summary: '../summary/index.html' });
  for (const d of deviations) assert.ok(page.includes(`id="${d.id}"`), d.id);
  assert.match(html, /deviations register/);
});
