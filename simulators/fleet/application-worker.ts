// The application's thread: a LumiaApplication whose ACME challenges cross to the fleet runner's
// responder and whose received telemetry crosses back in batches (every 20 ms, or 1,000 messages).
import { parentPort, workerData } from 'node:worker_threads';
import { RpcPeer } from '../../net/rpc.ts';
import { LumiaApplication } from '../app/lumia-application.ts';
import { flushClientLogs } from '../client/client-log.ts';
import type { ApplicationRunnerApi, ApplicationSpec, ApplicationWorkerApi, TelemetryTuple } from './application-protocol.ts';
import { ThreadMonitor } from './thread-stats.ts';
import { portChannel } from './worker-protocol.ts';

const BATCH_MS = 20;
const BATCH_MAX = 1000;

const spec = workerData as ApplicationSpec;
const monitor = new ThreadMonitor();
let batch: TelemetryTuple[] = [];
let timer: NodeJS.Timeout | undefined;

function send(): void {
  if (timer) clearTimeout(timer);
  timer = undefined;
  if (batch.length === 0) return;
  const out = batch;
  batch = [];
  void runner.call('telemetry', { batch: out });
}

const runner: RpcPeer<ApplicationWorkerApi, ApplicationRunnerApi> = new RpcPeer<ApplicationWorkerApi, ApplicationRunnerApi>(portChannel(parentPort!), {
  async start() {
    await app.provision();
    await app.getCertificate();
    await app.connect();
  },
  async disconnect() {
    await app.disconnect();
    send();
    await flushClientLogs();
  },
  threadStats({ reset }) {
    const stats = monitor.read();
    if (reset) monitor.reset();
    return stats;
  },
});

const app = new LumiaApplication({
  address: spec.address,
  storeDir: spec.storeDir,
  endpoints: {
    ...spec.endpoints,
    responder: {
      publish: (token, keyAuthorization) => runner.call('publish', { token, keyAuthorization }),
      remove: (token) => void runner.call('remove', { token }),
    },
  },
  topicRoot: spec.topicRoot,
  logFile: spec.logFile,
  reconnectPeriodMs: spec.reconnectPeriodMs,
  keepReceived: false,
  qos: spec.qos,
  commonName: spec.commonName,
  onTelemetry: (entry) => {
    const m = entry.message;
    batch.push([m.deviceId, m.seq, m.sentAt, entry.receivedAt, m.firmwareVersion, entry.authentication === 'legacy-credential' ? 1 : 0, entry.topic]);
    if (batch.length >= BATCH_MAX) send();
    else timer ??= setTimeout(send, BATCH_MS);
  },
});
