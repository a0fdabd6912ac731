// The service's watch over the external CA's CRL (UC-04): what it believes, what it ignores, and
// that a failure is retried, never fatal. Real CRLs signed with real keys; only the fetch is a
// function of the test.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { createIntermediateCa, createRootCa, type IssuedCertificate } from '../../../x509/certificate-authority.ts';
import { createCrl } from '../../../x509/crl-signing.ts';
import { waitFor } from '../../../environments/wait.ts';
import type { AuditEvent } from '../../../services/provisioning/audit-log.ts';
import type { IntermediateRevocation } from '../../../services/provisioning/context.ts';
import { IntermediateMonitor, type IntermediateMonitorOptions } from '../../../services/provisioning/intermediate-monitor.ts';
import { x509 } from '../../../x509/x509.ts';

let root: IssuedCertificate;
let impostor: IssuedCertificate;
let intermediate: IssuedCertificate;
const CA_COMPROMISE = x509.X509CrlReason.cACompromise;

before(async () => {
  const name = { commonName: 'External Root CA', organization: 'External Trust Services', algorithm: 'ecdsa-p256' as const, validityDays: 30 };
  root = await createRootCa(name);
  // Same name, another key: only the signature tells its CRLs apart.
  impostor = await createRootCa(name);
  intermediate = await createIntermediateCa(root, { ...name, commonName: 'ecm-lab Intermediate CA', organization: 'ecm-lab' });
});

function monitor(fetchCrl: () => Promise<string>, overrides: Partial<IntermediateMonitorOptions> = {}) {
  const audit: AuditEvent[] = [];
  const reissues: IntermediateRevocation[] = [];
  const m = new IntermediateMonitor({
    crlUrl: 'http://127.0.0.1:1/crl',
    fetchCrl,
    rootPem: root.certificatePem,
    intermediatePem: intermediate.certificatePem,
    intervalMs: 10,
    audit: (event) => audit.push(event),
    log: () => undefined,
    reissue: async (cause) => {
      reissues.push(cause);
      return { serial: 'abcd' };
    },
    ...overrides,
  });
  return { m, audit, reissues };
}

const revoking = (signer: IssuedCertificate, options: { crlNumber?: number; validityMs?: number } = {}) =>
  createCrl(signer, [{ serial: intermediate.certificate.serialNumber, reason: CA_COMPROMISE }], { crlNumber: 1, ...options });
const clean = (options: { crlNumber?: number; validityMs?: number } = {}) => createCrl(root, [{ serial: '0badc0de', reason: CA_COMPROMISE }], { crlNumber: 1, ...options });

test('a CRL of the external root that does not list the intermediate changes nothing and writes nothing', async () => {
  const { m, audit, reissues } = monitor(() => clean());
  assert.deepEqual(await m.check(), { kind: 'not-revoked' });
  assert.deepEqual(audit, []);
  assert.equal(reissues.length, 0);
});

test('the intermediate on the root\'s CRL: audited with its cause, re-issued once', async () => {
  const crl = await revoking(root, { crlNumber: 7 });
  const { m, audit, reissues } = monitor(async () => crl);
  assert.deepEqual(await m.check(), { kind: 'reissued', serial: 'abcd' });
  assert.equal(reissues.length, 1);
  assert.equal(reissues[0]!.serial, intermediate.certificate.serialNumber.replace(/^0+/, ''));
  assert.equal(reissues[0]!.crlReason, 'cACompromise');
  assert.equal(reissues[0]!.crlNumber, 7);
  const revoked = audit.find((e) => e.event === 'intermediate-revoked')!;
  assert.match(String(revoked.cause), /lists the issuing intermediate \(reason cACompromise\)/);
  assert.equal(audit.find((e) => e.event === 'intermediate-reissued')?.serial, 'abcd');
  // Until the lab restarts the service on the new intermediate, the old one stays listed.
  assert.deepEqual(await m.check(), { kind: 'handled' });
  assert.equal(reissues.length, 1);
});

