// A fleet device's own renewal timer (seed 000: renew before expiry, by default at 2/3 of the
// lifetime): wait until the stored certificate is due, renew it over mutual TLS, move the MQTT
// session to it, and again, until the run stops. Each attempt is reported: a renewal with its
// request time and its handover (request start to the session on the new certificate), or a
// failed attempt with its cause, retried with a bounded backoff while the run lasts, so one
// refusal is counted once and the device keeps trying as a device in the field would.
import { setTimeout as delay } from 'node:timers/promises';
import { inspectCertificate } from '../../x509/certificates.ts';
import { DEFAULT_RENEWAL_POLICY, renewalDueAt } from '../client/renewal-policy.ts';
import type { ReveosDevice } from '../device/reveos-device.ts';

export type RenewalEvent =
  /** `ms`: the renewal request; `handoverMs`: from its start to the session on the renewed certificate; `at`: epoch ms. */
  | { type: 'renewed'; deviceId: string; ms: number; handoverMs: number; at: number }
  | { type: 'renewal-failed'; deviceId: string; cause: string; attempt: number };

/** Retries of a failed renewal: quick, bounded, and never more often than this. */
export const RENEWAL_RETRY = { initialMs: 500, maxMs: 5000, maxAttempts: 8 };

export interface RenewalLoopOptions {
  /** The run's end (or the device's retirement): no new attempt starts after it; one in flight is aborted. */
  signal: AbortSignal;
  /** False once the device left the fleet (revoked). */
  active(): boolean;
  emit(event: RenewalEvent): void;
  /** The cause of a failure as the fleet reports it. */
  causeOf(error: unknown): string;
  retry?: typeof RENEWAL_RETRY;
}

const sleep = (ms: number, signal: AbortSignal) => delay(Math.max(0, ms), undefined, { signal }).then(() => true, () => false);

/** Resolves when the run stops, or after `maxAttempts` failures in a row (the last one reported). */
export async function keepRenewing(device: ReveosDevice, options: RenewalLoopOptions): Promise<void> {
  const retry = options.retry ?? RENEWAL_RETRY;
  const id = device.identity.deviceId;
  let failures = 0;
  while (!options.signal.aborted && options.active()) {
    const current = device.store.loadOperational();
    if (!current) throw new Error(`${id} has no operational certificate to renew`);
    const { notBefore, notAfter } = inspectCertificate(current.certificateChainPem);
    const wait = failures === 0 ? renewalDueAt(notBefore, notAfter, DEFAULT_RENEWAL_POLICY).getTime() - Date.now() : Math.min(retry.maxMs, retry.initialMs * 2 ** (failures - 1));
    if (!(await sleep(wait, options.signal)) || !options.active()) return;
    const started = performance.now();
    try {
      await device.renewCertificate(options.signal);
    } catch (error) {
      // The run's end aborts a renewal in flight: that is no failure of the device.
      if (options.signal.aborted) return;
      failures++;
      options.emit({ type: 'renewal-failed', deviceId: id, cause: options.causeOf(error), attempt: failures });
      if (failures >= retry.maxAttempts) return;
      continue;
    }
    failures = 0;
    const ms = device.timings.renewal ?? 0;
    options.emit({ type: 'renewed', deviceId: id, ms, handoverMs: performance.now() - started, at: performance.timeOrigin + performance.now() });
  }
}
