// The perf report's labels never overlap: tick labels are laid out in rows before drawing, the
// percentile curves use a nines axis (p99, p99.9 and max a decade apart instead of within 1 %
// of the width), and y ticks are short enough for the margin beside the axis title.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compactNumber, layoutTickLabels, ninesPosition, textWidth } from '../../../evidence/perf/chart-layout.ts';
import { barChart, lineChart, PERCENTILE_TICKS, renderPerfHtml } from '../../../evidence/perf/html.ts';
import { fullFlowSummary } from '../../support/perf-fixture.ts';

interface Text {
  x: number;
  y: number;
  label: string;
}

/** The horizontally drawn labels of an SVG (the rotated y title aside), as the page positions them. */
function texts(svg: string): Text[] {
  return [...svg.matchAll(/<text(?![^>]*rotate)[^>]*\bx="([\d.]+)" y="([\d.]+)"[^>]*text-anchor="middle"[^>]*>([^<]*)<\/text>/g)].map((m) => ({ x: Number(m[1]), y: Number(m[2]), label: m[3]! }));
}

/** Pairs of centred labels on one baseline whose estimated boxes come closer than 4 px. */
function collisions(labels: Text[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < labels.length; i++) {
    for (let j = i + 1; j < labels.length; j++) {
      const [a, b] = [labels[i]!, labels[j]!];
      if (a.y !== b.y) continue;
      const room = Math.abs(a.x - b.x) - (textWidth(a.label, 11) + textWidth(b.label, 11)) / 2;
      if (room < 4) out.push(`"${a.label}" and "${b.label}" (${room.toFixed(1)} px apart)`);
    }
  }
  return out;
}

const curve = (scale: number): Array<[number, number]> => [0, 10, 25, 50, 75, 90, 95, 99, 99.9, 100].map((p) => [p, p * scale]);

test('the percentile curve labels p99, p99.9 and max stand apart', () => {
  const svg = lineChart('Percentile curves (ms)', [{ name: 'provisioning total', points: curve(3) }], { xLabel: 'percentile', yLabel: 'ms', xTicks: PERCENTILE_TICKS, xPosition: ninesPosition });
  const labels = texts(svg).filter((t) => PERCENTILE_TICKS.some(([, l]) => l === t.label));
  assert.deepEqual(labels.map((l) => l.label), ['p0', 'p50', 'p90', 'p99', 'p99.9', 'max']);
  assert.deepEqual(collisions(labels), []);
  const at = Object.fromEntries(labels.map((l) => [l.label, l.x]));
  assert.ok(at.max! - at.p99! > 100, `p99 at ${at.p99}, max at ${at.max}: a decade apart on the nines axis`);
});

test('bar category labels too long for their group go to a second row instead of over each other', () => {
  const phases = ['acmeOrder', 'challengeValidation', 'finalize', 'x5cSign', 'firstConnack', 'provisioningTotal', 'renewal'];
  const svg = barChart('Provisioning latency per phase (ms)', phases, [{ name: 'p50', values: phases.map((_, i) => 100 + i) }], 'ms');
  const labels = texts(svg).filter((t) => phases.includes(t.label));
  assert.equal(labels.length, phases.length);
  assert.deepEqual(collisions(labels), []);
  assert.ok(new Set(labels.map((l) => l.y)).size > 1, 'they need two rows at this width');
  const height = Number(/viewBox="0 0 \d+ (\d+)"/.exec(svg)![1]);
  assert.ok(Math.max(...labels.map((l) => l.y)) < height, 'the second row is inside the chart');
});

test('no two horizontal labels of any chart of a full report collide', () => {
  const html = renderPerfHtml(fullFlowSummary());
  for (const [, svg] of html.matchAll(/(<svg[\s\S]*?<\/svg>)/g)) assert.deepEqual(collisions(texts(svg!)), [], svg!.slice(0, 120));
});

test('layout: each label in the first row with room, kept inside the bounds', () => {
  const placed = layoutTickLabels([[100, 'aaaa'], [110, 'bbbb'], [120, 'cccc'], [300, 'dddd'], [5, 'edge']], { fontPx: 10, gapPx: 4, minX: 0, maxX: 320 });
  assert.deepEqual(placed.map((p) => [p.label, p.row]), [['edge', 0], ['aaaa', 0], ['bbbb', 1], ['cccc', 2], ['dddd', 0]]);
  const edge = placed.find((p) => p.label === 'edge')!;
  assert.equal(edge.x, textWidth('edge', 10) / 2, 'moved right to start at minX');
});

test('tick numbers fit in five characters; the nines axis puts p90, p99, p99.9 a step apart', () => {
  assert.deepEqual([0, 0.25, 12.5, 950, 1250, 30_000, 37_500, 125_000, 2_500_000].map(compactNumber), ['0', '0.25', '12.5', '950', '1250', '30k', '37.5k', '125k', '2.5M']);
  assert.deepEqual([0, 90, 99, 99.9, 100].map((p) => +ninesPosition(p).toFixed(6)), [0, 1, 2, 3, 4]);
});
