// The end both scenario families share: provisioning turned off again (only in a lab this
// command started), the service's inventory checked against what step-ca logged as issued, and
// the part of the result that says when the run ran and how its executor did.
import { TimeoutError } from '../environments/wait.ts';
import { causeOf } from '../simulators/fleet/device-pool.ts';
import type { ProvisioningAdminClient } from '../simulators/client/admin-client.ts';
import type { ExecutorStats, RunResult } from '../evidence/perf/summary-schema.ts';
import type { FleetLab } from './fleet-lab.ts';
import { checkInventory } from './inventory-check.ts';

interface RunEnd {
  startedAt: Date;
  elapsedMs: number;
  firstDevice: number;
  executor: ExecutorStats;
  signal?: AbortSignal;
}

/** Where the end's own failures are counted: the run's errors by cause and its timeouts. */
interface RunEndSink {
  error(cause: string): void;
  timeout(error: TimeoutError): void;
}

type RunResultStart = Pick<RunResult, 'partial' | 'startedAt' | 'finishedAt' | 'elapsedMs' | 'firstDevice' | 'executor' | 'inventory'>;

export async function finishRun(lab: FleetLab, admin: ProvisioningAdminClient, run: RunEnd, sink: RunEndSink): Promise<RunResultStart> {
  if (lab.owned) await admin.turnOff().catch((err: unknown) => sink.error(`turning provisioning off: ${causeOf(err)}`));
  const inventory = lab.issuanceLogs.length > 0 ? await checkInventory(admin, lab.issuanceLogs) : undefined;
  if (inventory?.timeout) sink.timeout(new TimeoutError(inventory.timeout));
  return {
    partial: run.signal?.aborted ?? false,
    startedAt: run.startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    elapsedMs: run.elapsedMs,
    firstDevice: run.firstDevice,
    executor: run.executor,
    inventory,
  };
}
