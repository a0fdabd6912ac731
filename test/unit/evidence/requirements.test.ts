// The requirement catalogue says what the seeds say: evidence/requirements.json is generated from
// them and from the reviewed rules of evidence/seed-rules.json, and must still match both, id for
// id and title for title; every rule's quote must still stand in its seed.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { REQUIREMENT_ID } from '../../../evidence/requirement-ids.ts';
import { requirements, seedsDir } from '../../../evidence/requirements.ts';
import { quoteProblems, readSeedRules } from '../../../evidence/seed-rules.ts';
import { catalogueOf, parseSeed, readSeedTexts } from '../../../evidence/seeds.ts';

function seedTexts(): Map<string, string> {
  const dir = seedsDir();
  assert.ok(existsSync(dir), `the seeds are not at ${dir}: CI lays shared/ beside the repository; elsewhere set ECM_LAB_SEEDS to the seeds directory`);
  return readSeedTexts(dir);
}

test('evidence/requirements.json matches the ids the seeds define and the reviewed rules of seed-rules.json', () => {
  assert.deepEqual(requirements(), catalogueOf(seedTexts(), readSeedRules()), 'the catalogue differs from the seeds: run node --import tsx evidence/generate-requirements.ts and review the diff');
});

test("every rule's quote stands in its seed (whitespace aside), so the catalogue cannot drift from the seeds", () => {
  const texts = seedTexts();
  assert.deepEqual(quoteProblems(readSeedRules(), texts), []);
  // The check can fail: a quote its seed lacks, and a seed that is not there, are each named.
  const [first] = readSeedRules();
  const broken = [{ ...first!, quote: `${first!.quote} and something the seed never said` }, { ...first!, id: 'S009-XX-01', seed: '009' }];
  assert.deepEqual(
    quoteProblems(broken, texts).map((p) => p.split(':')[0]),
    [first!.id, 'S009-XX-01'],
  );
  assert.throws(() => catalogueOf(texts, broken), /seed-rules\.json no longer matches the seeds/);
});

test('the catalogue holds at least 60 requirements from all five seeds, each once, well formed, with a title, section and source', () => {
  const all = requirements();
  const ids = all.map((r) => r.id);
  assert.ok(ids.length >= 60, `only ${ids.length} requirements`);
  assert.equal(new Set(ids).size, ids.length, 'an id is defined twice');
  for (const id of ids) assert.match(id, REQUIREMENT_ID);
  for (const r of all) assert.ok(r.title.length > 5 && r.group && r.source, JSON.stringify(r));
  const sources = [...seedTexts().keys()];
  assert.equal(sources.length, 5, `five seeds expected, found ${sources.join(', ')}`);
  for (const source of sources) assert.ok(all.filter((r) => r.source === source).length >= 6, `${source} is barely represented`);
  assert.deepEqual(ids.filter((id) => id.startsWith('UC-')), ['UC-01', 'UC-02', 'UC-03', 'UC-04', 'UC-05', 'UC-06']);
  for (const prefix of ['FR-CA', 'FR-PS', 'FR-LA', 'FR-MB', 'FR-DS', 'NFR-SEC', 'NFR-PERF', 'NFR-REL', 'NFR-USE', 'S000-APP', 'S000-CA', 'S002-REN', 'S003-ID', 'S004-WL']) {
    assert.ok(ids.some((id) => id.startsWith(`${prefix}-`)), prefix);
  }
  // A rule's id names its seed: S002-... comes from 002_*.
  for (const r of all.filter((x) => x.id.startsWith('S'))) assert.ok(r.source.startsWith(`${r.id.slice(1, 4)}_`), `${r.id} stands in ${r.source}`);
});

test('the seed parser reads use-case headings whatever their dash, requirement lines and their sections, and nothing else', () => {
  const text = [
    '### 4.2 Provisioning Service (FR-PS)',
    '**FR-PS-002**: Provisioning Service SHALL implement IP address whitelisting',
    '- Reject certificate requests from non-whitelisted IPs (see FR-PS-003)',
    '    UC-03 \u201a\u00c4\u00ec Offline device reconnects to application ',
    '    UC-04 \u2013 Certificates revoked by external CA',
    'This flow is similar to UC-03',
  ].join('\n');
  assert.deepEqual(parseSeed('s.txt', text), [
    { id: 'FR-PS-002', title: 'Provisioning Service SHALL implement IP address whitelisting', group: 'Provisioning Service', source: 's.txt' },
    { id: 'UC-03', title: 'Offline device reconnects to application', group: 'Use cases', source: 's.txt' },
    { id: 'UC-04', title: 'Certificates revoked by external CA', group: 'Use cases', source: 's.txt' },
  ]);
});
