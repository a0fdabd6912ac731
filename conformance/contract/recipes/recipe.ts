// A recipe produces one documented (path, method, status) against a running service and hands
// back what came over the wire; the replay checks it against the document.
import type { ReplaySession } from '../session.ts';
import type { Answer } from '../validate.ts';

/** A recipe that could not be carried out on this target, and why (e.g. "needs serverkeygen-on"). */
export interface NotRun {
  notRun: string;
}

export type RecipeResult = Answer | Answer[] | NotRun;

export interface Recipe {
  /** "POST /api/v1/bootstrap 403", as responseKey() makes it. */
  key: string;
  /** One sentence: what the recipe does to get the status. */
  does: string;
  run(session: ReplaySession): Promise<RecipeResult>;
}

export const recipe = (key: string, does: string, run: Recipe['run']): Recipe => ({ key, does, run });

/** For a status the replay cannot produce on demand: the document's x-needs say why, and the replay reports it not run. */
export const notReproducible = (key: string, need: string): Recipe => ({
  key,
  does: `not reproducible on demand (needs ${need})`,
  run: async () => ({ notRun: `needs ${need}` }),
});

export const isNotRun = (r: RecipeResult): r is NotRun => typeof r === 'object' && r !== null && 'notRun' in r;

/** Common bodies. */
export const pkcs10 = { 'content-type': 'application/pkcs10' };
