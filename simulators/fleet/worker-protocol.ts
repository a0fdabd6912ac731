// The calls between the fleet runner and its device worker threads (net/rpc.ts over the worker's
// port). The http-01 responder stays in the main thread (one socket on the challenge port for
// every device), so token publications cross over and are acknowledged before a device asks
// step-ca to validate.
import type { MessagePort, Worker } from 'node:worker_threads';
import type { Channel } from '../../net/rpc.ts';
import type { DeviceIdentity } from '../device/device-identity.ts';
import type { LegacyCredential } from '../client/certificate-store.ts';
import type { DevicePoolEvent, PoolTally, RetiredDevice } from './device-pool.ts';
import type { ThreadStats } from './thread-stats.ts';

type Device = { identity: DeviceIdentity; globalIndex: number };

/** Handlers of a worker, called by the fleet runner. */
export interface DeviceWorkerApi {
  [method: string]: (params: never) => unknown;
  prepare(params: Device): Promise<void>;
  launch(params: Device): Promise<void>;
  requestCertificate(params: Device): Promise<string>;
  launchCertified(params: Device & { certificateChainPem: string }): Promise<void>;
  launchLegacy(params: Device & { credential: LegacyCredential }): Promise<void>;
  connectedIds(): Promise<string[]>;
  restartSome(): Promise<string[]>;
  operationalSerials(params: { ids: string[] }): Promise<Record<string, string>>;
  disconnectedAfter(params: { id: string; sinceEpochMs: number; timeoutMs: number }): Promise<number>;
  retire(params: { ids: string[] }): Promise<Record<string, RetiredDevice>>;
  stop(): Promise<PoolTally & { sent: number }>;
  threadStats(params: { reset: boolean }): ThreadStats;
}

/** Handlers of the fleet runner, called by a worker. */
export interface FleetRunnerApi {
  [method: string]: (params: never) => unknown;
  publish(params: { token: string; keyAuthorization: string }): Promise<void>;
  remove(params: { token: string }): void;
  event(event: DevicePoolEvent): void;
  /** The worker's sent counter for the progress line, a few times a second. */
  stats(params: { sent: number }): void;
}

export function portChannel(port: MessagePort | Worker): Channel {
  return { send: (message) => port.postMessage(message), onMessage: (listener) => port.on('message', listener) };
}
