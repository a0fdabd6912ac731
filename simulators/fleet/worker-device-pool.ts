// Devices spread over worker threads, so a fleet uses every core of the machine; the results'
// format does not change (the pool reports the same events as an in-thread one).
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import type { ChallengePublisher } from '../acme/http01-responder.ts';
import type { DeviceIdentity } from '../device/device-identity.ts';
import type { DevicePool, DevicePoolEvent, DevicePoolSpec } from './device-pool.ts';
import type { WorkerMessage, WorkerRequest } from './worker-protocol.ts';

interface WorkerState {
  worker: Worker;
  sent: number;
}

export class WorkerDevicePool implements DevicePool {
  private readonly workers: WorkerState[];
  private readonly pending = new Map<number, (message: WorkerMessage) => void>();
  private nextRequest = 0;
  private launched = 0;

  constructor(spec: DevicePoolSpec, count: number, responder: ChallengePublisher, emit: (event: DevicePoolEvent) => void) {
    const entry = new URL('./device-worker-entry.js', import.meta.url);
    this.workers = Array.from({ length: count }, () => {
      const state: WorkerState = { worker: new Worker(entry, { workerData: spec }), sent: 0 };
      state.worker.on('message', (message: WorkerMessage) => {
        switch (message.type) {
          case 'event':
            emit(message.event);
            break;
          case 'stats':
            state.sent = message.sent;
            break;
          case 'publish':
            void Promise.resolve(responder.publish(message.token, message.keyAuthorization)).then(() =>
              state.worker.postMessage({ type: 'published', id: message.id } satisfies WorkerRequest),
            );
            break;
          case 'remove':
            responder.remove(message.token);
            break;
          case 'connected-ids':
          case 'restarted':
          case 'stopped':
            this.pending.get(message.id)?.(message);
            this.pending.delete(message.id);
            break;
        }
      });
      state.worker.on('error', (err) => emit({ type: 'failed', deviceId: '(worker)', cause: `worker thread crashed: ${err.message}` }));
      return state;
    });
  }

  private ask<T extends WorkerMessage>(state: WorkerState, type: 'connected' | 'restart' | 'stop'): Promise<T> {
    const id = this.nextRequest++;
    return new Promise<T>((resolve) => {
      this.pending.set(id, resolve as (m: WorkerMessage) => void);
      state.worker.postMessage({ type, id } satisfies WorkerRequest);
    });
  }

  launch(identity: DeviceIdentity, globalIndex: number): void {
    const state = this.workers[this.launched++ % this.workers.length]!;
    state.worker.postMessage({ type: 'launch', identity, globalIndex } satisfies WorkerRequest);
  }

  sent(): number {
    return this.workers.reduce((sum, w) => sum + w.sent, 0);
  }

  async connectedIds(): Promise<string[]> {
    const answers = await Promise.all(this.workers.map((w) => this.ask<Extract<WorkerMessage, { type: 'connected-ids' }>>(w, 'connected')));
    return answers.flatMap((a) => a.ids);
  }

  async restartSome(): Promise<string[]> {
    const answers = await Promise.all(this.workers.map((w) => this.ask<Extract<WorkerMessage, { type: 'restarted' }>>(w, 'restart')));
    return answers.flatMap((a) => a.ids);
  }

  async stop(): Promise<Record<string, number>> {
    const answers = await Promise.all(this.workers.map((w) => this.ask<Extract<WorkerMessage, { type: 'stopped' }>>(w, 'stop')));
    answers.forEach((a, i) => (this.workers[i]!.sent = a.sent));
    await Promise.all(this.workers.map(async (w) => {
      const exited = once(w.worker, 'exit');
      await w.worker.terminate();
      await exited.catch(() => undefined);
    }));
    return Object.assign({}, ...answers.map((a) => a.lastSeq));
  }
}
