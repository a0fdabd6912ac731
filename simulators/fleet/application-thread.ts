// The managing application of a fleet run on a thread of its own: its MQTT receiving and parsing
// of every device's telemetry no longer share an event loop with the devices and the fleet runner,
// and its CPU and event-loop delay are measured apart (issue 21). The runner sees each received
// message as before, with the fields its accounting reads (readings are not carried over).
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { RpcPeer } from '../../net/rpc.ts';
import type { ChallengePublisher } from '../acme/http01-responder.ts';
import type { ReceivedTelemetry } from '../app/lumia-application.ts';
import type { ApplicationRunnerApi, ApplicationSpec, ApplicationWorkerApi } from './application-protocol.ts';
import type { ThreadStats } from './thread-stats.ts';
import { portChannel } from './worker-protocol.ts';

export class ApplicationThread {
  readonly #worker: Worker;
  readonly #peer: RpcPeer<ApplicationRunnerApi, ApplicationWorkerApi>;
  #last: ThreadStats | undefined;

  private constructor(spec: ApplicationSpec, responder: ChallengePublisher, onTelemetry: (entry: ReceivedTelemetry) => void) {
    this.#worker = new Worker(new URL('./application-worker-entry.js', import.meta.url), { workerData: spec });
    this.#peer = new RpcPeer<ApplicationRunnerApi, ApplicationWorkerApi>(portChannel(this.#worker), {
      publish: async ({ token, keyAuthorization }) => responder.publish(token, keyAuthorization),
      remove: ({ token }) => responder.remove(token),
      telemetry: ({ batch }) => {
        for (const [deviceId, seq, sentAt, receivedAt, firmwareVersion, legacy, topic] of batch) {
          onTelemetry({ topic, message: { deviceId, seq, sentAt, firmwareVersion, readings: {} }, receivedAt, authentication: legacy ? 'legacy-credential' : 'certificate' });
        }
      },
    });
    this.#worker.on('error', (err) => this.#peer.close(`the application's thread crashed: ${err.message}`));
    this.#worker.on('exit', (code) => this.#peer.close(`the application's thread exited with code ${code}`));
  }

  /** Starts the thread, provisions the application and connects it. */
  static async start(spec: ApplicationSpec, responder: ChallengePublisher, onTelemetry: (entry: ReceivedTelemetry) => void): Promise<ApplicationThread> {
    const thread = new ApplicationThread(spec, responder, onTelemetry);
    try {
      await thread.#peer.call('start');
    } catch (err) {
      await thread.#worker.terminate();
      throw err;
    }
    return thread;
  }

  /** The thread's last readings once it stopped: a run's CPU is read after the application disconnected. */
  async threadStats(reset = false): Promise<ThreadStats> {
    return this.#last ?? this.#peer.call('threadStats', { reset });
  }

  /** Disconnects the application (every message it received delivered first) and ends its thread. */
  async disconnect(): Promise<void> {
    try {
      await this.#peer.call('disconnect');
      this.#last = await this.#peer.call('threadStats', { reset: false });
    } finally {
      const exited = once(this.#worker, 'exit');
      await this.#worker.terminate();
      await exited;
    }
  }
}
