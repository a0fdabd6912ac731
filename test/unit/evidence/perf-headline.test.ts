// The run summary's performance headline is the latest load run under reports/perf (by the
// summaries' own start time), its thresholds and its ratios with their targets.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { latestPerfHeadline } from '../../../evidence/perf/headline.ts';

function summary(runId: string, startedAt: string, ratios: Record<string, number | null>) {
  return {
    schema: 'ecm-lab/perf-summary@3',
    runId,
    startedAt,
    partial: false,
    scenario: { name: 'full-flow', family: 'fleet' },
    devices: { requested: 60 },
    thresholds: [{ name: 'provisioning p99', requirement: 'NFR-PERF-001', limit: 30000, value: 812, ok: true }],
    ratios,
  };
}

test('the latest perf run is chosen by its startedAt, its ratios with their targets and whether they are met', () => {
  const reports = mkdtempSync(path.join(os.tmpdir(), 'ecm-perf-headline-'));
  assert.equal(latestPerfHeadline(reports), undefined, 'no reports/perf: no headline');
  const write = (dir: string, s: unknown) => {
    mkdirSync(path.join(reports, 'perf', dir), { recursive: true });
    writeFileSync(path.join(reports, 'perf', dir, 'summary.json'), JSON.stringify(s));
  };
  // Written last, but started first: not the latest.
  write('b-old', summary('old', '2026-11-01T10:00:00.000Z', {}));
  write('a-new', summary('new', '2026-12-01T10:00:00.000Z', { labCpuPerDeviceOverStepCa: 0.3, provisioningServiceCpuPerDeviceOverStepCa: 1.4, fractionOfCaLimit: 0.8, labMqttThroughputOverMosquittoClients: null }));
  write('broken', '{ not json');
  const h = latestPerfHeadline(reports)!;
  assert.equal(h.runId, 'new');
  assert.equal(h.dir, path.join('perf', 'a-new'));
  assert.deepEqual(h.thresholds, [{ name: 'provisioning p99', requirement: 'NFR-PERF-001', limit: 30000, value: 812, ok: true }]);
  assert.deepEqual(
    h.ratios.map((r) => [r.key, r.target, r.met]),
    [
      ['labCpuPerDeviceOverStepCa', '≤ 0.5', true],
      ['provisioningServiceCpuPerDeviceOverStepCa', '≤ 1', false],
      ['fractionOfCaLimit', undefined, undefined],
      ['labMqttThroughputOverMosquittoClients', '≥ 0.5', undefined],
    ],
  );
});
