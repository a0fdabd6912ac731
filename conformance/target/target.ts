// A target: an installation the Gherkin suite runs against instead of the lab it starts itself
// (a team's own step-ca, broker and provisioning service, or a lab another `ecm-lab up --json`
// process runs). JSON, validated like the config: every problem named, exit 2. `ecm-lab up
// --json` writes this shape, so "the lab as a target" is the first target of all.
//
// What the suite may do beyond talking to the endpoints is a capability the target grants;
// scenarios tagged @needs:<capability> run only where it is granted (capabilities.ts).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { CAPABILITIES, type Capability } from './capabilities.ts';
import { isLoopbackAddress } from '../../config/schema.ts';
import { AddressPlan, AddressPlanError, checkAddressPlan } from '../../simulators/client/addresses.ts';


/**
 * A target's components are on loopback unless the target says `"allowRemote": true` (a team's
 * staging installation): the lab never sends traffic elsewhere on its own initiative.
 */
const ON_LOOPBACK = 'must be on loopback (127.0.0.0/8 or localhost), or the target must say "allowRemote": true';
const onLoopback = (host: string) => host === 'localhost' || isLoopbackAddress(host);
const hostOf = (u: string) => {
  try {
    return new URL(u).hostname;
  } catch {
    return '';
  }
};
const port = z.number().int().min(1).max(65535);
const file = z.string().min(1);

/** Where the suite reads a component's log: a file, or a command whose output is the log as it grows (e.g. `podman logs -f mosquitto`). */
export const logSourceSchema = z.union([z.object({ path: file }).strict(), z.object({ command: z.array(z.string().min(1)).min(1) }).strict()]);
export type LogSource = z.infer<typeof logSourceSchema>;

/**
 * Who obtains and renews a client's certificates: the lab's own simulator, the step CLI, or a
 * command line the team supplies (docs: README "Drivers"), run once per operation and client.
 */
export const driverSchema = z.union([
  z.enum(['lab', 'step-cli']),
  z.object({ command: z.array(z.string().min(1)).min(1), env: z.record(z.string(), z.string()).default({}) }).strict(),
]);
export type DriverSpec = z.infer<typeof driverSchema>;

