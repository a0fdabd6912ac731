// The named load scenarios of `ecm-lab load --scenario <name>`, one idea each (STYLE.md: k6's
// script conventions). Every scenario gives each device its own identity and certificate, and
// writes the same report. Fleet scenarios bring devices up and keep them connected for a steady
// state; request scenarios time one request per device. What a scenario measures (its family,
// what an iteration is, the phase that times it) is the report's vocabulary and lives with the
// summary's schema; here is how it runs.
import type { ExecutorKind } from './executors.ts';
import { SCENARIO_NAMES, SCENARIO_REPORTS, type ScenarioName, type ScenarioReport } from '../evidence/perf/summary-schema.ts';

export { SCENARIO_NAMES, type ScenarioName };

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

export interface ScenarioDefinition extends ScenarioReport {
  name: ScenarioName;
  executor: ExecutorKind;
  defaults: ScenarioDefaults;
  /** Needs the lab's own CA keys (a lab this command starts), not one attached with --lab. */
  ownedLabOnly: boolean;
  example: string;
}

type ScenarioFields = Omit<ScenarioDefinition, 'name' | keyof ScenarioReport>;

/** A scenario's definition: its name and its report vocabulary filled in from the schema. */
function scenario(name: ScenarioName, fields: ScenarioFields): ScenarioDefinition {
  return { name, ...SCENARIO_REPORTS[name], ...fields };
}

export const SCENARIOS: Record<ScenarioName, ScenarioDefinition> = {
  'full-flow': scenario('full-flow', {
    executor: 'arrival-rate',
    defaults: { devices: 50, rate: 10, vus: 10, maxConcurrent: 50, durationMs: 30_000, intervalMs: 1000 },
    ownedLabOnly: false,
    example: 'ecm-lab load --scenario full-flow --devices 200 --mix "2.1:70,2.0:20,1.4:10" --rate 20 --duration 30s --qos 1',
  }),
  'bootstrap-endpoint': scenario('bootstrap-endpoint', {
    executor: 'iterations',
    defaults: { devices: 200, rate: 50, vus: 4, maxConcurrent: 50 },
    ownedLabOnly: false,
    example: 'ecm-lab load --scenario bootstrap-endpoint --devices 400 --vus 4',
  }),
  'x5c-sign': scenario('x5c-sign', {
    executor: 'iterations',
    defaults: { devices: 200, rate: 50, vus: 4, maxConcurrent: 50 },
    ownedLabOnly: true,
    example: 'ecm-lab load --scenario x5c-sign --executor arrival-rate --devices 600 --rate 50',
  }),
  'mqtt-connect-storm': scenario('mqtt-connect-storm', {
    executor: 'iterations',
    defaults: { devices: 500, rate: 100, vus: 10, maxConcurrent: 200, durationMs: 5000, intervalMs: 1000 },
    ownedLabOnly: true,
    example: 'ecm-lab load --scenario mqtt-connect-storm --devices 2000 --vus 10 --duration 10s',
  }),
  'mqtt-publish': scenario('mqtt-publish', {
    executor: 'arrival-rate',
    defaults: { devices: 300, rate: 100, vus: 10, maxConcurrent: 200, durationMs: 10_000, intervalMs: 100 },
    ownedLabOnly: true,
    example: 'ecm-lab load --scenario mqtt-publish --devices 1000 --rate 100 --interval 1000 --duration 30s --qos 1',
  }),
  'renewal-soak': scenario('renewal-soak', {
    executor: 'arrival-rate',
    defaults: { devices: 200, rate: 10, vus: 10, maxConcurrent: 50, durationMs: 600_000, intervalMs: 1000, certLifetimeSeconds: 60 },
    ownedLabOnly: false,
    example: 'ecm-lab load --scenario renewal-soak --devices 200 --rate 10 --cert-lifetime 60s --duration 10m --qos 1',
  }),
};
