// Measures step-ca's X5C signing, what every device asks for its operational certificate: each
// iteration POSTs one {csr, ott} pair to /1.0/sign, where ott is a one-time X5C token signed with
// a lab bootstrap certificate (prepare.ts signs them; step-ca refuses a token used twice, so
// entries are picked by the iteration's number in the whole test, and a run needs a fresh
// FIXTURE_OFFSET or fresh fixtures). Threshold: NFR-PERF-001, p(99) of the request under 30 s.
//
// Trust: k6 has no option naming a root CA for its HTTP client; it verifies servers against Go's
// system pool, which on Linux reads SSL_CERT_FILE. So the lab root is trusted by running k6 with
// SSL_CERT_FILE=<lab root_ca.crt>, and insecureSkipTLSVerify stays false:
//
//   SSL_CERT_FILE=<root_ca.crt> FIXTURES=/abs/fixtures.json k6 run --no-usage-report --address '' load/k6/ca-sign.js
//   (from the repo root, with reports/perf created; the lab is up from `node --import tsx load/k6/prepare.ts`)
//   env: FIXTURES (required), CA_URL (from the fixtures), VUS (4), ITERATIONS (entries left after the offset),
//        MAX_DURATION (60s), FIXTURE_OFFSET (0), SUMMARY_PATH or SUMMARY_DIR (reports/perf/k6-ca-sign-<time>.json)
import { check } from 'k6';
import { SharedArray } from 'k6/data';
import exec from 'k6/execution';
import http from 'k6/http';
import { httpSummary, httpThresholds, summaryTrendStats } from './lib/http-summary.js';

const FIXTURES = __ENV.FIXTURES;
if (!FIXTURES) throw new Error('set FIXTURES to the fixtures.json written by load/k6/prepare.ts');
const entries = new SharedArray('sign-entries', () => JSON.parse(open(FIXTURES)).sign);
const endpoints = new SharedArray('endpoints', () => [JSON.parse(open(FIXTURES)).endpoints])[0];
const TARGET = `${__ENV.CA_URL || endpoints.caUrl}/1.0/sign`;
const OFFSET = Number(__ENV.FIXTURE_OFFSET || 0);

export const options = {
  insecureSkipTLSVerify: false,
  scenarios: {
    sign: {
      executor: 'shared-iterations',
      vus: Number(__ENV.VUS || 4),
      iterations: Number(__ENV.ITERATIONS || entries.length - OFFSET),
      maxDuration: __ENV.MAX_DURATION || '60s',
    },
  },
  thresholds: httpThresholds,
  summaryTrendStats,
};

export default function () {
  const index = OFFSET + exec.scenario.iterationInTest;
  // A token is good once: wrapping around would only measure refusals.
  if (index >= entries.length) exec.test.abort(`fixture entry ${index} does not exist (${entries.length} prepared)`);
  const { csr, ott } = entries[index];
  const res = http.post(TARGET, JSON.stringify({ csr, ott }), { headers: { 'content-type': 'application/json' }, timeout: '35s' });
  check(res, {
    'status 201': (r) => r.status === 201,
    'a certificate': (r) => r.status === 201 && typeof r.json('crt') === 'string',
  });
}

export function handleSummary(data) {
  return httpSummary('ca-sign', data);
}
