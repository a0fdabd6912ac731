// What a requirement id and a requirement tag look like. The ids themselves come from the seeds
// and seed-rules.json (requirements.json); these patterns only tell an id from other tags and
// catch near misses.

/**
 * An id as seed 000 (use cases) and seed 001 (FR-*, NFR-*) write it, or one the catalogue gives a
 * rule its seed does not number: S<seed>-<AREA>-<nn>, e.g. S000-APP-03, S002-REN-04 (seed-rules.json).
 */
export const REQUIREMENT_ID = /^(?:UC-\d{2}|(?:FR|NFR)-[A-Z]+-\d{3}|S\d{3}-[A-Z]{2,4}-\d{2})$/;

/** A tag that means to name a requirement, well formed or not (@fr-ps-2, @UC-3, @NFR-SEC-01, @s002-ren-4 ...). */
export const REQUIREMENT_LIKE_TAG = /^@(?:uc|fr|nfr|s\d{3})-/i;

/** The tag of a requirement id: `@FR-PS-002`. */
export const tagOf = (id: string): string => `@${id}`;

/** The id a tag names, if it is a well-formed requirement tag. */
export function idOfTag(tag: string): string | undefined {
  const id = tag.startsWith('@') ? tag.slice(1) : tag;
  return REQUIREMENT_ID.test(id) ? id : undefined;
}
