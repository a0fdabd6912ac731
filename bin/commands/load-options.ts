// The options of `ecm-lab load`, checked and resolved into one plan: each value parsed and
// bounded (every load is bounded in count and time), the scenario's defaults filled in, and the
// combinations a scenario cannot run refused with every problem named (exit code 2).
import { z } from 'zod';
import { parseDuration } from '../../config/durations.ts';
import { parseFirmwareMix, DEFAULT_FIRMWARE_MIX } from '../../simulators/device/identity.ts';
import { faultPhase, parseFaults, type FaultKind } from '../../load/faults/faults.ts';
import { HANDSHAKE_CLIENTS, type RunConfig, type Segment } from '../../evidence/perf/summary-schema.ts';
import { parseSegment } from '../../load/segment.ts';
import { ClientBlocks } from '../../load/client-blocks.ts';
import { EXECUTOR_KINDS } from '../../load/executors.ts';
import { segmentExecutor } from '../../load/plan.ts';
import { SCENARIO_NAMES, SCENARIOS } from '../../load/scenarios.ts';
import { AddressPlan } from '../../simulators/client/addresses.ts';

const HOUR_MS = 3_600_000;
/** Who makes the client side of the handshake baseline: mqtt.js, ecm-connect, or both in the same run. */
export const HANDSHAKE_CLIENT_OPTIONS = [...HANDSHAKE_CLIENTS, 'both'] as const;
export type HandshakeClientOption = (typeof HANDSHAKE_CLIENT_OPTIONS)[number];
/** The scenarios compared against the handshake baseline (their devices make mutual-TLS MQTT connections). */
export const HANDSHAKE_BASELINE_SCENARIOS: readonly string[] = ['full-flow', 'mqtt-publish', 'mqtt-connect-storm'];
/** Each device has its own loopback address: 65,536 per block (simulators/client/addresses.ts). */
export const MAX_DEVICES = 65_536;

/** A zod transform from a parser that throws a readable error. */
function parsedBy<T>(parse: (text: string) => T) {
  return (value: string, ctx: z.RefinementCtx): T => {
    try {
      return parse(value);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
      return z.NEVER;
    }
  };
}

// Durations in one format (config/durations.ts): "1m30s", "90s", "1500ms"; a bare number is
// what the option read before: seconds for the time options, milliseconds for --interval and
// the latency thresholds.
function boundedDuration(text: string): number {
  const ms = Math.round(parseDuration(text, 's'));
  if (ms <= 0 || ms > HOUR_MS) throw new Error('must be between 1 ms and 1 h');
  return ms;
}

const duration = z.string().transform(parsedBy(boundedDuration));
/** A latency or a period: "1s", "250ms", or a bare number of milliseconds as before. */
const millis = z.string().transform(parsedBy((t) => parseDuration(t, 'ms')));

// Scenario-dependent options have no commander default: the scenario's own fills them in.
const loadOptionsSchema = z.object({
  scenario: z.enum(SCENARIO_NAMES),
  executor: z.enum(EXECUTOR_KINDS).optional(),
  devices: z.coerce.number().int().min(1).max(MAX_DEVICES).optional(),
  rate: z.coerce.number().positive().max(1000).optional(),
  vus: z.coerce.number().int().min(1).max(1000).optional(),
  vusDuration: duration.optional(),
  maxDuration: duration.optional(),
  gracefulStop: z.string().transform(parsedBy((t) => {
    const ms = Math.round(parseDuration(t, 's'));
    if (ms > 10 * 60_000) throw new Error('must be at most 10m');
    return ms;
  })),
  mix: z.string().transform(parsedBy(parseFirmwareMix)).optional(),
  duration: duration.optional(),
  qos: z.enum(['0', '1']).transform((v) => Number(v) as 0 | 1).optional(),
  interval: millis.transform(Math.round).pipe(z.number().int().min(10).max(HOUR_MS)).optional(),
  certLifetime: z.string().transform(parsedBy((t) => Math.round(parseDuration(t, 's') / 1000))).optional(),
  segment: z.string().transform(parsedBy(parseSegment)),
  seed: z.coerce.number().int(),
  maxConcurrent: z.coerce.number().int().min(1).max(5000).optional(),
  workers: z.coerce.number().int().min(1).max(64),
  certificates: z.enum(['provisioned', 'issued']).optional(),
  preMadeKeys: z.boolean().optional(),
  deviceClient: z.enum(['node', 'native']).default('node'),
  signAt: z.enum(['service', 'step-ca']).optional(),
  /** Load's name for --sign-at before --target meant one thing everywhere (a target file). */
  target: z.string().optional(),
  maxProvisioningP99: millis.pipe(z.number().positive()),
  maxDeliveryP99: millis.pipe(z.number().positive()),
  maxConnectP99: millis.pipe(z.number().positive()),
  maxRenewalP99: millis.pipe(z.number().positive()).default(30_000),
  baselines: z.boolean(),
  baselineSigns: z.coerce.number().int().min(1).max(10_000),
  baselineFlows: z.coerce.number().int().min(1).max(10_000),
  baselineMessages: z.coerce.number().int().min(100).max(1_000_000),
  baselineHandshakes: z.coerce.number().int().min(10).max(10_000),
  handshakeClient: z.enum(HANDSHAKE_CLIENT_OPTIONS).default('node'),
  faults: z.string().optional().transform((v, ctx) => parsedBy(parseFaults)(v ?? '', ctx)),
  out: z.string().min(1),
  lab: z.string().min(1).optional(),
  /** The block(s) the clients bind, canonical ("127.77.0.0/16", or one per segment comma-separated); where they may be is checked against the lab (loadCommand). */
  clientAddresses: z.string().transform(parsedBy(ClientBlocks.canonical)).optional(),
  runId: z.string().regex(/^[A-Za-z0-9._-]+$/).optional(),
});

