// The schema of the lab's one configuration (zod): every key with its type, bounds, default and
// meaning. The descriptions are the reference: scripts/generate-reference.ts turns this schema
// into docs/reference/configuration.md and the JSON Schema editors read
// (docs/reference/ecm-lab.config.schema.json). config.ts loads and merges; this file only says
// what is valid. Every level is strict: a key the lab does not know is refused, not ignored.
import { z } from 'zod';
import { keyAlgorithms } from '../x509/keys.ts';
import { DEVICE_ID_OID } from '../x509/device-id.ts';
import { DURATION_PATTERN, durationValue, GO_DURATION_PATTERN } from './durations.ts';
import { DEFAULT_FIRMWARE_POLICY, policyProblem, type FirmwarePolicy } from './firmware-policy.ts';

/** step-ca duration syntax (Go time.Duration), kept as text because step-ca reads it: "24h", "1h30m". */
const goDuration = z.string().regex(new RegExp(GO_DURATION_PATTERN), 'must be a Go duration such as "24h", "15m" or "1h30m"');

/**
 * A duration counted in `unit` (the key's name says which): a number of that unit, as these keys
 * always read, or a duration string ("30s", "1m30s"). A prefault, not a default, so the JSON
 * Schema (which describes the input) shows it.
 */
function duration(unit: 'ms' | 's', rule: z.ZodNumber, fallback: number) {
  const text = z.string().regex(new RegExp(DURATION_PATTERN), `must be a duration such as "1m30s", "90s" or "1500ms", or a number of ${unit === 'ms' ? 'milliseconds' : 'seconds'}`);
  return z
    .union([rule, text])
    .transform((v) => durationValue(v, unit))
    .pipe(rule)
    .prefault(fallback);
}
const ms = (rule: z.ZodNumber, fallback: number) => duration('ms', rule, fallback);

const port = z.number().int().min(0).max(65535);
const firmwareVersion = z.string().regex(/^\d+\.\d+$/, 'must be a version such as "2.0"');

/** The firmware rules (config/firmware-policy.ts) as the config names them. */
export function firmwarePolicy(devices: { selfProvisioningFirmware: string; certificateRequiredFirmware: string }): FirmwarePolicy {
  return { selfProvisioningFrom: devices.selfProvisioningFirmware, certificateRequiredFrom: devices.certificateRequiredFirmware };
}

const FREE = '0 picks a free port';

