// The calls between the fleet runner and the application's thread (net/rpc.ts over the worker's
// port). The application receives every device's telemetry on its own event loop, apart from the
// devices and the fleet runner; what it received crosses to the runner in batches, each message
// as a tuple of the fields the run's accounting reads.
import type { LabEndpoints } from '../client/lab-endpoints.ts';
import type { ThreadStats } from './thread-stats.ts';

/** What the application's thread starts from: plain data. */
export interface ApplicationSpec {
  endpoints: Omit<LabEndpoints, 'responder'>;
  address: string;
  storeDir: string;
  topicRoot: string;
  logFile: string;
  reconnectPeriodMs: number;
  qos: 0 | 1;
  commonName: string;
}

/** One received telemetry message: device id, sequence number, sent at, received at (epoch ms), firmware, 1 = legacy credential, topic. */
export type TelemetryTuple = [string, number, number, number, string, 0 | 1, string];

/** Handlers of the application's thread, called by the fleet runner. */
export interface ApplicationWorkerApi {
  [method: string]: (params: never) => unknown;
  /** Provisions the application (ACME, X5C) and connects it. */
  start(): Promise<void>;
  /** Disconnects; every message received before is delivered to the runner first. */
  disconnect(): Promise<void>;
  threadStats(params: { reset: boolean }): ThreadStats;
}

/** Handlers of the fleet runner, called by the application's thread. */
export interface ApplicationRunnerApi {
  [method: string]: (params: never) => unknown;
  publish(params: { token: string; keyAuthorization: string }): Promise<void>;
  remove(params: { token: string }): void;
  telemetry(params: { batch: TelemetryTuple[] }): void;
}
