// One way from a resolved plan to a run: the fleet scenarios go to the fleet runner, the request
// scenarios to the request runner with their iteration.
import type { KeyAlgorithm } from '../x509/keys.ts';
import type { FirmwarePolicy } from '../config/firmware-policy.ts';
import { ProvisioningAdminClient } from '../simulators/client/admin-client.ts';
import type { LabEndpoints } from '../simulators/client/lab-endpoints.ts';
import type { FleetLab } from './fleet-lab.ts';
import type { FleetProgress } from './fleet-metrics.ts';
import { runFleet } from './fleet-run.ts';
import type { RunConfig, RunResult } from '../evidence/perf/summary-schema.ts';
import { segmentShare } from './segment.ts';
import { bootstrapEndpointScenario } from './bootstrap-endpoint.ts';
import { runRequests } from './request-run.ts';
import { SCENARIOS } from './scenarios.ts';
import { x5cSignScenario } from './x5c-sign.ts';

export interface ScenarioContext {
  lab: FleetLab;
  endpoints: LabEndpoints;
  config: RunConfig;
  gracefulStopMs: number;
  /** From the lab's configuration. */
  topicRoot: string;
  applicationIdentity: string;
  /** seed 000's mixed fleet: which firmware provisions itself, which the service team certifies, which is legacy. */
  firmware: FirmwarePolicy;
  keyAlgorithm: KeyAlgorithm;
  /** `--client-addresses`: the block every client of the scenario binds; each scenario's own loopback block when absent. */
  clientAddresses?: string;
  /** The lab's tools directory (ecm-device for `--device-client native`). */
  toolsBinDir?: string;
  signal?: AbortSignal;
  onProgress?: (progress: FleetProgress) => void;
}

/** How long a white list opened by a run on a shared lab stays open: the longest the run may take, and ten minutes. */
function autoOffSeconds(c: RunConfig): number {
  const share = segmentShare(c.devices, c.executor.ratePerSecond, c.segment);
  const executorS = c.executor.kind === 'arrival-rate' ? share.devices / share.ratePerSecond : c.executor.kind === 'constant-vus' ? c.executor.vusDurationMs / 1000 : (c.executor.maxDurationMs ?? 600_000) / 1000;
  return Math.ceil(executorS + 600);
}

export function runScenario(ctx: ScenarioContext): Promise<RunResult> {
  const c = ctx.config;
  const scenario = SCENARIOS[c.scenario];
  if (scenario.family === 'fleet') {
    return runFleet(ctx.lab, ctx.endpoints, {
      scenario: c.scenario,
      executor: c.executor,
      devices: c.devices,
      mix: c.mix,
      durationMs: c.durationMs,
      qos: c.qos,
      telemetryIntervalMs: c.telemetryIntervalMs,
      operate: c.scenario === 'mqtt-connect-storm' ? 'hold' : 'telemetry',
      certLifetimeSeconds: c.certLifetimeSeconds,
      segment: c.segment,
      topicRoot: ctx.topicRoot,
      applicationIdentity: ctx.applicationIdentity,
      seed: c.seed,
      firmware: ctx.firmware,
      drainTimeoutMs: 10_000,
      gracefulStopMs: ctx.gracefulStopMs,
      faults: c.faults,
      workers: c.workers,
      certificates: c.certificates,
      preMadeKeys: c.preMadeKeys,
      deviceClient: c.deviceClient,
      toolsBinDir: ctx.toolsBinDir,
      clientAddresses: ctx.clientAddresses,
      thresholds: c.thresholds,
      signal: ctx.signal,
      onProgress: ctx.onProgress,
    });
  }
  const admin = new ProvisioningAdminClient(ctx.lab.admin.url, ctx.lab.admin.token, ctx.endpoints.trustedRootPem);
  const options = { executor: c.executor, devices: c.devices, segment: c.segment, seed: c.seed, gracefulStopMs: ctx.gracefulStopMs, signal: ctx.signal, onProgress: ctx.onProgress };
  if (c.scenario === 'bootstrap-endpoint') {
    return runRequests(ctx.lab, admin, bootstrapEndpointScenario({ insecureUrl: ctx.endpoints.insecureUrl, keyAlgorithm: ctx.keyAlgorithm, devices: c.devices, autoOffSeconds: autoOffSeconds(c), clientAddresses: ctx.clientAddresses }), options);
  }
  if (!ctx.lab.owned) throw new Error('the x5c-sign scenario needs a lab this command started (its bootstrap intermediate signs the credentials)');
  const x5c = x5cSignScenario({
    caUrl: c.target === 'step-ca' ? ctx.endpoints.caUrl : ctx.endpoints.signUrl,
    trustedRootPem: ctx.endpoints.trustedRootPem,
    bootstrapIssuer: ctx.lab.owned.bootstrapIssuer,
    x5c: ctx.endpoints.x5c,
    keyAlgorithm: ctx.keyAlgorithm,
    clientAddresses: ctx.clientAddresses,
  });
  return runRequests(ctx.lab, admin, x5c, options);
}