test('a CRL not signed by the external root is ignored and logged, whatever it lists', async () => {
  const forged = await revoking(impostor);
  const { m, audit, reissues } = monitor(async () => forged);
  const outcome = await m.check();
  assert.equal(outcome.kind, 'refused');
  assert.equal(audit[0]!.reason, 'crl-signature-invalid');
  assert.equal(reissues.length, 0);
  // Another issuer's CRL (the intermediate's own) does not speak for the root either.
  const other = monitor(() => createCrl(intermediate, [{ serial: intermediate.certificate.serialNumber, reason: CA_COMPROMISE }]));
  assert.equal((await other.m.check()).kind, 'refused');
  assert.equal(other.audit[0]!.reason, 'crl-wrong-issuer');
  const garbage = monitor(async () => '-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n');
  assert.equal((await garbage.m.check()).kind, 'refused');
  assert.equal(garbage.audit[0]!.reason, 'crl-malformed');
  assert.equal(other.reissues.length + garbage.reissues.length, 0);
});

test('an unreachable external CA is logged at every attempt and retried; its return is noted once', async () => {
  let down = true;
  const { m, audit } = monitor(async () => {
    if (down) throw new Error('connect ECONNREFUSED 127.0.0.1:1');
    return clean();
  });
  assert.equal((await m.check()).kind, 'unreachable');
  assert.equal((await m.check()).kind, 'unreachable');
  assert.deepEqual(audit.map((e) => [e.reason, e.attempt]), [['external-ca-unreachable', 1], ['external-ca-unreachable', 2]]);
  down = false;
  assert.deepEqual(await m.check(), { kind: 'not-revoked' });
  assert.equal(audit[2]!.reason, 'crl-accepted');
  assert.equal(audit[2]!.afterFailures, 2);
  await m.check();
  assert.equal(audit.length, 3, 'a healthy check writes nothing');
});

test('a failed re-issue is audited and tried again at the next check', async () => {
  const crl = await revoking(root);
  let attempts = 0;
  const { m, audit } = monitor(async () => crl, {
    reissue: async () => {
      attempts += 1;
      if (attempts === 1) throw new Error('the external CA answered HTTP 503');
      return { serial: 'beef' };
    },
  });
  assert.deepEqual(await m.check(), { kind: 'reissue-failed', message: 'the external CA answered HTTP 503' });
  assert.equal(audit.find((e) => e.event === 'intermediate-reissue-failed')?.message, 'the external CA answered HTTP 503');
  assert.deepEqual(await m.check(), { kind: 'reissued', serial: 'beef' });
});

test('"not revoked" needs a current CRL no older than one seen; a revocation on an old one still counts', async () => {
  const newer = await clean({ crlNumber: 5 });
  const older = await clean({ crlNumber: 3 });
  let serve = newer;
  const { m, audit, reissues } = monitor(async () => serve);
  assert.equal((await m.check()).kind, 'not-revoked');
  serve = older;
  assert.equal((await m.check()).kind, 'refused');
  assert.equal(audit.at(-1)!.reason, 'crl-replayed');
  serve = await revoking(root, { crlNumber: 2 });
  assert.equal((await m.check()).kind, 'reissued');
  assert.equal(reissues.length, 1);

  const stale = monitor(() => clean({ validityMs: 1000 }), { now: () => Date.now() + 60_000 });
  assert.equal((await stale.m.check()).kind, 'refused');
  assert.equal(stale.audit[0]!.reason, 'crl-stale');
});

test('start() checks on a schedule until stop(); nothing is written after stop()', async () => {
  let fetches = 0;
  const { m, audit } = monitor(async () => {
    fetches += 1;
    throw new Error('down');
  });
  m.start();
  await waitFor('three scheduled checks', () => fetches >= 3, { timeoutMs: 5000 });
  await m.stop();
  const [seen, written] = [fetches, audit.length];
  await new Promise((resolve) => setTimeout(resolve, 50)); // several intervals: a stopped schedule stays stopped
  assert.equal(fetches, seen);
  assert.equal(audit.length, written);
});
