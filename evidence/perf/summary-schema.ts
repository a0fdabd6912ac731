// The schema of summary.json (SUMMARY_SCHEMA in summary.ts): what a load run was asked to do, what
// it measured and what the report derives from it, with the vocabulary its keys use (scenario
// names, executor kinds, fault kinds) and each scenario's place in the report. The summary owns
// these types; the load engine that fills them in imports them from here, so a report never
// reaches up into the engine.
import type { FirmwareMix } from '../../simulators/device/identity.ts';
import type { ClassFigures, ClassSummary, DeviceClass } from './fleet-classes.ts';
import type { LatencyHistograms, LatencySummaryMs, Phase } from './latency-histograms.ts';
import type { CpuFigures, CpuMeasurement } from './cpu-readings.ts';
import type { LoopDelayMs } from '../../simulators/fleet/thread-stats.ts';

export const SCENARIO_NAMES = ['full-flow', 'bootstrap-endpoint', 'x5c-sign', 'mqtt-connect-storm', 'mqtt-publish', 'renewal-soak'] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

/** A scenario as its report names it: its family, what one iteration is, and the phase that times it. */
export interface ScenarioReport {
  family: 'fleet' | 'requests';
  /** What one iteration is, and what is timed. */
  measures: string;
  /** The histogram phase of one iteration's latency. */
  phase: Phase;
}

export const SCENARIO_REPORTS: Record<ScenarioName, ScenarioReport> = {
  'full-flow': {
    family: 'fleet',
    measures: 'each device runs the whole workflow: ACME http-01 through the provisioning service, X5C, mutual-TLS MQTT, telemetry (timed: ACME to first CONNACK)',
    phase: 'provisioningTotal',
  },
  'bootstrap-endpoint': {
    family: 'requests',
    measures: 'each device posts a CSR for its own identity to the plain-HTTP bootstrap endpoint from its own white-listed loopback address (timed: the request, CSR to bootstrap credential)',
    phase: 'bootstrapEndpoint',
  },
  'x5c-sign': {
    family: 'requests',
    measures: 'each device signs an X5C token with a bootstrap credential of its own (issued by the lab from the bootstrap intermediate) and asks for its operational certificate at the CA URL (timed: the sign request)',
    phase: 'x5cSign',
  },
  'mqtt-connect-storm': {
    family: 'fleet',
    measures: 'devices with certificates issued by the lab CA connect over mutual TLS and hold their sessions for the steady state (timed: TLS handshake to CONNACK)',
    phase: 'firstConnack',
  },
  'mqtt-publish': {
    family: 'fleet',
    measures: 'devices with certificates issued by the lab CA connect and publish telemetry every --interval ms; one application receives everything (timed: publish to delivery)',
    phase: 'deliveryQos1',
  },
  'renewal-soak': {
    family: 'fleet',
    measures:
      'devices provision themselves with short operational certificates, then renew them on their own timer (at 2/3 of the lifetime) over mutual TLS and move their MQTT session to each renewed certificate while publishing QoS 1 for the duration (timed: each renewal request, and its handover)',
    phase: 'provisioningTotal',
  },
};

export const EXECUTOR_KINDS = ['arrival-rate', 'constant-vus', 'iterations'] as const;
export type ExecutorKind = (typeof EXECUTOR_KINDS)[number];

