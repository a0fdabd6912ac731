// One typed, validated configuration for the whole lab: defaults that just work,
// overridden by an optional JSON file and then by ECM_LAB_* environment variables. What is
// valid is config/schema.ts; durations, in one format everywhere, are config/durations.ts.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseDuration } from './durations.ts';
import { labConfigSchema, type LabConfig, type LabConfigInput } from './schema.ts';

export { firmwarePolicy, type LabConfig, type LabConfigInput } from './schema.ts';
export { type KeyAlgorithm } from '../x509/keys.ts';

/** Whole milliseconds of a Go duration the schema accepted ("24h", "1h30m", "90s"). */
export function goDurationMs(text: string): number {
  return Math.round(parseDuration(text));
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Environment variables read once; each maps onto one config key (the reference lists them). */
export const ENVIRONMENT_VARIABLES: Record<string, (value: string) => Record<string, unknown>> = {
  ECM_LAB_BACKEND: (v) => ({ backend: v }),
  ECM_LAB_IMAGES: (v) => ({ containers: { images: v } }),
  ECM_LAB_WORK_DIR: (v) => ({ workDir: v }),
  ECM_LAB_LOGS_DIR: (v) => ({ logsDir: v }),
  ECM_LAB_READINESS_TIMEOUT_MS: (v) => ({ readinessTimeoutMs: v }),
  ECM_LAB_TOOLS_BIN_DIR: (v) => ({ toolsBinDir: v }),
  ECM_LAB_KEY_ALGORITHM: (v) => ({ pki: { keyAlgorithm: v } }),
  ECM_LAB_ACME_HTTP_PORT: (v) => ({ ca: { acmeHttpPort: Number(v) } }),
  ECM_LAB_OPERATIONAL_CERT_DURATION: (v) => ({ ca: { operationalCertDuration: v } }),
  ECM_LAB_BOOTSTRAP_CERT_DURATION: (v) => ({ ca: { bootstrapCertDuration: v } }),
  ECM_LAB_ADMIN_TOKEN: (v) => ({ provisioning: { adminToken: v } }),
  ECM_LAB_SELF_PROVISIONING_FIRMWARE: (v) => ({ devices: { selfProvisioningFirmware: v } }),
  ECM_LAB_CERTIFICATE_REQUIRED_FIRMWARE: (v) => ({ devices: { certificateRequiredFirmware: v } }),
  ECM_LAB_CA_ISSUER: (v) => ({ ca: { issuer: v } }),
  ECM_LAB_EXTERNAL_CRL_CHECK_INTERVAL_MS: (v) => ({ provisioning: { externalCrlCheckIntervalMs: v } }),
  ECM_LAB_DAY_MS: (v) => ({ clock: { dayMs: v } }),
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
  for (const [name, toConfig] of Object.entries(ENVIRONMENT_VARIABLES)) {
    const value = env[name];
    if (value !== undefined && value !== '') merged = deepMerge(merged, toConfig(value));
  }
  if (options.overrides) merged = deepMerge(merged, options.overrides as Record<string, unknown>);
  return parseConfig(merged, file ? `configuration (file ${file} and environment)` : 'configuration');
}
