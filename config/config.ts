// One typed, validated configuration for the whole lab: defaults that just work,
// overridden by an optional JSON file and then by ECM_LAB_* environment variables.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import ipaddr from 'ipaddr.js';
import { z } from 'zod';

/** step-ca duration syntax (Go time.Duration): "24h", "90m", "2160h", "1h30m". */
const goDuration = z
  .string()
  .regex(/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/, 'must be a Go duration such as "24h" or "15m"');

const port = z.number().int().min(0).max(65535);

/**
 * An IPv4 address of this host a listener can bind and a certificate can name: not the
 * unspecified address (0.0.0.0 names no one), a multicast or the broadcast address.
 */
const listenAddress = z.string().superRefine((value, ctx) => {
  if (!ipaddr.IPv4.isValidFourPartDecimal(value)) {
    ctx.addIssue({ code: 'custom', message: 'must be an IPv4 address such as "127.0.0.1" or "192.0.2.10"' });
    return;
  }
  const range = ipaddr.IPv4.parse(value).range();
  if (range === 'unspecified' || range === 'multicast' || range === 'broadcast') ctx.addIssue({ code: 'custom', message: `must be one address of this host, not the ${range} address ${value}` });
});

/** The lab's servers bind the listen address (lab.listenAddress); this field only keeps the default. */
const loopbackHost = z.literal('127.0.0.1').default('127.0.0.1').transform((host): string => host);
const firmwareVersion = z.string().regex(/^\d+\.\d+$/, 'must be a version such as "2.0"');

const GO_UNITS_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds of a Go duration the schema accepted ("24h", "1h30m", "90s"). */
export function goDurationMs(text: string): number {
  let ms = 0;
  for (const [, value, unit] of text.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) ms += Number(value) * GO_UNITS_MS[unit!]!;
  return Math.round(ms);
}

export { keyAlgorithms, type KeyAlgorithm } from '../x509/keys.ts';
import { keyAlgorithms } from '../x509/keys.ts';
import { DEFAULT_FIRMWARE_POLICY, policyProblem, type FirmwarePolicy } from './firmware-policy.ts';
import { DEVICE_ID_OID } from '../x509/device-id.ts';

/** The firmware rules (config/firmware-policy.ts) as the config names them. */
export function firmwarePolicy(devices: { selfProvisioningFirmware: string; certificateRequiredFirmware: string }): FirmwarePolicy {
  return { selfProvisioningFrom: devices.selfProvisioningFirmware, certificateRequiredFrom: devices.certificateRequiredFirmware };
}

