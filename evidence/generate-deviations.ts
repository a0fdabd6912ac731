// Writes docs/deviations.md from evidence/deviations.json:
//   node --import tsx evidence/generate-deviations.ts
// Run it after editing the register; the unit test fails while the two differ.
import { writeFileSync } from 'node:fs';
import { DEVIATIONS_MD, readDeviations } from './deviations.ts';
import { renderDeviationsMarkdown } from './deviations-render.ts';

const deviations = readDeviations();
writeFileSync(DEVIATIONS_MD, renderDeviationsMarkdown(deviations));
console.log(`${DEVIATIONS_MD}: ${deviations.length} deviations from evidence/deviations.json`);
