// The inventory is complete when it holds every certificate the two step-ca authorities logged as
// issued. That proves something only if step-ca's log was read at all: the installation's own
// certificates must be among the logged ones, so an empty or unreadable log fails instead of
// making "every logged certificate" vacuously true.
import assert from 'node:assert/strict';
import { waitFor } from './logs.ts';
import { issuedOnLog } from '../../services/provisioning/issuance-feed.ts';
import { certificateSerial } from '../../x509/certificates.ts';
import type { LabWorld } from './world.ts';


export async function assertInventoryHoldsLoggedIssuance(world: LabWorld): Promise<void> {
  const clients = world.allClients().map((c) => ({ name: c.commonName, operational: certificateSerial(c.store.loadOperational()!.certificateChainPem), bootstrap: certificateSerial(c.store.loadBootstrap()!.certificateChainPem) }));
  const read = () => ({ operational: new Set(issuedOnLog(world.logFile('step-ca'))), bootstrap: new Set(issuedOnLog(world.logFile('bootstrap-ca'))) });
  // A component's log reaches its file a little after the answer (a container's through `podman logs -f`).
  const logs = await waitFor('both step-ca logs to report the installation\'s certificates', () => {
    const now = read();
    return clients.every((c) => now.operational.has(c.operational) && now.bootstrap.has(c.bootstrap)) && now;
  }, { timeoutMs: 10_000 }).catch(read);
  const { operational, bootstrap } = logs;
  for (const client of clients) {
    assert.ok(operational.has(client.operational), `step-ca's log (${operational.size} issuances read) does not report ${client.name}'s operational certificate`);
    assert.ok(bootstrap.has(client.bootstrap), `the bootstrap step-ca's log (${bootstrap.size} issuances read) does not report ${client.name}'s bootstrap credential`);
  }
  const logged = [...operational, ...bootstrap];
  const inventory = async () => new Set((await world.admin.inventory()).map((c) => c.serial));
  const held = await waitFor('the inventory to hold every logged certificate', async () => {
    const serials = await inventory();
    return logged.every((s) => serials.has(s)) && serials;
  }, { timeoutMs: 2000 }).catch(inventory);
  const missing = logged.filter((s) => !held.has(s));
  assert.deepEqual(missing, [], `certificates step-ca issued that the inventory lacks (of ${logged.length} logged)`);
  world.attach(JSON.stringify({ loggedByStepCa: operational.size, loggedByBootstrapCa: bootstrap.size, inInventory: held.size }), { mediaType: 'application/json', fileName: 'inventory-completeness.json' });
}
