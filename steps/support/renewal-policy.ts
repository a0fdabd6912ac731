// What the renewal-policy steps do and check (seed 002 "Renewal Policy", seed 003's renewal and
// revocation): on a lab of the scenario's own whose day is scaled down, so that the seeds' periods
// in days (the grace period, the 90/30/7 thresholds, the 48-hour CRL cache) pass in seconds.
import assert from 'node:assert/strict';
import { markLog, waitFor, waitForConnectionLine } from './logs.ts';
import { probeTls, type TlsProbeOutcome } from '../../simulators/adversary/tls-probe.ts';
import type { StoredPair } from '../../simulators/client/certificate-store.ts';
import type { ClientLogEntry } from '../../simulators/client/client-log.ts';
import { seedRenewalPolicy } from '../../simulators/client/renewal-policy.ts';
import type { InventoryEntry } from '../../simulators/client/admin-client.ts';
import { certificateSerial, inspectCertificate } from '../../x509/certificates.ts';
import type { LabWorld } from './world.ts';


/**
 * A TLS handshake with `pair` from an address of its own, and no MQTT CONNECT: the broker takes
 * the client id from the certificate's CN, so an MQTT session with the old certificate would take
 * the renewed device's session over. In TLS 1.2 (the probe offers no more) the server checks the
 * client certificate, CRL included, before it finishes the handshake: a completed handshake is the
 * broker's acceptance (in TLS 1.3 its verdict would come after the client's handshake ended). The broker's log lines of that address are its evidence.
 */
export async function probeBroker(world: LabWorld, pair: StoredPair, options: { brokerLog?: boolean } = {}): Promise<{ outcome: TlsProbeOutcome; address: string; mark?: ReturnType<typeof markLog> }> {
  const { lab, endpoints } = world.session;
  const address = world.nextAddress();
  const mark = options.brokerLog ? markLog(world.logFile('mosquitto')) : undefined;
  const outcome = await probeTls({ host: lab.broker.host, port: lab.broker.port, ca: endpoints.trustedRootPem, cert: pair.certificateChainPem, key: pair.privateKeyPem, localAddress: address, maxVersion: 'TLSv1.2' });
  return { outcome, address, mark };
}

/** The inventory's record of a certificate, as the service engineer sees it. */
export async function inventoryRecord(world: LabWorld, pair: StoredPair): Promise<InventoryEntry> {
  const serial = certificateSerial(pair.certificateChainPem);
  const deviceId = inspectCertificate(pair.certificateChainPem).subjectCommonName!;
  return waitFor(`certificate ${serial} in the inventory`, async () => (await world.admin.inventory(deviceId)).find((c) => c.serial === serial), { timeoutMs: 5000, intervalMs: 100 });
}

/** When the service recorded a certificate: optional in the contract, and what the grace period counts from. */
function recordedAt(entry: InventoryEntry): number {
  assert.ok(entry.recordedAt, `the inventory entry of ${entry.serial} has no recordedAt: the grace period cannot be checked`);
  return Date.parse(entry.recordedAt);
}

/** The grace period as the lab is configured: supersededGraceDays of its scaled day. */
export function graceMs(world: LabWorld): number {
  const { config } = world.session;
  return config.provisioning.supersededGraceDays * config.clock.dayMs;
}

/** The old certificate still opens a session, and the inventory still calls it active: the grace period has not passed. */
export async function assertStillAccepted(world: LabWorld, old: StoredPair): Promise<void> {
  const successor = await inventoryRecord(world, world.lastDevice.store.loadOperational()!);
  const { outcome } = await probeBroker(world, old);
  const elapsed = Date.now() - recordedAt(successor);
  assert.ok(elapsed < graceMs(world), `the check came ${elapsed} ms after the renewal, past the grace period: it proves nothing`);
  assert.ok(outcome.ok, `the broker refused the old certificate during the grace period: ${outcome.ok ? '' : outcome.message}`);
  assert.equal((await inventoryRecord(world, old)).status, 'active');
}

/**
 * Waits until the service has revoked the old certificate by itself, and checks it did so as
 * superseded, no earlier than the grace period after it recorded the successor.
 */
