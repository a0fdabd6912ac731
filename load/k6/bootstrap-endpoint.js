// Measures the provisioning service's plain-HTTP bootstrap endpoint (FR-PS-004): each iteration
// POSTs one PEM CSR and gets a certificate chain back, through the service's ON/white-list and
// CSR checks and step-ca's signing. NFR-PERF-001 (provisioning within 30 s) is the threshold on
// p(99) of the request duration. All k6 traffic comes from 127.0.0.1: the service must be ON with
// 127.0.0.1 white-listed (prepare.ts does both). Fixture entries are picked by the iteration's
// number in the whole test, so execution segments (--execution-segment) never share one.
//
//   FIXTURES=/abs/fixtures.json k6 run --no-usage-report --address '' load/k6/bootstrap-endpoint.js
//   (from the repo root, with reports/perf created; the lab is up from `node --import tsx load/k6/prepare.ts`)
//   env: FIXTURES (required), BOOTSTRAP_URL (from the fixtures), VUS (4), ITERATIONS (one per CSR),
//        MAX_DURATION (60s), FIXTURE_OFFSET (0), SUMMARY_PATH or SUMMARY_DIR (reports/perf/k6-bootstrap-endpoint-<time>.json)
import { check } from 'k6';
import { SharedArray } from 'k6/data';
import exec from 'k6/execution';
import http from 'k6/http';
import { httpSummary, httpThresholds, summaryTrendStats } from './lib/http-summary.js';

const FIXTURES = __ENV.FIXTURES;
if (!FIXTURES) throw new Error('set FIXTURES to the fixtures.json written by load/k6/prepare.ts');
const csrs = new SharedArray('bootstrap-csrs', () => JSON.parse(open(FIXTURES)).bootstrap.map((e) => e.csr));
// A one-element SharedArray: the file is parsed once, not once per VU.
const endpoints = new SharedArray('endpoints', () => [JSON.parse(open(FIXTURES)).endpoints])[0];
const TARGET = __ENV.BOOTSTRAP_URL || endpoints.bootstrapUrl;
const OFFSET = Number(__ENV.FIXTURE_OFFSET || 0);

export const options = {
  scenarios: {
    bootstrap: {
      executor: 'shared-iterations',
      vus: Number(__ENV.VUS || 4),
      iterations: Number(__ENV.ITERATIONS || csrs.length),
      maxDuration: __ENV.MAX_DURATION || '60s',
    },
  },
  thresholds: httpThresholds,
  summaryTrendStats,
};

export default function () {
  const csr = csrs[(OFFSET + exec.scenario.iterationInTest) % csrs.length];
  const res = http.post(TARGET, csr, { headers: { 'content-type': 'application/pkcs10' }, timeout: '35s' });
  check(res, {
    'status 200': (r) => r.status === 200,
    'a certificate chain': (r) => typeof r.body === 'string' && r.body.includes('-----BEGIN CERTIFICATE-----'),
  });
}

export function handleSummary(data) {
  return httpSummary('bootstrap-endpoint', data);
}