/** The target's shape; off loopback only when the document itself says `"allowRemote": true`. */
function targetSchemaAllowing(remote: boolean) {
  const loopbackUrl = z
    .string()
    .url()
    .refine((u) => remote || onLoopback(hostOf(u)), { message: ON_LOOPBACK });
  const loopbackHost = z.string().refine((h) => remote || onLoopback(h), { message: ON_LOOPBACK });
  return z
  .object({
    name: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, ".", "_" or "-"').default('target'),
    /** The operational authority: X5C, renewal, the root every device and the broker trust. */
    ca: z
      .object({
        url: loopbackUrl,
        rootPem: file,
        provisioners: z.object({ x5c: z.string().min(1), jwk: z.string().min(1).optional() }),
        /** Audience of X5C tokens; step-ca's default for the provisioner when absent. */
        x5cAudience: z.string().min(1).optional(),
        caBundlePem: file.optional(),
        log: logSourceSchema.optional(),
      })
      .strict(),
    /** The bootstrap authority: ACME http-01 (it validates on this port of each identifier's address). */
    bootstrapCa: z
      .object({
        url: loopbackUrl,
        rootPem: file,
        acmeHttpPort: port,
        acmeDirectory: loopbackUrl.optional(),
        provisioners: z.object({ acme: z.string().min(1).optional(), jwk: z.string().min(1).optional() }).strict().optional(),
        log: logSourceSchema.optional(),
      })
      .strict(),
    broker: z
      .object({
        host: loopbackHost,
        port,
        /** The password listener for firmware below "x", if the installation has one. */
        legacyPort: port.optional(),
        /** The CA that signs the broker's server certificate, when it is not the operational root. */
        serverCaPem: file.optional(),
        /** Devices publish under <topicRoot>/<deviceId>/...; the lab's default when absent. */
        topicRoot: z.string().regex(/^[A-Za-z0-9_-]+$/).optional(),
        url: z.string().optional(),
        log: logSourceSchema.optional(),
        /** The CRL file the lab keeps current for its broker (`ecm-lab up --json`): a team's broker beside the lab reads it. */
        crlFile: file.optional(),
      })
      .strict(),
    provisioning: z
      .object({
        url: loopbackUrl,
        /** Plain HTTP: the bootstrap endpoint, the trust anchor and CRLs (FR-PS-004). */
        insecureUrl: loopbackUrl,
        /** The gated ACME directory devices use. */
        acmeDirectory: loopbackUrl,
        /** The webhooks its step-ca calls; the contract replays their refusal of other clients when given. */
        hooksUrl: loopbackUrl.optional(),
        adminToken: z.string().min(1),
        caUrl: loopbackUrl.optional(),
        admin: z.string().optional(),
        auditLog: logSourceSchema.optional(),
      })
      .strict(),
    clients: z
      .object({
        device: driverSchema.default('lab'),
        application: driverSchema.default('lab'),
        /** The IPv4 block the lab's clients bind (simulators/client/addresses.ts); the default loopback plan when absent. */
        addresses: z.string().min(1).optional(),
      })
      .strict()
      .prefault({}),
    /** The managing application's certificate identity at this installation; the lab's default when absent. */
    applicationIdentity: z.string().min(1).optional(),
    /** What the suite may do beyond the endpoints (capabilities.ts). */
    grants: z.array(z.enum(CAPABILITIES)).default([]),
    // `ecm-lab up --json` also says these; the logs name each component's log file.
    id: z.string().optional(),
    backend: z.string().optional(),
    workDir: z.string().optional(),
    acmeWebroot: z.string().optional(),
    listenAddress: z.string().optional(),
    trustAnchors: z.object({ root: z.string(), bootstrapRoot: z.string() }).strict().optional(),
    logs: z.record(z.string(), z.string()).optional(),
    externalCa: z.record(z.string(), z.unknown()).optional(),
    processes: z.array(z.object({ name: z.string(), pid: z.number() })).optional(),
    /** Components on other hosts: the suite runs against them only when the target says so. */
    allowRemote: z.boolean().optional(),
  })
  .strict();
}

export const targetSchema = targetSchemaAllowing(false);
const remoteTargetSchema = targetSchemaAllowing(true);
/** The schema a document asks for: a remote installation only with its own explicit flag. */
const schemaFor = (raw: unknown) => ((raw as { allowRemote?: unknown } | null)?.allowRemote === true ? remoteTargetSchema : targetSchema);

export type Target = z.infer<typeof targetSchema>;

