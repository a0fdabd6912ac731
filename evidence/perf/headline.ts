// The performance headline of the latest load run under reports/perf/: its thresholds and its
// ratios against the baselines measured in the same run, as the run summary shows them. Which
// run is latest is read from the summaries' own startedAt, not from file times.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { RATIO_INFO } from './html.ts';
import type { PerfSummary } from './summary-schema.ts';

export interface PerfHeadline {
  /** The report directory, relative to reports/. */
  dir: string;
  runId: string;
  scenario: string;
  startedAt: string;
  partial: boolean;
  devices: number;
  thresholds: Array<{ name: string; requirement: string; limit: number; value: number | null; ok: boolean }>;
  ratios: Array<{ key: string; label: string; value: number | null; target?: string; met?: boolean }>;
}

function summaries(dir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  return entries.flatMap((name) => {
    const file = path.join(dir, name);
    if (statSync(file).isDirectory()) return summaries(file);
    return name === 'summary.json' ? [file] : [];
  });
}

/** The latest run's headline, or undefined when reports/perf holds no readable summary. */
export function latestPerfHeadline(reportsDir: string): PerfHeadline | undefined {
  const runs: PerfSummary[] = [];
  const dirs = new Map<PerfSummary, string>();
  for (const file of summaries(path.join(reportsDir, 'perf'))) {
    try {
      const s = JSON.parse(readFileSync(file, 'utf8')) as PerfSummary;
      if (typeof s.startedAt !== 'string' || !s.scenario) continue;
      runs.push(s);
      dirs.set(s, path.relative(reportsDir, path.dirname(file)));
    } catch {
      // a summary being written, or not one of ours: not a run to show
    }
  }
  const latest = runs.sort((a, b) => b.startedAt.localeCompare(a.startedAt))[0];
  if (!latest) return undefined;
  return {
    dir: dirs.get(latest)!,
    runId: latest.runId,
    scenario: latest.scenario.name,
    startedAt: latest.startedAt,
    partial: latest.partial,
    devices: latest.devices.requested,
    thresholds: latest.thresholds.map(({ name, requirement, limit, value, ok }) => ({ name, requirement, limit, value, ok })),
    ratios: Object.entries(latest.ratios).map(([key, value]) => {
      const info = RATIO_INFO[key];
      const t = info?.target;
      return {
        key,
        label: info?.label ?? key,
        value,
        ...(t ? { target: `${t.op} ${t.value}` } : {}),
        ...(t && value !== null ? { met: t.op === '≤' ? value <= t.value : value >= t.value } : {}),
      };
    }),
  };
}
