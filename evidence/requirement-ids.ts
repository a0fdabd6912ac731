// What a requirement id and a requirement tag look like. The ids themselves come from the seeds
// (requirements.json); these patterns only tell an id from other tags and catch near misses.

/** An id as seed 000 (use cases) and seed 001 (FR-*, NFR-*) write it. */
export const REQUIREMENT_ID = /^(?:UC-\d{2}|(?:FR|NFR)-[A-Z]+-\d{3})$/;

/** A tag that means to name a requirement, well formed or not (@fr-ps-2, @UC-3, @NFR-SEC-01 ...). */
export const REQUIREMENT_LIKE_TAG = /^@(?:uc|fr|nfr)-/i;

/** The tag of a requirement id: `@FR-PS-002`. */
export const tagOf = (id: string): string => `@${id}`;

/** The id a tag names, if it is a well-formed requirement tag. */
export function idOfTag(tag: string): string | undefined {
  const id = tag.startsWith('@') ? tag.slice(1) : tag;
  return REQUIREMENT_ID.test(id) ? id : undefined;
}