export async function awaitSupersededRevocation(world: LabWorld, old: StoredPair, reason: string): Promise<InventoryEntry> {
  const grace = graceMs(world);
  const revoked = await waitFor('the service to revoke the superseded certificate', async () => {
    const record = await inventoryRecord(world, old);
    return record.status === 'revoked' ? record : undefined;
  }, { timeoutMs: grace + 15_000, intervalMs: 200 });
  const successor = await inventoryRecord(world, world.lastDevice.store.loadOperational()!);
  assert.equal(revoked.revocationReason, reason);
  const after = Date.parse(revoked.revokedAt!) - recordedAt(successor);
  assert.ok(after >= grace, `revoked ${after} ms after the successor was recorded, inside the ${grace} ms grace period`);
  const audit = (await world.admin.audit(500)).find((r) => r.event === 'revocation' && r.serial === revoked.serial);
  assert.deepEqual([audit?.reason, audit?.trigger, audit?.successor], [reason, 'grace-expired', successor.serial]);
  world.attach(JSON.stringify({ revoked, audit, afterSuccessorMs: after }, null, 1), { mediaType: 'application/json', fileName: 'superseded-revocation.json' });
  return revoked;
}

/** The broker refuses `old` in new handshakes: the TLS alert the client got, and the broker's own line for that connection. */
export async function assertRefusedByBroker(world: LabWorld, old: StoredPair, alert: string, logged: string): Promise<void> {
  // The CRL reaches the broker just after the inventory changes (the lab reloads it on the service's call).
  const refused = await waitFor('the broker to refuse the old certificate', async () => {
    const probe = await probeBroker(world, old, { brokerLog: true });
    return probe.outcome.ok ? undefined : probe;
  }, { timeoutMs: 10_000, intervalMs: 250 });
  assert.match(refused.outcome.ok ? '' : refused.outcome.message, new RegExp(alert));
  world.attach(await waitForConnectionLine(refused.mark!, refused.address, new RegExp(logged)), { mediaType: 'text/plain', fileName: 'mosquitto.txt' });
}

/** The device's session runs on its renewed certificate, was never closed, and still carries telemetry. */
export async function assertRenewedSessionKept(world: LabWorld, old: StoredPair): Promise<void> {
  const device = world.lastDevice;
  assert.notEqual(certificateSerial(device.store.loadOperational()!.certificateChainPem), certificateSerial(old.certificateChainPem));
  world.assertUndisturbed([device]);
  await device.publishTelemetry(); // QoS 1: resolves on the broker's PUBACK
}

/** A device of the scenario's lab (provisioning ON for this worker's addresses), connected with a certificate of `days` scaled days. */
export async function scaledDevice(world: LabWorld, days: number): Promise<void> {
  const lab = world.scenarioLab;
  if (!lab) throw new Error("this step needs a lab of the scenario's own");
  const admin = world.adminOf(lab);
  await admin.turnOn();
  await admin.setWhitelist([lab.addresses.workerRange(lab.worker)]);
  const device = world.createDevice(undefined, lab);
  await device.join({ lifetimeSeconds: (days * lab.config.clock.dayMs) / 1000 });
  world.replacedCertificate = device.store.loadOperational();
}

/** The device runs the lab's renewal policy (renewal.alertDays, renewal.renewDays on clock.dayMs) until it has renewed. */
export async function followRenewalPolicy(world: LabWorld): Promise<void> {
  const { config } = world.session;
  const policy = seedRenewalPolicy({ dayMs: config.clock.dayMs, alertDays: config.renewal.alertDays, renewDays: config.renewal.renewDays });
  const { notAfter } = inspectCertificate(world.replacedCertificate!.certificateChainPem);
  // Bounded: a device that has not renewed by its certificate's expiry never will.
  await world.lastDevice.followRenewalPolicy(policy, { dayMs: config.clock.dayMs, signal: AbortSignal.timeout(Math.max(0, notAfter.getTime() - Date.now()) + 5000) });
}

