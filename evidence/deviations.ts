// The deviations register (deviations.json): every place where the lab departs from a seed's text
// and every place where two seeds disagree, with what the lab does and why. It is the one source
// of truth: docs/deviations.md is rendered from it (deviations-render.ts), the matrix shows each
// requirement's DEV ids beside its verdict (which then reads at best "proven with deviation"), and
// the run summary and its PDF list the register.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { quoteProblems } from './seed-rules.ts';

export type DeviationKind = 'departure' | 'conflict';

export interface Deviation {
  /** DEV-01 ... */
  id: string;
  /** departure: the lab does other than a seed says; conflict: two seeds disagree and the lab chose. */
  kind: DeviationKind;
  title: string;
  /** The requirement ids whose verdict it qualifies. */
  requirements: string[];
  /** What the seeds say, quoted (each quote is checked against its seed). */
  seeds: Array<{ seed: string; quote: string }>;
  /** What the lab does instead, and where. */
  lab: string;
  why: string;
  where: string[];
}

const here = path.dirname(fileURLToPath(import.meta.url));
export const DEVIATIONS_FILE = path.join(here, 'deviations.json');
export const DEVIATIONS_MD = path.join(here, '..', 'docs', 'deviations.md');

/** A DEV id as the register writes it, and as other files name it. */
export const DEVIATION_ID = /\bDEV-\d{2}\b/g;

export function readDeviations(file = DEVIATIONS_FILE): Deviation[] {
  return (JSON.parse(readFileSync(file, 'utf8')) as { deviations: Deviation[] }).deviations;
}

/** requirement id -> the DEV ids that name it, in register order. */
export function deviationsByRequirement(deviations: readonly Deviation[]): Map<string, string[]> {
  const by = new Map<string, string[]>();
  for (const d of deviations) for (const id of d.requirements) by.set(id, [...(by.get(id) ?? []), d.id]);
  return by;
}

/** What is wrong with the register itself: ids, kinds, requirements, quotes. Empty when sound. */
export function registerProblems(deviations: readonly Deviation[], defined: ReadonlySet<string>, seedTexts: ReadonlyMap<string, string>): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  deviations.forEach((d, i) => {
    const expected = `DEV-${String(i + 1).padStart(2, '0')}`;
    if (d.id !== expected) problems.push(`${d.id}: expected ${expected} (ids are numbered in order, none reused)`);
    if (seen.has(d.id)) problems.push(`${d.id} is defined twice`);
    seen.add(d.id);
    if (d.kind !== 'departure' && d.kind !== 'conflict') problems.push(`${d.id}: kind "${String(d.kind)}" is neither departure nor conflict`);
    if (d.requirements.length === 0) problems.push(`${d.id} names no requirement`);
    for (const id of d.requirements) if (!defined.has(id)) problems.push(`${d.id} names ${id}, which the catalogue does not define`);
    if (d.seeds.length === 0) problems.push(`${d.id} quotes no seed`);
    if (d.kind === 'conflict' && new Set(d.seeds.map((s) => s.seed)).size < 2) problems.push(`${d.id} is a conflict but quotes only one seed`);
    for (const p of quoteProblems(d.seeds.map((s, n) => ({ id: `${d.id} quote ${n + 1}`, seed: s.seed, section: '', title: '', quote: s.quote })), seedTexts)) problems.push(p);
    if (!d.lab.trim() || !d.why.trim()) problems.push(`${d.id} must say what the lab does and why`);
  });
  return problems;
}

/** Every DEV id a text names that the register does not define. */
export function unknownDeviationIds(text: string, deviations: readonly Deviation[]): string[] {
  const known = new Set(deviations.map((d) => d.id));
  return [...new Set(text.match(DEVIATION_ID) ?? [])].filter((id) => !known.has(id));
}
