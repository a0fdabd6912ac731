// What a pool of fleet devices is to the fleet runner, in this thread or over worker threads:
// its spec (plain data that crosses to a worker), the events it reports and its interface.
import type { KeyAlgorithm } from '../../x509/keys.ts';
import type { CertificateTrack, FirmwarePolicy } from '../../config/firmware-policy.ts';
import type { PhaseTimings } from '../client/acme-bootstrap.ts';
import type { LegacyCredential } from '../client/certificate-store.ts';
import type { LabEndpoints } from '../client/lab-endpoints.ts';
import type { DeviceIdentity } from '../device/device-identity.ts';
import type { RenewalEvent } from './renewal-loop.ts';
import type { ThreadStats } from './thread-stats.ts';

/** Everything a pool needs, as plain data so it can cross to a worker thread. */
export interface DevicePoolSpec {
  endpoints: Omit<LabEndpoints, 'responder'>;
  topicRoot: string;
  logFile: string;
  storeRoot: string;
  qos: 0 | 1;
  telemetryIntervalMs: number;
  /** Connected devices publish telemetry, or only hold their session (a connect storm). */
  operate: 'telemetry' | 'hold';
  certLifetimeSeconds?: number;
  /** seed 000's mixed fleet: which firmware provisions (and renews) itself; the lab's devices.* settings. */
  firmware?: FirmwarePolicy;
  /**
   * MQTT-scale runs: devices get their certificate straight from the lab's issuing CA instead of
   * ACME + X5C, so thousands of distinct identities connect in seconds. PEMs, so a worker thread
   * can issue too; the key never leaves the lab's process.
   */
  directIssuer?: DirectIssuer;
  /** full-flow with `--pre-made-keys`: each device's keys and CSRs made by prepare(), before the clock starts. */
  preMadeKeys?: boolean;
  /** `--client-addresses`: the block devices take their addresses from, by global index; the default loopback plan when absent. */
  clientAddresses?: string;
  /** Subtracted from a device's global index to give its place in that block: the segment's first device when the block is the segment's own. */
  clientAddressOffset?: number;
}

/** The lab's issuing CA, for `--certificates issued`. */
export interface DirectIssuer {
  certificatePem: string;
  privateKeyPem: string;
  rootPem: string;
  algorithm: KeyAlgorithm;
  crlUrl: string;
}

export type DevicePoolEvent =
  /** `at`: epoch milliseconds (timeOrigin + now), comparable across threads. */
  | { type: 'provisioned'; deviceId: string; timings: PhaseTimings; totalMs: number; retried: boolean; at: number }
  | { type: 'failed'; deviceId: string; cause: string }
  /** A device that does not provision itself came up: with the service team's certificate, or on the legacy listener. */
  | { type: 'connected'; deviceId: string; track: Exclude<CertificateTrack, 'self-provisioning'>; authentication: 'certificate' | 'legacy-credential'; connectMs: number; at: number }
  | RenewalEvent;

/** What the pool knows of each device at the end of a run. */
export interface DeviceTally {
  /** The last sequence number that counts: the last sent, or for a retired device the last acknowledged. */
  lastSeq: number;
  /** When (epoch ms) the broker or the network closed its connection, not the device itself. */
  unexpectedDisconnects: number[];
}

export interface PoolTally {
  devices: Record<string, DeviceTally>;
  errors: string[];
}

/** A device taken off the fleet because its certificate was revoked. */
export interface RetiredDevice {
  /** The last sequence number the broker acknowledged: what the application may expect. */
  acknowledged: number;
  /** The last one it sent: those above `acknowledged` are excluded from the accounting. */
  sent: number;
}

export interface DevicePool {
  /** `--certificates issued`: the device's certificate from the lab CA; `--pre-made-keys`: its keys and CSRs; before the run is measured. */
  prepare(identity: DeviceIdentity, globalIndex: number): Promise<void>;
  /** Brings a device up; resolves once it is connected, rejects with the cause when it gave up (the event says so too). */
  launch(identity: DeviceIdentity, globalIndex: number): Promise<void>;
  /** Firmware the service team certifies: the device makes a key (kept in its store) and a CSR for the engineer. */
  requestCertificate(identity: DeviceIdentity, globalIndex: number): Promise<string>;
  /** Installs the certificate the engineer had issued, powers up with it and operates; resolves once connected. */
  launchCertified(identity: DeviceIdentity, globalIndex: number, certificateChainPem: string): Promise<void>;
  /** Below "x": keeps the engineer's legacy credential (0600), powers up on the legacy listener and operates. */
  launchLegacy(identity: DeviceIdentity, globalIndex: number, credential: LegacyCredential): Promise<void>;
  /** Messages published so far (at most a fraction of a second old for worker pools). */
  sent(): number;
  connectedIds(): Promise<string[]>;
  /** A tenth of the connected devices (at least one) restart their process; resolves with their ids once back. */
  restartSome(): Promise<string[]>;
  /** Serial numbers (hex) of these devices' operational certificates. */
  operationalSerials(ids: string[]): Promise<Record<string, string>>;
  /** Resolves with the epoch ms at which the broker closed the device's connection after `sinceEpochMs`. */
  disconnectedAfter(id: string, sinceEpochMs: number, timeoutMs: number): Promise<number>;
  /** Takes revoked devices off the fleet: no telemetry, no reconnects. */
  retire(ids: string[]): Promise<Record<string, RetiredDevice>>;
  /** Stops telemetry and renewals, disconnects, and tallies each device; `errors`: causes of disconnects that failed. */
  stop(): Promise<PoolTally>;
  /**
   * CPU and event-loop delay of the pool's own threads by label (devices-1, ...); none when the
   * devices run in the caller's thread. `reset`: the delay histograms start anew (the clock starts).
   */
  threadStats(reset?: boolean): Promise<Record<string, ThreadStats>>;
}
