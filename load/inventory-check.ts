// After a run: does the service's inventory hold every certificate the two step-ca authorities
// logged as issued (docs/trust-model.md, "Inventory and revocation")? The service follows both
// request logs a tenth of a second apart, so the check waits a bounded time for it to catch up.
import { issuedOnLog } from '../services/provisioning/issuance-feed.ts';
import type { ProvisioningAdminClient } from '../simulators/client/admin-client.ts';
import { TimeoutError, waitFor } from '../environments/wait.ts';
import type { InventoryCheck } from '../evidence/perf/summary-schema.ts';

export function compareInventory(inventorySerials: Iterable<string>, loggedSerials: Iterable<string>): Omit<InventoryCheck, 'timeout'> {
  const inventory = new Set(inventorySerials);
  const logged = new Set(loggedSerials);
  return {
    inventory: inventory.size,
    issuedOnLogs: logged.size,
    notInInventory: [...logged].filter((s) => !inventory.has(s)).length,
    notOnLogs: [...inventory].filter((s) => !logged.has(s)).length,
  };
}

export async function checkInventory(admin: ProvisioningAdminClient, logs: string[], timeoutMs = 5000): Promise<InventoryCheck> {
  let last: Omit<InventoryCheck, 'timeout'> | undefined;
  const probe = async () => {
    const serials = (await admin.inventory()).map((c) => c.serial);
    last = compareInventory(serials, logs.flatMap((file) => issuedOnLog(file)));
    return last.notInInventory === 0 ? last : undefined;
  };
  try {
    return await waitFor('the inventory to hold every certificate step-ca logged as issued', probe, { timeoutMs, intervalMs: 250 });
  } catch (err) {
    if (!(err instanceof TimeoutError) || !last) throw err;
    return { ...last, timeout: err.message };
  }
}
