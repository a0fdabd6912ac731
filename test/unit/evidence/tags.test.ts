// Every scenario names the requirements it proves, with ids the seeds define, where Allure reads
// them. A new scenario without a requirement tag fails here, with the file, the line and the fix.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { REQUIREMENT_ID } from '../../../evidence/requirement-ids.ts';
import { requirements } from '../../../evidence/requirements.ts';
import { readFeature, readScenarios } from '../../../evidence/scenarios.ts';
import { repoRoot } from '../../../environments/tools/tools.ts';

const defined = new Set(requirements().map((r) => r.id));

test('every scenario in features/ is tagged with at least one requirement the seeds define', () => {
  const { scenarios, problems } = readScenarios(repoRoot, defined);
  assert.ok(scenarios.length >= 50, `only ${scenarios.length} scenarios found under features/`);
  assert.deepEqual(
    problems.map((p) => `${p.uri}:${p.line}: ${p.message}`),
    [],
    'Tag each scenario (or its Feature) with the ids of what it proves, e.g. @FR-PS-002 @UC-03; the ids and titles are in evidence/requirements.json.',
  );
  for (const s of scenarios) assert.ok(s.requirements.length > 0, s.key);
});

const feature = (body: string) => `@FR-MB-001\nFeature: F\n${body}`;

test('a scenario without a requirement, an undefined id, a malformed one and one on Examples or a Rule are each refused', () => {
  const text = [
    'Feature: F',
    '  Scenario: untagged',
    '    Given x',
    '  @FR-XX-999',
    '  Scenario: unknown id',
    '    Given x',
    '  @fr-ps-2 @FR-PS-002 @s002-ren-4',
    '  Scenario: malformed beside a good one',
    '    Given x',
    '  Scenario Outline: tagged on Examples only <a>',
    '    Given <a>',
    '    @UC-03',
    '    Examples:',
    '      | a |',
    '      | 1 |',
    '      | 2 |',
    '  @NFR-REL-001',
    '  Rule: R',
    '    Scenario: under a tagged rule',
    '      Given x',
  ].join('\n');
  const { scenarios, problems } = readFeature('features/f.feature', text, defined);
  assert.deepEqual(
    problems.map((p) => `${p.line}: ${p.message.split(':')[0]}`),
    [
      '2: scenario "untagged" names no requirement',
      '4: @FR-XX-999 is not a requirement the seeds define (see evidence/requirements.json)',
      '5: scenario "unknown id" names no requirement',
      '7: @fr-ps-2 is not a requirement the seeds define (see evidence/requirements.json)',
      '7: @s002-ren-4 is not a requirement the seeds define (see evidence/requirements.json)',
      '12: @UC-03 stands on an Examples table',
      '10: scenario "tagged on Examples only <a>" names no requirement',
      '17: @NFR-REL-001 stands on a Rule',
      '19: scenario "under a tagged rule" names no requirement',
    ],
  );
  assert.deepEqual(scenarios.find((s) => s.name === 'malformed beside a good one')?.requirements, ['FR-PS-002']);
  assert.equal(scenarios.filter((s) => s.name.startsWith('tagged on Examples only')).length, 2, 'one scenario per Examples row');
});

test('Feature tags apply to every scenario; each scenario is keyed by its pickle location', () => {
  const { scenarios, problems } = readFeature('features/f.feature', feature('  @attack @UC-03\n  Scenario: s\n    Given x\n'), defined);
  assert.deepEqual(problems, []);
  assert.deepEqual(scenarios.map((s) => [s.key, s.requirements, s.attack]), [['features/f.feature:4', ['FR-MB-001', 'UC-03'], true]]);
});

test("cucumber.cjs links the same requirement tags to the matrix that evidence/requirement-ids.ts defines", () => {
  const config = createRequire(import.meta.url)('../../../cucumber.cjs') as { default: { formatOptions: { links: { requirement: { pattern: RegExp[]; urlTemplate: (t: string) => string } } } } };
  const link = config.default.formatOptions.links.requirement;
  assert.equal(link.pattern[0]!.source, `^@${REQUIREMENT_ID.source.slice(1)}`);
  for (const id of defined) assert.ok(link.pattern[0]!.test(`@${id}`), id);
  for (const near of ['@uc01', '@FR-PS-2', '@S02-REN-04', '@S002-REN-4', '@S002-renewal-04', '@s002-ren-04']) assert.ok(!link.pattern[0]!.test(near), near);
  assert.ok(link.pattern[0]!.test('@S002-REN-04') && link.pattern[0]!.test('@S000-APP-03'));
  assert.equal(link.urlTemplate('@FR-PS-002'), '../traceability/index.html#FR-PS-002');
});

test('a known gap is a scenario of known-gaps.feature, or one tagged @known-gap or @known-gap-attack; an attack cannot be both refused and succeed', () => {
  const body = ['  Scenario: plain', '    Given x', '  @known-gap', '  Scenario: tagged gap', '    Given x', '  @known-gap-attack', '  Scenario: gap attack', '    Given x', '  @attack @known-gap-attack', '  Scenario: both', '    Given x'].join('\n');
  const { scenarios, problems } = readFeature('features/f.feature', feature(body), defined);
  assert.deepEqual(scenarios.map((s) => [s.name, s.knownGap, s.gapAttack, s.attack]), [
    ['plain', false, false, false],
    ['tagged gap', true, false, false],
    ['gap attack', true, true, false],
    ['both', true, true, true],
  ]);
  assert.deepEqual(problems.map((p) => p.message.split(':')[0]), ['@known-gap-attack and @attack on one scenario']);
  const inFile = readFeature('features/known-gaps.feature', feature('  Scenario: s\n    Given x\n'), defined).scenarios;
  assert.deepEqual(inFile.map((s) => s.knownGap), [true]);
  // The lab's own: every scenario of known-gaps.feature is a known gap, and the attacks among them say so.
  const real = readScenarios(repoRoot, defined).scenarios;
  const gaps = real.filter((s) => s.uri === 'features/known-gaps.feature');
  assert.ok(gaps.length >= 3 && gaps.every((s) => s.knownGap));
  assert.ok(gaps.filter((s) => s.gapAttack).length >= 3, 'the known gaps that are attacks carry @known-gap-attack');
  assert.ok(real.filter((s) => s.knownGap).every((s) => !s.attack), 'no known gap is listed as an attack that must be refused');
});