/** Days (of the lab's day) between a log entry and the old certificate's notAfter, from the entry's own time. */
function daysBeforeExpiry(world: LabWorld, entry: ClientLogEntry): number {
  const { notAfter } = inspectCertificate(world.replacedCertificate!.certificateChainPem);
  return (notAfter.getTime() - Date.parse(entry.time)) / world.session.config.clock.dayMs;
}

/** The device's alerts for its old certificate, with their thresholds, each logged within a day after its threshold and before the renewal. */
export function assertRenewalAlerts(world: LabWorld, thresholds: number[]): void {
  const device = world.lastDevice;
  const serial = inspectCertificate(world.replacedCertificate!.certificateChainPem).serialNumber;
  const alerts = device.log.find('renewal-alert').filter((e) => e.serial === serial);
  assert.deepEqual(alerts.map((e) => e.thresholdDays), thresholds, 'the alerts the device logged, in order');
  for (const alert of alerts) {
    const left = daysBeforeExpiry(world, alert);
    assert.ok(left <= (alert.thresholdDays as number) && left > (alert.thresholdDays as number) - 1, `the ${String(alert.thresholdDays)}-day alert came ${left.toFixed(2)} days before expiry`);
  }
  const renewed = device.log.find('renewed').at(-1);
  assert.ok(renewed && alerts.every((a) => a.time <= renewed.time), 'every alert comes before the renewal');
  world.attach(JSON.stringify(alerts.map((a) => ({ ...a, daysBeforeExpiry: daysBeforeExpiry(world, a) })), null, 1), { mediaType: 'application/json', fileName: 'renewal-alerts.json' });
}

/** The device renewed by itself once no more than `days` remained, and the inventory lists the new certificate as a renewal. */
export async function assertRenewedAutomatically(world: LabWorld, days: number, via: string): Promise<void> {
  const device = world.lastDevice;
  const due = device.log.find('renewal-due').at(-1);
  assert.ok(due, 'the device logged no renewal-due');
  const left = daysBeforeExpiry(world, due);
  assert.ok(left <= days && left > days - 1, `the device renewed ${left.toFixed(2)} days before expiry`);
  const renewed = device.store.loadOperational()!;
  assert.notEqual(certificateSerial(renewed.certificateChainPem), certificateSerial(world.replacedCertificate!.certificateChainPem));
  assert.equal(device.log.find('renewed').at(-1)?.serial, inspectCertificate(renewed.certificateChainPem).serialNumber);
  const entry = await inventoryRecord(world, renewed);
  assert.deepEqual([entry.via, entry.status], [via, 'active']);
  world.attach(JSON.stringify({ due, daysBeforeExpiry: left, inventory: entry }, null, 1), { mediaType: 'application/json', fileName: 'automatic-renewal.json' });
}

/** The device keeps an offline CRL cache on the lab's schedule (devices.crlRefreshDays, crlMaxAgeHours on clock.dayMs); stopped after the scenario. */
export function keepCrlCache(world: LabWorld): void {
  const { clock, devices } = world.session.config;
  const cache = world.lastDevice.trust.keepCrlCache({ refreshIntervalMs: devices.crlRefreshDays * clock.dayMs, maxAgeMs: (devices.crlMaxAgeHours * clock.dayMs) / 24, hourMs: clock.dayMs / 24 });
  world.onCleanup(() => cache.stop());
}

/** Waits until the device has logged `event` at least `count` times since `since` (an index into its log); returns those entries. */
export async function awaitClientLog(world: LabWorld, event: string, count: number, options: { since?: number; timeoutMs: number }): Promise<ClientLogEntry[]> {
  const log = world.lastDevice.log;
  return waitFor(`${count} "${event}" entries in ${world.lastDevice.commonName}'s log`, () => {
    const found = log.entries.slice(options.since ?? 0).filter((e) => e.event === event);
    return found.length >= count ? found : undefined;
  }, { timeoutMs: options.timeoutMs, intervalMs: 50 });
}

