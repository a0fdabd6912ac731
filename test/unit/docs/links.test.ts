// Every relative link of the README, the changelog and docs/ leads somewhere: the file exists,
// and an anchor names a heading of the Markdown file it points into (GitHub's slugs).
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../../../environments/tools/tools.ts';

function markdownFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    return statSync(file).isDirectory() ? markdownFiles(file) : name.endsWith('.md') ? [file] : [];
  });
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens; repeats get -1, -2. */
function anchorsOf(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  const text = markdown.replace(/^```[\s\S]*?^```/gm, '');
  for (const [, heading] of text.matchAll(/^#{1,6} +(.+?) *#*$/gm)) {
    const slug = heading!.toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/ /g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    anchors.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return anchors;
}

/** Links outside code: [text](target) and ![alt](target). */
function linksOf(markdown: string): string[] {
  const text = markdown.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, (code) => (code.includes('](') ? '' : code));
  return [...text.matchAll(/!?\[[^\]]*\]\(([^)\s]+)\)/g)].map((m) => m[1]!);
}

/** What is wrong with each relative link of one file. */
function brokenLinks(file: string): string[] {
  const problems: string[] = [];
  for (const link of linksOf(readFileSync(file, 'utf8'))) {
    if (/^[a-z]+:/i.test(link)) continue;
    const [target, anchor] = link.split('#') as [string, string | undefined];
    const resolved = target ? path.resolve(path.dirname(file), decodeURIComponent(target)) : file;
    if (!existsSync(resolved)) {
      problems.push(`${link}: no such file`);
      continue;
    }
    if (anchor && resolved.endsWith('.md') && !anchorsOf(readFileSync(resolved, 'utf8')).has(anchor)) problems.push(`${link}: no heading #${anchor} in ${path.relative(repoRoot, resolved)}`);
  }
  return problems.map((p) => `${path.relative(repoRoot, file)}: ${p}`);
}

test('every relative link of the README, the changelog and docs/ resolves, anchors included', () => {
  const files = [path.join(repoRoot, 'README.md'), path.join(repoRoot, 'CHANGELOG.md'), ...markdownFiles(path.join(repoRoot, 'docs'))];
  const links = files.flatMap((f) => linksOf(readFileSync(f, 'utf8')));
  assert.ok(links.length > 50, `only ${links.length} links found: the reader is broken`);
  assert.deepEqual(files.flatMap(brokenLinks), []);
});

test('the link check sees a broken file and a broken anchor (a control, not an assumption)', () => {
  assert.deepEqual(linksOf('see [a](x.md#b), ![i](img.png), `[not](code.md)`\n```\n[no](fenced.md)\n```'), ['x.md#b', 'img.png']);
  assert.deepEqual([...anchorsOf("# The provisioning service's contract\n## Exit codes\n## Exit codes\n")], ['the-provisioning-services-contract', 'exit-codes', 'exit-codes-1']);
});
