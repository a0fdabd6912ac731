// What the engineer does before a fleet arrives: open provisioning for exactly the fleet's
// addresses and its applications' (one per segment), and start the application that receives
// every device's telemetry. Every segment sets the same white list, so segments sharing a lab
// agree. A shared lab turns itself off after the longest a segment may run; a lab of its own is
// turned off at the end of the run.
import path from 'node:path';
import type { ProvisioningAdminClient } from '../simulators/client/admin-client.ts';
import type { ReceivedTelemetry } from '../simulators/app/lumia-application.ts';
import { ApplicationThread } from '../simulators/fleet/application-thread.ts';
import { loopbackAddress } from '../simulators/client/addresses.ts';
import { ClientBlocks } from './client-blocks.ts';
import type { LabEndpoints } from '../simulators/client/lab-endpoints.ts';
import { RECONNECT_MS } from '../simulators/fleet/device-pool.ts';
import type { Segment } from '../evidence/perf/summary-schema.ts';

/** The segment's application identity: segments sharing a lab each run one of their own (one identity is one session). */
export function segmentApplication(base: string, segment: Segment, index = segment.index): string {
  return segment.count > 1 ? `${base}-seg${index}of${segment.count}` : base;
}

export const APPLICATION_BLOCK = 120;

/**
 * Where a fleet's clients are: by default the devices in loopback block 0 and the applications in
 * a block of their own; with `--client-addresses`, in its block or blocks (client-blocks.ts).
 */
export class FleetAddresses {
  readonly blocks: ClientBlocks | undefined;

  constructor(clientAddresses: string | undefined, segment: Segment) {
    this.blocks = clientAddresses === undefined ? undefined : ClientBlocks.of(clientAddresses, segment);
  }

  /** Segment `index`'s (1-based) application. */
  application(index: number): string {
    return this.blocks ? this.blocks.application(index) : loopbackAddress(index - 1, APPLICATION_BLOCK);
  }

  /** The white-list entries of `devices` devices (every segment's). */
  devices(devices: number): string[] {
    return this.blocks ? this.blocks.deviceRanges() : [`${loopbackAddress(0)}-${loopbackAddress(Math.max(0, devices - 1))}`];
  }
}

export async function openProvisioning(
  admin: ProvisioningAdminClient,
  options: { shared: boolean; devices: number; segment: Segment; applicationIdentity: string; longestRunSeconds: number; addresses: FleetAddresses },
): Promise<void> {
  await admin.turnOn(options.shared ? Math.ceil(options.longestRunSeconds + 600) : undefined);
  const { addresses } = options;
  await admin.setWhitelist([
    ...Array.from({ length: options.segment.count }, (_, i) => `${addresses.application(i + 1)}=${segmentApplication(options.applicationIdentity, options.segment, i + 1)}`),
    ...addresses.devices(options.devices),
  ]);
}

/**
 * The application that receives every device's telemetry, on a thread of its own
 * (simulators/fleet/application-thread.ts): apart from the devices' and the runner's event loop,
 * and measured apart.
 */
export async function startApplication(options: {
  endpoints: LabEndpoints;
  storeRoot: string;
  logFile: string;
  topicRoot: string;
  qos: 0 | 1;
  segment: Segment;
  applicationIdentity: string;
  addresses: FleetAddresses;
  onTelemetry(entry: ReceivedTelemetry): void;
}): Promise<ApplicationThread> {
  const { responder, ...endpoints } = options.endpoints;
  return ApplicationThread.start(
    {
      endpoints,
      address: options.addresses.application(options.segment.index),
      storeDir: path.join(options.storeRoot, 'lumia'),
      topicRoot: options.topicRoot,
      logFile: options.logFile,
      reconnectPeriodMs: RECONNECT_MS,
      qos: options.qos,
      commonName: segmentApplication(options.applicationIdentity, options.segment),
    },
    responder,
    options.onTelemetry,
  );
}
