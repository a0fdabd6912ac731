// Writes evidence/requirements.json from the seed documents:
//   node --import tsx evidence/generate-requirements.ts [seeds dir]
// Run it when a seed changes; the unit test fails until the catalogue matches the seeds again.
import { writeFileSync } from 'node:fs';
import { CATALOGUE_FILE, seedsDir, type RequirementCatalogue } from './requirements.ts';
import { parseSeeds } from './seeds.ts';

const dir = process.argv[2] ?? seedsDir();
const catalogue: RequirementCatalogue = {
  comment: 'Generated from the seed documents by evidence/generate-requirements.ts; do not edit by hand. test/unit/evidence/requirements.test.ts checks it against the seeds.',
  requirements: parseSeeds(dir),
};
writeFileSync(CATALOGUE_FILE, `${JSON.stringify(catalogue, null, 2)}\n`);
console.log(`${CATALOGUE_FILE}: ${catalogue.requirements.length} requirements from ${dir}`);
