// FR-PS-004 over the plain-HTTP bootstrap endpoint: what a white-listed device gets there (a
// bootstrap credential for its own address, under the bootstrap root, from a CSR), and what it
// may not get (another address, another device's identity, anything the broker accepts). Each
// answer is checked in the service's audit record, not only in what the client was told.
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { waitFor } from '../../environments/wait.ts';
import type { AuditRecord } from '../../services/provisioning/audit-log.ts';
import { csrToBootstrapEndpoint } from '../../simulators/adversary/issuance-attempts.ts';
import type { ReveosDevice } from '../../simulators/device/reveos-device.ts';
import { chainsToRoot, inspectCertificate, normalizeSerial } from '../../x509/certificates.ts';
import { attempt } from './audited-refusals.ts';
import type { LabWorld } from './world.ts';

export async function bootstrapOverPlainHttp(world: LabWorld): Promise<void> {
  const device = world.lastDevice;
  world.lastRequest = await attempt(() => device.provisionOverPlainHttp());
}

/** The service's audit record of `decision` for `address` since `since` matching `match`. */
function audited(world: LabWorld, what: string, since: string, match: (r: AuditRecord) => boolean): Promise<AuditRecord> {
  return waitFor(`the service's audit record of ${what}`, async () => (await world.admin.audit(200)).find((r) => r.time >= since && match(r)), { timeoutMs: 5000 });
}

/** A chain (certificates only, no key) under the bootstrap root, naming only the device's address; audited as served. */
export async function assertPlainHttpBootstrapServed(world: LabWorld): Promise<void> {
  const device = world.lastDevice;
  const request = world.lastRequest!;
  assert.equal(request.error, undefined, `the plain-HTTP endpoint refused the device: ${request.error?.message}`);
  const bootstrap = device.store.loadBootstrap();
  assert.ok(bootstrap, 'no bootstrap credential in the store');
  // The stored chain is the answer as received: certificates only, the key never travelled.
  assert.deepEqual([...new Set(bootstrap.certificateChainPem.match(/-----BEGIN [A-Z ]+-----/g))], ['-----BEGIN CERTIFICATE-----'], 'the answer carries more than certificates');
  assert.equal(statSync(device.store.file('bootstrapKey')).mode & 0o777, 0o600);
  const facts = inspectCertificate(bootstrap.certificateChainPem);
  assert.deepEqual(facts.sans, { dns: [], ip: [device.address], uri: [] }, "a bootstrap credential names the caller's own address and nothing else");
  assert.equal(chainsToRoot(bootstrap.certificateChainPem, world.session.endpoints.bootstrapRootPem), true, 'the credential is not under the bootstrap root');
  assert.equal(chainsToRoot(bootstrap.certificateChainPem, world.session.endpoints.trustedRootPem), false, 'the credential is under the operational root the broker trusts');
  const serial = normalizeSerial(facts.serialNumber);
  const record = await audited(world, `the bootstrap credential ${serial} served`, request.since, (r) => r.decision === 'served' && r.serial === serial);
  assert.deepEqual([record.event, record.sourceIp, record.deviceId], ['bootstrap', device.address, device.identity.deviceId], JSON.stringify(record));
  world.attach(JSON.stringify({ credential: { subject: facts.subjectCommonName, issuer: facts.issuerCommonName, sans: facts.sans, extendedKeyUsages: facts.extendedKeyUsages, notAfter: facts.notAfter }, audit: record }, null, 1), { mediaType: 'application/json', fileName: 'plain-http-bootstrap.json' });
}

/** What the device asks the plain-HTTP endpoint for that it must not get. */
const FORBIDDEN: Record<string, (world: LabWorld, device: ReveosDevice) => { commonName: string; ipAddresses?: string[] }> = {
  'another address': (world, device) => ({ commonName: device.identity.deviceId, ipAddresses: [world.nextAddress()] }),
  "the first device's identity": (world) => ({ commonName: world.devices[0]!.identity.deviceId }),
};

/** The endpoint refuses the device `what` with `status` and `code`, audits that refusal for its address, and issues nothing. */
export async function assertPlainHttpRefuses(world: LabWorld, what: string, status: number, code: string): Promise<void> {
  const device = world.lastDevice;
  const ask = FORBIDDEN[what];
  assert.ok(ask, `unknown request "${what}"; known: ${Object.keys(FORBIDDEN).join(', ')}`);
  const since = new Date().toISOString();
  const outcome = await csrToBootstrapEndpoint({ insecureUrl: world.session.lab.provisioning.insecureUrl, from: device.address, ...ask(world, device) });
  assert.deepEqual([outcome.status, outcome.code, outcome.certificatePem], [status, code, undefined], outcome.detail);
  const record = await audited(world, `a refusal of ${device.address}`, since, (r) => r.decision === 'refused' && r.sourceIp === device.address);
  assert.equal(record.reason, code, JSON.stringify(record));
  world.attach(JSON.stringify(record, null, 1), { mediaType: 'application/json', fileName: 'audit.json' });
}
