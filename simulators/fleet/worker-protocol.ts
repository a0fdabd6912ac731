// Messages between the fleet runner and its device worker threads.
import type { DeviceIdentity } from '../device/device-identity.ts';
import type { DevicePoolEvent } from './device-pool.ts';

export type WorkerRequest =
  | { type: 'launch'; identity: DeviceIdentity; globalIndex: number }
  | { type: 'published'; id: number }
  | { type: 'restart'; id: number }
  | { type: 'connected'; id: number }
  | { type: 'stop'; id: number };

export type WorkerMessage =
  | { type: 'event'; event: DevicePoolEvent }
  | { type: 'stats'; sent: number }
  | { type: 'connected-ids'; id: number; ids: string[] }
  | { type: 'publish'; id: number; token: string; keyAuthorization: string }
  | { type: 'remove'; token: string }
  | { type: 'restarted'; id: number; ids: string[] }
  | { type: 'stopped'; id: number; lastSeq: Record<string, number>; sent: number };
