// Measures a connect storm on the mutual-TLS broker: every iteration is a distinct device (its own
// client certificate, CN K6-<n>, from prepare.ts) that handshakes (TLS with the broker's chain,
// CRL and EKU checks), gets its CONNACK and disconnects; VUS of them at a time. NFR-PERF-002
// (sub-second, "certificate-authenticated connections") is the threshold on p(99) of the connect.
// Devices are picked by the iteration's number in the whole test, so execution segments
// (--execution-segment) never share a certificate.
//
//   FIXTURES=/abs/fixtures.json .tools/bin/k6 run --no-usage-report --address '' load/k6/mqtt-connect-storm.js
//   (from the repo root; the lab is up from `node --import tsx load/k6/prepare.ts`)
//   env: FIXTURES (required), BROKER_URL (from the fixtures), VUS (10), DEVICES (one per certificate),
//        FIXTURE_OFFSET (0), TIMEOUT_MS (5000), MAX_DURATION (60s), SUMMARY_PATH or SUMMARY_DIR
import { check } from 'k6';
import { Counter, Rate, Trend } from 'k6/metrics';
import { deviceOfIteration, mqttClient, mqttFixtures, mqttSummary, summaryTrendStats } from './lib/mqtt-fixtures.js';

const connectDuration = new Trend('mqtt_connect_duration', true);
const connected = new Rate('mqtt_connected');
const refusals = new Counter('mqtt_connect_refused');

export const options = {
  scenarios: {
    storm: {
      executor: 'shared-iterations',
      vus: Number(__ENV.VUS || 10),
      iterations: Number(__ENV.DEVICES || mqttFixtures.clients.length),
      maxDuration: __ENV.MAX_DURATION || '60s',
    },
  },
  thresholds: {
    mqtt_connect_duration: ['p(99)<1000'], // NFR-PERF-002: sub-second for certificate-authenticated connections
    mqtt_connected: ['rate==1'],
  },
  summaryTrendStats,
};

export default function () {
  const device = deviceOfIteration();
  const client = mqttClient(device, `${device.cn}-storm`);
  let ok = false;
  try {
    connectDuration.add(client.connect());
    ok = client.isConnected();
  } catch (err) {
    refusals.add(1);
    console.error(`${device.cn}: ${err}`);
  }
  connected.add(ok);
  check(ok, { 'connected with its own certificate': (v) => v });
  client.close();
}

export function handleSummary(data) {
  const d = data.metrics.mqtt_connect_duration ? data.metrics.mqtt_connect_duration.values : { count: 0, avg: 0, 'p(95)': 0, 'p(99)': 0 };
  const c = data.metrics.mqtt_connected.values;
  return mqttSummary('mqtt-connect-storm', data,
    `${c.passes} of ${c.passes + c.fails} devices connected; connect avg ${d.avg.toFixed(1)} ms p95 ${d['p(95)'].toFixed(1)} ms p99 ${d['p(99)'].toFixed(1)} ms`);
}
