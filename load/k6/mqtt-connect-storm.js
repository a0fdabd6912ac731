// Measures a connect storm on the mutual-TLS broker: every VU is a distinct device (its own
// client certificate, CN K6-<n>, from prepare.ts) and all of them connect at once, handshake
// (TLS, the broker's chain, CRL and EKU checks), get CONNACK and disconnect. NFR-PERF-002
// (sub-second, "certificate-authenticated connections") is the threshold on p(99) of the connect.
// Needs k6 built with github.com/pmalhaire/xk6-mqtt (scripts/bootstrap.sh cannot build it here, see load/k6/README.md;
// K6_AUTO_EXTENSION_RESOLUTION=false stops another k6 from downloading one). Its Client must be
// created in the init context, where only __VU (the VU's number in this instance) is known, so the
// certificate is chosen by __VU: run it as one instance, not split with --execution-segment.
//
//   FIXTURES=/abs/fixtures.json k6 run --no-usage-report --address '' load/k6/mqtt-connect-storm.js
//   (from the repo root, with reports/perf created; the lab is up from `node --import tsx load/k6/prepare.ts`)
//   env: FIXTURES (required), BROKER_URL (from the fixtures), VUS (10, at most one per certificate),
//        ITERATIONS (per VU, 1), CONNECT_TIMEOUT_MS (5000), SUMMARY_PATH (reports/perf/k6-mqtt-connect-storm-<time>.json)
import { check } from 'k6';
import { SharedArray } from 'k6/data';
import { Rate, Trend } from 'k6/metrics';
import { Client } from 'k6/x/mqtt';

const FIXTURES = __ENV.FIXTURES;
if (!FIXTURES) throw new Error('set FIXTURES to the fixtures.json written by load/k6/prepare.ts');
const DIR = FIXTURES.replace(/[^/]*$/, '');
const fixtures = new SharedArray('mqtt', () => {
  const f = JSON.parse(open(FIXTURES));
  return [{ brokerUrl: f.endpoints.brokerUrl, rootCa: f.endpoints.rootCa, clients: f.mqtt.clients }];
})[0];
const VUS = Number(__ENV.VUS || 10);
if (VUS > fixtures.clients.length) throw new Error(`VUS=${VUS} but only ${fixtures.clients.length} client certificates were prepared`);
const TIMEOUT = Number(__ENV.CONNECT_TIMEOUT_MS || 5000);

const connectDuration = new Trend('mqtt_connect_duration', true);
const connected = new Rate('mqtt_connected');

// __VU is 0 while k6 reads the options; VU n uses certificate n-1.
const me = fixtures.clients[Math.max(__VU, 1) - 1];
const client = new Client([__ENV.BROKER_URL || fixtures.brokerUrl], '', '', true, `${me.cn}-storm`, TIMEOUT,
  DIR + fixtures.rootCa, DIR + me.cert, DIR + me.key, undefined, false, 'TLS 1.2');

export const options = {
  scenarios: {
    storm: { executor: 'per-vu-iterations', vus: VUS, iterations: Number(__ENV.ITERATIONS || 1), maxDuration: '60s' },
  },
  thresholds: {
    mqtt_connect_duration: ['p(99)<1000'], // NFR-PERF-002: sub-second for certificate-authenticated connections
    mqtt_connected: ['rate==1'],
  },
  summaryTrendStats: ['count', 'avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)'],
};

export default function () {
  const started = Date.now();
  let ok = false;
  try {
    client.connect();
    ok = client.isConnected();
  } catch (err) {
    console.error(`${me.cn}: connect failed: ${err}`);
  }
  connectDuration.add(Date.now() - started);
  connected.add(ok);
  check(ok, { 'connected with its own certificate': (v) => v });
  if (ok) client.close();
}

export function handleSummary(data) {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const out = __ENV.SUMMARY_PATH || `reports/perf/k6-mqtt-connect-storm-${stamp}.json`;
  const d = data.metrics.mqtt_connect_duration.values;
  const c = data.metrics.mqtt_connected.values;
  const text = `mqtt-connect-storm: ${c.passes} of ${c.passes + c.fails} connects succeeded; ` +
    `connect avg ${d.avg.toFixed(1)} ms p95 ${d['p(95)'].toFixed(1)} ms p99 ${d['p(99)'].toFixed(1)} ms -> ${out}\n`;
  return { [out]: JSON.stringify(data, null, 2), stdout: text };
}
