// The provisioning service as the lab drives it, on a started service host (service-host.ts: a
// forked child or a container): its CPU is measured apart from the lab's (it is part of the system
// under test), a restart is a real process restart, it dies with the lab, and its keys stay in
// it: it hands out the public half of its JWK and a CSR for its TLS key. Two steps, because the
// lab's wiring needs the first one's answers before the second: prepare() (its keys, the webhook
// listener's port, which step-ca's ca.json names) and start() (its listeners, once step-ca runs).
import type { JWK } from 'jose';
import type { KeyAlgorithm } from '../../x509/keys.ts';
import { RpcPeer } from '../../net/rpc.ts';
import type { OrderedIntermediate } from '../../net/external-ca-api.ts';
import type { IntermediateOrder, LabHooksApi, ServiceEndpoints, ServiceProcessApi, ServiceProcessOptions } from '../../services/provisioning/process-protocol.ts';
import { GiveUp, waitFor } from '../wait.ts';
import type { StartedServiceHost } from './service-host.ts';

export interface ProvisioningServiceHooks extends LabHooksApi {
  /** CRLs beyond the authorities' own (root CRL, retired intermediates), read at every (re)start. */
  extraCrls(): string[];
  /** The TLS certificate chain (leaf first) for the service's CSR: the lab decides names and usages. */
  certify(csrPem: string): Promise<string>;
}

export interface ServiceSetup {
  dataDir: string;
  keyAlgorithm: KeyAlgorithm;
  provisioner: string;
  /** How long one call (making keys, listening) may take. */
  readinessTimeoutMs: number;
  /** Its name at the external CA (ca.issuer 'external'): the service then makes its credential there. */
  externalCaClient?: string;
  /** Where its webhook listener binds (port 0: any; a restart passes the first one's). */
  hooks: { host: string; port: number };
  /** What its TLS certificate names: the addresses and names clients reach it by. */
  serverNames: { dnsNames: string[]; ipAddresses: string[] };
}

export interface StartedProvisioningService extends ServiceEndpoints {
  readonly pid: number;
  readonly logFile: string;
  readonly running: boolean;
  /** Serials of the inventory's certificates, those of one issuer (subject DN) when given. */
  issuedSerials(issuer?: string): Promise<string[]>;
  /** Idempotent. */
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** A service process that has made its keys, holds its webhook port, and waits for step-ca to be up. */
export interface PreparedProvisioningService {
  /** The public half of the JWK it signs step-ca tokens with (for ca.json). */
  publicJwk: JWK;
  /** The public half of its credential at the external CA (for the CA's configuration), when it has one. */
  externalCaClientJwk: JWK | undefined;
  /** The port its webhook listener holds. */
  hooksPort: number;
  /** An intermediate ordered at the external CA with the service's credential (the lab's first one). */
  orderIntermediate(order: IntermediateOrder): Promise<OrderedIntermediate>;
  start(options: ServiceProcessOptions, hooks: ProvisioningServiceHooks): Promise<StartedProvisioningService>;
  stop(): Promise<void>;
}

export async function prepareProvisioningService(host: StartedServiceHost, setup: ServiceSetup): Promise<PreparedProvisioningService> {
  const { logFile } = host;
  let hooks: ProvisioningServiceHooks | undefined;
  const notStarted = () => Promise.reject(new Error('the provisioning service called the lab before it was started'));
  const service = new RpcPeer<LabHooksApi, ServiceProcessApi>(host.channel, {
    revoked: (event) => hooks?.revoked(event) ?? notStarted(),
    applicationEnrolled: (params) => hooks?.applicationEnrolled(params) ?? notStarted(),
    legacyCredential: (change) => hooks?.legacyCredential(change) ?? notStarted(),
    intermediateCsr: () => hooks?.intermediateCsr() ?? notStarted(),
    installIntermediate: (params) => hooks?.installIntermediate(params) ?? notStarted(),
  });
  void host.waitForExit().then(() => service.close(`the provisioning service ${host.exitDescription}; see ${logFile}`));

  let stopping: Promise<void> | undefined;
  // Asks it to close its listeners and database, then makes sure the process is gone.
  const stop = () =>
    (stopping ??= (async () => {
      if (host.running) await Promise.race([service.call('stop').catch(() => undefined), host.waitForExit(), new Promise((r) => setTimeout(r, 5000))]);
      await host.stop();
    })());

  /** A call that fails with the process's exit, or after the readiness timeout, never hangs. */
  const within = async <T>(what: string, call: Promise<T>): Promise<T> => {
    let settled = false;
    void call.then(() => (settled = true), () => (settled = true));
    const watch = waitFor(`the provisioning service ${what} (log: ${logFile})`, () => {
      if (settled) return true;
      if (!host.running) throw new GiveUp(`the provisioning service ${host.exitDescription}; see ${logFile}`);
      return false;
    }, { timeoutMs: setup.readinessTimeoutMs, intervalMs: 50 });
    try {
      return await Promise.race([call, watch.then(() => call)]);
    } catch (err) {
      await stop();
      throw err;
    }
  };

  const prepared = await within(
    'to make its keys',
    service.call('prepare', { dataDir: setup.dataDir, keyAlgorithm: setup.keyAlgorithm, provisioner: setup.provisioner, externalCaClient: setup.externalCaClient, hooks: setup.hooks, serverNames: setup.serverNames }),
  );

  return {
    publicJwk: prepared.publicJwk,
    externalCaClientJwk: prepared.externalCaClientJwk,
    hooksPort: prepared.hooksPort,
    orderIntermediate: (order) => within('to order an intermediate at the external CA', service.call('orderIntermediate', order)),
    stop,
    async start(options, startHooks) {
      hooks = startHooks;
      const certificateChainPem = await startHooks.certify(prepared.csrPem);
      const endpoints = await within('to listen', service.call('start', { options, certificateChainPem, extraCrls: startHooks.extraCrls() }));
      return {
        ...endpoints,
        pid: host.pid,
        logFile,
        get running() {
          return host.running;
        },
        issuedSerials: (issuer) => service.call('issuedSerials', { issuer }),
        stop,
        [Symbol.asyncDispose]: stop,
      };
    },
  };
}