export const labConfigSchema = z
  .strictObject({
    $schema: z.string().optional().describe('The JSON Schema this file follows (for editors: docs/reference/ecm-lab.config.schema.json); the lab ignores it.'),
    backend: z
      .enum(['local', 'containers'])
      .default('local')
      .describe("Where the components run: 'local' child processes, or 'containers' through a Docker-compatible engine (podman here), with the same contract; also `ecm-lab up --backend`."),
    containers: z
      .strictObject({
        images: z
          .enum(['official', 'local'])
          .default('official')
          .describe("'official': smallstep/step-ca and eclipse-mosquitto as pinned in versions.json, falling back to the locally built images (and saying so) when they cannot be pulled; 'local': only the images `ecm-lab images build` makes (air-gapped sites)."),
        pullTimeoutMs: ms(z.number().int().positive(), 120_000).describe('How long one pull of an official image may take before the lab falls back to the local one.'),
      })
      .prefault({})
      .describe('The containers backend.'),
    clock: z
      .strictObject({
        dayMs: ms(z.number().int().positive(), 24 * 3600 * 1000).describe(
          'How long one of the seeds\' "days" lasts: the grace period, the renewal thresholds and the CRL cache count in these days; a scenario shortens the day to see them happen. Certificates still live by real time.',
        ),
      })
      .prefault({})
      .describe("The lab's scaled clock."),
    renewal: z
      .strictObject({
        alertDays: z.array(z.number().positive()).default([90, 30]).describe('seed 002: a device or the application logs `renewal-alert` this many days (clock.dayMs) before its certificate expires (in the environment: comma-separated, `90,30`).'),
        renewDays: z.number().positive().default(7).describe('seed 002: a device or the application renews by itself this many days before expiry.'),
      })
      .prefault({})
      .describe('seed 002 "Renewal Policy", as the devices and the application apply it.'),
    workDir: z.string().default('').describe('Where private keys, generated configurations and process state live; a fresh temporary directory per run when empty.'),
    logsDir: z.string().default('reports/logs').describe('One log file per component process and run, under <logsDir>/<lab id>/ (`ecm-lab run --out <dir>` puts them under <dir>/logs).'),
    readinessTimeoutMs: ms(z.number().int().positive(), 30_000).describe('How long a component may take to become ready before the lab fails with the component named.'),
    toolsBinDir: z.string().default('.tools/bin').describe('Where the bootstrap installs step-ca and the step CLI.'),
    pki: z
      .strictObject({
        keyAlgorithm: z.enum(keyAlgorithms).default('ecdsa-p256').describe('Key algorithm of every key and certificate of the installation (seed 001 §6.3: RSA at least 2048).'),
        rootValidityDays: z.number().int().positive().default(3650).describe('Validity of the roots the lab makes.'),
        intermediateValidityDays: z.number().int().positive().default(1825).describe('Validity of the intermediates the lab makes.'),
        organization: z.string().min(1).default('ecm-lab').describe('O and CN prefix of the lab\'s CA certificates.'),
      })
      .prefault({})
      .describe("The lab's CA material, made per run."),
    ca: z
      .strictObject({
        host: z.literal('127.0.0.1').default('127.0.0.1').describe('Loopback only.'),
        port: port.default(0).describe(`The operational step-ca's listener; ${FREE}.`),
        dnsNames: z.array(z.string().min(1)).min(1).default(['localhost', '127.0.0.1']).describe('Names step-ca serves TLS for; the X5C token audience uses the first.'),
        acmeHttpPort: port.default(0).describe(`Port step-ca uses for http-01 validation; ${FREE} (step-ca then runs with --insecure). 80 needs root or CAP_NET_BIND_SERVICE for node (\`ecm-lab doctor\` checks it).`),
        acmeProvisioner: z.string().min(1).default('bootstrap').describe("The bootstrap authority's ACME provisioner."),
        x5cProvisioner: z.string().min(1).default('devices').describe("The operational authority's X5C provisioner."),
        bootstrapCertDuration: goDuration.default('2160h').describe('Lifetime of ACME bootstrap certificates (long-lived: they only authorize X5C requests).'),
        operationalCertDuration: goDuration.default('24h').describe('Default lifetime of X5C operational certificates (NFR-SEC-002: 24-48 h in demos).'),
        maxOperationalCertDuration: goDuration.default('2160h').describe('The longest operational certificate step-ca issues.'),
        minCertDuration: goDuration.default('5s').describe('The shortest certificate step-ca issues (short enough for expiry scenarios).'),
        bootstrapPort: port.default(0).describe(`The bootstrap authority (a second step-ca with its own root: ACME http-01 and the service's bootstrap endpoint); ${FREE}.`),
        crlValidity: goDuration.default('24h').describe("How long step-ca's CRLs are valid (their nextUpdate); the lab republishes them to the broker long before."),
        issuer: z
          .enum(['lab', 'external'])
          .default('lab')
          .describe("Who signs the operational issuing intermediate: 'lab' (the lab's own root, made per run; UC-05 rotates it) or 'external' (a simulated third-party CA in its own process that holds the root key, revokes on its operator's request and publishes its CRL; UC-04)."),
      })
      .prefault({})
      .describe('The two step-ca authorities.'),
    externalCa: z
      .strictObject({
        host: z.literal('127.0.0.1').default('127.0.0.1').describe('Loopback only.'),
        publicPort: port.default(0).describe(`Plain-HTTP listener: its root certificate and its CRL (both signed, so public); ${FREE}.`),
        apiPort: port.default(0).describe(`HTTPS listener: intermediate orders (the service's credential) and revocations (its operator's token); ${FREE}.`),
        organization: z.string().min(1).default('External Trust Services (simulated)').describe("Its root's O and CN."),
        crlValidity: goDuration.default('24h').describe('How long its CRL is valid; it signs a fresh one at half of that, and at once after a revocation.'),
      })
      .prefault({})
      .describe('The external CA of `ca.issuer: external` (services/external-ca/).'),
    broker: z
      .strictObject({
        host: z.literal('127.0.0.1').default('127.0.0.1').describe('Loopback only.'),
        port: port.default(0).describe(`The mutual-TLS listener; ${FREE}.`),
        // Mosquitto's default (1000) silently drops QoS 1 messages queued for a slow subscriber;
        // the lab counts every message, so it chooses no limit.
        maxQueuedMessages: z.number().int().min(0).default(0).describe("Mosquitto's max_queued_messages; 0 = unlimited (Mosquitto's default of 1000 silently drops QoS 1 messages for slow subscribers)."),
        topicRoot: z.string().regex(/^[A-Za-z0-9_-]+$/).default('reveos').describe('Devices publish under <topicRoot>/<deviceId>/telemetry.'),
        persistence: z.boolean().default(false).describe('Keep sessions and queued QoS 1 messages across a broker restart (saved on shutdown and every second); fault-injection runs turn it on.'),
        applicationIdentity: z.string().min(1).default('lumia').describe('Certificate CN of the managing application, which may read every device\'s topics.'),
        legacyPort: port.default(0).describe(`The legacy listener (seed 000 backwards compatibility: server-authenticated TLS and a password, for firmware below devices.certificateRequiredFirmware); ${FREE}.`),
        crlRefreshIntervalMs: ms(z.number().int().min(0), 0).describe("How often the lab fetches a fresh CRL for the broker; 0 = a tenth of the CRL's validity, at most a minute."),
      })
      .prefault({})
      .describe('Mosquitto.'),
    trust: z
      .strictObject({
        reservedIdentities: z
          .array(z.string().min(1))
          .default([])
          .describe("Names no device may hold, beyond the lab's own: the application's identity (broker.applicationIdentity) and every <it>-* name, the servers' names (localhost, 127.0.0.1), step-ca's and the lab's internal clients."),
        deviceNetwork: z.string().regex(/^\d+\.\d+\.\d+\.\d+\/\d+$/, 'must be an IPv4 CIDR block such as "127.0.0.0/8"').default('127.0.0.0/8').describe('The network devices provision from: step-ca refuses ACME identifiers outside it.'),
        deviceIdOid: z
          .string()
          .regex(/^[0-2](\.(0|[1-9]\d*))+$/, 'must be a dotted OID such as "1.3.6.1.4.1.12345.1.1"')
          .default(DEVICE_ID_OID)
          .describe("seed 003: operational certificates carry the device id (= CN) in an otherName SAN under this OID; the service's webhook refuses a certificate that disagrees, and clients refuse to install one."),
      })
      .prefault({})
      .describe('Who may hold which identity (docs/trust-model.md).'),
    devices: z
      .strictObject({
        selfProvisioningFirmware: firmwareVersion
          .default(DEFAULT_FIRMWARE_POLICY.selfProvisioningFrom)
          .describe("seed 000: the first firmware that provisions itself (ACME, X5C, renewal); older firmware waits for the service team's certificate."),
        certificateRequiredFirmware: firmwareVersion
          .default(DEFAULT_FIRMWARE_POLICY.certificateRequiredFrom)
          .describe("seed 000's \"x\": from this firmware on certificate authentication is required; below it a legacy credential on the broker's legacy listener is allowed (docs/trust-model.md, mixed fleet)."),
        crlRefreshDays: z.number().positive().default(1).describe('seed 002 "Distribute CRL daily": how often a device refreshes its offline CRL cache, in clock.dayMs days.'),
        crlMaxAgeHours: z
          .number()
          .positive()
          .default(48)
          .describe('seed 002 "cache up to 48h offline", in hours of the scaled day: older than this the device logs `crl-stale` and refuses new connections (cause `crl-stale`) until a refresh succeeds; a session it has is kept.'),
      })
      .superRefine((devices, ctx) => {
        const problem = policyProblem(firmwarePolicy(devices));
        if (problem) ctx.addIssue({ code: 'custom', message: problem, path: ['certificateRequiredFirmware'] });
      })
      .prefault({})
      .describe('The simulated devices.'),
    provisioning: z
      .strictObject({
        host: z.literal('127.0.0.1').default('127.0.0.1').describe('Loopback only.'),
        port: port.default(0).describe(`HTTPS listener (the ACME gate, the CA URL, admin); ${FREE}.`),
        insecurePort: port.default(0).describe(`Plain-HTTP listener of the bootstrap endpoint (FR-PS-004); ${FREE}.`),
        adminToken: z.string().default('').describe('Bearer token of the admin API; empty = a fresh random token per start (`ecm-lab up --json` prints it).'),
        serverKeyGen: z.boolean().default(false).describe('seed 004 "serverkeygen": the service generates device keys (HTTPS listener only).'),
        expiringWithinSeconds: duration('s', z.number().int().positive(), 7 * 24 * 3600).describe('Certificates expiring within this window are listed as "expiring" in the inventory.'),
        supersededGraceDays: z
          .number()
          .min(0)
          .default(7)
          .describe("seed 002's grace period, in clock.dayMs days: after a renewal (any newer operational certificate of the same identity) the old one stays valid this long, then the service revokes it as superseded (the broker's CRL gets it; the identity's session on the new certificate is not disconnected)."),
        externalCrlCheckIntervalMs: ms(z.number().int().min(100), 10_000).describe("With ca.issuer 'external': how often the service fetches the external CA's CRL to see whether the issuing intermediate was revoked (a failed fetch is retried at the next check)."),
      })
      .prefault({})
      .describe('The reference provisioning service (services/provisioning/).'),
  })
  .describe('ecm-lab configuration: defaults, then this JSON file (-c/--config or ECM_LAB_CONFIG), then ECM_LAB_* environment variables.');

export type LabConfig = z.infer<typeof labConfigSchema>;
export type LabConfigInput = z.input<typeof labConfigSchema>;