export type LoadCliOptions = z.input<typeof loadOptionsSchema>;

/** Everything `ecm-lab load` runs from, resolved. */
export interface LoadPlan {
  config: RunConfig;
  gracefulStopMs: number;
  baselines: { enabled: boolean; signs: number; flows: number; messages: number; handshakes: number; handshakeClient: HandshakeClientOption };
  out: string;
  lab?: string;
  /** `--client-addresses`: the block every client binds (or one per segment, comma-separated) instead of the scenarios' loopback blocks. */
  clientAddresses?: string;
  runId?: string;
}

/** The renewal soak's certificates: long enough to renew under load, short enough to renew during the run. */
export const SOAK_LIFETIME_S = { min: 10, max: 86_400 };
/** step-ca backdates each certificate (environments/pki/ca-json.ts): its lifetime is that much longer. */
const BACKDATE_S = 5;

function soakProblems(lifetimeSeconds: number, durationMs: number): string[] {
  const problems: string[] = [];
  if (lifetimeSeconds < SOAK_LIFETIME_S.min || lifetimeSeconds > SOAK_LIFETIME_S.max) {
    problems.push(`--cert-lifetime: the renewal soak's certificates live ${SOAK_LIFETIME_S.min} s to ${SOAK_LIFETIME_S.max / 3600} h (got ${lifetimeSeconds} s): shorter ones would be due again before a renewal under load completes`);
  }
  // A device renews at 2/3 of its certificate's lifetime; a steady state shorter than that renews nothing.
  const firstRenewalMs = Math.round(((lifetimeSeconds + BACKDATE_S) * 2000) / 3);
  if (durationMs > 0 && durationMs <= firstRenewalMs) {
    problems.push(`--duration: ${durationMs / 1000} s is no longer than one renewal period (2/3 of a ${lifetimeSeconds} s certificate, ${firstRenewalMs / 1000} s): nothing would renew; give a longer --duration or a shorter --cert-lifetime`);
  }
  return problems;
}

/** The command-line name of an option key: maxConnectP99 -> --max-connect-p99. */
const optionName = (key: string) => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/** The options that only a fleet scenario (devices staying connected) has. */
const FLEET_ONLY = ['duration', 'qos', 'interval', 'mix', 'certLifetime', 'certificates'] as const;

function clientBlockProblems(text: string, segment: Segment, scenario: string, fleet: boolean): string[] {
  const blocks = text.split(',');
  if (blocks.length > 1 && !fleet) return [`--client-addresses: one block per segment is for the fleet scenarios; the ${scenario} scenario takes one block all its clients share`];
  try {
    ClientBlocks.of(text, segment);
  } catch (err) {
    return [`--client-addresses: ${(err as Error).message}`];
  }
  const shared = blocks.find((b) => AddressPlan.fromCidr(b).shared);
  if (shared === undefined || (scenario !== 'full-flow' && scenario !== 'renewal-soak')) return [];
  // Found by running it: the service's white list names the application for its address, and
  // then refuses any other identity asked for from that address (identity-not-named).
  return [`--client-addresses: ${shared} is one address, which the ${scenario} scenario's application would share with its devices: the provisioning service's white list names the application for that address and then refuses every device identity from it (identity-not-named); give a block of at least 2 addresses (the application takes the top one), or a scenario whose devices do not provision themselves (bootstrap-endpoint, mqtt-publish, mqtt-connect-storm)`];
}

