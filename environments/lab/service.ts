// The provisioning service as the lab holds it: its process started by the placement and prepared
// (modules/provisioning-service.ts), then started with the lab's options; restart() is a new
// process on the ports, token, webhook port and data of the first start (NFR-REL-002).
import type { ServiceProcessOptions } from '../../services/provisioning/process-protocol.ts';
import type { Placement } from '../modules/placement.ts';
import { prepareProvisioningService, type PreparedProvisioningService, type ProvisioningServiceHooks, type ServiceSetup, type StartedProvisioningService } from '../modules/provisioning-service.ts';

export interface LabServiceSetup extends ServiceSetup {
  logFile: string;
}

/** A new service process on the placement, prepared: its keys made, its webhook port held. */
export async function prepareService(placement: Placement, setup: LabServiceSetup): Promise<PreparedProvisioningService> {
  const host = await placement
    .serviceHost()
    .withComponentName('provisioning-service')
    .withDataDir(setup.dataDir)
    .withLogFile(setup.logFile)
    .withReadinessTimeout(setup.readinessTimeoutMs)
    .start();
  return prepareProvisioningService(host, setup);
}

export interface LabService extends StartedProvisioningService {
  readonly hooksUrl: string;
  restart(): Promise<void>;
}

export async function startService(
  placement: Placement,
  prepared: PreparedProvisioningService,
  setup: LabServiceSetup,
  options: () => ServiceProcessOptions,
  hooks: ProvisioningServiceHooks,
): Promise<LabService> {
  let service = await prepared.start(options(), hooks);
  const first = service;
  // A restart is a new process: it makes a new TLS key (its JWK stays in its data directory).
  const sameEndpoints = (): ServiceProcessOptions => ({
    ...options(),
    adminToken: first.adminToken,
    httpsPort: Number(new URL(first.url).port),
    httpPort: Number(new URL(first.insecureUrl).port),
  });
  const sameHooks = { ...setup, hooks: { ...setup.hooks, port: prepared.hooksPort } };
  const stop = () => service.stop();
  return {
    url: first.url,
    insecureUrl: first.insecureUrl,
    hooksUrl: first.hooksUrl,
    acmeDirectoryUrl: first.acmeDirectoryUrl,
    adminToken: first.adminToken,
    auditLogFile: first.auditLogFile,
    logFile: first.logFile,
    get pid() {
      return service.pid;
    },
    get running() {
      return service.running;
    },
    issuedSerials: (issuer) => service.issuedSerials(issuer),
    stop,
    [Symbol.asyncDispose]: stop,
    async restart() {
      await service.stop();
      service = await (await prepareService(placement, sameHooks)).start(sameEndpoints(), hooks);
    },
  };
}
