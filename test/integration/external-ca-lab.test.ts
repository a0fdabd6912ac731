// The lab with ca.issuer 'external' against the real processes: the external CA holds the
// operational root (the lab does not), step-ca signs with a subordinate of it, and when the
// external CA's operator revokes that subordinate the service notices and has a new one installed
// by itself; bad CRLs and an absent CA change nothing; the service's credential cannot revoke.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { loadConfig } from '../../config/config.ts';
import { startOwnedLab, type OwnedLab } from '../../environments/lab.ts';
import { waitFor } from '../../environments/wait.ts';
import { fetchExternalCrl, revokeAtExternalCa } from '../../net/external-ca-api.ts';
import { request } from '../../net/https-client.ts';
import { peerCertificateChain } from '../../net/peer-certificates.ts';
import { revokeWithStolenServiceCredential, startImpostorCrlServer } from '../../simulators/adversary/external-ca-attempts.ts';
import type { AuditRecord } from '../../services/provisioning/audit-log.ts';
import { normalizeSerial } from '../../x509/certificates.ts';
import { parseCrls } from '../../x509/crls.ts';
import { isAlive } from '../support/processes.ts';

let lab: OwnedLab;

const audit = (): AuditRecord[] => readFileSync(lab.provisioning.auditLogFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as AuditRecord);
const auditedSince = (since: string, predicate: (r: AuditRecord) => boolean) => audit().filter((r) => r.time >= since && predicate(r));
const stepCaChain = async () => (await peerCertificateChain({ host: '127.0.0.1', port: lab.stepCa.port, ca: lab.pki.root.certificatePem })).map((pem) => new X509Certificate(pem));
const serialOf = (pem: string) => normalizeSerial(new X509Certificate(pem).serialNumber);

before(async () => {
  lab = await startOwnedLab(loadConfig({ env: {}, overrides: { ca: { issuer: 'external' }, provisioning: { externalCrlCheckIntervalMs: 300 } } }));
});

after(async () => {
  await lab?.stop();
});