/** What the native device client (ecm-device) cannot serve, each refused by name: it runs firmware 2.1's full flow, in one process. */
function nativeDeviceProblems(o: z.output<typeof loadOptionsSchema>, scenario: RunConfig['scenario']): string[] {
  const no = (what: string) => `--device-client native: ${what} (ecm-device runs firmware 2.1's full flow only; use --device-client node)`;
  const problems: string[] = [];
  if (scenario !== 'full-flow') problems.push(no(`the ${scenario} scenario is not served, only full-flow`));
  const other = Object.keys(o.mix ?? DEFAULT_FIRMWARE_MIX).filter((v) => v !== '2.1');
  if (other.length > 0) problems.push(no(`--mix has firmware ${other.join(', ')}; only 2.1 (self-provisioning) devices are served: --mix 2.1:100`));
  if (o.faults.length > 0) problems.push(no('--faults are not served (no restarts, revocation or reconnects in the native devices)'));
  if (o.preMadeKeys) problems.push(no('--pre-made-keys is not served (the native devices make their keys in their flow)'));
  if (o.workers > 1) problems.push(no('--workers > 1: the native devices run in one process of their own, not in worker threads'));
  if (o.certLifetime !== undefined) problems.push(no('--cert-lifetime is not served (the native devices do not renew)'));
  if (o.lab) problems.push(no('--lab: an attached lab is not served (the native devices need the lab this command starts)'));
  return problems;
}

