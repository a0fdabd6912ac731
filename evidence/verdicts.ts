// A requirement's verdict, from the outcomes of the scenarios that name it, the reviewed notes and
// the deviations register. The rules are written so that a verdict can never claim more than the
// evidence: every word of "proven" must be earned by scenarios that passed in this run, that are
// not known gaps, that show the whole requirement, and where the lab follows the seed's text.
//
// In order, the first rule that applies decides:
//   1. not shown   no scenario names the requirement (the reviewed reason says why).
//   2. failed      a scenario that names it failed: a proof, or a known gap's scenario (which then
//                  no longer shows what it documents).
//   3. known gap   a known-gap scenario (@known-gap, @known-gap-attack, or features/known-gaps.feature)
//                  names it. Such a scenario passes *because* the hole is there, so it never counts
//                  as proof; and while it documents a hole, no other scenario can make the
//                  requirement proven, partly shown or proven with deviation: "known gap" is the
//                  best it reads, whatever else passed, and whether or not the gap's scenario ran.
//   4. not run     no proving scenario passed in this run (none selected, or gated by @needs:).
//   5. partly shown some proving scenarios passed and others did not run; or all passed but the
//                  reviewed notes say what they do not show (requirement-notes.json partlyShown).
//   6. proven with deviation  all proving scenarios passed, and the deviations register names the
//                  requirement (DEV-nn): what was shown departs from the seed's text, or one seed
//                  contradicts another and the lab chose.
//   7. proven      all proving scenarios passed, they show the whole requirement, no deviation.
import type { Outcome } from './run-results.ts';

export const VERDICTS = ['proven', 'proven-with-deviation', 'partly-shown', 'known-gap', 'not-run', 'failed', 'not-shown'] as const;
export type Verdict = (typeof VERDICTS)[number];

export const VERDICT_LABELS: Record<Verdict, string> = {
  proven: 'proven',
  'proven-with-deviation': 'proven with deviation',
  'partly-shown': 'partly shown',
  'known-gap': 'known gap',
  'not-run': 'not run',
  failed: 'failed',
  'not-shown': 'not shown',
};

/** The legend the matrix and the summary print: the rules above, for a reader. */
export const VERDICT_LEGEND: Record<Verdict, string> = {
  proven: 'every scenario that names it passed in this run, none of them is a known gap, they show the whole requirement, and the lab follows the seed’s text',
  'proven-with-deviation': 'as proven, but the lab departs from the seed’s text or chose between two seeds that disagree: the DEV-nn entries of the deviations register say how and why',
  'partly-shown': 'its scenarios passed, but some did not run in this run, or the reviewed notes say what they do not show',
  'known-gap': 'a known-gap scenario documents a hole in it: that scenario passes because the hole is there, so it is never proof, and nothing else can make the requirement read better while the gap is documented',
  'not-run': 'scenarios name it, but none of them passed in this run (not selected, or needing what the target does not grant)',
  failed: 'a scenario that names it failed (a known gap’s scenario too: the gap it documents may have closed)',
  'not-shown': 'no scenario names it; the reviewed reason says why',
};

export interface VerdictInput {
  /** Outcomes of the scenarios that name it and are not known gaps. */
  proofs: readonly Outcome[];
  /** Outcomes of the known-gap scenarios that name it. */
  gaps: readonly Outcome[];
  /** What the passing scenarios do not show (reviewed), if anything. */
  partial?: string;
  /** DEV ids of the deviations register that name it. */
  deviations: readonly string[];
}

export interface VerdictResult {
  verdict: Verdict;
  /** The rule that decided, in words: shown beside the verdict. */
  why: string;
}

const count = (outcomes: readonly Outcome[], o: Outcome) => outcomes.filter((x) => x === o).length;

export function decideVerdict(input: VerdictInput): VerdictResult {
  const { proofs, gaps, partial, deviations } = input;
  if (proofs.length === 0 && gaps.length === 0) return { verdict: 'not-shown', why: 'no scenario names it' };
  const failedProofs = count(proofs, 'failed');
  const failedGaps = count(gaps, 'failed');
  if (failedProofs + failedGaps > 0) {
    const parts = [failedProofs && `${failedProofs} of ${proofs.length} proving scenario(s) failed`, failedGaps && `${failedGaps} known-gap scenario(s) failed: the gap may have closed`].filter(Boolean);
    return { verdict: 'failed', why: parts.join('; ') };
  }
  if (gaps.length > 0) {
    const shown = count(gaps, 'passed');
    return { verdict: 'known-gap', why: `${gaps.length} known-gap scenario(s) document a hole (${shown} confirmed in this run); they are never proof, whatever else passed` };
  }
  const passed = count(proofs, 'passed');
  if (passed === 0) return { verdict: 'not-run', why: `none of its ${proofs.length} scenario(s) passed in this run` };
  if (passed < proofs.length) return { verdict: 'partly-shown', why: `${passed} of ${proofs.length} scenarios passed; the others did not run in this run` };
  if (partial) return { verdict: 'partly-shown', why: `every scenario passed, but: ${partial}` };
  if (deviations.length > 0) return { verdict: 'proven-with-deviation', why: `every scenario passed; the lab departs from the seed: ${deviations.join(', ')}` };
  return { verdict: 'proven', why: `every scenario passed (${passed})` };
}

/** Zero for each verdict, in the order the pages list them. */
export function emptyVerdictCounts(): Record<Verdict, number> {
  return Object.fromEntries(VERDICTS.map((v) => [v, 0])) as Record<Verdict, number>;
}
