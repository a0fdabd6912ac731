// The rules of the seeds that give them no id (seed 000's unnumbered "shall" statements, seed
// 001's constraints, every rule of seeds 002, 003 and 004), reviewed by hand in seed-rules.json:
// an id (S<seed>-<AREA>-<nn>), the seed's wording shortened, its section and a short quote. The
// quote ties the entry to its seed: quoteProblems() finds each one in its seed's text, so a seed
// that changes under the catalogue fails the unit test instead of drifting silently.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Requirement } from './requirements.ts';

export interface SeedRule {
  id: string;
  /** The seed's number: "000" for the file 000_*.txt. */
  seed: string;
  section: string;
  title: string;
  /** Copied from the seed; whitespace may differ. */
  quote: string;
}

const here = path.dirname(fileURLToPath(import.meta.url));
export const SEED_RULES_FILE = path.join(here, 'seed-rules.json');

export function readSeedRules(file = SEED_RULES_FILE): SeedRule[] {
  return (JSON.parse(readFileSync(file, 'utf8')) as { rules: SeedRule[] }).rules;
}

/** Seed documents and the PDF-to-text they came from break lines and indent freely. */
export const normalizeSpace = (text: string): string => text.replace(/\s+/g, ' ').trim();

/** The seed file a rule's seed number names, among `files` (names only). */
export function seedFileOf(seed: string, files: readonly string[]): string | undefined {
  return files.find((f) => f.startsWith(`${seed}_`));
}

/** Every rule whose seed is missing or whose quote its seed does not contain, as a sentence. */
export function quoteProblems(rules: readonly SeedRule[], seedTexts: ReadonlyMap<string, string>): string[] {
  const normalized = new Map([...seedTexts].map(([file, text]) => [file, normalizeSpace(text)]));
  const problems: string[] = [];
  for (const rule of rules) {
    const file = seedFileOf(rule.seed, [...normalized.keys()]);
    if (!file) problems.push(`${rule.id}: no seed ${rule.seed}_* among ${[...normalized.keys()].join(', ')}`);
    else if (!normalized.get(file)!.includes(normalizeSpace(rule.quote))) problems.push(`${rule.id}: ${file} does not contain "${rule.quote}"`);
  }
  return problems;
}

/** A rule as a catalogue entry: its section is its group, its seed file its source. */
export function ruleRequirement(rule: SeedRule, file: string): Requirement {
  return { id: rule.id, title: rule.title, group: rule.section, source: file, quote: rule.quote };
}