/** Each zod issue as "<path>: <message>". */
function problemsOf(error: z.ZodError, keep: (issue: z.core.$ZodIssue) => boolean = () => true): string[] {
  return error.issues.filter(keep).map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`);
}

export class TargetError extends Error {
  override name = 'TargetError';
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`${file} is not a valid target:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** Paths in a target are relative to the file that names them. */
function resolvePaths(target: Target, dir: string): Target {
  const abs = (p: string) => path.resolve(dir, p);
  const log = (s: LogSource | undefined): LogSource | undefined => (s && 'path' in s ? { path: abs(s.path) } : s);
  return {
    ...target,
    ca: { ...target.ca, rootPem: abs(target.ca.rootPem), caBundlePem: target.ca.caBundlePem && abs(target.ca.caBundlePem), log: log(target.ca.log) },
    bootstrapCa: { ...target.bootstrapCa, rootPem: abs(target.bootstrapCa.rootPem), log: log(target.bootstrapCa.log) },
    broker: { ...target.broker, serverCaPem: target.broker.serverCaPem && abs(target.broker.serverCaPem), log: log(target.broker.log) },
    provisioning: { ...target.provisioning, auditLog: log(target.provisioning.auditLog) },
  };
}

/** An `ecm-lab up --json` description names its logs by component; they become the log sources it does not name itself. */
function logsFromDescription(target: Target): Target {
  const logs = target.logs ?? {};
  const from = (name: string): LogSource | undefined => (logs[name] ? { path: logs[name] } : undefined);
  return {
    ...target,
    ca: { ...target.ca, log: target.ca.log ?? from('step-ca') },
    bootstrapCa: { ...target.bootstrapCa, log: target.bootstrapCa.log ?? from('bootstrap-ca') },
    broker: { ...target.broker, log: target.broker.log ?? from('mosquitto') },
    provisioning: { ...target.provisioning, auditLog: target.provisioning.auditLog ?? from('provisioning-audit') },
  };
}

/** The files a target names must exist here: a typo should fail now, not in the tenth scenario. */
function missingFiles(target: Target): string[] {
  const files: Array<[string, string | undefined]> = [
    ['ca.rootPem', target.ca.rootPem],
    ['ca.caBundlePem', target.ca.caBundlePem],
    ['bootstrapCa.rootPem', target.bootstrapCa.rootPem],
    ['broker.serverCaPem', target.broker.serverCaPem],
    ['broker.crlFile', target.broker.crlFile],
    ...(['ca', 'bootstrapCa', 'broker'] as const).map((c): [string, string | undefined] => {
      const source = target[c].log;
      return [`${c}.log.path`, source && 'path' in source ? source.path : undefined];
    }),
  ];
  return files.filter(([, f]) => f !== undefined && !existsSync(f)).map(([key, f]) => `${key}: ${f} does not exist`);
}

/** The clients' block must be one this host can bind, off loopback only with "allowRemote": true. */
function addressProblems(clients: Target['clients'], allowRemote: boolean, remoteFlag = 'the target must say "allowRemote": true'): string[] {
  try {
    checkAddressPlan(AddressPlan.fromCidr(clients.addresses), { name: 'clients.addresses', remoteFlag }, { allowRemote });
    return [];
  } catch (err) {
    if (err instanceof AddressPlanError) return [err.message.startsWith('clients.addresses') ? err.message : `clients.addresses: ${err.message}`];
    throw err;
  }
}

export function parseTarget(raw: unknown, file: string): Target {
  const parsed = schemaFor(raw).safeParse(raw);
  if (!parsed.success) throw new TargetError(file, problemsOf(parsed.error));
  const target = logsFromDescription(resolvePaths(parsed.data, path.dirname(path.resolve(file))));
  const problems = [...missingFiles(target), ...addressProblems(target.clients, target.allowRemote === true)];
  if (problems.length > 0) throw new TargetError(file, problems);
  return target;
}

/**
 * A target that names no component of the installation: the lab starts all of them (and grants
 * every capability), and only the certificate clients are the team's, e.g. their firmware's
 * client behind the command-line driver interface.
 */
export const clientsTargetSchema = z
  .object({
    name: targetSchema.shape.name,
    clients: targetSchema.shape.clients,
  })
  .strict();
export type ClientsTarget = z.infer<typeof clientsTargetSchema> & { kind: 'clients' };

const COMPONENTS = ['ca', 'bootstrapCa', 'broker', 'provisioning'] as const;

function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new TargetError(file, [`cannot read it as JSON: ${(err as Error).message}`]);
  }
}

/**
 * The one mix of the team's components and the lab's that holds together: the team's broker in a
 * lab another `ecm-lab up --json` runs (`lab`: that description). The broker is configured with the
 * lab's roots and takes its CRL from the lab's `broker.crlFile`. The other mixes do not hold: the
 * lab's service issues through its own step-ca only, with a JWK key and webhooks that no outside
 * component has; a team's step-ca or service needs the broker and service of the team's own
 * installation, which trust its root, not the lab's.
 */
const COMPOSABLE = ['broker'] as const;