export const labConfigSchema = z
  .object({
    /**
     * Where the components run: 'local' child processes (the default), or 'containers' through a
     * Docker-compatible engine (podman here), with the same contract (environments/started-lab.ts).
     */
    backend: z.enum(['local', 'containers']).default('local'),
    lab: z
      .object({
        /**
         * The address every listener of the lab binds (both step-ca authorities, the broker, the
         * provisioning service), named in every server certificate: loopback by default, or an
         * address of this host that other machines reach, for load segments elsewhere
         * (`ecm-lab load --lab <url>`, deploy/k8s) and teams' suites (`run --target`).
         */
        listenAddress: listenAddress.default('127.0.0.1'),
      })
      .prefault({}),
    containers: z
      .object({
        /**
         * 'official': smallstep/step-ca and eclipse-mosquitto as pinned in versions.json, falling
         * back to the locally built images (said so) when they cannot be pulled; 'local': only
         * the images `ecm-lab images build` makes (air-gapped sites).
         */
        images: z.enum(['official', 'local']).default('official'),
        /** How long one pull of an official image may take before the lab falls back. */
        pullTimeoutMs: z.number().int().positive().default(120_000),
      })
      .prefault({}),
    /**
     * The lab's scaled clock: how long one of the seeds' "days" lasts, in ms. The seeds' periods
     * (the 7-day grace, the 90/30/7-day renewal thresholds, daily CRLs cached up to 48 h) are in
     * days; a scenario shortens the day to see them happen. Certificates still live by real time.
     */
    clock: z
      .object({
        dayMs: z.number().int().positive().default(24 * 3600 * 1000),
      })
      .prefault({}),
    /**
     * seed 002 "Renewal Policy": alerts at 90 and 30 days before expiry, automatic renewal at 7
     * (in clock.dayMs days), as the devices and the application apply it.
     */
    renewal: z
      .object({
        alertDays: z.array(z.number().positive()).default([90, 30]),
        renewDays: z.number().positive().default(7),
      })
      .prefault({}),
    /** Where generated material and process state live; a fresh temp dir per run when empty. */
    workDir: z.string().default(''),
    /** One log file per component process. */
    logsDir: z.string().default('reports/logs'),
    /** How long to wait for a component to become ready before failing with a clear error. */
    readinessTimeoutMs: z.number().int().positive().default(30_000),
    toolsBinDir: z.string().default('.tools/bin'),
    pki: z
      .object({
        keyAlgorithm: z.enum(keyAlgorithms).default('ecdsa-p256'),
        rootValidityDays: z.number().int().positive().default(3650),
        intermediateValidityDays: z.number().int().positive().default(1825),
        organization: z.string().min(1).default('ecm-lab'),
      })
      .prefault({}),
    ca: z
      .object({
        host: loopbackHost,
        port: port.default(0),
        /** Names step-ca serves TLS for; the X5C token audience uses the first. */
        dnsNames: z.array(z.string().min(1)).min(1).default(['localhost', '127.0.0.1']),
        /** Port step-ca uses for http-01 validation; 0 picks a free one (needs step-ca --insecure). */
        acmeHttpPort: port.default(0),
        acmeProvisioner: z.string().min(1).default('bootstrap'),
        x5cProvisioner: z.string().min(1).default('devices'),
        /** Bootstrap certificates (ACME) are long-lived: they only authorize X5C requests. */
        bootstrapCertDuration: goDuration.default('2160h'),
        /** Operational certificates (X5C), 24-48 h in demos (NFR-SEC-002). */
        operationalCertDuration: goDuration.default('24h'),
        maxOperationalCertDuration: goDuration.default('2160h'),
        /** Short enough for expiry scenarios; step-ca refuses shorter lifetimes. */
        minCertDuration: goDuration.default('5s'),
        /**
         * The bootstrap authority: a second step-ca with its own root, serving ACME http-01 and
         * the provisioning service's bootstrap endpoint (docs/trust-model.md). 0 picks a free port.
         */
        bootstrapPort: port.default(0),
        /** How long a CRL is valid (its nextUpdate). The lab republishes it to the broker long before. */
        crlValidity: goDuration.default('24h'),
        /**
         * Who signs the operational issuing intermediate (seed 000 "Step-ca Certificate Authority
         * Solution"): 'lab' — the lab's own root, made per run (UC-05 rotates it); 'external' — a
         * simulated third-party CA in its own process ("paid certificates", UC-04): it holds the root
         * key, signs the intermediate from a CSR, revokes on its operator's request and publishes its
         * CRL, which the provisioning service watches.
         */
        issuer: z.enum(['lab', 'external']).default('lab'),
      })
      .prefault({}),
    /** The external CA of `ca.issuer: 'external'` (services/external-ca/). */
    externalCa: z
      .object({
        host: loopbackHost,
        /** Plain-HTTP listener: its root certificate and its CRL (both signed, so public). 0 picks a free port. */
        publicPort: port.default(0),
        /** HTTPS listener: intermediate orders (the service's credential) and revocations (its operator's token). 0 picks a free port. */
        apiPort: port.default(0),
        organization: z.string().min(1).default('External Trust Services (simulated)'),
        /** How long its CRL is valid (its nextUpdate); it signs a fresh one at half of that or on a revocation. */
        crlValidity: goDuration.default('24h'),
      })
      .prefault({}),
    broker: z
      .object({
        host: loopbackHost,
        port: port.default(0),
        /**
         * 0 = unlimited. Mosquitto's default (1000) silently drops QoS1 messages queued
         * for a slow subscriber; the lab counts every message, so it chooses no limit.
         */
        maxQueuedMessages: z.number().int().min(0).default(0),
        /** Topic root of device telemetry: devices publish under <root>/<deviceId>/#. */
        topicRoot: z.string().regex(/^[A-Za-z0-9_-]+$/).default('reveos'),
        /**
         * Keep sessions and queued QoS 1 messages across a broker restart (saved on shutdown and
         * every second). Off by default; fault-injection runs turn it on.
         */
        persistence: z.boolean().default(false),
        /** Certificate CN of the managing application, which may read every device's topics. */
        applicationIdentity: z.string().min(1).default('lumia'),
        /**
         * The legacy listener (seed 000 backwards compatibility): server-authenticated TLS and a
         * password, for devices below devices.certificateRequiredFirmware only; 0 picks a free port.
         */
        legacyPort: port.default(0),
        /** The lab polls the CA for a fresh CRL this often (ms); 0 = a tenth of the CRL's validity, at most a minute. */
        crlRefreshIntervalMs: z.number().int().min(0).default(0),
      })
      .prefault({}),
    trust: z
      .object({
        /**
         * Identities never issued to a device request, on top of the lab's own: the application
         * identity and every name derived from it (lumia, lumia-*), the servers' names
         * (localhost, 127.0.0.1), step-ca's ("Step Online CA") and the lab's internal clients.
         */
        reservedIdentities: z.array(z.string().min(1)).default([]),
        /** The network devices provision from: step-ca refuses ACME identifiers outside it. */
        deviceNetwork: z.string().regex(/^\d+\.\d+\.\d+\.\d+\/\d+$/, 'must be an IPv4 CIDR block such as "127.0.0.0/8"').default('127.0.0.0/8'),
        /**
         * seed 003: operational certificates carry the device id in an otherName SAN under this OID
         * (UTF8String), equal to their CN; the service's webhook refuses to let step-ca sign one
         * that disagrees, and clients refuse to install one.
         */
        deviceIdOid: z.string().regex(/^[0-2](\.(0|[1-9]\d*))+$/, 'must be a dotted OID such as "1.3.6.1.4.1.12345.1.1"').default(DEVICE_ID_OID),
      })
      .prefault({}),
    devices: z
      .object({
        /** seed 000: the first firmware that provisions itself (ACME, X5C, renewal); older firmware waits for the service team. */
        selfProvisioningFirmware: firmwareVersion.default(DEFAULT_FIRMWARE_POLICY.selfProvisioningFrom),
        /**
         * seed 000's "x": from this firmware on the installation requires certificate authentication.
         * Below it (the legacy path) a device may use a legacy credential on the broker's legacy listener.
         */
        certificateRequiredFirmware: firmwareVersion.default(DEFAULT_FIRMWARE_POLICY.certificateRequiredFrom),
        /** seed 002 "Distribute CRL daily": how often a device refreshes its offline CRL cache, in clock.dayMs days. */
        crlRefreshDays: z.number().positive().default(1),
        /**
         * seed 002 "cache up to 48h offline", in hours of the scaled day (clock.dayMs / 24): older
         * than this the device logs "crl-stale" and refuses new connections until a refresh succeeds.
         */
        crlMaxAgeHours: z.number().positive().default(48),
      })
      .superRefine((devices, ctx) => {
        const problem = policyProblem(firmwarePolicy(devices));
        if (problem) ctx.addIssue({ code: 'custom', message: problem, path: ['certificateRequiredFirmware'] });
      })
      .prefault({}),
    provisioning: z
      .object({
        host: loopbackHost,
        /** HTTPS listener (ACME gate, admin); 0 picks a free port. */
        port: port.default(0),
        /** Plain-HTTP listener of the bootstrap endpoint (FR-PS-004); 0 picks a free port. */
        insecurePort: port.default(0),
        /** Bearer token of the admin API; empty = a fresh random token per start. */
        adminToken: z.string().default(''),
        /** seed 004 "serverkeygen": the service generates device keys. Off by default. */
        serverKeyGen: z.boolean().default(false),
        /** Certificates expiring within this window are reported as "expiring". */
        expiringWithinSeconds: z.number().int().positive().default(7 * 24 * 3600),
        /**
         * seed 002's grace period, in clock.dayMs days: after a renewal (or any newer certificate of
         * the same identity) the old operational certificate stays valid this long, then the service
         * revokes it as superseded (CRL only: the identity's session, on the new one, stays).
         */
        supersededGraceDays: z.number().min(0).default(7),
        /**
         * With `ca.issuer: 'external'`: how often the service fetches the external CA's CRL to see
         * whether the lab's issuing intermediate was revoked (a failed fetch is retried at the next one).
         */
        externalCrlCheckIntervalMs: z.number().int().min(100).default(10_000),
      })
      .prefault({}),
  })
  .strict();

