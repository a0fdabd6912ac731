// The requirement catalogue says what the seeds say: evidence/requirements.json is generated
// from them and must still match them, id for id and title for title.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { REQUIREMENT_ID } from '../../../evidence/requirement-ids.ts';
import { requirements, seedsDir } from '../../../evidence/requirements.ts';
import { parseSeed, parseSeeds } from '../../../evidence/seeds.ts';

test('evidence/requirements.json matches the requirement ids and titles the seeds define', () => {
  const dir = seedsDir();
  assert.ok(existsSync(dir), `the seeds are not at ${dir}: CI lays shared/ beside the repository; elsewhere set ECM_LAB_SEEDS to the seeds directory`);
  assert.deepEqual(requirements(), parseSeeds(dir), 'the catalogue differs from the seeds: run node --import tsx evidence/generate-requirements.ts and review the diff');
});

test('the catalogue holds the use cases of seed 000 and the FR/NFR requirements of seed 001, each once and well formed', () => {
  const ids = requirements().map((r) => r.id);
  assert.equal(new Set(ids).size, ids.length);
  for (const id of ids) assert.match(id, REQUIREMENT_ID);
  assert.deepEqual(ids.filter((id) => id.startsWith('UC-')), ['UC-01', 'UC-02', 'UC-03', 'UC-04', 'UC-05', 'UC-06']);
  for (const prefix of ['FR-CA', 'FR-PS', 'FR-LA', 'FR-MB', 'FR-DS', 'NFR-SEC', 'NFR-PERF', 'NFR-REL', 'NFR-USE']) assert.ok(ids.some((id) => id.startsWith(`${prefix}-`)), prefix);
  for (const r of requirements()) assert.ok(r.title.length > 5 && r.group && r.source, JSON.stringify(r));
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