export function resolveLoadOptions(raw: LoadCliOptions): { plan: LoadPlan } | { problems: string[] } {
  const parsed = loadOptionsSchema.safeParse(raw);
  if (!parsed.success) return { problems: parsed.error.issues.map((i) => `${optionName(String(i.path[0]))}: ${i.message}`) };
  const o = parsed.data;
  const problems: string[] = [];
  // The MQTT-at-scale path of old is the mqtt-publish scenario.
  const scenario = o.scenario === 'full-flow' && o.certificates === 'issued' ? SCENARIOS['mqtt-publish'] : SCENARIOS[o.scenario];
  const d = scenario.defaults;
  const fleet = scenario.family === 'fleet';
  if (!fleet) {
    for (const key of FLEET_ONLY) if (o[key] !== undefined) problems.push(`${optionName(key)}: the ${scenario.name} scenario has no connected fleet (it times one request per device)`);
    if (o.workers > 1) problems.push(`--workers: the ${scenario.name} scenario runs in one thread (its client work is a key, a CSR and a token per request)`);
    if (o.faults.length > 0) problems.push(`--faults: only fleet scenarios (${Object.values(SCENARIOS).filter((s) => s.family === 'fleet').map((s) => s.name).join(', ')}) inject faults`);
  }
  if (o.target !== undefined) problems.push(`--target: names a target file (run, contract); where x5c-sign sends its requests is --sign-at ${o.target === 'step-ca' ? 'step-ca' : 'service|step-ca'}`);
  if (o.signAt !== undefined && scenario.name !== 'x5c-sign') problems.push('--sign-at: only the x5c-sign scenario signs (at the service or at step-ca)');
  if (o.preMadeKeys && scenario.name !== 'full-flow') problems.push(`--pre-made-keys: only the full-flow scenario is measured with keys made before the clock (the ${scenario.name} scenario ${scenario.family === 'fleet' ? 'makes its keys as devices do' : 'prepares every credential beforehand'})`);
  if (o.certificates === 'provisioned' && scenario.name !== 'full-flow') problems.push(`--certificates provisioned: the ${scenario.name} scenario uses certificates issued by the lab CA`);
  if (scenario.ownedLabOnly && o.lab) problems.push(`--lab: the ${scenario.name} scenario needs the lab's own CA keys, so it runs against a lab it starts; drop --lab`);
  if (o.lab && o.faults.length > 0) problems.push('--faults: fault injection needs a lab this command starts (its processes); drop --lab');
  if (o.handshakeClient !== 'node' && !HANDSHAKE_BASELINE_SCENARIOS.includes(scenario.name)) problems.push(`--handshake-client: the ${scenario.name} scenario has no handshake baseline (${HANDSHAKE_BASELINE_SCENARIOS.join(', ')} have)`);
  else if (o.handshakeClient !== 'node' && (!o.baselines || o.lab)) problems.push(`--handshake-client ${o.handshakeClient}: ${o.lab ? 'a run attached to a lab (--lab) measures no baselines' : '--no-baselines leaves the handshake baseline out'}`);
  const executorKind = o.executor ?? scenario.executor;
  if (o.rate !== undefined && executorKind !== 'arrival-rate') problems.push(`--rate: only the arrival-rate executor has a rate (this run's executor is ${executorKind})`);
  if (o.vus !== undefined && executorKind === 'arrival-rate') problems.push('--vus: the arrival-rate executor has no VUs; --max-concurrent caps it');
  if (o.vusDuration !== undefined && executorKind !== 'constant-vus') problems.push('--vus-duration: only the constant-vus executor loops for a duration');
  if (o.maxDuration !== undefined && executorKind === 'constant-vus') problems.push('--max-duration: the constant-vus executor is bounded by --vus-duration');
  const certLifetimeSeconds = o.certLifetime ?? d.certLifetimeSeconds;
  if (scenario.name === 'renewal-soak' && certLifetimeSeconds !== undefined) problems.push(...soakProblems(certLifetimeSeconds, o.duration ?? d.durationMs ?? 0));
  else if (o.certLifetime !== undefined && scenario.name !== 'full-flow' && fleet) problems.push(`--cert-lifetime: the ${scenario.name} scenario's certificates are issued by the lab CA and never renewed (full-flow and renewal-soak renew)`);
  for (const kind of o.faults) {
    if (kind === 'revocation' && scenario.name !== 'full-flow') problems.push('--faults revocation: needs certificates step-ca issued (the full-flow scenario): the admin API revokes only what is in the inventory');
    if (faultPhase(kind).phase === 'arrivals' && executorKind !== 'arrival-rate') problems.push(`--faults ${kind}: strikes during the arrivals, which only the arrival-rate executor has`);
  }
  if (o.deviceClient === 'native') problems.push(...nativeDeviceProblems(o, scenario.name));
  if (o.clientAddresses !== undefined) problems.push(...clientBlockProblems(o.clientAddresses, o.segment, scenario.name, fleet));
  const config: RunConfig = {
    scenario: scenario.name,
    executor: {
      kind: executorKind,
      ratePerSecond: o.rate ?? d.rate,
      maxConcurrent: o.maxConcurrent ?? d.maxConcurrent,
      vus: o.vus ?? d.vus,
      vusDurationMs: o.vusDuration ?? 30_000,
      maxDurationMs: o.maxDuration,
    },
    devices: o.devices ?? d.devices,
    mix: o.mix ?? DEFAULT_FIRMWARE_MIX,
    durationMs: fleet ? (o.duration ?? d.durationMs ?? 30_000) : 0,
    qos: o.qos ?? 1,
    telemetryIntervalMs: o.interval ?? d.intervalMs ?? 1000,
    certLifetimeSeconds,
    segment: o.segment,
    seed: o.seed,
    faults: o.faults as FaultKind[],
    workers: o.workers,
    // Who issues what the scenario measures: step-ca, or the lab CA (the MQTT scenarios).
    certificates: scenario.name === 'mqtt-connect-storm' || scenario.name === 'mqtt-publish' ? 'issued' : 'provisioned',
    target: scenario.name === 'x5c-sign' ? (o.signAt ?? 'service') : undefined,
    ...(o.preMadeKeys ? { preMadeKeys: true } : {}),
    ...(o.deviceClient === 'native' ? { deviceClient: 'native' as const } : {}),
    thresholds: { provisioningP99Ms: o.maxProvisioningP99, deliveryP99Ms: o.maxDeliveryP99, connectP99Ms: o.maxConnectP99, renewalP99Ms: o.maxRenewalP99 },
  };
  try {
    segmentExecutor(config.executor, config.devices, config.segment);
  } catch (err) {
    problems.push(`--segment: ${(err as Error).message}`);
  }
  if (problems.length > 0) return { problems };
  return {
    plan: {
      config,
      gracefulStopMs: o.gracefulStop,
      baselines: { enabled: o.baselines, signs: o.baselineSigns, flows: o.baselineFlows, messages: o.baselineMessages, handshakes: o.baselineHandshakes, handshakeClient: o.handshakeClient },
      out: o.out,
      lab: o.lab,
      clientAddresses: o.clientAddresses,
      runId: o.runId,
    },
  };
}
