// What every scenario has before it creates anything: the installation it runs on (the shared lab,
// or one of its own), what it declared it needs (@needs tags) and may therefore reach, the logs its
// cause assertions read, fresh client addresses, and the cleanups that run whatever happens. The
// World (world.ts) builds on it; the helpers it owns (attack marks, probes, faults) see this much.
import { World, type IWorldOptions } from '@cucumber/cucumber';
import { ProvisioningAdminClient } from '../../simulators/client/admin-client.ts';
import type { LabConfigInput } from '../../config/config.ts';
import { currentLabSession, openLabSession, type LabSession } from './lab-session.ts';
import { CAPABILITY_DESCRIPTIONS, CapabilityError, type Capability } from '../../conformance/target/capabilities.ts';
import type { LogEvidence } from '../../conformance/target/target-lab.ts';
import type { OwnedLab } from '../../environments/lab.ts';

/** step-ca's default minimum certificate duration: shorter lifetimes are a lab's setting (@needs:clock). */
const SHORTEST_DEFAULT_LIFETIME_SECONDS = 5 * 60;

/** Component logs cause assertions read. */
export const COMPONENT_LOGS = ['step-ca', 'bootstrap-ca', 'mosquitto'] as const;
export type ComponentLog = (typeof COMPONENT_LOGS)[number];

export class ScenarioBase extends World {
  /** A lab of the scenario's own, when it needs other settings than the shared one; every step then works on it. */
  scenarioLab: LabSession | undefined;
  /** The scenario's tags (set before it runs): what it declares it needs. */
  scenarioTags: readonly string[] = [];
  /** The logs the scenario's assertions read, and where from: attached to the report after it. */
  readonly evidenceUsed = new Map<string, LogEvidence>();
  private readonly cleanups: Array<() => Promise<unknown>> = [];

  constructor(options: IWorldOptions) {
    super(options);
  }

  /** The scenario's own lab once it started one (startScenarioLab), the shared lab otherwise. */
  get session(): LabSession {
    return this.scenarioLab ?? currentLabSession();
  }

  /** The service engineer's view: the admin API with the lab's token. */
  get admin(): ProvisioningAdminClient {
    return this.adminOf(this.session);
  }

  adminOf({ lab, endpoints }: LabSession): ProvisioningAdminClient {
    return new ProvisioningAdminClient(lab.provisioning.url, lab.provisioning.adminToken, endpoints.trustedRootPem);
  }

  /** A lab of this scenario's own, with other settings than the shared one; stopped after the scenario. */
  async startScenarioLab(overrides: LabConfigInput): Promise<LabSession> {
    this.declared('own-lab');
    const lab = await openLabSession(overrides, this.session.clientNumbers, this.session.addresses);
    this.onCleanup(() => lab.stop());
    this.scenarioLab = lab;
    return lab;
  }

  /** A fresh client address of the session's plan, unique within this cucumber process and worker (unless the plan is one shared address). */
  nextAddress(): string {
    return this.session.addresses.address(this.session.clientNumbers.take(), this.session.worker);
  }

  /** Every simulated client of the run logs to one JSON-lines file next to the components' logs. */
  get clientLogFile(): string {
    return this.session.clientLogFile;
  }

  /** A step may only use what its scenario declares: a forgotten @needs tag fails loudly on every target, the lab's own included. */
  protected declared(capability: Capability): void {
    if (!this.scenarioTags.includes(`@needs:${capability}`)) throw new Error(`this scenario uses "${capability}" (${CAPABILITY_DESCRIPTIONS[capability]}) without declaring it: tag it @needs:${capability}`);
    if (!this.session.grants.has(capability)) throw new CapabilityError(capability);
  }

  /** A step that relies on more than the endpoints without reaching into the lab (a short lifetime, the legacy listener). */
  uses(capability: Capability): void {
    this.declared(capability);
  }

  /** A certificate lifetime a scenario asks for: one below step-ca's default minimum (5 min) needs @needs:clock. */
  lifetime(seconds: number): number;
  lifetime(seconds: number | undefined): number | undefined;
  lifetime(seconds: number | undefined): number | undefined {
    if (seconds !== undefined && seconds < SHORTEST_DEFAULT_LIFETIME_SECONDS) this.uses('clock');
    return seconds;
  }

  /** The broker's password listener for firmware below "x" (@needs:legacy-listener). */
  legacyBroker(): { host: string; port: number } {
    this.uses('legacy-listener');
    const { host, legacyPort } = this.session.lab.broker;
    if (!legacyPort) throw new CapabilityError('legacy-listener');
    return { host, port: legacyPort };
  }

  /** The lab this process started, for what only it can do (its CAs, its processes, its configuration). */
  owned(capability: Capability): OwnedLab {
    this.declared(capability);
    const lab = this.session.owned;
    if (!lab) throw new CapabilityError(capability);
    return lab;
  }

  /** The log file of a component for a cause assertion (the broker's needs broker-log, step-ca's ca-log). */
  logFile(component: ComponentLog): string {
    this.declared(component === 'mosquitto' ? 'broker-log' : 'ca-log');
    const evidence = this.session.evidence[component];
    if (!evidence) throw new CapabilityError(component === 'mosquitto' ? 'broker-log' : 'ca-log');
    this.evidenceUsed.set(component, evidence);
    return evidence.path;
  }

  onCleanup(cleanup: () => Promise<unknown>): void {
    this.cleanups.push(cleanup);
  }

  /** Runs every cleanup, last registered first and one at a time, even if some fail; then reports the failures together. */
  async cleanup(): Promise<void> {
    const failures: unknown[] = [];
    while (this.cleanups.length > 0) {
      try {
        await this.cleanups.pop()!();
      } catch (err) {
        failures.push(err);
      }
    }
    if (failures.length > 0) throw new AggregateError(failures, 'scenario cleanup failed');
  }
}
