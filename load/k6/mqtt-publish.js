// Measures MQTT publish -> deliver latency over mutual TLS. Each iteration is one device session
// for the whole test: the device (its own client certificate, CN K6-<n>) publishes MESSAGES
// telemetry messages at QOS to <topicRoot>/K6-<n>/telemetry, one every INTERVAL_MS, and a
// subscriber with the managing application's identity (the only one the broker's ACL lets read
// devices' telemetry) receives them on its own connection. The payload carries the send time; the
// extension stamps each message when it arrives, so the latency excludes the script's own loop.
// A message not delivered within TIMEOUT_MS after the last publish counts as lost. NFR-PERF-002
// (sub-second delivery) is the threshold on p(99); nothing may be lost at QoS 1. Devices are
// picked by the iteration's number in the whole test: execution segments never share one.
// Offered load = VUS * 1000 / INTERVAL_MS messages per second.
//
//   FIXTURES=/abs/fixtures.json .tools/bin/k6 run --no-usage-report --address '' load/k6/mqtt-publish.js
//   env: FIXTURES (required), BROKER_URL, VUS (10: devices connected at once), MESSAGES (per device, 100),
//        INTERVAL_MS (100), QOS (1), FIXTURE_OFFSET (0), TIMEOUT_MS (5000), MAX_DURATION (120s),
//        SUMMARY_PATH or SUMMARY_DIR
import { check, sleep } from 'k6';
import { Counter, Trend } from 'k6/metrics';
import { now } from 'k6/x/ecm-mqtt';
import { deviceOfIteration, mqttClient, mqttFixtures, mqttSummary, summaryTrendStats, TIMEOUT_MS } from './lib/mqtt-fixtures.js';

const MESSAGES = Number(__ENV.MESSAGES || 100);
const INTERVAL_MS = Number(__ENV.INTERVAL_MS || 100);
const QOS = Number(__ENV.QOS ?? 1);
const VUS = Number(__ENV.VUS || 10);

const delivery = new Trend('mqtt_delivery_duration', true);
const connectDuration = new Trend('mqtt_connect_duration', true);
const sent = new Counter('mqtt_messages_sent');
const received = new Counter('mqtt_messages_received');
const lost = new Counter('mqtt_messages_lost');
const failedPublishes = new Counter('mqtt_publish_failed');
const failedSessions = new Counter('mqtt_sessions_failed');

export const options = {
  scenarios: {
    // One iteration per VU, each a device session of MESSAGES * INTERVAL_MS.
    telemetry: { executor: 'per-vu-iterations', vus: VUS, iterations: 1, maxDuration: __ENV.MAX_DURATION || '120s' },
  },
  thresholds: {
    mqtt_delivery_duration: ['p(99)<1000'], // NFR-PERF-002: sub-second MQTT delivery
    mqtt_messages_lost: QOS === 1 ? ['count==0'] : [],
    mqtt_publish_failed: ['count==0'],
    mqtt_sessions_failed: ['count==0'],
    checks: ['rate==1'],
  },
  summaryTrendStats,
};

export default function () {
  const device = deviceOfIteration();
  const topic = `${mqttFixtures.topicRoot}/${device.cn}/telemetry`;
  const publisher = mqttClient(device, `${device.cn}-pub`);
  const subscriber = mqttClient(mqttFixtures.app, `${mqttFixtures.app.cn}-k6-${device.cn}`);
  try {
    connectDuration.add(subscriber.connect());
    subscriber.subscribe(topic, QOS);
    connectDuration.add(publisher.connect());
    let got = 0;
    let sentHere = 0;
    const take = (message) => {
      delivery.add(message.receivedAt - JSON.parse(message.payload).sentAt);
      got++;
    };
    const started = now();
    for (let seq = 0; seq < MESSAGES; seq++) {
      try {
        publisher.publish(topic, JSON.stringify({ seq, sentAt: now() }), QOS);
        sent.add(1);
        sentHere++;
      } catch (err) {
        failedPublishes.add(1);
        console.error(`${device.cn}: ${err}`);
      }
      for (let m = subscriber.receive(0); m; m = subscriber.receive(0)) take(m);
      // Pacing of the offered load (the next send time), not a wait for a result.
      const wait = started + (seq + 1) * INTERVAL_MS - now();
      if (wait > 0) sleep(wait / 1000);
    }
    for (let m; got < sentHere && (m = subscriber.receive(TIMEOUT_MS)); ) take(m);
    received.add(got);
    lost.add(sentHere - got);
    check(got, { 'every message sent was delivered': (n) => n === sentHere && subscriber.dropped() === 0 });
  } catch (err) {
    failedSessions.add(1); // refused connect or subscribe: the device never got going
    console.error(`${device.cn}: ${err}`);
  } finally {
    publisher.close();
    subscriber.close();
  }
}

export function handleSummary(data) {
  const value = (name, key) => (data.metrics[name] ? data.metrics[name].values[key] : 0);
  const seconds = data.state.testRunDurationMs / 1000;
  return mqttSummary('mqtt-publish', data,
    `${value('mqtt_messages_sent', 'count')} sent, ${value('mqtt_messages_received', 'count')} delivered ` +
      `(${(value('mqtt_messages_received', 'count') / seconds).toFixed(0)}/s), ${value('mqtt_messages_lost', 'count')} lost; ` +
      `delivery avg ${value('mqtt_delivery_duration', 'avg').toFixed(2)} ms p95 ${value('mqtt_delivery_duration', 'p(95)').toFixed(2)} ms ` +
      `p99 ${value('mqtt_delivery_duration', 'p(99)').toFixed(2)} ms`);
}
