// handleSummary of the HTTP scripts: the full summary as JSON under reports/perf/ (one file per
// instance when a test is split into execution segments) and one line on stdout.
import exec from 'k6/execution';

/** Pass/fail targets of the HTTP scripts: NFR-PERF-001 (certificate provisioning within 30 s). */
export const httpThresholds = {
  http_req_duration: ['p(99)<30000'],
  http_req_failed: ['rate==0'],
  checks: ['rate==1'],
};

/** count and avg make the summaries of several instances mergeable exactly (merge-summaries.ts). */
export const summaryTrendStats = ['count', 'avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)'];

/** Where a script's summary goes: SUMMARY_PATH, or one file per instance (named after its execution segment). */
export function summaryPath(name) {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  // "0:1/2" -> "-segment-0_1_2"
  const segment = exec.test.options.executionSegment;
  const part = segment ? `-segment-${segment.replace(/[:/]/g, '_')}` : '';
  return __ENV.SUMMARY_PATH || `${__ENV.SUMMARY_DIR || 'reports/perf'}/k6-${name}-${stamp}${part}.json`;
}

export function httpSummary(name, data) {
  const out = summaryPath(name);
  const d = data.metrics.http_req_duration.values;
  const reqs = data.metrics.http_reqs.values;
  const text = `${name}: ${data.metrics.iterations.values.count} iterations, ${reqs.count} requests ` +
    `(${reqs.rate.toFixed(1)}/s), failed ${data.metrics.http_req_failed.values.passes}, ` +
    `duration avg ${d.avg.toFixed(1)} ms p95 ${d['p(95)'].toFixed(1)} ms p99 ${d['p(99)'].toFixed(1)} ms -> ${out}\n`;
  return { [out]: JSON.stringify(data, null, 2), stdout: text };
}
