// The lab a fleet runs against: one `ecm-lab load` started itself (it owns the processes and the
// CA, so it can restart components and issue certificates directly), or one already running
// that it attaches to (`ecm-lab up --json --serve-challenges`), shared by several segments.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, renameSync, unlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import type { OwnedLab } from '../environments/lab.ts';
import { isLoopbackAddress } from '../config/schema.ts';
import { crlUrl } from '../environments/pki/ca-json.ts';
import type { Issuer } from '../x509/certificate-authority.ts';
import { ACME_CHALLENGE_PATH, isChallengeToken, type ChallengePublisher } from '../simulators/acme/http01-responder.ts';
import type { LabEndpoints } from '../simulators/client/lab-endpoints.ts';
import type { RolePids } from './cpu-meter.ts';
import type { DirectIssuer } from '../simulators/fleet/device-pool.ts';
import type { RestartKind } from './faults/faults.ts';

export interface FleetLab {
  id: string;
  /** Where the fleet's client log goes (beside the components' logs). */
  logDir: string;
  /** The devices' private stores (keys): a directory only this run uses. */
  storeRoot: string;
  admin: { url: string; token: string };
  /**
   * Component processes whose CPU is measured, by role: step-ca is both authorities (the
   * operational and the bootstrap one); 0 where a process cannot be measured (not on this machine).
   */
  pids(): RolePids;
  /** The request logs of both step-ca authorities, where each logs every certificate it issues. */
  issuanceLogs: string[];
  /**
   * Only a lab this command started: restarting components, issuing certificates with its CA.
   * Without it the lab is shared with other runs, so provisioning is never turned off at the end
   * (another segment may still be arriving).
   */
  owned?: {
    restart(kind: RestartKind): Promise<void>;
    /** The operational intermediate, as PEMs a worker thread can take. */
    directIssuer: DirectIssuer;
    /** The bootstrap intermediate: per-device bootstrap credentials for the x5c-sign scenario. */
    bootstrapIssuer: Issuer;
  };
  /** Removes what the run created (the attached run's store directory). */
  cleanup(): void;
}

export function ownedFleetLab(lab: OwnedLab): FleetLab {
  return {
    id: lab.id,
    logDir: path.dirname(lab.logs['step-ca']!),
    storeRoot: path.join(lab.workDir, 'fleet'),
    admin: { url: lab.provisioning.url, token: lab.provisioning.adminToken },
    pids: () => ({ stepCa: [lab.stepCa.pid, lab.bootstrapStepCa.pid], mosquitto: [lab.mosquitto.pid], provisioningService: [lab.provisioningService.pid] }),
    issuanceLogs: [lab.stepCa.logFile, lab.bootstrapStepCa.logFile],
    owned: {
      async restart(kind) {
        if (kind === 'ca-restart') await lab.stepCa.restart();
        else if (kind === 'broker-restart') await lab.mosquitto.restart();
        else await lab.provisioningService.restart();
      },
      directIssuer: {
        certificatePem: lab.pki.intermediate.certificatePem,
        privateKeyPem: lab.pki.intermediate.privateKeyPem,
        rootPem: lab.pki.root.certificatePem,
        algorithm: lab.pki.intermediate.algorithm,
        crlUrl: crlUrl(lab.config.ca, lab.stepCa.port),
      },
      bootstrapIssuer: lab.pki.bootstrapIntermediate,
    },
    cleanup: () => undefined, // the lab's work directory goes with the lab
  };
}

/** The keys of `ecm-lab up --json` an attached fleet reads (environments/started-lab.ts describeLab). */
const labDescription = z.object({
  id: z.string().min(1),
  workDir: z.string().min(1),
  ca: z.object({
    url: z.string().url(),
    rootPem: z.string().min(1),
    provisioners: z.object({ x5c: z.string().min(1) }),
    x5cAudience: z.string().min(1),
  }),
  bootstrapCa: z.object({ rootPem: z.string().min(1), acmeHttpPort: z.number().int().positive() }),
  broker: z.object({ host: z.string().min(1), port: z.number().int().positive() }),
  provisioning: z.object({ url: z.string().url(), insecureUrl: z.string().url(), acmeDirectory: z.string().url(), adminToken: z.string().min(1) }),
  acmeWebroot: z.string().min(1).optional(),
  /** Where the lab listens; outside 127.0.0.0/8 (or `allowRemote`) it is remote, and clients may bind addresses beyond loopback. */
  listenAddress: z.string().optional(),
  allowRemote: z.boolean().optional(),
  /** The trust anchors as text (a lab of this version writes them): a segment elsewhere cannot read the files. */
  trustAnchors: z.object({ root: z.string().min(1), bootstrapRoot: z.string().min(1) }).optional(),
  logs: z.record(z.string(), z.string()),
  processes: z.array(z.object({ name: z.string(), pid: z.number().int() })),
});