test("the external CA's process holds the root key; the lab holds none, and step-ca signs with the CA's subordinate", async () => {
  const external = lab.externalCa!;
  assert.ok(lab.processes().some((p) => p.name === 'external-ca' && p.pid === external.pid && isAlive(p.pid)));
  assert.equal('privateKeyPem' in lab.pki.root, false, 'the lab process holds no root key');
  assert.equal('keys' in lab.pki.root, false);
  assert.deepEqual(readdirSync(path.join(lab.workDir, 'pki')).filter((f) => /root.*key/.test(f)), [], "no root key among the lab's files");
  assert.equal(statSync(path.join(lab.workDir, 'external-ca', 'root_ca.key')).mode & 0o777, 0o600);
  assert.equal(readFileSync(lab.ca.rootPem, 'utf8').trim(), external.rootPem.trim(), 'the operational root is the external root');

  const [leaf, intermediate, root] = await stepCaChain();
  assert.ok(leaf!.checkIssued(intermediate!), "step-ca's TLS certificate comes from the intermediate");
  assert.equal(intermediate!.issuer, root!.subject);
  assert.ok(intermediate!.verify(new X509Certificate(external.rootPem).publicKey), 'the intermediate is signed by the external root');
  assert.equal(serialOf(intermediate!.toString()), serialOf(lab.pki.intermediate.certificatePem));
  await assert.rejects(lab.rotatePki('root'), /the external CA's: the lab cannot replace it/);
  await assert.rejects(lab.rotatePki('intermediate'), /the service replaces the intermediate by itself/);
});

test('an impostor CRL and an absent external CA are logged and change nothing; the watch goes on', async () => {
  const external = lab.externalCa!;
  const serial = serialOf(lab.pki.intermediate.certificatePem);
  const since = new Date().toISOString();
  await external.stop();
  await waitFor('two failed checks', () => auditedSince(since, (r) => r.reason === 'external-ca-unreachable').length >= 2, { timeoutMs: 15_000 });
  const impostor = await startImpostorCrlServer(lab, serial);
  try {
    await waitFor('the impostor CRL to be refused', () => auditedSince(since, (r) => r.reason === 'crl-signature-invalid').length >= 2, { timeoutMs: 15_000 });
  } finally {
    await impostor.stop();
  }
  assert.ok(impostor.served >= 2);
  await external.restart();
  await waitFor('the external CA to be believed again', () => auditedSince(since, (r) => r.reason === 'crl-accepted').length === 1, { timeoutMs: 15_000 });
  assert.deepEqual(lab.rotations, [], 'nothing rotated');
  assert.equal(serialOf(lab.pki.intermediate.certificatePem), serial);
  assert.equal(auditedSince(since, (r) => r.event === 'intermediate-revoked').length, 0);
  assert.match(readFileSync(lab.provisioningService.logFile, 'utf8'), /external CA CRL not believed \(crl-signature-invalid\)/);
});

test("the service's credential cannot revoke at the external CA", async () => {
  const serial = serialOf(lab.pki.intermediate.certificatePem);
  const answer = await revokeWithStolenServiceCredential(lab, serial);
  assert.deepEqual([answer.status, answer.code], [403, 'not-operator']);
  assert.equal(parseCrls(await fetchExternalCrl(lab.externalCa!.crlUrl))[0]!.serials.has(serial), false);
});

test('the operator revokes the intermediate: the service notices and a new subordinate is installed for step-ca', async () => {
  const external = lab.externalCa!;
  const old = lab.pki.intermediate.certificatePem;
  const since = new Date().toISOString();
  const stepCaPid = lab.stepCa.pid;
  await revokeAtExternalCa({ apiUrl: external.apiUrl, rootPem: external.rootPem, operatorToken: external.operatorToken(), serial: serialOf(old), reason: 'cACompromise' });
  const rotation = await waitFor('the rotation to complete', () => {
    const done = lab.rotations.find((r) => r.trigger === 'service');
    if (done?.error) throw new Error(done.error);
    return done?.completedAt ? done : undefined;
  }, { timeoutMs: 60_000 });
  assert.equal(rotation.previousSerial, serialOf(old));
  assert.equal(rotation.cause?.crlReason, 'cACompromise');
  const revoked = auditedSince(since, (r) => r.event === 'intermediate-revoked');
  assert.equal(revoked.length, 1);
  assert.equal(revoked[0]!.serial, serialOf(old));
  assert.equal(auditedSince(since, (r) => r.event === 'intermediate-reissued')[0]?.serial, rotation.serial);

  assert.notEqual(lab.stepCa.pid, stepCaPid, 'step-ca restarted');
  const [leaf, intermediate] = await stepCaChain();
  assert.equal(serialOf(intermediate!.toString()), rotation.serial, 'step-ca signs with the new intermediate');
  assert.ok(leaf!.checkIssued(intermediate!));
  assert.ok(intermediate!.verify(new X509Certificate(external.rootPem).publicKey));
  assert.notEqual(new X509Certificate(old).publicKey.export({ format: 'der', type: 'spki' }).toString('hex'), intermediate!.publicKey.export({ format: 'der', type: 'spki' }).toString('hex'), 'a new key');

  // Clients checking whole chains get the external root's CRL, which lists the old intermediate.
  const crls = parseCrls((await request(`${lab.provisioning.insecureUrl}/api/v1/crl`)).text());
  assert.ok(crls.some((crl) => crl.signedBy(new X509Certificate(external.rootPem)) && crl.serials.has(serialOf(old))));
  // The new service process watches the new intermediate and does not act again.
  await waitFor('a check by the restarted service', () => readFileSync(lab.provisioningService.logFile, 'utf8').includes(`for intermediate ${rotation.serial}`), { timeoutMs: 15_000 });
  assert.equal(lab.rotations.length, 1);
  assert.equal(statSync(path.join(lab.workDir, 'pki', 'intermediate_ca.key')).mode & 0o777, 0o600, "the new intermediate's key, 0600, for step-ca");
});

test("stop() ends every process, the external CA's included, and removes its directory with the root key", async () => {
  const pids = lab.processes().map((p) => p.pid);
  assert.equal(pids.length, 5);
  await lab.stop();
  await lab.stop();
  await waitFor('every component process to end', () => pids.every((pid) => !isAlive(pid)), { timeoutMs: 10_000 });
  assert.throws(() => statSync(path.join(lab.workDir, 'external-ca')), /ENOENT/);
});
