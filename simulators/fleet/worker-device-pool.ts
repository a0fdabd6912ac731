// Devices spread over worker threads, so a fleet uses every core of the machine; the results'
// format does not change (the pool reports the same events as an in-thread one).
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { RpcPeer } from '../../net/rpc.ts';
import type { ChallengePublisher } from '../acme/http01-responder.ts';
import type { DeviceIdentity } from '../device/device-identity.ts';
import type { LegacyCredential } from '../client/certificate-store.ts';
import type { DevicePool, DevicePoolEvent, DevicePoolSpec, PoolTally, RetiredDevice } from './device-pool.ts';
import { portChannel, type DeviceWorkerApi, type FleetRunnerApi } from './worker-protocol.ts';
import type { ThreadStats } from './thread-stats.ts';

interface WorkerState {
  worker: Worker;
  peer: RpcPeer<FleetRunnerApi, DeviceWorkerApi>;
  sent: number;
}

export class WorkerDevicePool implements DevicePool {
  private readonly workers: WorkerState[];
  /** Which worker holds each device: the one its global index picks, for prepare and launch alike. */
  private readonly home = new Map<string, WorkerState>();

  constructor(spec: DevicePoolSpec, count: number, responder: ChallengePublisher, emit: (event: DevicePoolEvent) => void) {
    const entry = new URL('./device-worker-entry.js', import.meta.url);
    this.workers = Array.from({ length: count }, () => {
      const worker = new Worker(entry, { workerData: spec });
      const state: WorkerState = {
        worker,
        sent: 0,
        peer: new RpcPeer<FleetRunnerApi, DeviceWorkerApi>(portChannel(worker), {
          publish: async ({ token, keyAuthorization }) => responder.publish(token, keyAuthorization),
          remove: ({ token }) => responder.remove(token),
          event: (event) => emit(event),
          stats: ({ sent }) => {
            state.sent = sent;
          },
        }),
      };
      // A crashed worker's pending calls (its devices' launches among them) fail with the crash's cause.
      worker.on('error', (err) => state.peer.close(`worker thread crashed: ${err.message}`));
      worker.on('exit', (code) => state.peer.close(`worker thread exited with code ${code}`));
      return state;
    });
  }

  private of(identity: DeviceIdentity, globalIndex: number): WorkerState {
    let state = this.home.get(identity.deviceId);
    if (!state) this.home.set(identity.deviceId, (state = this.workers[globalIndex % this.workers.length]!));
    return state;
  }

  private holder(id: string): WorkerState {
    const state = this.home.get(id);
    if (!state) throw new Error(`no device ${id} in this pool`);
    return state;
  }

  /** Groups device ids by the worker that holds them. */
  private byWorker(ids: string[]): Map<WorkerState, string[]> {
    const groups = new Map<WorkerState, string[]>();
    for (const id of ids) {
      const state = this.holder(id);
      groups.set(state, [...(groups.get(state) ?? []), id]);
    }
    return groups;
  }

  prepare(identity: DeviceIdentity, globalIndex: number): Promise<void> {
    return this.of(identity, globalIndex).peer.call('prepare', { identity, globalIndex });
  }

  launch(identity: DeviceIdentity, globalIndex: number): Promise<void> {
    return this.of(identity, globalIndex).peer.call('launch', { identity, globalIndex });
  }

  requestCertificate(identity: DeviceIdentity, globalIndex: number): Promise<string> {
    return this.of(identity, globalIndex).peer.call('requestCertificate', { identity, globalIndex });
  }

  launchCertified(identity: DeviceIdentity, globalIndex: number, certificateChainPem: string): Promise<void> {
    return this.of(identity, globalIndex).peer.call('launchCertified', { identity, globalIndex, certificateChainPem });
  }

  launchLegacy(identity: DeviceIdentity, globalIndex: number, credential: LegacyCredential): Promise<void> {
    return this.of(identity, globalIndex).peer.call('launchLegacy', { identity, globalIndex, credential });
  }

  sent(): number {
    return this.workers.reduce((sum, w) => sum + w.sent, 0);
  }

  async connectedIds(): Promise<string[]> {
    return (await Promise.all(this.workers.map((w) => w.peer.call('connectedIds')))).flat();
  }

  async restartSome(): Promise<string[]> {
    return (await Promise.all(this.workers.map((w) => w.peer.call('restartSome')))).flat();
  }

  async operationalSerials(ids: string[]): Promise<Record<string, string>> {
    const answers = await Promise.all([...this.byWorker(ids)].map(([w, group]) => w.peer.call('operationalSerials', { ids: group })));
    return Object.assign({}, ...answers);
  }

  disconnectedAfter(id: string, sinceEpochMs: number, timeoutMs: number): Promise<number> {
    return this.holder(id).peer.call('disconnectedAfter', { id, sinceEpochMs, timeoutMs });
  }

  async retire(ids: string[]): Promise<Record<string, RetiredDevice>> {
    const answers = await Promise.all([...this.byWorker(ids)].map(([w, group]) => w.peer.call('retire', { ids: group })));
    return Object.assign({}, ...answers);
  }

  /** The workers' last readings once they are stopped: a run's CPU is read after its pool stopped. */
  private lastStats: Record<string, ThreadStats> | undefined;

  async threadStats(reset = false): Promise<Record<string, ThreadStats>> {
    if (this.lastStats) return this.lastStats;
    const stats = await Promise.all(this.workers.map((w) => w.peer.call('threadStats', { reset })));
    return Object.fromEntries(stats.map((s, i) => [`devices-${i + 1}`, s]));
  }

  async stop(): Promise<PoolTally> {
    const answers = await Promise.all(this.workers.map((w) => w.peer.call('stop')));
    answers.forEach((a, i) => (this.workers[i]!.sent = a.sent));
    this.lastStats = await this.threadStats();
    await Promise.all(
      this.workers.map(async (w) => {
        const exited = once(w.worker, 'exit');
        await w.worker.terminate();
        await exited;
      }),
    );
    return { devices: Object.assign({}, ...answers.map((a) => a.devices)), errors: answers.flatMap((a) => a.errors) };
  }
}