export type LabDescription = z.infer<typeof labDescription>;

export class AttachError extends Error {
  override name = 'AttachError';
}

/**
 * The description of a running lab. A fleet that answers its own http-01 challenges
 * (`--client-addresses`) needs no webroot of the lab's; any other writes them into it.
 */
export function readLabDescription(file: string, options: { ownChallenges?: boolean } = {}): LabDescription {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new AttachError(`cannot read the lab description ${file}: ${(err as Error).message} (write it with: ecm-lab up --json --serve-challenges > ${file})`);
  }
  const parsed = labDescription.safeParse(raw);
  if (!parsed.success) {
    throw new AttachError(`${file} is not an \`ecm-lab up --json\` description: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  const d = parsed.data;
  if (options.ownChallenges) return d;
  if (!d.acmeWebroot) throw new AttachError(`the lab ${d.id} does not serve http-01 challenges for attached fleets: start it with \`ecm-lab up --json --serve-challenges\``);
  if (!existsSync(d.acmeWebroot)) throw new AttachError(`the lab ${d.id} is not running here: ${d.acmeWebroot} does not exist`);
  return d;
}

/**
 * A component's pid, only if that process is the one the description names: it is alive and
 * its command line mentions the lab's work directory (so a reused pid is never measured).
 */
function labProcessPid(d: LabDescription, name: string): number {
  const pid = d.processes.find((p) => p.name === name)?.pid;
  if (!pid) return 0;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(d.workDir) ? pid : 0;
  } catch {
    return 0;
  }
}

/** A lab other machines reach: its clients may bind addresses outside loopback. */
export function isRemoteLab(d: LabDescription): boolean {
  return d.allowRemote === true || (d.listenAddress !== undefined && !isLoopbackAddress(d.listenAddress) && d.listenAddress !== 'localhost');
}

export function attachedFleetLab(d: LabDescription, segmentName: string): FleetLab {
  const storeRoot = mkdtempSync(path.join(os.tmpdir(), `ecm-lab-fleet-${segmentName}-`));
  return {
    id: d.id,
    // The lab's log directory when this host has it (one machine, or a shared volume); a segment
    // elsewhere keeps its client log in a directory of its own, which outlives the run.
    logDir: d.logs['step-ca'] && existsSync(path.dirname(d.logs['step-ca'])) ? path.dirname(d.logs['step-ca']) : mkdtempSync(path.join(os.tmpdir(), `ecm-lab-fleet-log-${segmentName}-`)),
    storeRoot,
    admin: { url: d.provisioning.url, token: d.provisioning.adminToken },
    pids: () => ({
      stepCa: [labProcessPid(d, 'step-ca'), labProcessPid(d, 'bootstrap-ca')],
      mosquitto: [labProcessPid(d, 'mosquitto')],
      provisioningService: [labProcessPid(d, 'provisioning-service')],
    }),
    issuanceLogs: ['step-ca', 'bootstrap-ca'].flatMap((name) => (d.logs[name] ? [d.logs[name]] : [])),
    cleanup: () => rmSync(storeRoot, { recursive: true, force: true }),
  };
}

/**
 * http-01 for an attached fleet: the running lab serves challenges from its webroot (like an
 * ACME client's webroot mode), this run writes each key authorization there as a file.
 */

export function webrootPublisher(d: LabDescription): ChallengePublisher & { stop(): Promise<void> } {
  const webroot = path.join(d.acmeWebroot!, ...ACME_CHALLENGE_PATH);
  const file = (token: string) => {
    if (!isChallengeToken(token)) throw new Error(`refusing to publish a malformed ACME token ${JSON.stringify(token)}`);
    return path.join(webroot, token);
  };
  return {
    publish(token, keyAuthorization) {
      const target = file(token);
      // Written whole, then renamed: the responder never reads half a key authorization.
      writeFileSync(`${target}.tmp`, keyAuthorization, { mode: 0o644 });
      renameSync(`${target}.tmp`, target);
    },
    remove(token) {
      try {
        unlinkSync(file(token));
      } catch {
        // already gone
      }
    },
    stop: async () => undefined,
  };
}

export function attachedEndpoints(d: LabDescription, responder: ChallengePublisher): LabEndpoints {
  return {
    acmeDirectoryUrl: d.provisioning.acmeDirectory,
    signUrl: d.provisioning.url,
    insecureUrl: d.provisioning.insecureUrl,
    caUrl: d.ca.url,
    trustedRootPem: d.trustAnchors?.root ?? readFileSync(d.ca.rootPem, 'utf8'),
    bootstrapRootPem: d.trustAnchors?.bootstrapRoot ?? readFileSync(d.bootstrapCa.rootPem, 'utf8'),
    x5c: { provisioner: d.ca.provisioners.x5c, audience: d.ca.x5cAudience },
    broker: { host: d.broker.host, port: d.broker.port },
    responder,
  };
}
