// The requirement catalogue: every id the seeds define (UC-xx in seed 000, FR-*/NFR-* in seed 001)
// and every rule of the seeds that define none (S000-APP-03 ..., reviewed in seed-rules.json),
// with its title, the section it stands in and the seed it comes from. requirements.json is
// generated from both (`node --import tsx evidence/generate-requirements.ts`) and checked against
// them by test/unit/evidence/requirements.test.ts, so this file is the one list the tag check, the
// traceability matrix, the Allure labels and the run summary read.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Requirement {
  /** UC-01, FR-PS-002, NFR-SEC-001, S002-REN-04 ... */
  id: string;
  /** The seed's own words: "Provisioning Service SHALL implement IP address whitelisting". */
  title: string;
  /** The seed's section: "Provisioning Service", "Security Requirements", "Use cases". */
  group: string;
  /** The seed document that defines it. */
  source: string;
  /** For a rule without an id of its own in its seed: the seed's words that state it (seed-rules.json). */
  quote?: string;
}

export interface RequirementCatalogue {
  comment: string;
  requirements: Requirement[];
}

const here = path.dirname(fileURLToPath(import.meta.url));
export const CATALOGUE_FILE = path.join(here, 'requirements.json');

/** Where the seeds are: ECM_LAB_SEEDS, else shared/seeds beside the repository (as CI lays it out). */
export function seedsDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.ECM_LAB_SEEDS ? path.resolve(env.ECM_LAB_SEEDS) : path.resolve(here, '../../shared/seeds');
}

let cached: Requirement[] | undefined;

/** The catalogue's requirements, in the seeds' order. */
export function requirements(): Requirement[] {
  cached ??= (JSON.parse(readFileSync(CATALOGUE_FILE, 'utf8')) as RequirementCatalogue).requirements;
  return cached;
}

export function requirementById(): Map<string, Requirement> {
  return new Map(requirements().map((r) => [r.id, r]));
}
