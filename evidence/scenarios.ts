// Every scenario of features/ as cucumber will run it (one per Examples row), with the
// requirements its tags name, and what is wrong with its requirement tags. Parsed with
// cucumber's own Gherkin parser and compiler, so a scenario here is exactly a pickle of the run:
// its key (file:line) is the pickle's location in the run's cucumber messages.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { AstBuilder, compile, GherkinClassicTokenMatcher, Parser } from '@cucumber/gherkin';
import { IdGenerator, type GherkinDocument } from '@cucumber/messages';
import { CAPABILITIES, type Capability } from '../conformance/target/capabilities.ts';
import { idOfTag, REQUIREMENT_LIKE_TAG } from './requirement-ids.ts';

const NEEDS_TAG = /^@needs:(.*)$/;

/**
 * A scenario that documents a known gap: it passes because the hole is there, so it is never
 * proof of what its tags name (evidence/verdicts.ts). Every scenario of known-gaps.feature is one,
 * and so is one tagged @known-gap anywhere, or @known-gap-attack (an attack that succeeds by design).
 */
export const KNOWN_GAPS_FEATURE = 'features/known-gaps.feature';
export const KNOWN_GAP_TAG = '@known-gap';
export const KNOWN_GAP_ATTACK_TAG = '@known-gap-attack';

export interface ScenarioRef {
  /** `features/uc01-new-installation.feature:12`: the pickle's location (an Examples row's line for an outline). */
  key: string;
  uri: string;
  line: number;
  /** The pickle's name (an outline's parameters filled in). */
  name: string;
  feature: string;
  /** Every tag, from the Feature down to the Examples. */
  tags: string[];
  /** The requirement ids its Feature and Scenario tags name, in the order written. */
  requirements: string[];
  /** Tagged @attack: an attempt that must be refused (features/attacks/). */
  attack: boolean;
  /** Documents a known gap (KNOWN_GAPS_FEATURE, @known-gap or @known-gap-attack): never proof. */
  knownGap: boolean;
  /** Tagged @known-gap-attack: an attack that succeeds by design, which the summary lists as such. */
  gapAttack: boolean;
  /** What it needs of the installation beyond its endpoints (@needs:<capability>). */
  needs: Capability[];
}

export interface TagProblem {
  uri: string;
  line: number;
  message: string;
}

type TagLevel = 'Feature' | 'Rule' | 'Scenario' | 'Examples';

/** The .feature files under `dir`, relative to `root`, sorted. */
export function featureFiles(root: string, dir = 'features'): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const entry of readdirSync(path.join(root, rel), { withFileTypes: true })) {
      const child = path.posix.join(rel, entry.name);
      if (entry.isDirectory()) walk(child);
      else if (entry.name.endsWith('.feature')) out.push(child);
    }
  };
  walk(dir);
  return out.sort();
}

/** Where each tag of a document stands (Allure reads requirement tags from the Feature and the Scenario only). */
function tagLevels(doc: GherkinDocument): Map<string, { level: TagLevel; line: number }> {
  const levels = new Map<string, { level: TagLevel; line: number }>();
  const mark = (tags: readonly { id: string; location: { line: number } }[], level: TagLevel) => {
    for (const t of tags) levels.set(t.id, { level, line: t.location.line });
  };
  const scenario = (s: NonNullable<GherkinDocument['feature']>['children'][number]['scenario']) => {
    if (!s) return;
    mark(s.tags, 'Scenario');
    for (const ex of s.examples) mark(ex.tags, 'Examples');
  };
  const feature = doc.feature;
  if (!feature) return levels;
  mark(feature.tags, 'Feature');
  for (const child of feature.children) {
    scenario(child.scenario);
    if (child.rule) {
      mark(child.rule.tags, 'Rule');
      for (const c of child.rule.children) scenario(c.scenario);
    }
  }
  return levels;
}

/**
 * Reads one feature file's scenarios and checks their requirement tags against the defined ids:
 * each scenario names at least one requirement, each requirement-like tag is a defined id, and
 * requirement tags stand on the Feature or the Scenario (allure-cucumberjs ignores Rule and
 * Examples tags for labels and links, so there they would silently prove nothing in Allure).
 */
