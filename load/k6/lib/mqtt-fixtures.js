// What the MQTT scripts share: the fixtures (client certificates from prepare.ts), one client
// per identity through the lab's extension (k6/x/ecm-mqtt, built into .tools/bin/k6 by
// scripts/bootstrap.sh), the NFR thresholds and the summary file.
import { SharedArray } from 'k6/data';
import exec from 'k6/execution';
import { Client } from 'k6/x/ecm-mqtt';
import { summaryPath, summaryTrendStats } from './http-summary.js';

const FIXTURES = __ENV.FIXTURES;
if (!FIXTURES) throw new Error('set FIXTURES to the fixtures.json written by load/k6/prepare.ts');
const DIR = FIXTURES.replace(/[^/]*$/, '');

/** {brokerUrl, rootCa, topicRoot, app, clients}; a one-element SharedArray parses the file once, not once per VU. */
export const mqttFixtures = new SharedArray('mqtt', () => {
  const all = JSON.parse(open(FIXTURES));
  if (!all.mqtt) throw new Error(`${FIXTURES} has no mqtt fixtures: prepare them with --kinds mqtt`);
  return [{ brokerUrl: all.endpoints.brokerUrl, rootCa: all.endpoints.rootCa, ...all.mqtt }];
})[0];

export const TIMEOUT_MS = Number(__ENV.TIMEOUT_MS || 5000);

/** The device identity of this iteration: unique across every execution segment of the test. */
export function deviceOfIteration() {
  const i = Number(__ENV.FIXTURE_OFFSET || 0) + exec.scenario.iterationInTest;
  const device = mqttFixtures.clients[i];
  if (!device) throw new Error(`iteration ${i} has no client certificate: only ${mqttFixtures.clients.length} were prepared`);
  return device;
}

/** A client with the given identity ({cn, cert, key} from the fixtures); not yet connected. */
export function mqttClient(identity, clientId) {
  return new Client({
    brokerUrl: __ENV.BROKER_URL || mqttFixtures.brokerUrl,
    clientId,
    caFile: DIR + mqttFixtures.rootCa,
    certFile: DIR + identity.cert,
    keyFile: DIR + identity.key,
    timeoutMs: TIMEOUT_MS,
  });
}

export { summaryTrendStats };

/** handleSummary's result: the full summary as JSON under reports/perf/ (one per segment) and `line` on stdout. */
export function mqttSummary(name, data, line) {
  const out = summaryPath(name);
  return { [out]: JSON.stringify(data, null, 2), stdout: `${name}: ${line} -> ${out}\n` };
}
