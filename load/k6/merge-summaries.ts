// Merges the handleSummary JSON of several k6 instances that ran one test split with
// --execution-segment, and compares the result with a single-instance run of the same test.
//
// What merges exactly and what does not:
//   counters    count: the sum (exact); rate: total count / the longest instance's run time
//   rates       passes and fails: sums, so the rate is exact (failed requests, checks)
//   trends      count, min, max: exact; avg: exact as the count-weighted mean, which is why the
//               scripts put 'count' in summaryTrendStats
//               med and p(N): NOT mergeable from summaries (they keep no samples). A percentile of
//               the union lies between the smallest and the largest of the instances' percentiles;
//               the merged value is that largest one, an upper bound, and `bounds` gives both ends.
//   thresholds  ok only when every instance's was; exact for counts and rates, and for a
//               "p(N)<x" threshold the upper bound makes "every instance ok" sufficient.
//
//   node --import tsx load/k6/merge-summaries.ts seg1.json seg2.json [--single single.json] [--out merged.json]
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

export interface K6Metric {
  type: 'counter' | 'rate' | 'trend' | 'gauge';
  contains?: string;
  values: Record<string, number>;
  thresholds?: Record<string, { ok: boolean }>;
}

export interface K6Summary {
  metrics: Record<string, K6Metric>;
  state: { testRunDurationMs: number };
}

export interface MergedMetric extends K6Metric {
  /** For trend percentiles and the median: [smallest, largest] of the instances' values. */
  bounds?: Record<string, [number, number]>;
}