export function readFeature(uri: string, text: string, defined: ReadonlySet<string>): { scenarios: ScenarioRef[]; problems: TagProblem[] } {
  const newId = IdGenerator.incrementing();
  const problems: TagProblem[] = [];
  let doc: GherkinDocument;
  try {
    doc = new Parser(new AstBuilder(newId), new GherkinClassicTokenMatcher()).parse(text);
  } catch (err) {
    return { scenarios: [], problems: [{ uri, line: 1, message: `does not parse: ${(err as Error).message}` }] };
  }
  const levels = tagLevels(doc);
  const reported = new Set<string>();
  const report = (line: number, message: string) => {
    const k = `${line}:${message}`;
    if (reported.has(k)) return;
    reported.add(k);
    problems.push({ uri, line, message });
  };
  const scenarios: ScenarioRef[] = [];
  for (const pickle of compile(doc, uri, newId)) {
    const requirements: string[] = [];
    const needs: Capability[] = [];
    for (const tag of pickle.tags) {
      const need = NEEDS_TAG.exec(tag.name)?.[1];
      if (need !== undefined) {
        if ((CAPABILITIES as readonly string[]).includes(need)) needs.push(need as Capability);
        else report(levels.get(tag.astNodeId)?.line ?? pickle.location?.line ?? 1, `${tag.name} is not a capability (known: ${CAPABILITIES.join(', ')})`);
        continue;
      }
      if (!REQUIREMENT_LIKE_TAG.test(tag.name)) continue;
      const where = levels.get(tag.astNodeId) ?? { level: 'Scenario' as TagLevel, line: pickle.location?.line ?? 1 };
      const id = idOfTag(tag.name);
      if (!id || !defined.has(id)) {
        report(where.line, `${tag.name} is not a requirement the seeds define (see evidence/requirements.json)`);
        continue;
      }
      if (where.level === 'Rule' || where.level === 'Examples') {
        report(where.line, `${tag.name} stands on ${where.level === 'Rule' ? 'a Rule' : 'an Examples table'}: put requirement tags on the Feature or the Scenario, where Allure reads them`);
        continue;
      }
      if (!requirements.includes(id)) requirements.push(id);
    }
    const line = pickle.location?.line ?? 1;
    if (requirements.length === 0) {
      const scenario = scenarioOf(doc, pickle.astNodeIds[0]!) ?? { line, name: pickle.name };
      report(scenario.line, `scenario "${scenario.name}" names no requirement: tag it (or its Feature) with the ids it proves, e.g. @FR-PS-002 @UC-03 (ids in evidence/requirements.json)`);
    }
    const tags = pickle.tags.map((t) => t.name);
    const gapAttack = tags.includes(KNOWN_GAP_ATTACK_TAG);
    const knownGap = uri === KNOWN_GAPS_FEATURE || gapAttack || tags.includes(KNOWN_GAP_TAG);
    if (gapAttack && tags.includes('@attack')) report(line, `${KNOWN_GAP_ATTACK_TAG} and @attack on one scenario: an attack either must be refused (@attack) or succeeds by design (${KNOWN_GAP_ATTACK_TAG})`);
    scenarios.push({ key: `${uri}:${line}`, uri, line, name: pickle.name, feature: doc.feature?.name ?? '', tags, requirements, attack: tags.includes('@attack'), knownGap, gapAttack, needs });
  }
  return { scenarios, problems };
}

/** The Scenario (or Scenario Outline) a pickle was compiled from, as written. */
function scenarioOf(doc: GherkinDocument, scenarioId: string): { line: number; name: string } | undefined {
  const all = (doc.feature?.children ?? []).flatMap((c) => [c.scenario, ...(c.rule?.children ?? []).map((r) => r.scenario)]);
  const s = all.find((x) => x?.id === scenarioId);
  return s ? { line: s.location.line, name: s.name } : undefined;
}

/** Every scenario under `root/features`, and every problem with their requirement tags. */
export function readScenarios(root: string, defined: ReadonlySet<string>, dir = 'features'): { scenarios: ScenarioRef[]; problems: TagProblem[] } {
  const scenarios: ScenarioRef[] = [];
  const problems: TagProblem[] = [];
  for (const uri of featureFiles(root, dir)) {
    const r = readFeature(uri, readFileSync(path.join(root, uri), 'utf8'), defined);
    scenarios.push(...r.scenarios);
    problems.push(...r.problems);
  }
  return { scenarios, problems };
}
