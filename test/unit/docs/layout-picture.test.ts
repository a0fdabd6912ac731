// The README's picture of the house is the one the boundary check enforces: its folders, top to
// bottom, are the layers of .dependency-cruiser.cjs in their order, and the two that share a row
// are the layer whose folders are peers.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../../../environments/tools/tools.ts';

interface Rule {
  name: string;
  from: { path?: string };
  to: { path?: string };
}

const folders = (pattern: string | undefined) => /^\^\(?([a-z0-9|-]+)\)?\/$/.exec(pattern ?? '')?.[1]?.split('|') ?? [];

/** The layers as the rules encode them: the first rule's "above" (the top), then each rule's own folders. */
function layersOfRules(): string[][] {
  const config = createRequire(import.meta.url)(path.join(repoRoot, '.dependency-cruiser.cjs')) as { forbidden: Rule[] };
  const up = config.forbidden.filter((rule) => rule.name.startsWith('no-up-from-'));
  assert.ok(up.length > 0, 'no no-up-from-* rule in .dependency-cruiser.cjs');
  return [folders(up[0]!.to.path), ...up.map((rule) => folders(rule.from.path))];
}

/** The picture's rows of folders, top to bottom (a row holds one or more `name/`). */
function layersOfPicture(): string[][] {
  const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
  const picture = /<!-- layers:[^>]*-->\n```\n([\s\S]*?)```/.exec(readme)?.[1];
  assert.ok(picture, 'README.md has no layer picture (a code block after the "<!-- layers: ... -->" marker)');
  return picture
    .split('\n')
    .map((line) => [...line.matchAll(/(?:^|\s)([a-z0-9-]+)\/(?=\s|$)/g)].map((m) => m[1]!))
    .filter((row) => row.length > 0);
}

test("the README's picture of the layers is .dependency-cruiser.cjs's, top to bottom", () => {
  const rules = layersOfRules();
  assert.ok(rules.length >= 5 && rules.every((layer) => layer.length > 0), `the rules give no usable layers: ${JSON.stringify(rules)}`);
  assert.deepEqual(layersOfPicture(), rules, 'the picture (actual) and the layer rules (expected) differ');
});
