// ecm-lab report diff: two traceability matrices or conformance reports side by side (two runs,
// or a team's installation against the reference lab): every requirement whose verdict, or one
// of whose scenarios' outcome, differs. Exit 1 when they differ, as diff(1) does.
import { readFileSync } from 'node:fs';
import { EXIT } from '../exit-codes.ts';
import { diffTraceability, TRACEABILITY_SCHEMA, type Traceability } from '../../evidence/traceability.ts';

function readMatrix(file: string): Traceability {
  let doc: Partial<Traceability>;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8')) as Partial<Traceability>;
  } catch (err) {
    throw new Error(`${file}: cannot read it as JSON: ${(err as Error).message}`);
  }
  if (doc.schema !== TRACEABILITY_SCHEMA) throw new Error(`${file}: not a traceability matrix or conformance report (schema ${String(doc.schema)}, expected ${TRACEABILITY_SCHEMA})`);
  return doc as Traceability;
}

export function reportDiffCommand(before: string, after: string, opts: { json?: boolean }): void {
  let a: Traceability;
  let b: Traceability;
  try {
    [a, b] = [readMatrix(before), readMatrix(after)];
  } catch (err) {
    console.error(`ecm-lab: ${(err as Error).message}`);
    process.exitCode = EXIT.badInput;
    return;
  }
  const changes = diffTraceability(a, b);
  if (opts.json) {
    console.log(JSON.stringify({ before: { file: before, target: a.target }, after: { file: after, target: b.target }, changes }, null, 2));
  } else if (changes.length === 0) {
    console.log(`${a.target} and ${b.target}: the same verdict for every requirement and the same outcome for every scenario`);
  } else {
    console.log(`${changes.length} requirement(s) differ between ${a.target} (${before}) and ${b.target} (${after}):`);
    const reasons = new Map(b.requirements.flatMap((r) => r.scenarios).map((s) => [s.key, s.reason]));
    for (const c of changes) {
      console.log(`  ${c.id}: ${c.before} -> ${c.after}`);
      for (const s of c.scenarios) console.log(`    ${s.key} ${s.name}: ${s.before} -> ${s.after}${reasons.get(s.key) ? ` (${reasons.get(s.key)})` : ''}`);
    }
  }
  process.exitCode = changes.length === 0 ? EXIT.ok : EXIT.failed;
}
