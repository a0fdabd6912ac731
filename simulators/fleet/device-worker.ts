// A worker thread hosting part of a fleet's devices. The http-01 responder stays in the main
// thread (one socket on the challenge port for every device): token publications cross over
// and are acknowledged before the device asks step-ca to validate.
import { parentPort, workerData } from 'node:worker_threads';
import { LocalDevicePool, type DevicePoolSpec } from './device-pool.ts';
import type { WorkerRequest, WorkerMessage } from './worker-protocol.ts';

const port = parentPort!;
const send = (message: WorkerMessage) => port.postMessage(message);
const acks = new Map<number, () => void>();
let nextRequest = 0;

const responderProxy = {
  publish(token: string, keyAuthorization: string): Promise<void> {
    const id = nextRequest++;
    return new Promise<void>((resolve) => {
      acks.set(id, resolve);
      send({ type: 'publish', id, token, keyAuthorization });
    });
  },
  remove(token: string): void {
    send({ type: 'remove', token });
  },
};

const pool = new LocalDevicePool(workerData as DevicePoolSpec, responderProxy, (event) => send({ type: 'event', event }));

// The sent counter for the main thread's progress line, a few times a second; the connected
// devices only when asked (a fault needs them), not on every tick.
const stats = setInterval(() => send({ type: 'stats', sent: pool.sent() }), 250);

port.on('message', (request: WorkerRequest) => {
  switch (request.type) {
    case 'launch':
      pool.launch(request.identity, request.globalIndex);
      break;
    case 'published':
      acks.get(request.id)?.();
      acks.delete(request.id);
      break;
    case 'connected':
      void pool.connectedIds().then((ids) => send({ type: 'connected-ids', id: request.id, ids }));
      break;
    case 'restart':
      void pool.restartSome().then((ids) => send({ type: 'restarted', id: request.id, ids }));
      break;
    case 'stop':
      void pool.stop().then((lastSeq) => {
        clearInterval(stats);
        send({ type: 'stopped', id: request.id, lastSeq, sent: pool.sent() });
      });
      break;
  }
});
