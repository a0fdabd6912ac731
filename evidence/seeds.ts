// Reads the requirement ids and titles out of the seed documents (shared/seeds/ beside the
// repository): seed 000 names its use cases in headings "UC-01 – New customer installation",
// seed 001 its requirements as "**FR-CA-001**: step-ca SHALL ...", under "### 4.1 ... (FR-CA)"
// headings. The other rules carry no id in their seeds: seed-rules.json gives them one, and
// catalogueOf() merges both, seed by seed. Used to generate evidence/requirements.json and by the
// test that checks that file still says what the seeds say.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Requirement } from './requirements.ts';
import { quoteProblems, ruleRequirement, seedFileOf, type SeedRule } from './seed-rules.ts';

const USE_CASE_HEADING = /^\s*(UC-\d{2})\s+[^\sA-Za-z0-9]+\s+(\S.*?)\s*$/;
const REQUIREMENT_LINE = /^\*\*((?:FR|NFR)-[A-Z]+-\d{3})\*\*:\s*(\S.*?)\s*$/;
const SECTION_HEADING = /^#{2,4}\s+[\d.]*\s*(.+?)\s*(?:\(([A-Z]+-[A-Z]+)\))?\s*$/;

/** The requirements one seed document defines, in document order. */
export function parseSeed(file: string, text: string): Requirement[] {
  const found: Requirement[] = [];
  let section = '';
  for (const line of text.split(/\r?\n/)) {
    const heading = SECTION_HEADING.exec(line);
    if (heading) section = heading[1]!;
    const uc = USE_CASE_HEADING.exec(line);
    if (uc) found.push({ id: uc[1]!, title: uc[2]!, group: 'Use cases', source: file });
    const req = REQUIREMENT_LINE.exec(line);
    if (req) found.push({ id: req[1]!, title: req[2]!, group: section, source: file });
  }
  return found;
}

/** The seed documents of `dir` (file name -> text), in name order. */
export function readSeedTexts(dir: string): Map<string, string> {
  const files = readdirSync(dir).filter((f) => f.endsWith('.txt') || f.endsWith('.md')).sort();
  if (files.length === 0) throw new Error(`no seed documents in ${dir}`);
  return new Map(files.map((f) => [f, readFileSync(path.join(dir, f), 'utf8')]));
}

function assertUnique(all: Requirement[]): void {
  const seen = new Map<string, string>();
  for (const r of all) {
    const first = seen.get(r.id);
    if (first) throw new Error(`${r.id} is defined twice: in ${first} and in ${r.source}`);
    seen.set(r.id, r.source);
  }
}

/**
 * The whole catalogue: per seed (in name order) the ids it defines itself, then the reviewed rules
 * of seed-rules.json for that seed. A rule whose quote its seed lacks, a rule of a seed that is
 * not there, or an id defined twice is an error.
 */
export function catalogueOf(seedTexts: ReadonlyMap<string, string>, rules: readonly SeedRule[]): Requirement[] {
  const problems = quoteProblems(rules, seedTexts);
  if (problems.length > 0) throw new Error(`seed-rules.json no longer matches the seeds:\n${problems.join('\n')}`);
  const files = [...seedTexts.keys()];
  const all = [...seedTexts].flatMap(([file, text]) => [
    ...parseSeed(file, text),
    ...rules.filter((r) => seedFileOf(r.seed, files) === file).map((r) => ruleRequirement(r, file)),
  ]);
  assertUnique(all);
  return all;
}
