// A worker thread hosting part of a fleet's devices: a LocalDevicePool whose events, challenge
// publications and answers cross to the fleet runner over typed calls.
import { parentPort, workerData } from 'node:worker_threads';
import { RpcPeer } from '../../net/rpc.ts';
import { LocalDevicePool, type DevicePoolSpec } from './device-pool.ts';
import { portChannel, type DeviceWorkerApi, type FleetRunnerApi } from './worker-protocol.ts';
import { ThreadMonitor } from './thread-stats.ts';

const port = parentPort!;
const monitor = new ThreadMonitor();
let pool: LocalDevicePool;
// The sent counter for the main thread's progress line, a few times a second; everything else
// only when asked.
const stats = setInterval(() => void runner.call('stats', { sent: pool.sent() }), 250);

const runner: RpcPeer<DeviceWorkerApi, FleetRunnerApi> = new RpcPeer<DeviceWorkerApi, FleetRunnerApi>(portChannel(port), {
  prepare: ({ identity, globalIndex }) => pool.prepare(identity, globalIndex),
  launch: ({ identity, globalIndex }) => pool.launch(identity, globalIndex),
  requestCertificate: ({ identity, globalIndex }) => pool.requestCertificate(identity, globalIndex),
  launchCertified: ({ identity, globalIndex, certificateChainPem }) => pool.launchCertified(identity, globalIndex, certificateChainPem),
  launchLegacy: ({ identity, globalIndex, credential }) => pool.launchLegacy(identity, globalIndex, credential),
  connectedIds: () => pool.connectedIds(),
  restartSome: () => pool.restartSome(),
  operationalSerials: ({ ids }) => pool.operationalSerials(ids),
  disconnectedAfter: ({ id, sinceEpochMs, timeoutMs }) => pool.disconnectedAfter(id, sinceEpochMs, timeoutMs),
  retire: ({ ids }) => pool.retire(ids),
  threadStats({ reset }) {
    const stats = monitor.read();
    if (reset) monitor.reset();
    return stats;
  },
  async stop() {
    const tally = await pool.stop();
    clearInterval(stats);
    return { ...tally, sent: pool.sent() };
  },
});

pool = new LocalDevicePool(
  workerData as DevicePoolSpec,
  {
    publish: (token, keyAuthorization) => runner.call('publish', { token, keyAuthorization }),
    remove: (token) => void runner.call('remove', { token }),
  },
  (event) => void runner.call('event', event),
);
