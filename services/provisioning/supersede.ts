// Rule 6 of the trust model (identities.ts): an identity moves to a new bootstrap credential for
// the address it was enrolled from, and the credential it held before can buy nothing any more.
// The serial comes from the identity registry, which is what bound the identity; the inventory
// only says whether the credential is already dead (revoked or expired), so a credential the
// inventory never recorded is revoked all the same rather than left live.
import type { ServiceContext } from './context.ts';
import type { StepCaClient } from './step-ca-client.ts';

/** What superseding needs of the service: its stores, its clock and the bootstrap authority's revocation. */
export type SupersedeContext = Pick<ServiceContext, 'inventory' | 'audit' | 'now'> & { authorities: { bootstrap: Pick<StepCaClient, 'revoke'> } };

/** What became of the superseded credential: revoked now, or already unusable at step-ca. */
export type SupersedeOutcome = 'revoked' | 'already-revoked' | 'expired';

/**
 * Revokes the credential `serial` (lowercase hex, as the registry holds it) that held `identity`,
 * and audits `enrolment-superseded` in every case, with what became of it. A failed revocation
 * throws (and is not audited as done): the caller refuses the new credential rather than leave
 * two live ones for one identity.
 */
export async function supersede(ctx: SupersedeContext, serial: string, identity: string): Promise<SupersedeOutcome> {
  const old = ctx.inventory.get(serial);
  const outcome: SupersedeOutcome = old?.status === 'revoked' ? 'already-revoked' : old && old.notAfter.getTime() < ctx.now() ? 'expired' : 'revoked';
  if (outcome === 'revoked') {
    await ctx.authorities.bootstrap.revoke(serial, 'superseded', `${identity} moved to a new bootstrap credential for the same address`);
    ctx.inventory.markRevoked(serial, 'superseded', new Date(ctx.now()));
  }
  ctx.audit.write({ event: 'enrolment-superseded', decision: 'info', serial, deviceId: identity, reason: 'superseded', outcome, inInventory: old !== undefined });
  return outcome;
}
