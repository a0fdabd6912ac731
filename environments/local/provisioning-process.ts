// The provisioning service as its own process, like step-ca and Mosquitto: its CPU is measured
// apart from the lab's (it is part of the system under test), a restart is a real process
// restart, it dies with the lab (parent-death signal and the closed IPC channel), and its keys
// stay in it: it hands out the public half of its JWK and a CSR for its TLS key.
import path from 'node:path';
import type { JWK } from 'jose';
import type { KeyAlgorithm } from '../../x509/keys.ts';
import { RpcPeer } from '../../net/rpc.ts';
import type { OrderedIntermediate } from '../../net/external-ca-api.ts';
import type { IntermediateOrder, LabHooksApi, ServiceEndpoints, ServiceProcessApi, ServiceProcessOptions } from '../../services/provisioning/process-protocol.ts';
import { GiveUp, waitFor } from '../wait.ts';
import type { ComponentRuntime } from '../components.ts';

const ENTRY = 'services/provisioning/process-entry.js';

export interface ProvisioningProcessHooks extends LabHooksApi {
  /** CRLs beyond the authorities' own (root CRL, retired intermediates), read at every (re)start. */
  extraCrls(): string[];
  /** The TLS certificate chain (leaf first) for the service's CSR: the lab decides names and usages. */
  certify(csrPem: string): Promise<string>;
}

export interface StartedProvisioningProcess extends ServiceEndpoints {
  readonly pid: number;
  readonly logFile: string;
  readonly running: boolean;
  /** Serials of the inventory's certificates, those of one issuer (subject DN) when given. */
  issuedSerials(issuer?: string): Promise<string[]>;
  /** Idempotent. */
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** A service process that has made its keys and waits for step-ca to be up. */
export interface PreparedProvisioningProcess {
  /** The public half of the JWK it signs step-ca tokens with (for ca.json). */
  publicJwk: JWK;
  /** The public half of its credential at the external CA (for the CA's configuration), when it has one. */
  externalCaClientJwk: JWK | undefined;
  /** An intermediate ordered at the external CA with the service's credential (the lab's first one). */
  orderIntermediate(order: IntermediateOrder): Promise<OrderedIntermediate>;
  start(options: ServiceProcessOptions, hooks: ProvisioningProcessHooks): Promise<StartedProvisioningProcess>;
  stop(): Promise<void>;
}

export async function prepareProvisioningProcess(setup: {
  dataDir: string;
  keyAlgorithm: KeyAlgorithm;
  provisioner: string;
  logFile: string;
  readinessTimeoutMs: number;
  /** Where the process runs: a forked child or a container (environments/components.ts). */
  runtime: ComponentRuntime;
  /** Its name at the external CA (ca.issuer 'external'): the service then makes its credential there. */
  externalCaClient?: string;
}): Promise<PreparedProvisioningProcess> {
  const { logFile } = setup;
  // The data directory on the command line only says which lab the process belongs to (ps), as
  // step-ca's ca.json and Mosquitto's config do; everything else comes over IPC (or, in a
  // container, over a unix socket in its data directory).
  const { process: proc, channel } = await setup.runtime.startNodeService({
    name: 'provisioning-service',
    entry: ENTRY,
    args: [setup.dataDir],
    logFile,
    rpcSocket: path.join(setup.dataDir, 'rpc.sock'),
  });
  let hooks: ProvisioningProcessHooks | undefined;
  const notStarted = () => Promise.reject(new Error('the provisioning service called the lab before it was started'));
  const service = new RpcPeer<LabHooksApi, ServiceProcessApi>(
    channel,
    {
      revoked: (event) => hooks?.revoked(event) ?? notStarted(),
      applicationEnrolled: (params) => hooks?.applicationEnrolled(params) ?? notStarted(),
      legacyCredential: (change) => hooks?.legacyCredential(change) ?? notStarted(),
      intermediateCsr: () => hooks?.intermediateCsr() ?? notStarted(),
      installIntermediate: (params) => hooks?.installIntermediate(params) ?? notStarted(),
    },
  );
  void proc.waitForExit().then(() => service.close(`the provisioning service ${proc.exitDescription}; see ${logFile}`));

  /** A call that fails with the process's exit, or after the readiness timeout, never hangs. */
  const within = async <T>(what: string, call: Promise<T>): Promise<T> => {
    let settled = false;
    void call.then(() => (settled = true), () => (settled = true));
    const watch = waitFor(`the provisioning service ${what} (log: ${logFile})`, () => {
      if (settled) return true;
      if (!proc.running) throw new GiveUp(`the provisioning service ${proc.exitDescription}; see ${logFile}`);
      return false;
    }, { timeoutMs: setup.readinessTimeoutMs, intervalMs: 50 });
    try {
      return await Promise.race([call, watch.then(() => call)]);
    } catch (err) {
      await stop();
      throw err;
    }
  };

  let stopping: Promise<void> | undefined;
  // Asks it to close its listeners and database, then makes sure the process is gone.
  const stop = () =>
    (stopping ??= (async () => {
      if (proc.running) await Promise.race([service.call('stop').catch(() => undefined), proc.waitForExit(), new Promise((r) => setTimeout(r, 5000))]);
      await proc.stop();
    })());

  const prepared = await within(
    'to make its keys',
    service.call('prepare', { dataDir: setup.dataDir, keyAlgorithm: setup.keyAlgorithm, provisioner: setup.provisioner, externalCaClient: setup.externalCaClient }),
  );

  return {
    publicJwk: prepared.publicJwk,
    externalCaClientJwk: prepared.externalCaClientJwk,
    orderIntermediate: (order) => within('to order an intermediate at the external CA', service.call('orderIntermediate', order)),
    stop,
    async start(options, startHooks) {
      hooks = startHooks;
      const certificateChainPem = await startHooks.certify(prepared.csrPem);
      const endpoints = await within('to listen', service.call('start', { options, certificateChainPem, extraCrls: startHooks.extraCrls() }));
      return {
        ...endpoints,
        pid: proc.pid,
        logFile,
        get running() {
          return proc.running;
        },
        issuedSerials: (issuer) => service.call('issuedSerials', { issuer }),
        stop,
        [Symbol.asyncDispose]: stop,
      };
    },
  };
}

/** The service as the lab holds it: restart() is a new process on the ports, token and data of the first start (NFR-REL-002). */
export interface ProvisioningServiceProcess extends StartedProvisioningProcess {
  readonly hooksUrl: string;
  restart(): Promise<void>;
}

export async function startProvisioningProcess(
  prepared: PreparedProvisioningProcess,
  setup: Parameters<typeof prepareProvisioningProcess>[0],
  options: () => ServiceProcessOptions,
  hooks: ProvisioningProcessHooks,
): Promise<ProvisioningServiceProcess> {
  let service = await prepared.start(options(), hooks);
  const first = service;
  // A restart is a new process: it makes a new TLS key (its JWK stays in its data directory).
  const sameEndpoints = (): ServiceProcessOptions => ({
    ...options(),
    adminToken: first.adminToken,
    httpsPort: Number(new URL(first.url).port),
    httpPort: Number(new URL(first.insecureUrl).port),
  });
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
      service = await (await prepareProvisioningProcess(setup)).start(sameEndpoints(), hooks);
    },
  };
}