function composeWithLab(raw: Record<string, unknown>, file: string): Record<string, unknown> {
  const labFile = path.resolve(path.dirname(path.resolve(file)), String(raw.lab));
  const named = COMPONENTS.filter((c) => c in raw);
  const refused = named.filter((c) => !(COMPOSABLE as readonly string[]).includes(c));
  if (refused.length > 0) {
    throw new TargetError(file, [
      `names ${refused.join(', ')} beside a lab (${labFile}): only the broker can be the team's in the lab's installation (the lab's service issues through its own step-ca, with credentials no outside component has, and a team's step-ca or service needs its own broker and service); name all four components instead`,
    ]);
  }
  let lab: Target;
  try {
    lab = parseTarget(readJson(labFile), labFile);
  } catch (err) {
    if (err instanceof TargetError) throw new TargetError(file, [`lab: ${labFile} is not a lab description:`, ...err.problems.map((p) => `  ${p}`)]);
    throw err;
  }
  // The lab's logs of the components the team replaces are not theirs: each log comes with its component.
  const { broker: labBroker, logs, ...rest } = lab;
  const ownLogs = Object.fromEntries(Object.entries(logs ?? {}).filter(([name]) => !(name === 'mosquitto' && 'broker' in raw)));
  return {
    ...rest,
    logs: ownLogs,
    broker: 'broker' in raw ? raw.broker : labBroker,
    ...Object.fromEntries(Object.entries(raw).filter(([key]) => key !== 'lab' && key !== 'broker')),
    // What the lab grants, unless the target says; a replaced broker's log needs a source of its own (grantedBy).
    grants: raw.grants ?? lab.grants,
  };
}

/** An installation to talk to, or only clients of the team's in a lab the suite starts. */
export function loadTargetFile(file: string): Target | ClientsTarget {
  const read = readJson(file);
  if (read && typeof read === 'object' && 'lab' in read) {
    if (typeof read.lab !== 'string' || read.lab.length === 0) throw new TargetError(file, ['lab: the path of an `ecm-lab up --json` description']);
    return parseTarget(composeWithLab(read as Record<string, unknown>, file), file);
  }
  const raw = read;
  const named = raw && typeof raw === 'object' ? COMPONENTS.filter((c) => c in raw) : [];
  if (named.length === 0 && raw && typeof raw === 'object') {
    const parsed = clientsTargetSchema.safeParse(raw);
    if (!parsed.success) throw new TargetError(file, problemsOf(parsed.error));
    // The lab the suite starts listens on loopback: its clients stay there too.
    const problems = addressProblems(parsed.data.clients, false, 'a target of clients only runs in the lab the suite starts on loopback (name the installation\'s components and "allowRemote": true for a remote one)');
    if (problems.length > 0) throw new TargetError(file, problems);
    return { ...parsed.data, kind: 'clients' };
  }
  if (named.length < COMPONENTS.length) {
    const missing = COMPONENTS.filter((c) => !named.includes(c));
    // Every problem at once: what is wrong with the components it names, too.
    const parsed = schemaFor(raw).safeParse(raw);
    const others = parsed.success ? [] : problemsOf(parsed.error, (i) => !missing.includes(i.path[0] as (typeof COMPONENTS)[number]));
    throw new TargetError(file, [
      `names ${named.join(', ')} but not ${missing.join(', ')}: a target names all four components of the installation, none (then the lab starts them, and only the clients are the team's), or only its broker beside a running lab ("lab": an \`ecm-lab up --json\` description)`,
      ...others,
    ]);
  }
  return parseTarget(raw, file);
}

/** An installation target (the contract replay needs the team's provisioning service). */
export function loadTarget(file: string): Target {
  const target = loadTargetFile(file);
  if ('kind' in target) throw new TargetError(file, ['names no installation (ca, bootstrapCa, broker, provisioning): only clients']);
  return target;
}

/**
 * What the suite may do against this target: what it grants, less what the run withholds, less
 * a log-reading capability whose log the target gives no source for (it cannot be read), and
 * the legacy listener when the target names no legacy port.
 */
export function grantedBy(target: Target | ClientsTarget, withheld: readonly string[] = []): Set<Capability> {
  // Only clients: the lab the suite starts grants everything it always does.
  if ('kind' in target) return new Set(CAPABILITIES.filter((c) => !withheld.includes(c)));
  const readable: Partial<Record<Capability, boolean>> = {
    'broker-log': target.broker.log !== undefined,
    'ca-log': target.ca.log !== undefined && target.bootstrapCa.log !== undefined,
    'legacy-listener': target.broker.legacyPort !== undefined,
  };
  return new Set(target.grants.filter((g) => !withheld.includes(g) && readable[g] !== false));
}
