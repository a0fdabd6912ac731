// The named load scenarios of `ecm-lab load --scenario <name>`, one idea each (STYLE.md: k6's
// script conventions). Every scenario gives each device its own identity and certificate, and
// writes the same report. Fleet scenarios bring devices up and keep them connected for a steady
// state; request scenarios time one request per device.
import type { ExecutorKind } from './executors.ts';
import type { Phase } from '../evidence/perf/latency-histograms.ts';

export const SCENARIO_NAMES = ['full-flow', 'bootstrap-endpoint', 'x5c-sign', 'mqtt-connect-storm', 'mqtt-publish', 'renewal-soak'] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

export interface ScenarioDefaults {
  devices: number;
  rate: number;
  vus: number;
  maxConcurrent: number;
  /** Fleet scenarios: the steady state after the last device is up. */
  durationMs?: number;
  intervalMs?: number;
  /** Operational certificate lifetime the devices ask for (the renewal soak's short certificates). */
  certLifetimeSeconds?: number;
}

export interface ScenarioDefinition {
  name: ScenarioName;
  family: 'fleet' | 'requests';
  /** What one iteration is, and what is timed. */
  measures: string;
  executor: ExecutorKind;
  defaults: ScenarioDefaults;
  /** The histogram phase of one iteration's latency. */
  phase: Phase;
  /** Needs the lab's own CA keys (a lab this command starts), not one attached with --lab. */
  ownedLabOnly: boolean;
  example: string;
}

export const SCENARIOS: Record<ScenarioName, ScenarioDefinition> = {
  'full-flow': {
    name: 'full-flow',
    family: 'fleet',
    measures: 'each device runs the whole workflow: ACME http-01 through the provisioning service, X5C, mutual-TLS MQTT, telemetry (timed: ACME to first CONNACK)',
    executor: 'arrival-rate',
    defaults: { devices: 50, rate: 10, vus: 10, maxConcurrent: 50, durationMs: 30_000, intervalMs: 1000 },
    phase: 'provisioningTotal',
    ownedLabOnly: false,
    example: 'ecm-lab load --scenario full-flow --devices 200 --mix "2.1:70,2.0:20,1.4:10" --rate 20 --duration 30s --qos 1',
  },
  'bootstrap-endpoint': {
    name: 'bootstrap-endpoint',
    family: 'requests',
    measures: 'each device posts a CSR for its own identity to the plain-HTTP bootstrap endpoint from its own white-listed loopback address (timed: the request, CSR to bootstrap credential)',
    executor: 'iterations',
    defaults: { devices: 200, rate: 50, vus: 4, maxConcurrent: 50 },
    phase: 'bootstrapEndpoint',
    ownedLabOnly: false,
    example: 'ecm-lab load --scenario bootstrap-endpoint --devices 400 --vus 4',
  },
  'x5c-sign': {
    name: 'x5c-sign',
    family: 'requests',
    measures: 'each device signs an X5C token with a bootstrap credential of its own (issued by the lab from the bootstrap intermediate) and asks for its operational certificate at the CA URL (timed: the sign request)',
    executor: 'iterations',
    defaults: { devices: 200, rate: 50, vus: 4, maxConcurrent: 50 },
    phase: 'x5cSign',
    ownedLabOnly: true,
    example: 'ecm-lab load --scenario x5c-sign --executor arrival-rate --devices 600 --rate 50',
  },
  'mqtt-connect-storm': {
    name: 'mqtt-connect-storm',
    family: 'fleet',
    measures: 'devices with certificates issued by the lab CA connect over mutual TLS and hold their sessions for the steady state (timed: TLS handshake to CONNACK)',
    executor: 'iterations',
    defaults: { devices: 500, rate: 100, vus: 10, maxConcurrent: 200, durationMs: 5000, intervalMs: 1000 },
    phase: 'firstConnack',
    ownedLabOnly: true,
    example: 'ecm-lab load --scenario mqtt-connect-storm --devices 2000 --vus 10 --duration 10s',
  },
  'mqtt-publish': {
    name: 'mqtt-publish',
    family: 'fleet',
    measures: 'devices with certificates issued by the lab CA connect and publish telemetry every --interval ms; one application receives everything (timed: publish to delivery)',
    executor: 'arrival-rate',
    defaults: { devices: 300, rate: 100, vus: 10, maxConcurrent: 200, durationMs: 10_000, intervalMs: 100 },
    phase: 'deliveryQos1',
    ownedLabOnly: true,
    example: 'ecm-lab load --scenario mqtt-publish --devices 1000 --rate 100 --interval 1000 --duration 30s --qos 1',
  },
  'renewal-soak': {
    name: 'renewal-soak',
    family: 'fleet',
    measures:
      'devices provision themselves with short operational certificates, then renew them on their own timer (at 2/3 of the lifetime) over mutual TLS and move their MQTT session to each renewed certificate while publishing QoS 1 for the duration (timed: each renewal request, and its handover)',
    executor: 'arrival-rate',
    defaults: { devices: 200, rate: 10, vus: 10, maxConcurrent: 50, durationMs: 600_000, intervalMs: 1000, certLifetimeSeconds: 60 },
    phase: 'provisioningTotal',
    ownedLabOnly: false,
    example: 'ecm-lab load --scenario renewal-soak --devices 200 --rate 10 --cert-lifetime 60s --duration 10m --qos 1',
  },
};
