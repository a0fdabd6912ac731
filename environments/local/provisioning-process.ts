// The provisioning service as its own process, like step-ca and Mosquitto: its CPU is measured
// apart from the lab's (it is part of the system under test), a restart is a real process
// restart, it dies with the lab (parent-death signal and the closed IPC channel), and its keys
// stay in it: it hands out the public half of its JWK and a CSR for its TLS key.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { JWK } from 'jose';
import type { KeyAlgorithm } from '../config.ts';
import type { FromServiceProcess, ServiceEndpoints, ServiceProcessOptions, ToServiceProcess } from '../../services/provisioning/process-protocol.ts';
import { GiveUp, waitFor } from '../wait.ts';
import { ManagedProcess } from './child-process.ts';

const ENTRY = fileURLToPath(new URL('../../services/provisioning/process-entry.js', import.meta.url));
const READY_TIMEOUT_MS = 30_000;

export interface ProvisioningProcessHooks {
  /** CRLs beyond step-ca's own (root CRL, retired intermediates), read at every (re)start. */
  extraCrls(): string[];
  /** After every revocation, with step-ca's fresh CRL (the lab hands it to the broker). */
  onCrlUpdated(crlPem: string): Promise<void>;
  /** The TLS certificate chain (leaf first) for the service's CSR: the lab decides names and usages. */
  certify(csrPem: string): Promise<string>;
}

export interface StartedProvisioningProcess extends ServiceEndpoints {
  readonly pid: number;
  readonly logFile: string;
  readonly running: boolean;
  issuedSerials(): Promise<string[]>;
  stop(): Promise<void>;
}

/** A service process that has made its keys and waits for step-ca to be up. */
export interface PreparedProvisioningProcess {
  /** The public half of the JWK it signs step-ca tokens with (for ca.json). */
  publicJwk: JWK;
  start(options: ServiceProcessOptions, hooks: ProvisioningProcessHooks): Promise<StartedProvisioningProcess>;
  stop(): Promise<void>;
}

export async function prepareProvisioningProcess(setup: { dataDir: string; keyAlgorithm: KeyAlgorithm; provisioner: string; logFile: string }): Promise<PreparedProvisioningProcess> {
  const { logFile } = setup;
  // The data directory on the command line only says which lab the process belongs to (ps), as
  // step-ca's ca.json and Mosquitto's config do; everything else comes over IPC.
  const proc = await ManagedProcess.start({ name: 'provisioning-service', command: process.execPath, args: [ENTRY, setup.dataDir], logFile, ipc: true, cwd: path.dirname(ENTRY) });
  const send = (message: ToServiceProcess) => proc.send(message);
  let prepared: { publicJwk: JWK; csrPem: string } | undefined;
  let endpoints: ServiceEndpoints | undefined;
  let failure: string | undefined;
  let hooks: ProvisioningProcessHooks | undefined;
  let nextId = 0;
  const serialRequests = new Map<number, (serials: string[]) => void>();

  proc.onMessage((raw) => {
    const message = raw as FromServiceProcess;
    switch (message.type) {
      case 'prepared':
        prepared = { publicJwk: message.publicJwk, csrPem: message.csrPem };
        break;
      case 'ready':
        endpoints = message.endpoints;
        break;
      case 'failed':
        failure = message.message;
        break;
      case 'issued-serials-result':
        serialRequests.get(message.id)?.(message.serials);
        serialRequests.delete(message.id);
        break;
      case 'crl-updated':
        void (hooks?.onCrlUpdated(message.crlPem) ?? Promise.resolve()).finally(() => send({ type: 'crl-updated-done', id: message.id }));
        break;
      case 'stopped':
        break;
    }
  });

  let stopping: Promise<void> | undefined;
  // Asks it to close its listeners and database, then makes sure the process is gone.
  const stop = () =>
    (stopping ??= (async () => {
      if (send({ type: 'stop' })) await waitFor('the provisioning service to stop', () => !proc.running, { timeoutMs: 5000, intervalMs: 20 }).catch(() => undefined);
      await proc.stop();
    })());
  const until = async (what: string, done: () => boolean) => {
    try {
      await waitFor(`the provisioning service process ${what} (log: ${logFile})`, () => {
        if (failure) throw new GiveUp(`the provisioning service failed: ${failure}`);
        if (!proc.running) throw new GiveUp(`the provisioning service ${proc.exitDescription}; see ${logFile}`);
        return done();
      }, { timeoutMs: READY_TIMEOUT_MS, intervalMs: 20 });
    } catch (err) {
      await stop();
      throw err;
    }
  };

  send({ type: 'prepare', dataDir: setup.dataDir, keyAlgorithm: setup.keyAlgorithm, provisioner: setup.provisioner });
  await until('to make its keys', () => prepared !== undefined);

  return {
    publicJwk: prepared!.publicJwk,
    stop,
    async start(options, startHooks) {
      hooks = startHooks;
      const certificateChainPem = await startHooks.certify(prepared!.csrPem);
      send({ type: 'start', options, certificateChainPem, extraCrls: startHooks.extraCrls() });
      await until('to listen', () => endpoints !== undefined);
      return {
        ...endpoints!,
        pid: proc.pid,
        logFile,
        get running() {
          return proc.running;
        },
        issuedSerials: () =>
          new Promise<string[]>((resolve, reject) => {
            const id = nextId++;
            serialRequests.set(id, resolve);
            if (!send({ type: 'issued-serials', id })) reject(new Error('the provisioning service process is not running'));
          }),
        stop,
      };
    },
  };
}