export type LabConfig = z.infer<typeof labConfigSchema>;
export type LabConfigInput = z.input<typeof labConfigSchema>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Environment variables read once; each maps onto one config key. */
const envOverrides: Record<string, (value: string) => Record<string, unknown>> = {
  ECM_LAB_BACKEND: (v) => ({ backend: v }),
  ECM_LAB_LISTEN_ADDRESS: (v) => ({ lab: { listenAddress: v } }),
  ECM_LAB_IMAGES: (v) => ({ containers: { images: v } }),
  ECM_LAB_WORK_DIR: (v) => ({ workDir: v }),
  ECM_LAB_LOGS_DIR: (v) => ({ logsDir: v }),
  ECM_LAB_READINESS_TIMEOUT_MS: (v) => ({ readinessTimeoutMs: Number(v) }),
  ECM_LAB_TOOLS_BIN_DIR: (v) => ({ toolsBinDir: v }),
  ECM_LAB_KEY_ALGORITHM: (v) => ({ pki: { keyAlgorithm: v } }),
  ECM_LAB_ACME_HTTP_PORT: (v) => ({ ca: { acmeHttpPort: Number(v) } }),
  ECM_LAB_OPERATIONAL_CERT_DURATION: (v) => ({ ca: { operationalCertDuration: v } }),
  ECM_LAB_BOOTSTRAP_CERT_DURATION: (v) => ({ ca: { bootstrapCertDuration: v } }),
  ECM_LAB_ADMIN_TOKEN: (v) => ({ provisioning: { adminToken: v } }),
  ECM_LAB_SELF_PROVISIONING_FIRMWARE: (v) => ({ devices: { selfProvisioningFirmware: v } }),
  ECM_LAB_CERTIFICATE_REQUIRED_FIRMWARE: (v) => ({ devices: { certificateRequiredFirmware: v } }),
  ECM_LAB_CA_ISSUER: (v) => ({ ca: { issuer: v } }),
  ECM_LAB_EXTERNAL_CRL_CHECK_INTERVAL_MS: (v) => ({ provisioning: { externalCrlCheckIntervalMs: Number(v) } }),
  ECM_LAB_DAY_MS: (v) => ({ clock: { dayMs: Number(v) } }),
  ECM_LAB_DEVICE_ID_OID: (v) => ({ trust: { deviceIdOid: v } }),
  ECM_LAB_DEVICE_CRL_REFRESH_DAYS: (v) => ({ devices: { crlRefreshDays: Number(v) } }),
  ECM_LAB_DEVICE_CRL_MAX_AGE_HOURS: (v) => ({ devices: { crlMaxAgeHours: Number(v) } }),
  ECM_LAB_SUPERSEDED_GRACE_DAYS: (v) => ({ provisioning: { supersededGraceDays: Number(v) } }),
  ECM_LAB_RENEWAL_ALERT_DAYS: (v) => ({ renewal: { alertDays: v.split(',').map((d) => Number(d.trim())) } }),
  ECM_LAB_RENEWAL_RENEW_DAYS: (v) => ({ renewal: { renewDays: Number(v) } }),
};

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = out[key];
    out[key] = isPlainObject(current) && isPlainObject(value) ? deepMerge(current, value) : value;
  }
  return out;
}

