// A client's own renewal timer: it waits until its renewal policy says the operational certificate
// is due (logging seed 002's alerts on the way), then renews. Dates are the client's, whose clock
// a scenario may have skewed.
import { setTimeout as delay } from 'node:timers/promises';
import { inspectCertificate } from '../../x509/certificates.ts';
import type { CertificateStore } from './certificate-store.ts';
import type { ClientLog } from './client-log.ts';
import { DEFAULT_RENEWAL_POLICY, renewalAlerts, renewalDueAt, type RenewalPolicy } from './renewal-policy.ts';

/** What the timer needs of a client. */
export interface RenewingClient {
  readonly commonName: string;
  readonly store: CertificateStore;
  readonly log: ClientLog;
  now(): Date;
  renewCertificate(signal?: AbortSignal): Promise<void>;
}

function currentCertificate(client: RenewingClient) {
  const current = client.store.loadOperational();
  if (!current) throw new Error(`${client.commonName} has no operational certificate to renew`);
  return inspectCertificate(current.certificateChainPem);
}

/** Waits until `policy` says the operational certificate is due, then renews it; returns when the renewal happened. */
export async function renewWhenDue(client: RenewingClient, policy: RenewalPolicy = DEFAULT_RENEWAL_POLICY, signal?: AbortSignal): Promise<Date> {
  const { notBefore, notAfter } = currentCertificate(client);
  await delay(Math.max(0, renewalDueAt(notBefore, notAfter, policy).getTime() - Date.now()), undefined, { signal });
  const renewedAt = new Date();
  await client.renewCertificate();
  return renewedAt;
}

/**
 * Waits until the client's clock reads `at`. A timer can fire a millisecond before the wall clock
 * gets there (Node's timers count whole milliseconds from the loop's cached time): with a lab day
 * of a few hundred ms that was a renewal logged 7.01 "days" before expiry. So it waits again for
 * what is left; each round waits at least 1 ms, so it ends.
 */
async function until(client: RenewingClient, at: Date, signal?: AbortSignal): Promise<void> {
  for (let left = at.getTime() - client.now().getTime(); left > 0; left = at.getTime() - client.now().getTime()) await delay(left, undefined, { signal });
}

/**
 * Seed 002's renewal policy as the client runs it on its own timer: logs `renewal-alert` at each
 * alert threshold the certificate reaches before renewal is due (days counted in `dayMs`, the
 * lab's scaled day), then `renewal-due` and renews. Returns when the renewal happened.
 */
export async function followRenewalPolicy(client: RenewingClient, policy: RenewalPolicy, options: { dayMs: number; signal?: AbortSignal }): Promise<Date> {
  const { notBefore, notAfter, serialNumber: serial } = currentCertificate(client);
  const daysLeft = () => Math.round(((notAfter.getTime() - client.now().getTime()) / options.dayMs) * 100) / 100;
  for (const alert of renewalAlerts(notBefore, notAfter, policy)) {
    await until(client, alert.at, options.signal);
    client.log.write('renewal-alert', { serial, thresholdDays: alert.beforeMs / options.dayMs, daysLeft: daysLeft(), notAfter: notAfter.toISOString() });
  }
  await until(client, renewalDueAt(notBefore, notAfter, policy), options.signal);
  const renewedAt = client.now();
  client.log.write('renewal-due', { serial, daysLeft: daysLeft(), renewBeforeDays: policy.renewBeforeMs === undefined ? null : policy.renewBeforeMs / options.dayMs });
  await client.renewCertificate(options.signal);
  return renewedAt;
}
