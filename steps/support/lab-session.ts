// One installation under test per cucumber process: the lab this process starts before the
// first scenario and stops after the last (and on SIGINT/SIGTERM, by the environment itself), or
// a target (ECM_LAB_TARGET, written by `ecm-lab run --target`) that it only talks to. Either way
// the World sees the contract's endpoints; only the lab it started itself grants every capability.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { loadConfig, type LabConfig, type LabConfigInput } from '../../config/config.ts';
import type { StartedLab } from '../../environments/started-lab.ts';
import type { OwnedLab } from '../../environments/lab.ts';
import { startLab } from '../../environments/start-lab.ts';
import { CAPABILITIES, type Capability } from '../../conformance/target/capabilities.ts';
import { openTargetLab, type LogEvidence } from '../../conformance/target/target-lab.ts';
import { grantedBy, loadTargetFile, type DriverSpec, type Target } from '../../conformance/target/target.ts';
import { ACME_CHALLENGE_PATH, startChallengeResponder, type StartedChallengeResponder } from '../../simulators/acme/http01-responder.ts';
import { labEndpoints, type LabEndpoints } from '../../simulators/client/lab-endpoints.ts';
import { AddressPlan } from '../../simulators/client/addresses.ts';

export interface LabSession {
  /** Webroot for http-01 (the step CLI writes <webroot>/.well-known/acme-challenge/<token>; the responder serves them). */
  acmeWebroot: string;
  config: LabConfig;
  /** The installation under test, as the contract describes it. */
  lab: StartedLab;
  /** The lab this process started itself (every capability: its CAs, processes, configuration); absent against a target. */
  owned: OwnedLab | undefined;
  /** What the scenarios may do beyond the endpoints. */
  grants: ReadonlySet<Capability>;
  /** The log the suite reads for each component, and where the target said it is. */
  evidence: Record<string, LogEvidence>;
  /** Which certificate client devices and the application use when a scenario does not choose. */
  clients: { device: DriverSpec; application: DriverSpec };
  /** Every simulated client logs here, next to the components' logs. */
  clientLogFile: string;
  responder: StartedChallengeResponder;
  endpoints: LabEndpoints;
  /** Cucumber worker number; parallel workers get disjoint client addresses. */
  worker: number;
  /** Where the clients' addresses come from: the default loopback plan, or the target's `clients.addresses`. */
  addresses: AddressPlan;
  /** Numbers the scenarios' clients by: shared by every lab of the process, so no two clients get one address. */
  clientNumbers: ClientNumbers;
}

/** Hands out client numbers (ids and loopback addresses) once each, over the whole cucumber process. */
export class ClientNumbers {
  #next = 0;

  /** The number the next client will get. */
  get upcoming(): number {
    return this.#next;
  }

  take(): number {
    return this.#next++;
  }
}

let session: (LabSession & { stop(): Promise<void> }) | undefined;

const worker = () => Number(process.env.CUCUMBER_WORKER_ID ?? 0);

/** The target's block (`clients.addresses`) shared by this run's parallel workers, or the default plan. */
const planOf = (cidr: string | undefined) => AddressPlan.fromCidr(cidr, { workers: Number(process.env.CUCUMBER_TOTAL_WORKERS ?? 1) });

/** http-01 for the session's clients: step-ca fetches <address>:<port>/.well-known/acme-challenge/<token>. */
async function challengeResponder(workDir: string, port: number, addresses: AddressPlan): Promise<{ acmeWebroot: string; responder: StartedChallengeResponder }> {
  const acmeWebroot = path.join(workDir, 'acme-webroot');
  const challenges = path.join(acmeWebroot, ...ACME_CHALLENGE_PATH);
  mkdirSync(challenges, { recursive: true, mode: 0o755 });
  return { acmeWebroot, responder: await startChallengeResponder(port, { webroot: challenges, clientAddresses: addresses }) };
}

type Installation = Pick<LabSession, 'config' | 'lab' | 'owned' | 'grants' | 'evidence' | 'clients' | 'clientLogFile'>;

/** The session around an installation: a challenge responder of its own; `stop` ends both, and a failed start stops the installation. */
async function sessionOf(installation: Installation, addresses: AddressPlan, clientNumbers = new ClientNumbers()): Promise<LabSession & { stop(): Promise<void> }> {
  const { lab } = installation;
  try {
    const { acmeWebroot, responder } = await challengeResponder(lab.workDir, lab.bootstrapCa.acmeHttpPort, addresses);
    const stop = async () => {
      await Promise.allSettled([responder.stop()]);
      await lab.stop();
    };
    return { ...installation, responder, acmeWebroot, endpoints: labEndpoints(lab, responder), worker: worker(), addresses, clientNumbers, stop };
  } catch (err) {
    await lab.stop();
    throw err;
  }
}

/** A lab of this process, with its own challenge responder; `stop` ends both. */
export async function openLabSession(overrides: LabConfigInput = {}, clientNumbers?: ClientNumbers, addresses = AddressPlan.default): Promise<LabSession & { stop(): Promise<void> }> {
  const config = loadConfig({ overrides });
  const lab = await startLab(config);
  return sessionOf({
    config,
    lab,
    owned: lab,
    grants: new Set(CAPABILITIES),
    evidence: Object.fromEntries(Object.entries(lab.logs).map(([component, file]) => [component, { component, source: 'file' as const, path: file }])),
    clients: { device: 'lab', application: 'lab' },
    clientLogFile: path.join(path.dirname(lab.logs['step-ca']!), 'clients.log'),
  }, addresses, clientNumbers);
}

/** The target ECM_LAB_TARGET names, with the capabilities it grants less those ECM_LAB_WITHHOLD lists. */
export async function openTargetSession(target: Target, withheld: readonly string[]): Promise<LabSession & { stop(): Promise<void> }> {
  const broker = { ...(target.broker.topicRoot ? { topicRoot: target.broker.topicRoot } : {}), ...(target.applicationIdentity ? { applicationIdentity: target.applicationIdentity } : {}) };
  const config = loadConfig({ overrides: { broker } });
  const lab = await openTargetLab(target, { logsDir: config.logsDir });
  const installation = { config, lab, owned: undefined, grants: grantedBy(target, withheld), evidence: lab.evidence, clients: target.clients, clientLogFile: lab.logs.clients! };
  return sessionOf(installation, planOf(target.clients.addresses));
}

export async function startLabSession(): Promise<LabSession> {
  const targetFile = process.env.ECM_LAB_TARGET;
  const withheld = (process.env.ECM_LAB_WITHHOLD ?? '').split(',').filter(Boolean);
  const target = targetFile ? loadTargetFile(targetFile) : undefined;
  if (target && !('kind' in target)) {
    session = await openTargetSession(target, withheld);
    return session;
  }
  // Server-side key generation is off by default; the suite turns it on so that its attacks can
  // try that path too (its refusal when off is an integration test).
  const own = await openLabSession({ provisioning: { serverKeyGen: true } }, undefined, planOf(target?.clients.addresses));
  // A target of clients only: the team's certificate clients in the lab's installation.
  session = target ? { ...own, clients: target.clients, grants: grantedBy(target, withheld) } : own;
  return session;
}

export function currentLabSession(): LabSession {
  if (!session) throw new Error('the lab is not running: the BeforeAll hook failed (see its error above)');
  return session;
}

export async function stopLabSession(): Promise<void> {
  const s = session;
  session = undefined;
  await s?.stop();
}
