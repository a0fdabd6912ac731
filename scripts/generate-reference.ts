// Writes the reference from the code, so that it cannot drift from it: docs/reference/cli.md from
// the commander program (bin/cli.ts) and the exit codes (bin/exit-codes.ts);
// docs/reference/configuration.md and the JSON Schema editors read
// (docs/reference/ecm-lab.config.schema.json) from the zod schema (config/schema.ts) and the
// ECM_LAB_* variables (config/config.ts). `npm run docs:reference` writes them; a unit test
// (test/unit/docs/reference.test.ts) fails when the committed files differ from what this renders.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderCliReference } from './reference/cli-reference.ts';
import { renderConfigReference, renderConfigSchema } from './reference/config-reference.ts';

export const REFERENCE_DIR = 'docs/reference';

/** Every generated file, by its path relative to the repository, with its content. */
export function renderReference(): Record<string, string> {
  return {
    [`${REFERENCE_DIR}/cli.md`]: renderCliReference(),
    [`${REFERENCE_DIR}/configuration.md`]: renderConfigReference(),
    [`${REFERENCE_DIR}/ecm-lab.config.schema.json`]: renderConfigSchema(),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  for (const [file, text] of Object.entries(renderReference())) {
    writeFileSync(path.join(root, file), text);
    console.log(`wrote ${file}`);
  }
}
