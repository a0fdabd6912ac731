// Measures MQTT publish -> deliver latency over mutual TLS: each VU is one device (its own client
// certificate, CN K6-<n>) publishing QoS 1 telemetry to <topicRoot>/K6-<n>/telemetry, and one
// subscriber with the managing application's identity (the broker's ACL lets only it read devices'
// telemetry). The payload carries the send time; the delivery latency is measured on receipt.
// NFR-PERF-002 (sub-second delivery) is the threshold on its p(99); a message not delivered within
// RECEIVE_TIMEOUT_MS counts as lost. Needs k6 with github.com/pmalhaire/xk6-mqtt, which scripts/bootstrap.sh
// cannot build here (see load/k6/README.md;
// K6_AUTO_EXTENSION_RESOLUTION=false stops another k6 from downloading one). Clients are made in
// the init context, where only __VU is known: run as one instance, not split into segments.
//
//   FIXTURES=/abs/fixtures.json k6 run --no-usage-report --address '' load/k6/mqtt-publish.js
//   (from the repo root, with reports/perf created; the lab is up from `node --import tsx load/k6/prepare.ts`)
//   env: FIXTURES (required), BROKER_URL, VUS (10), DURATION (10s), MESSAGES (per iteration, 10),
//        RECEIVE_TIMEOUT_MS (5000), SUMMARY_PATH (reports/perf/k6-mqtt-publish-<time>.json)
import { SharedArray } from 'k6/data';
import { Counter, Rate, Trend } from 'k6/metrics';
import { Client } from 'k6/x/mqtt';

const FIXTURES = __ENV.FIXTURES;
if (!FIXTURES) throw new Error('set FIXTURES to the fixtures.json written by load/k6/prepare.ts');
const DIR = FIXTURES.replace(/[^/]*$/, '');
const f = new SharedArray('mqtt', () => {
  const all = JSON.parse(open(FIXTURES));
  return [{ brokerUrl: all.endpoints.brokerUrl, rootCa: all.endpoints.rootCa, ...all.mqtt }];
})[0];
const VUS = Number(__ENV.VUS || 10);
if (VUS > f.clients.length) throw new Error(`VUS=${VUS} but only ${f.clients.length} client certificates were prepared`);
const MESSAGES = Number(__ENV.MESSAGES || 10);
const TIMEOUT = Number(__ENV.RECEIVE_TIMEOUT_MS || 5000);
const delivery = new Trend('mqtt_delivery_duration', true);
const lost = new Counter('mqtt_messages_lost');
const published = new Rate('mqtt_published');

const me = f.clients[Math.max(__VU, 1) - 1]; // __VU is 0 while k6 reads the options
const topic = `${f.topicRoot}/${me.cn}/telemetry`;
// Arguments: brokers, user, password, clean session, client id, timeout (ms), root CA, certificate,
// key (paths), metric names (default), skip TLS verification (no), minimum TLS version.
const client = (id, who) =>
  new Client([__ENV.BROKER_URL || f.brokerUrl], '', '', true, id, TIMEOUT, DIR + f.rootCa, DIR + who.cert, DIR + who.key, undefined, false, 'TLS 1.2');
const publisher = client(`${me.cn}-pub`, me);
const subscriber = client(`${f.app.cn}-k6-${__VU}`, f.app);

export const options = {
  scenarios: {
    telemetry: { executor: 'constant-vus', vus: VUS, duration: __ENV.DURATION || '10s', gracefulStop: '10s' },
  },
  thresholds: {
    mqtt_delivery_duration: ['p(99)<1000'], // NFR-PERF-002: sub-second MQTT delivery
    mqtt_messages_lost: ['count==0'],
    mqtt_published: ['rate==1'],
  },
  summaryTrendStats: ['count', 'avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)'],
};

export default function () {
  if (!publisher.isConnected()) publisher.connect(); // throws (a failed iteration) when refused
  if (!subscriber.isConnected()) subscriber.connect();
  let received = 0;
  subscriber.subscribe(topic, 1, TIMEOUT);
  for (let i = 1; i < MESSAGES; i++) subscriber.subContinue(); // listen for MESSAGES messages, not one
  subscriber.addEventListener('message', (ev) => {
    received++;
    delivery.add(Date.now() - JSON.parse(ev.message).sentAt);
  });
  subscriber.addEventListener('error', () => lost.add(MESSAGES - received)); // "message timeout"
  // Asynchronous publishes: a synchronous one would hold the VU's event loop (where messages are
  // received) until its PUBACK, and add that wait to every measured delivery.
  for (let seq = 0; seq < MESSAGES; seq++) {
    publisher.publish(topic, 1, JSON.stringify({ seq, sentAt: Date.now() }), false, TIMEOUT, () => published.add(true), () => published.add(false));
  }
}

export function handleSummary(data) {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const out = __ENV.SUMMARY_PATH || `reports/perf/k6-mqtt-publish-${stamp}.json`;
  const d = data.metrics.mqtt_delivery_duration.values;
  const lostCount = data.metrics.mqtt_messages_lost ? data.metrics.mqtt_messages_lost.values.count : 0;
  const text = `mqtt-publish: ${d.count} messages delivered (${(d.count / (data.state.testRunDurationMs / 1000)).toFixed(0)}/s), ` +
    `${lostCount} lost; delivery avg ${d.avg.toFixed(1)} ms p95 ${d['p(95)'].toFixed(1)} ms p99 ${d['p(99)'].toFixed(1)} ms -> ${out}\n`;
  return { [out]: JSON.stringify(data, null, 2), stdout: text };
}
