// What the UC-04 steps with an external CA do and check, on the scenario's own lab: the operator
// revokes, the service reacts by itself (its audit log, step-ca's new chain), faults and attacks
// change nothing. The steps stay thin; the work is here, its facts in the World's `externalCa`.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { StartedExternalCa } from '../../environments/local/external-ca.ts';
import type { PkiRotation } from '../../environments/lab.ts';
import { GiveUp, waitFor } from './logs.ts';
import { auditRecords } from './audit-log.ts';
import { fetchExternalCrl, revokeAtExternalCa } from '../../net/external-ca-api.ts';
import { peerCertificateChain } from '../../net/peer-certificates.ts';
import type { AuditRecord } from '../../simulators/client/admin-client.ts';
import { certificateSerial, normalizeSerial, parseCertificate } from '../../x509/certificates.ts';
import { parseCrls } from '../../x509/crls.ts';
import type { LabWorld } from './world.ts';


function externalCaOf(world: LabWorld): StartedExternalCa {
  const ca = world.owned('own-lab').externalCa;
  if (!ca) throw new Error("this scenario's lab has no external CA: start it with the external CA profile");
  return ca;
}

/** The service's audit records since `since` (ISO time), read from its log file: it outlives the process that wrote them. */
export function auditedSince(world: LabWorld, since: string, predicate: (r: AuditRecord) => boolean = () => true): AuditRecord[] {
  return auditRecords(readFileSync(world.session.lab.provisioning.auditLogFile, 'utf8')).filter((r) => r.time >= since && predicate(r));
}

export function currentIntermediateSerial(world: LabWorld): string {
  return certificateSerial(world.owned('own-lab').pki.intermediate.certificatePem);
}

/** The operator of the external CA revokes the lab's issuing intermediate (its console: the operator's token). */
export async function operatorRevokesIntermediate(world: LabWorld): Promise<void> {
  const ca = externalCaOf(world);
  const serial = currentIntermediateSerial(world);
  const since = new Date().toISOString();
  await revokeAtExternalCa({ apiUrl: ca.apiUrl, rootPem: ca.rootPem, operatorToken: ca.operatorToken(), serial, reason: 'cACompromise' });
  world.externalCa.revocation = { at: Date.now(), since, serial };
}

/**
 * Waits, at most `withinMs` after the revocation, until the service has had a new intermediate
 * installed; then checks what the system shows: the audit records with the cause, and step-ca's
 * TLS chain (it signs with the new intermediate, whose issuer is the external root). Returns the facts.
 */
export async function serviceReplacedIntermediate(world: LabWorld, withinMs: number): Promise<Record<string, unknown>> {
  const revocation = world.externalCa.revocation;
  if (!revocation) throw new Error('the external CA revoked nothing in this scenario');
  const lab = world.owned('own-lab');
  const rotation = await waitFor<PkiRotation>(
    'the certificate management service to have a new intermediate installed',
    () => {
      const found = lab.rotations.find((r) => r.trigger === 'service' && r.previousSerial === revocation.serial);
      if (found?.error) throw new GiveUp(`the rotation failed: ${found.error}`);
      return found?.completedAt ? found : undefined;
    },
    { timeoutMs: Math.max(0, revocation.at + withinMs - Date.now()), intervalMs: 100 },
  );
  const noticed = auditedSince(world, revocation.since, (r) => r.event === 'intermediate-revoked' && r.serial === revocation.serial);
  assert.equal(noticed.length, 1, 'the service audits the revocation once');
  assert.match(String(noticed[0]!.cause), /external CA's CRL lists the issuing intermediate \(reason cACompromise\)/);
  const reissued = auditedSince(world, revocation.since, (r) => r.event === 'intermediate-reissued');
  assert.equal(reissued[0]?.serial, rotation.serial, 'the audit names the new intermediate');

  const external = parseCertificate(externalCaOf(world).rootPem);
  const [leaf, intermediate] = (await peerCertificateChain({ host: lab.config.ca.host, port: lab.stepCa.port, ca: lab.pki.root.certificatePem })).map((pem) => parseCertificate(pem));
  assert.ok(leaf && intermediate && leaf.checkIssued(intermediate), "step-ca's TLS certificate comes from the intermediate it sent");
  assert.equal(normalizeSerial(intermediate.serialNumber), rotation.serial, 'step-ca signs with the new intermediate');
  assert.notEqual(rotation.serial, revocation.serial);
  assert.equal(intermediate.issuer, external.subject, 'its issuer is the external root');
  assert.ok(intermediate.verify(external.publicKey), 'signed by the external root');
  return {
    revoked: revocation.serial,
    installed: rotation.serial,
    issuer: intermediate.issuer.replace(/\n/g, ', '),
    noticedAfterMs: Date.parse(noticed[0]!.time) - revocation.at,
    installedAfterMs: rotation.completedAt! - revocation.at,
  };
}

/** The intermediate is the one the fault began with, and nothing was rotated since. */
export function assertNothingRotated(world: LabWorld): void {
  const { serialBefore, faultSince: since } = world.externalCa;
  assert.ok(serialBefore && since, 'no external-CA fault was begun in this scenario');
  assert.deepEqual(world.owned('own-lab').rotations, [], 'no rotation');
  assert.equal(currentIntermediateSerial(world), serialBefore, 'the same intermediate');
  assert.deepEqual(auditedSince(world, since, (r) => /^intermediate-/.test(r.event)), [], 'no intermediate revoked or re-issued');
}

/** Marks the audit log and the intermediate before an external-CA fault or attack. */
export function beginExternalFault(world: LabWorld): void {
  world.externalCa.faultSince = new Date().toISOString();
  world.externalCa.serialBefore = currentIntermediateSerial(world);
}

/** Waits until the service has audited at least `count` checks of the CRL with `reason` since the fault began. */
export function checksAudited(world: LabWorld, reason: string, count: number): Promise<AuditRecord[]> {
  const since = world.externalCa.faultSince!;
  const interval = world.session.config.provisioning.externalCrlCheckIntervalMs;
  return waitFor(
    `${count} checks refused as ${reason}`,
    () => {
      const records = auditedSince(world, since, (r) => r.event === 'external-crl-check' && r.reason === reason);
      return records.length >= count ? records : undefined;
    },
    { timeoutMs: interval * (count + 2) + 15_000, intervalMs: 100 },
  );
}

/** Whether the external CA's own CRL lists `serial`. */
export async function externalCrlLists(world: LabWorld, serial: string): Promise<boolean> {
  const ca = externalCaOf(world);
  const [crl] = parseCrls(await fetchExternalCrl(ca.crlUrl));
  assert.ok(crl!.signedBy(parseCertificate(ca.rootPem)));
  return crl!.serials.has(serial);
}

/** The line of the external CA's log matching `pattern` (its log is the scenario's own: a fresh lab). */
export function externalCaLogged(world: LabWorld, pattern: RegExp): Promise<string> {
  const ca = externalCaOf(world);
  return waitFor(`the external CA to log ${pattern}`, () => readFileSync(ca.logFile, 'utf8').split('\n').find((line) => pattern.test(line)), { timeoutMs: 5000 });
}

export { externalCaOf };