/** The schedule's refreshes came a refresh interval apart (within a fifth of it), each with the CRLs of the installation. */
export async function assertCrlRefreshedOnSchedule(world: LabWorld, refreshes: number): Promise<void> {
  const { clock, devices } = world.session.config;
  const intervalMs = devices.crlRefreshDays * clock.dayMs;
  const entries = await awaitClientLog(world, 'crl-refreshed', refreshes, { timeoutMs: intervalMs * (refreshes + 2) });
  const gaps = entries.slice(1).map((e, i) => Date.parse(e.time) - Date.parse(entries[i]!.time));
  for (const gap of gaps) assert.ok(gap >= intervalMs * 0.8 && gap <= intervalMs * 1.2, `refreshes ${gap} ms apart; the schedule is ${intervalMs} ms`);
  const cached = world.lastDevice.trust.crlCache!.crls;
  assert.ok(cached.length >= 2 && cached.every((pem) => pem.includes('BEGIN X509 CRL')), 'the cache holds the operational and bootstrap CRLs');
  world.attach(JSON.stringify({ entries, gapsMs: gaps }, null, 1), { mediaType: 'application/json', fileName: 'crl-refreshes.json' });
}

/** The distribution point goes away: the provisioning service's process stops (and starts again after the scenario at the latest). */
export async function cutCrlDistribution(world: LabWorld): Promise<number> {
  const { provisioningService } = world.owned('restart-service');
  const since = world.lastDevice.log.entries.length;
  await provisioningService.stop();
  world.onCleanup(async () => {
    if (!provisioningService.running) await provisioningService.restart();
  });
  return since;
}

/**
 * The device said its cache is stale once it was older than the maximum age (measured from its
 * last good refresh to the crl-stale entry, by the log's own times), after failed refreshes.
 */
export async function assertCrlStale(world: LabWorld, since: number, event: string): Promise<void> {
  const { clock, devices } = world.session.config;
  const maxAgeMs = (devices.crlMaxAgeHours * clock.dayMs) / 24;
  const [stale] = await awaitClientLog(world, event, 1, { since, timeoutMs: maxAgeMs + 3 * devices.crlRefreshDays * clock.dayMs });
  const lastGood = world.lastDevice.log.find('crl-refreshed').filter((e) => e.time <= stale!.time).at(-1)!;
  const ageMs = Date.parse(stale!.time) - Date.parse(lastGood.time);
  assert.ok(ageMs > maxAgeMs, `crl-stale logged ${ageMs} ms after the last refresh; the cache may be ${maxAgeMs} ms old`);
  assert.ok((stale!.ageHours as number) > (stale!.maxAgeHours as number), JSON.stringify(stale));
  assert.ok(world.lastDevice.log.entries.slice(since).some((e) => e.event === 'crl-refresh-failed'), 'the device tried to refresh and failed');
  world.attach(JSON.stringify({ stale, lastGood, ageMs }, null, 1), { mediaType: 'application/json', fileName: 'crl-stale.json' });
}

/** A new connection is refused by the device itself with cause crl-stale; its session on the broker stays. */
export async function assertRefusesNewConnection(world: LabWorld, cause: string): Promise<void> {
  const device = world.lastDevice;
  const before = device.log.entries.length;
  await assert.rejects(device.connect(), (err: Error & { reason?: string }) => err.reason === cause);
  assert.equal(device.log.entries.slice(before).find((e) => e.event === 'connect-failed')?.cause, cause);
  world.assertUndisturbed([device]);
}

/** The distribution point is back (the service's process starts again); returns where the device's log stood. */
export async function restoreCrlDistribution(world: LabWorld): Promise<number> {
  const since = world.lastDevice.log.entries.length;
  await world.owned('restart-service').provisioningService.restart();
  return since;
}

/** The device's schedule refreshes the cache by itself, and then a new connection of the device succeeds. */
export async function assertReconnectsAfterRefresh(world: LabWorld, since: number): Promise<void> {
  const device = world.lastDevice;
  const { clock, devices } = world.session.config;
  await awaitClientLog(world, 'crl-refreshed', 1, { since, timeoutMs: 3 * devices.crlRefreshDays * clock.dayMs + 5000 });
  assert.equal(device.trust.crlCache!.state().state, 'fresh');
  await device.disconnect();
  await device.connect();
  world.assertUndisturbed([device]);
}
