import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRootCa, issueLeaf } from '../../../x509/certificate-authority.ts';
import { AuditLog } from '../../../services/provisioning/audit-log.ts';
import { Enrolments, IdentityRules } from '../../../services/provisioning/identities.ts';
import { Inventory, normalizeSerial } from '../../../services/provisioning/inventory.ts';
import { supersede, type SupersedeContext } from '../../../services/provisioning/supersede.ts';

const root = await createRootCa({ commonName: 'Supersede Test Root', organization: 'ecm-lab', algorithm: 'ecdsa-p256', validityDays: 2 });
const victimCredential = await issueLeaf(root, { commonName: '127.0.0.5', ipAddresses: ['127.0.0.5'], extendedKeyUsages: ['clientAuth'] });
const victimSerial = normalizeSerial(victimCredential.certificate.serialNumber);
const NOW = Date.now();

/** The service's stores in memory, and a bootstrap authority that records what it was asked to revoke (or refuses). */
function service(options: { revokeFails?: boolean } = {}) {
  const revoked: Array<{ serial: string; reason: string }> = [];
  const ctx: SupersedeContext = {
    inventory: Inventory.open(':memory:'),
    audit: new AuditLog(),
    now: () => NOW,
    authorities: {
      bootstrap: {
        revoke: async (serial, reason) => {
          if (options.revokeFails) throw new Error('step-ca answered 500');
          revoked.push({ serial, reason });
        },
      },
    },
  };
  const superseded = () => ctx.audit.recent().filter((r) => r.event === 'enrolment-superseded');
  return { ctx, revoked, superseded };
}

/** The registry's answer when a second credential for the victim's address asks for the victim's identity. */
function takeOver(): string {
  const enrolments = Enrolments.open(':memory:', new IdentityRules({ applicationIdentity: 'lumia', reserved: [] }));
  const ask = (serial: string) => ({ identity: 'RVS-1', credential: { serial, address: '127.0.0.5' }, namedIdentity: undefined, namedAddress: undefined });
  enrolments.decide(ask(victimSerial));
  const decision = enrolments.decide(ask('bb'));
  assert.ok(decision.allow && decision.change === 'supersede', JSON.stringify(decision));
  enrolments.close();
  return decision.superseded!;
}

test('the credential the registry says held the identity is revoked as superseded, marked in the inventory and audited', async () => {
  const { ctx, revoked, superseded } = service();
  ctx.inventory.record(victimCredential.certificatePem, { kind: 'bootstrap' });
  assert.equal(await supersede(ctx, takeOver(), 'RVS-1'), 'revoked');
  assert.deepEqual(revoked, [{ serial: victimSerial, reason: 'superseded' }]);
  assert.deepEqual([ctx.inventory.get(victimSerial)?.status, ctx.inventory.get(victimSerial)?.revocationReason], ['revoked', 'superseded']);
  assert.deepEqual(superseded().map((r) => [r.serial, r.deviceId, r.outcome, r.inInventory]), [[victimSerial, 'RVS-1', 'revoked', true]]);
});

test('a credential the inventory never recorded is revoked all the same, by the serial the registry held', async () => {
  const { ctx, revoked, superseded } = service();
  assert.equal(await supersede(ctx, takeOver(), 'RVS-1'), 'revoked');
  assert.deepEqual(revoked, [{ serial: victimSerial, reason: 'superseded' }], 'the superseded credential was left live');
  assert.deepEqual(superseded().map((r) => [r.serial, r.outcome, r.inInventory]), [[victimSerial, 'revoked', false]]);
});

test('a credential already revoked or expired is not revoked again, and the supersede is audited with why', async () => {
  const revokedBefore = service();
  revokedBefore.ctx.inventory.record(victimCredential.certificatePem, { kind: 'bootstrap' });
  revokedBefore.ctx.inventory.markRevoked(victimSerial, 'keyCompromise');
  assert.equal(await supersede(revokedBefore.ctx, victimSerial, 'RVS-1'), 'already-revoked');
  assert.deepEqual(revokedBefore.revoked, []);
  assert.equal(revokedBefore.ctx.inventory.get(victimSerial)?.revocationReason, 'keyCompromise', 'the first reason stays');

  const expired = service();
  expired.ctx.inventory.record(victimCredential.certificatePem, { kind: 'bootstrap' });
  const late = { ...expired.ctx, now: () => victimCredential.certificate.notAfter.getTime() + 1 };
  assert.equal(await supersede(late, victimSerial, 'RVS-1'), 'expired');
  assert.deepEqual(expired.revoked, []);
  assert.deepEqual([...revokedBefore.superseded(), ...expired.superseded()].map((r) => r.outcome), ['already-revoked', 'expired']);
});

test('a revocation step-ca refuses fails the supersede: nothing is marked or audited as revoked', async () => {
  const { ctx, superseded } = service({ revokeFails: true });
  ctx.inventory.record(victimCredential.certificatePem, { kind: 'bootstrap' });
  await assert.rejects(supersede(ctx, victimSerial, 'RVS-1'), /step-ca answered 500/);
  assert.equal(ctx.inventory.get(victimSerial)?.status, 'active');
  assert.deepEqual(superseded(), []);
});