/** Validates a raw config and turns zod's issues into one readable message. */
export function parseConfig(raw: unknown, source = 'configuration'): LabConfig {
  const result = labConfigSchema.safeParse(raw);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  - ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new ConfigError(`invalid ${source}:\n${lines.join('\n')}`);
  }
  return result.data;
}

/**
 * Builds the config from (lowest to highest precedence) defaults, the JSON file named by
 * `file` or ECM_LAB_CONFIG, ECM_LAB_* variables, and explicit overrides.
 */
export function loadConfig(
  options: { file?: string; env?: NodeJS.ProcessEnv; overrides?: LabConfigInput } = {},
): LabConfig {
  const env = options.env ?? process.env;
  let merged: Record<string, unknown> = {};
  const file = options.file ?? env.ECM_LAB_CONFIG;
  if (file) {
    let text: string;
    try {
      text = readFileSync(path.resolve(file), 'utf8');
    } catch (err) {
      throw new ConfigError(`cannot read config file ${file}: ${(err as Error).message}`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new ConfigError(`config file ${file} is not valid JSON: ${(err as Error).message}`);
    }
    if (!isPlainObject(parsed)) throw new ConfigError(`config file ${file} must hold a JSON object`);
    merged = deepMerge(merged, parsed);
  }
  for (const [name, toConfig] of Object.entries(envOverrides)) {
    const value = env[name];
    if (value !== undefined && value !== '') merged = deepMerge(merged, toConfig(value));
  }
  if (options.overrides) merged = deepMerge(merged, options.overrides as Record<string, unknown>);
  return parseConfig(merged, file ? `configuration (file ${file} and environment)` : 'configuration');
}