export const FAULT_KINDS = ['ca-restart', 'broker-restart', 'provisioning-restart', 'device-restart', 'revocation'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface ExecutorStats {
  kind: ExecutorKind;
  /** Iterations the plan held (constant-vus: those it got to start). */
  planned: number;
  started: number;
  completed: number;
  failed: number;
  /** Still running when the executor stopped waiting (graceful stop passed, or Ctrl-C). */
  interrupted: number;
  /** Planned but never started: the time bound or Ctrl-C came first. */
  notStarted: number;
  /** arrival-rate: arrivals that waited for a free slot, and the longest wait. */
  delayed: number;
  maxStartDelayMs: number;
  /** From the executor's start to the last iteration settling (or being abandoned). */
  elapsedMs: number;
}

export interface ExecutorPlan {
  kind: ExecutorKind;
  /** arrival-rate: iterations (devices) per second, whole run. */
  ratePerSecond: number;
  /** arrival-rate: iterations running at once, at most, per process. */
  maxConcurrent: number;
  /** constant-vus and iterations: virtual users, whole run. */
  vus: number;
  /** constant-vus: how long the VUs loop. */
  vusDurationMs: number;
  /** The executor's time bound: arrival-rate and iterations stop starting after it (default: generous, but finite). */
  maxDurationMs?: number;
}

export interface Segment {
  index: number;
  count: number;
}

export interface TimelinePoint {
  t: number;
  provisioned: number;
  connected: number;
  failed: number;
  sent: number;
  received: number;
  /**
   * p99 (ms) of the deliveries received since the previous point; absent when there were none.
   * In a merge, the highest of the segments' at that second: an upper bound of the merged p99
   * (no segment has more than 1% of its deliveries above it).
   */
  deliveryP99Ms?: number;
}

export interface FaultRecord {
  kind: FaultKind;
  /** Seconds since the run started. */
  atS: number;
  /** How long the component took to come back. */
  restartMs: number;
  devicesAffected: number;
  /**
   * Per affected device: from the fault to its first delivered message or completed
   * provisioning; for a revocation, from the revocation request to the broker closing that
   * device's connection.
   */
  recoveryMs: { p50: number; p99: number; max: number };
  /** Why recovery was not seen in full: the timeout that ended the wait, with what it waited for. */
  timeout?: string;
}

/** What a revocation fault did: a tenth of the connected devices revoked mid steady state. */
export interface RevocationRecord {
  /** Operational certificates revoked through the admin API. */
  revoked: number;
  /** Of those devices, the ones the broker disconnected. */
  disconnected: number;
  revocationToDisconnectMs: { p50: number; p99: number; max: number };
  /** Unexpected disconnects of every other device from the first revocation to the next fault or the end: must be 0. */
  otherDevicesDisconnected: number;
  /** Messages of revoked devices not counted after their revocation (neither sent nor lost). */
  excludedMessages: number;
}

export interface InventoryCheck {
  /** Certificates in the service's inventory. */
  inventory: number;
  /** Distinct certificates both step-ca authorities logged as issued. */
  issuedOnLogs: number;
  /** Logged as issued by step-ca but missing from the inventory: must be 0. */
  notInInventory: number;
  /**
   * In the inventory with no step-ca log line: bootstrap credentials the lab signed itself (the
   * baselines' and the x5c-sign scenario's), which the service learns of from the X5C tokens.
   */
  notOnLogs: number;
  /** Why the inventory was not seen complete: the timeout, with what it waited for. */
  timeout?: string;
}

export interface ThresholdResult {
  name: string;
  requirement: string;
  limit: number;
  /** null: nothing was measured (an empty histogram), which fails the threshold. */
  value: number | null;
  ok: boolean;
}

export interface Baselines {
  /** step-ca signing alone: pre-made CSRs and tokens, N requests at a fixed concurrency. */
  caSigning?: { requests: number; concurrency: number; perSec: number; latencyMs: LatencySummaryMs; stepCaCpuMsPerCert: number };
  /**
   * The CA's own limit: step-ca alone serves each device's whole ACME + X5C flow (both
   * authorities, their webhooks included) from pre-made keys and CSRs, at a fixed concurrency.
   */
  caFlow?: {
    devices: number;
    concurrency: number;
    perSec: number;
    latencyMs: LatencySummaryMs;
    stepCaCpuMsPerDevice: number;
    provisioningServiceCpuMsPerDevice: number;
    labCpuMsPerDevice: number;
    /** What step-ca's CPU per device would allow with every core of this machine to itself. */
    cpuBoundPerSec: number;
  };
  /** Mosquitto's own clients (mosquitto_pub -> mosquitto_sub), QoS 0, same broker and TLS. */
  mosquittoClients?: { messages: number; perSec: number; elapsedMs: number };
  /** The lab's MQTT path (mqtt.js) for the same messages, QoS 0, same broker: the comparison. */
  labClients?: { messages: number; perSec: number; elapsedMs: number };
  /** CPU per mutual-TLS connect + disconnect, the lab's client and the broker, distinct certificates. */
  handshakes?: HandshakeBaseline;
  /** `--handshake-client both`: the same baseline made by the native client, beside mqtt.js's (handshakes). */
  handshakesNative?: HandshakeBaseline;
}

/** Which client made the client side of the handshake baseline (`ecm-lab load --handshake-client`). */
export const HANDSHAKE_CLIENTS = ['node', 'native'] as const;
export type HandshakeClient = (typeof HANDSHAKE_CLIENTS)[number];

export interface HandshakeBaseline {
  /**
   * 'node': mqtt.js on Node's TLS, the lab's own client (CPU: the lab process's); 'native':
   * ecm-connect (load/native-connect, Go's crypto/tls; CPU: its process's, read from /proc over
   * the broker's window). Absent in summaries written before the option: 'node'.
   */
  client?: HandshakeClient;
  connections: number;
  concurrency: number;
  perSec: number;
  latencyMs: LatencySummaryMs;
  labCpuMsPerHandshake: number;
  brokerCpuMsPerHandshake: number;
  /** Loading a certificate and key into a TLS context (once per certificate, before the handshakes are timed). */
  labCpuMsPerContext?: number;
  /** native: the process's own getrusage over its timed part, per handshake (a cross-check of labCpuMsPerHandshake). */
  selfReportedCpuMsPerHandshake?: number;
  /** native: connections by negotiated TLS version, cipher suite and key-exchange group. */
  negotiated?: Record<string, number>;
}

/** What a run was asked to do (the parsed command line). */
export interface RunConfig {
  scenario: ScenarioName;
  executor: ExecutorPlan;
  devices: number;
  mix: FirmwareMix;
  /** Fleet scenarios: the steady state, how long the connected fleet publishes (or holds its sessions) after the last device came up; 0 for request scenarios. */
  durationMs: number;
  qos: 0 | 1;
  telemetryIntervalMs: number;
  /** Operational certificate lifetime; renewals happen during the run when it is short. */
  certLifetimeSeconds?: number;
  segment: Segment;
  seed: number;
  /** Components to restart, or certificates to revoke, during the run. */
  faults: FaultKind[];
  /** Worker threads the devices are spread over; 1 = all in this thread. */
  workers: number;
  /**
   * 'provisioned': every device runs ACME + X5C (full-flow); 'issued': certificates straight
   * from the lab CA before the run is measured, to measure MQTT with thousands of distinct identities.
   */
  certificates: 'provisioned' | 'issued';
  /** x5c-sign: through the provisioning service's CA URL (what devices use) or at step-ca itself. */
  target?: 'service' | 'step-ca';
  /** full-flow: every device's keys and CSRs made before the clock starts (`--pre-made-keys`). */
  preMadeKeys?: boolean;
  /** Fleet scenarios: who runs the devices; absent: the lab's Node devices ('node'), 'native': one ecm-device process (`--device-client native`). */
  deviceClient?: 'node' | 'native';
  thresholds: { provisioningP99Ms: number; deliveryP99Ms: number; connectP99Ms: number; renewalP99Ms?: number };
}

/** What a run measured; the runners of both scenario families return it. */
export interface RunResult {
  partial: boolean;
  startedAt: string;
  finishedAt: string;
  elapsedMs: number;
  firstDevice: number;
  executor: ExecutorStats;
  devices: { requested: number; started: number; provisioned: number; connected: number; failed: number; legacy: number };
  messages: { sent: number; received: number; lost: number; duplicates: number; excludedAfterRevocation: number; lostByDevice: Record<string, number> };
  renewals: number;
  /** Renewal attempts that failed (each retried while the run lasts), devices that renewed at least once. */
  renewalFailures?: number;
  devicesRenewed?: number;
  /** MQTT connections the broker or the network closed, not the device (a renewal's handover is the device's own). */
  sessionsDropped?: number;
  /** The mixed fleet by class (firmware track); every started device is in one. */
  classes?: ClassFigures;
  errorsByCause: Record<string, number>;
  timeouts: number;
  timeline: TimelinePoint[];
  histograms: LatencyHistograms;
  cpu: CpuMeasurement;
  /** By thread label (main, devices-N, application). */
  eventLoopDelayMs?: Record<string, LoopDelayMs>;
  faults: FaultRecord[];
  revocation?: RevocationRecord;
  distinctIdentities: number;
  inventory?: InventoryCheck;
}

/** The measured part of a summary: what merges add up. */
export interface MeasuredSummary {
  schema: string;
  runId: string;
  partial: boolean;
  startedAt: string;
  finishedAt: string;
  elapsedMs: number;
  config: RunConfig;
  segment: { index: number; count: number; firstDevice: number };
  /** Which lab the run used; segments attached to one lab share its inventory. */
  lab: { id: string; owned: boolean };
  machine: { cpus: number; cpuModel: string; memoryGiB: number; platform: string; node: string };
  tools: Record<string, string>;
  executor: ExecutorStats;
  devices: { requested: number; started: number; provisioned: number; connected: number; failed: number; legacy: number; distinctIdentities: number };
  faults: FaultRecord[];
  revocation?: RevocationRecord;
  inventory?: InventoryCheck;
  errors: { total: number; timeouts: number; byCause: Record<string, number> };
  timeline: TimelinePoint[];
  baselines: Baselines;
  /** HDR histograms, compressed base64, for exact merges of segments and runs. */
  histograms: Partial<Record<Phase, string>>;
  mqttMessages: RunResult['messages'];
  renewalCount: number;
  renewalFailures?: number;
  devicesRenewed?: number;
  sessionsDropped?: number;
  classes?: ClassFigures;
  cpu: CpuMeasurement;
  /** By thread label; a merge keeps each label's worst segment. */
  eventLoopDelayMs: Record<string, LoopDelayMs>;
}

export interface PerfSummary extends Omit<MeasuredSummary, 'mqttMessages' | 'renewalCount' | 'renewalFailures' | 'devicesRenewed' | 'sessionsDropped' | 'classes' | 'cpu'> {
  scenario: { name: ScenarioName; family: 'fleet' | 'requests'; measures: string; phase: Phase };
  /** One iteration of the scenario: a device provisioned, a credential or certificate issued, a connection. */
  iterations: { started: number; completed: number; failed: number; interrupted: number; notStarted: number; delayed: number; maxStartDelayMs: number; perSec: number; latencyMs: LatencySummaryMs };
  provisioning: { latencyMs: LatencySummaryMs; phases: Record<Phase, LatencySummaryMs>; devicesPerSec: number };
  /** `latencyMs`: the renewal request (NFR-PERF-001); `handoverMs`: from its start to the session on the renewed certificate. */
  renewals: { count: number; failed: number; devicesRenewed: number; latencyMs: LatencySummaryMs; handoverMs: LatencySummaryMs };
  /** Per class of the mixed fleet (absent in summaries of before). */
  classes?: Partial<Record<DeviceClass, ClassSummary>>;
  mqtt: {
    qos: 0 | 1;
    messages: { sent: number; received: number; lost: number; duplicates: number; excludedAfterRevocation: number };
    lostByDevice: Record<string, number>;
    deliveryLatencyMs: LatencySummaryMs;
    throughputMsgsPerSec: number;
    connectLatencyMs: LatencySummaryMs;
    /** Connections closed by the broker or the network, not by the device. */
    sessionsDropped: number;
  };
  /**
   * CPU milliseconds over the measured run (executor start to the end of the drain); step-ca is
   * both authorities. Per device = per completed iteration. `provisioningWindow`: from the
   * executor's start to the last device up (fleet scenarios).
   */
  cpu: CpuFigures & { provisioningWindow?: CpuFigures };
  curves: Partial<Record<Phase, Array<[number, number]>>>;
  ratios: Record<string, number | null>;
  thresholds: ThresholdResult[];
  /** Which figures were measured with keys (and CSRs, certificates) made before the clock started. */
  measuredWithPreMadeKeys: string[];
  /** Measured figures kept for merges. */
  measured: { cpu: CpuMeasurement };
}
