// Where the lab's components run. A placement makes the builders of step-ca, Mosquitto and the
// provisioning service's process for one lab (environments/local/: child processes;
// environments/containers/: containers on the host's network), already told what is the
// placement's business (images, users, labels, names); the lab (environments/lab.ts) configures and
// starts them and never asks where they run.
import type { LabConfig } from '../../config/config.ts';
import type { MosquittoSettings, StartedMosquitto } from './mosquitto.ts';
import type { ServiceHostSettings, StartedServiceHost } from './service-host.ts';
import type { StartedStepCa, StepCaSettings } from './step-ca.ts';

/** What the lab calls on every builder, whichever placement made it (the mixins' methods). */
interface Builder<S> {
  start(): Promise<S>;
}

export type StepCaModule = Builder<StartedStepCa> & {
  readonly stepCa: StepCaSettings;
  withProvisioners(p: NonNullable<StepCaSettings['provisioners']>): StepCaModule;
  withRoots(roots: NonNullable<StepCaSettings['roots']>): StepCaModule;
  withAddress(host: string, port?: number): StepCaModule;
  withDnsNames(names: string[]): StepCaModule;
  withAcmeHttpPort(port: number): StepCaModule;
  withCrlValidity(goDuration: string): StepCaModule;
  withDirectory(dir: string): StepCaModule;
  withComponentName(name: string): StepCaModule;
  withLogFile(file: string): StepCaModule;
  withReadinessTimeout(ms: number): StepCaModule;
  withCaEnvironment(env: Record<string, string>): StepCaModule;
};

export type MosquittoModule = Builder<StartedMosquitto> & {
  readonly mosquitto: MosquittoSettings;
  withMutualTls(tls: NonNullable<MosquittoSettings['tls']>): MosquittoModule;
  withCrl(crlFile: string): MosquittoModule;
  withAddress(host: string, port?: number, legacyPort?: number): MosquittoModule;
  withBrokerSettings(broker: LabConfig['broker']): MosquittoModule;
  withDirectory(dir: string): MosquittoModule;
  withComponentName(name: string): MosquittoModule;
  withLogFile(file: string): MosquittoModule;
  withReadinessTimeout(ms: number): MosquittoModule;
};

export type ServiceHostModule = Builder<StartedServiceHost> & {
  readonly serviceHost: ServiceHostSettings;
  withDataDir(dir: string): ServiceHostModule;
  withComponentName(name: string): ServiceHostModule;
  withLogFile(file: string): ServiceHostModule;
  withReadinessTimeout(ms: number): ServiceHostModule;
};

export interface Placement {
  readonly backend: 'local' | 'containers';
  /** A new builder for each start: a restart starts a new process or container. */
  stepCa(): StepCaModule;
  mosquitto(): MosquittoModule;
  serviceHost(): ServiceHostModule;
  /** What the placement itself holds (the container engine's lease); after every component stopped. Idempotent. */
  close(): Promise<void>;
}

/** What a placement is made for: one lab, its id and directories (both mounted into containers at the same paths). */
export interface PlacementContext {
  id: string;
  workDir: string;
  logsDir: string;
  config: LabConfig;
}

export type PlacementFactory = (lab: PlacementContext) => Promise<Placement>;

