// The provisioning service as its own process, like step-ca and Mosquitto: its CPU is measured
// apart from the lab's (it is part of the system under test), a restart is a real process
// restart, and it dies with the lab (parent-death signal and the closed IPC channel).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
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
}

export interface StartedProvisioningProcess extends ServiceEndpoints {
  readonly pid: number;
  readonly logFile: string;
  readonly running: boolean;
  issuedSerials(): Promise<string[]>;
  stop(): Promise<void>;
}

export async function startProvisioningProcess(options: ServiceProcessOptions, hooks: ProvisioningProcessHooks, logFile: string): Promise<StartedProvisioningProcess> {
  // The data directory on the command line only says which lab the process belongs to (ps), as
  // step-ca's ca.json and Mosquitto's config do; the options themselves come over IPC.
  const proc = await ManagedProcess.start({ name: 'provisioning-service', command: process.execPath, args: [ENTRY, options.dataDir], logFile, ipc: true, cwd: path.dirname(ENTRY) });
  const send = (message: ToServiceProcess) => proc.send(message);
  let endpoints: ServiceEndpoints | undefined;
  let failure: string | undefined;
  let nextId = 0;
  const serialRequests = new Map<number, (serials: string[]) => void>();

  proc.onMessage((raw) => {
    const message = raw as FromServiceProcess;
    switch (message.type) {
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
        void hooks.onCrlUpdated(message.crlPem).finally(() => send({ type: 'crl-updated-done', id: message.id }));
        break;
      case 'stopped':
        break;
    }
  });
  send({ type: 'start', options, extraCrls: hooks.extraCrls() });
  try {
    await waitFor(`the provisioning service process (log: ${logFile})`, () => {
      if (failure) throw new GiveUp(`the provisioning service did not start: ${failure}`);
      if (!proc.running) throw new GiveUp(`the provisioning service ${proc.exitDescription}; see ${logFile}`);
      return endpoints !== undefined;
    }, { timeoutMs: READY_TIMEOUT_MS, intervalMs: 20 });
  } catch (err) {
    await proc.stop();
    throw err;
  }

  let stopping: Promise<void> | undefined;
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
    // Asks it to close its listeners and database, then makes sure the process is gone.
    stop: () =>
      (stopping ??= (async () => {
        if (send({ type: 'stop' })) await waitFor('the provisioning service to stop', () => !proc.running, { timeoutMs: 5000, intervalMs: 20 }).catch(() => undefined);
        await proc.stop();
      })()),
  };
}
