// The inventory is complete when it holds every certificate the two step-ca authorities logged as
// issued. That proves something only if step-ca's log was read at all: the installation's own
// certificates must be among the logged ones, so an empty or unreadable log fails instead of
// making "every logged certificate" vacuously true.
import assert from 'node:assert/strict';
import { waitFor } from '../../environments/wait.ts';
import { issuedOnLog } from '../../services/provisioning/issuance-feed.ts';
import { inspectCertificate, normalizeSerial } from '../../x509/certificates.ts';
import type { LabWorld } from './world.ts';

const serialOf = (chainPem: string) => normalizeSerial(inspectCertificate(chainPem).serialNumber);

export async function assertInventoryHoldsLoggedIssuance(world: LabWorld): Promise<void> {
  const operational = new Set(issuedOnLog(world.logFile('step-ca')));
  const bootstrap = new Set(issuedOnLog(world.logFile('bootstrap-ca')));
  for (const client of world.allClients()) {
    assert.ok(operational.has(serialOf(client.store.loadOperational()!.certificateChainPem)), `step-ca's log (${operational.size} issuances read) does not report ${client.commonName}'s operational certificate`);
    assert.ok(bootstrap.has(serialOf(client.store.loadBootstrap()!.certificateChainPem)), `the bootstrap step-ca's log (${bootstrap.size} issuances read) does not report ${client.commonName}'s bootstrap credential`);
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
