// UC-05 with a revocation by the lab's own root (rotatePki('intermediate')): the root revokes the
// issuing intermediate on its CRL and signs a new one; the old intermediate's final CRL lists
// every certificate it issued. What clients see of it is the CRL set the service publishes.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { request } from '../../net/https-client.ts';
import { normalizeSerial } from '../../x509/certificates.ts';
import { parseCrls } from '../../x509/crls.ts';
import type { LabWorld } from './world.ts';

/** The intermediate step-ca signs with now (the lab's own), by serial. */
function issuingIntermediateSerial(world: LabWorld): string {
  return normalizeSerial(world.owned('rotate-intermediate').pki.intermediate.certificate.serialNumber);
}

/** The root revokes the issuing intermediate and signs a new one; step-ca, the bootstrap CA, the broker and the service restart on it. */
export async function rootRevokesIntermediate(world: LabWorld): Promise<void> {
  world.certificatesBeforeRotation = new Map(world.allClients().map((c) => [c, c.store.loadOperational()!]));
  world.intermediateSerialBefore = issuingIntermediateSerial(world);
  await world.owned('rotate-intermediate').rotatePki('intermediate');
  assert.notEqual(issuingIntermediateSerial(world), world.intermediateSerialBefore, 'step-ca still signs with the old intermediate');
}

/** Among the CRLs the service publishes to clients, one signed by the operational root lists the old intermediate. */
export async function assertRootCrlListsOldIntermediate(world: LabWorld): Promise<void> {
  const res = await request(`${world.session.endpoints.insecureUrl}/api/v1/crl`, {});
  assert.equal(res.status, 200, `the CRL download failed: HTTP ${res.status}`);
  const root = new X509Certificate(world.session.endpoints.trustedRootPem);
  const byRoot = parseCrls(res.text()).filter((crl) => crl.signedBy(root));
  assert.ok(byRoot.length > 0, 'no published CRL is signed by the operational root');
  const serial = world.intermediateSerialBefore!;
  assert.ok(byRoot.some((crl) => crl.serials.has(serial)), `the root's CRL does not list the old intermediate ${serial}`);
  world.attach(JSON.stringify({ revokedIntermediate: serial, issuingNow: issuingIntermediateSerial(world), rootCrls: byRoot.map((c) => ({ thisUpdate: c.thisUpdate, revoked: [...c.serials] })) }, null, 1), { mediaType: 'application/json', fileName: 'root-crl.json' });
}
