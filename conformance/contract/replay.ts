// The replay: every documented (path, method, status) produced against a running service by its
// recipe and checked against the document. A documented status without a recipe, or a recipe for
// a status the document does not list, fails: the document and the replay cannot drift apart.
import { loadContract, type ContractDocument, type DocumentedResponse } from './document.ts';
import { allRecipes } from './recipes/index.ts';
import { isNotRun, type Recipe } from './recipes/recipe.ts';
import { ReplaySession } from './session.ts';
import type { ContractTarget } from './target.ts';
import { ContractValidator } from './validate.ts';

export type Outcome = 'passed' | 'failed' | 'not-run';

export interface ReplayResult {
  key: string;
  outcome: Outcome;
  /** Why it failed or did not run; what the recipe did when it passed. */
  reason: string;
  /** Statuses the service answered, in the recipe's order. */
  answered: number[];
  durationMs: number;
}

/**
 * Needs the replay meets by itself (through the admin API and the service's own endpoints), and
 * those it never can against a target; the rest (serverkeygen-*, hooks-listener) the recipe
 * finds out by asking.
 */
export const MET_NEEDS = new Set(['admin-token', 'service-on', 'service-off', 'whitelisted-address', 'enrolled-identity', 'bootstrap-credential', 'operational-certificate']);
export const UNMET_NEEDS = new Set(['ca-down', 'race', 'step-ca-identity']);
export const ASKED_NEEDS = new Set(['serverkeygen-on', 'serverkeygen-off', 'hooks-listener']);

/** Drift between the document and the recipes, and needs nobody knows: each a failing result. */
export function coverageProblems(document: ContractDocument, recipes: Recipe[]): ReplayResult[] {
  const documented = new Set(document.responses.map((r) => r.key));
  const fail = (key: string, reason: string): ReplayResult => ({ key, outcome: 'failed', reason, answered: [], durationMs: 0 });
  const problems: ReplayResult[] = [];
  const seen = new Set<string>();
  for (const r of recipes) {
    if (!documented.has(r.key)) problems.push(fail(r.key, `a recipe for ${r.key}, which the document does not list`));
    if (seen.has(r.key)) problems.push(fail(r.key, `two recipes for ${r.key}`));
    seen.add(r.key);
  }
  for (const r of document.responses) {
    if (!seen.has(r.key)) problems.push(fail(r.key, `no recipe for ${r.key}`));
    for (const need of r.needs) {
      if (!(need in document.needs)) problems.push(fail(r.key, `x-needs "${need}" is not in the document's x-needs-catalogue`));
      else if (!MET_NEEDS.has(need) && !UNMET_NEEDS.has(need) && !ASKED_NEEDS.has(need)) problems.push(fail(r.key, `the replay does not know how to meet x-needs "${need}"`));
    }
  }
  return problems;
}

export interface ReplayOptions {
  document?: ContractDocument;
  recipes?: Recipe[];
  /** Called as each result is known (progress). */
  onResult?: (result: ReplayResult, index: number, total: number) => void;
  /** Stops between recipes (Ctrl-C); the service's state is still restored. */
  signal?: AbortSignal;
}

export interface Replay {
  results: ReplayResult[];
  /** What could not be put back as the replay found it. */
  restoreProblems: string[];
}

async function runOne(documented: DocumentedResponse, recipe: Recipe, session: ReplaySession, validator: ContractValidator): Promise<Omit<ReplayResult, 'key' | 'durationMs'>> {
  const unmet = documented.needs.filter((n) => UNMET_NEEDS.has(n));
  if (unmet.length > 0) return { outcome: 'not-run', reason: `needs ${unmet.join(', ')}`, answered: [] };
  let produced;
  try {
    produced = await recipe.run(session);
  } catch (err) {
    return { outcome: 'failed', reason: `the recipe (${recipe.does}) could not run: ${(err as Error).message}`, answered: [] };
  }
  if (isNotRun(produced)) return { outcome: 'not-run', reason: produced.notRun, answered: [] };
  const answers = Array.isArray(produced) ? produced : [produced];
  const problems = answers.flatMap((a, i) => validator.check(documented, a).map((p) => (answers.length > 1 ? `request ${i + 1}: ${p}` : p)));
  const answered = answers.map((a) => a.status);
  return problems.length === 0 ? { outcome: 'passed', reason: recipe.does, answered } : { outcome: 'failed', reason: problems.join('; '), answered };
}

export async function replayContract(target: ContractTarget, options: ReplayOptions = {}): Promise<Replay> {
  const document = options.document ?? loadContract();
  const recipes = options.recipes ?? allRecipes(document);
  const validator = new ContractValidator(document);
  validator.compileAll(document.responses);
  const results = coverageProblems(document, recipes);
  const byKey = new Map(recipes.map((r) => [r.key, r]));
  const runnable = document.responses.filter((r) => byKey.has(r.key));
  const total = results.length + runnable.length;
  results.forEach((r, i) => options.onResult?.(r, i, total));
  const session = new ReplaySession(target);
  let restore: (() => Promise<string[]>) | undefined;
  try {
    restore = await session.snapshot();
  } catch (err) {
    // Without the admin API nothing can be arranged; every recipe still runs and says what it got.
    results.push({ key: 'GET /api/v1/admin/state 200', outcome: 'failed', reason: `the replay could not read the service's state: ${(err as Error).message}`, answered: [], durationMs: 0 });
  }
  let restoreProblems: string[] = [];
  try {
    for (const documented of runnable) {
      if (options.signal?.aborted) break;
      const start = performance.now();
      const result = { key: documented.key, ...(await runOne(documented, byKey.get(documented.key)!, session, validator)), durationMs: Math.round(performance.now() - start) };
      results.push(result);
      options.onResult?.(result, results.length - 1, total);
    }
  } finally {
    if (restore) restoreProblems = await restore().catch((err: Error) => [err.message]);
  }
  return { results, restoreProblems };
}