export interface MergedSummary {
  instances: number;
  state: { testRunDurationMs: number };
  metrics: Record<string, MergedMetric>;
  notes: string[];
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const isPercentile = (stat: string) => stat === 'med' || /^p\(\d+(\.\d+)?\)$/.test(stat);

function mergeMetric(name: string, parts: K6Metric[], seconds: number): MergedMetric {
  const { type, contains } = parts[0]!;
  const stat = (key: string) => parts.map((p) => p.values[key] ?? 0);
  const values: Record<string, number> = {};
  const merged: MergedMetric = { type, contains, values };
  if (type === 'counter') {
    values.count = sum(stat('count'));
    values.rate = seconds > 0 ? values.count / seconds : 0;
  } else if (type === 'rate') {
    values.passes = sum(stat('passes'));
    values.fails = sum(stat('fails'));
    values.rate = values.passes + values.fails > 0 ? values.passes / (values.passes + values.fails) : 0;
  } else if (type === 'gauge') {
    // Instances run side by side: their VUs (the usual gauges) add up.
    for (const key of ['value', 'min', 'max']) values[key] = sum(stat(key));
  } else {
    if (parts.some((p) => p.values.count === undefined)) {
      throw new Error(`trend ${name} has no 'count': add 'count' to options.summaryTrendStats to merge averages exactly`);
    }
    const counts = stat('count');
    values.count = sum(counts);
    values.avg = values.count > 0 ? sum(parts.map((p, i) => (p.values.avg ?? 0) * counts[i]!)) / values.count : 0;
    const present = parts.filter((p, i) => counts[i]! > 0);
    values.min = Math.min(...present.map((p) => p.values.min!));
    values.max = Math.max(...present.map((p) => p.values.max!));
    merged.bounds = {};
    for (const key of Object.keys(parts[0]!.values).filter(isPercentile)) {
      const xs = present.map((p) => p.values[key]!);
      merged.bounds[key] = [Math.min(...xs), Math.max(...xs)];
      values[key] = Math.max(...xs);
    }
  }
  const thresholdNames = [...new Set(parts.flatMap((p) => Object.keys(p.thresholds ?? {})))];
  if (thresholdNames.length > 0) {
    merged.thresholds = Object.fromEntries(thresholdNames.map((t) => [t, { ok: parts.every((p) => p.thresholds?.[t]?.ok !== false) }]));
  }
  return merged;
}

export function mergeSummaries(summaries: K6Summary[]): MergedSummary {
  if (summaries.length === 0) throw new Error('nothing to merge');
  const longestMs = Math.max(...summaries.map((s) => s.state.testRunDurationMs));
  const names = [...new Set(summaries.flatMap((s) => Object.keys(s.metrics)))];
  const metrics: Record<string, MergedMetric> = {};
  for (const name of names) {
    metrics[name] = mergeMetric(name, summaries.flatMap((s) => (s.metrics[name] ? [s.metrics[name]] : [])), longestMs / 1000);
  }
  return {
    instances: summaries.length,
    state: { testRunDurationMs: longestMs },
    metrics,
    notes: [
      'counts, rates, min, max and avg are exact; med and p(N) are upper bounds (the largest instance value), see bounds',
      'counter rates divide the total by the longest instance run time (the instances ran side by side)',
    ],
  };
}

export interface Comparison {
  ok: boolean;
  problems: string[];
  rows: Array<{ what: string; merged: number; single: number }>;
}

/** The timing each script is judged by, first present wins: HTTP request, MQTT delivery, MQTT connect. */
const durationMetrics = ['http_req_duration', 'mqtt_delivery_duration', 'mqtt_connect_duration'];
/** Byte counters vary with certificate and timestamp lengths; they are not expected to match. */
const inexactCounters = new Set(['data_sent', 'data_received']);

/**
 * Checks a merged run against a single-instance run of the same test. Iterations, every counter
 * of the single run (requests, messages sent/received/lost, refusals) and the failure counts
 * (http_req_failed passes, checks fails) must be equal: the scripts' executors split their work
 * exactly. The mean of the script's duration metric may differ by `relative` of the single run's
 * mean plus `absoluteMs`.
 */
export function compareWithSingle(merged: MergedSummary, single: K6Summary, tolerance = { relative: 0.5, absoluteMs: 20 }): Comparison {
  const problems: string[] = [];
  const rows: Comparison['rows'] = [];
  const value = (s: { metrics: Record<string, K6Metric> }, metric: string, key: string) => s.metrics[metric]?.values[key] ?? 0;
  const counters = Object.entries(single.metrics)
    .filter(([name, m]) => m.type === 'counter' && name !== 'iterations' && !inexactCounters.has(name))
    .map(([name]): [string, string] => [name, 'count']);
  const failures: Array<[string, string]> = [];
  if ('http_req_failed' in single.metrics) failures.push(['http_req_failed', 'passes']);
  if ('checks' in single.metrics) failures.push(['checks', 'fails']);
  for (const [metric, key] of [['iterations', 'count'], ...counters, ...failures]) {
    const m = value(merged, metric, key);
    const s = value(single, metric, key);
    rows.push({ what: `${metric}.${key}`, merged: m, single: s });
    if (m !== s) problems.push(`${metric}.${key}: merged ${m} but single ${s}`);
  }
  const duration = durationMetrics.find((name) => name in single.metrics);
  if (duration) {
    const m = value(merged, duration, 'avg');
    const s = value(single, duration, 'avg');
    rows.push({ what: `${duration}.avg (ms)`, merged: m, single: s });
    const allowed = tolerance.relative * s + tolerance.absoluteMs;
    if (Math.abs(m - s) > allowed) problems.push(`${duration}.avg: merged ${m.toFixed(1)} ms vs single ${s.toFixed(1)} ms, more than ${allowed.toFixed(1)} ms apart`);
    for (const key of ['p(95)', 'p(99)']) {
      rows.push({ what: `${duration}.${key} (ms, merged: upper bound)`, merged: value(merged, duration, key), single: value(single, duration, key) });
    }
  }
  return { ok: problems.length === 0, problems, rows };
}

export const readSummary = (file: string): K6Summary => JSON.parse(readFileSync(file, 'utf8')) as K6Summary;

function main(): void {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { single: { type: 'string' }, out: { type: 'string' } } });
  if (positionals.length === 0) throw new Error('usage: merge-summaries.ts <summary.json>... [--single <summary.json>] [--out <merged.json>]');
  const merged = mergeSummaries(positionals.map(readSummary));
  const comparison = values.single ? compareWithSingle(merged, readSummary(values.single)) : undefined;
  const text = JSON.stringify({ ...merged, comparison }, null, 2);
  if (values.out) writeFileSync(values.out, text);
  else process.stdout.write(`${text}\n`);
  if (comparison) {
    for (const row of comparison.rows) process.stderr.write(`${row.what.padEnd(48)} merged ${row.merged.toFixed(2).padStart(10)}  single ${row.single.toFixed(2).padStart(10)}\n`);
    for (const problem of comparison.problems) process.stderr.write(`MISMATCH ${problem}\n`);
    if (!comparison.ok) process.exitCode = 1;
  }
}

if (process.argv[1] && new URL(import.meta.url).pathname === process.argv[1]) main();
