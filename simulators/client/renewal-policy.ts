// When a device renews its operational certificate (seed 000: before expiry, by default at 2/3
// of its lifetime; seed 002: alerts at 90/30/7 days, auto-renew at 7 days) and how urgent it is.
// Pure functions of the certificate's dates and a clock reading, so the same policy drives the
// simulated devices, the fleet report and the unit tests.

const DAY_MS = 24 * 60 * 60 * 1000;

export interface RenewalPolicy {
  /**
   * Renewal is due once this fraction of the lifetime has passed. Defaults to 2/3 unless
   * `renewBeforeMs` is given; with both, the earlier moment wins.
   */
  lifetimeFraction?: number;
  /** Renewal is due once less than this remains before notAfter. */
  renewBeforeMs?: number;
  /** Level 'warning' once no more than this remains. Default: from the moment renewal is due. */
  warningBeforeMs?: number;
  /** Level 'critical' once no more than this remains. Default: half the time left after renewal became due. */
  criticalBeforeMs?: number;
  /** Seed 002's alerts: the client logs one as each of these (ms before notAfter) is reached, if it is not renewing by then. */
  alertsBeforeMs?: number[];
}

export type RenewalLevel = 'ok' | 'warning' | 'critical' | 'expired';

export interface RenewalStatus {
  due: boolean;
  dueAt: Date;
  /** Milliseconds until notAfter; negative once expired. */
  remainingMs: number;
  level: RenewalLevel;
}

export const DEFAULT_LIFETIME_FRACTION = 2 / 3;

export const DEFAULT_RENEWAL_POLICY: RenewalPolicy = { lifetimeFraction: DEFAULT_LIFETIME_FRACTION };

/** Seed 002's thresholds in days: alerts at 90 and 30 days before expiry, automatic renewal at 7. */
export interface SeedRenewalThresholds {
  /** How long one day lasts: a real day by default; the lab's scaled clock (clock.dayMs) shortens it. */
  dayMs?: number;
  alertDays?: readonly number[];
  renewDays?: number;
}

/**
 * Seed 002's policy on a day of `dayMs`: an alert at each of `alertDays`, the level 'warning' from
 * the last of them, automatic renewal (and the level 'critical') at `renewDays`.
 */
export function seedRenewalPolicy({ dayMs = DAY_MS, alertDays = [90, 30], renewDays = 7 }: SeedRenewalThresholds = {}): RenewalPolicy {
  const alerts = [...alertDays].sort((a, b) => b - a);
  return {
    renewBeforeMs: renewDays * dayMs,
    warningBeforeMs: (alerts.at(-1) ?? renewDays) * dayMs,
    criticalBeforeMs: renewDays * dayMs,
    alertsBeforeMs: alerts.map((d) => d * dayMs),
  };
}

/**
 * Seed 002 for long-lived certificates: warn at 30 days, auto-renew (and call it critical) at 7.
 * Its 90-day alert is informational and has no level of its own.
 */
export const SEED_002_RENEWAL_POLICY: RenewalPolicy = seedRenewalPolicy();

export interface RenewalAlert {
  /** When it is due. */
  at: Date;
  /** Its threshold: how long before notAfter. */
  beforeMs: number;
}

/**
 * The alerts a certificate gets before it renews, in order: each threshold's moment, leaving out
 * those at or after the renewal (the renewal itself is the news then) and before issuance.
 */
export function renewalAlerts(notBefore: Date, notAfter: Date, policy: RenewalPolicy): RenewalAlert[] {
  const dueAt = renewalDueAt(notBefore, notAfter, policy).getTime();
  return [...(policy.alertsBeforeMs ?? [])]
    .sort((a, b) => b - a)
    .map((beforeMs) => ({ at: new Date(notAfter.getTime() - beforeMs), beforeMs }))
    .filter(({ at }) => at.getTime() >= notBefore.getTime() && at.getTime() < dueAt);
}

export class RenewalPolicyError extends Error {
  override name = 'RenewalPolicyError';
}

function checkPolicy(policy: RenewalPolicy): void {
  const f = policy.lifetimeFraction;
  if (f !== undefined && !(f > 0 && f <= 1)) throw new RenewalPolicyError(`lifetimeFraction must be in (0, 1], got ${f}`);
  for (const v of policy.alertsBeforeMs ?? []) {
    if (!(Number.isFinite(v) && v > 0)) throw new RenewalPolicyError(`alertsBeforeMs must hold finite numbers > 0, got ${v}`);
  }
  for (const key of ['renewBeforeMs', 'warningBeforeMs', 'criticalBeforeMs'] as const) {
    const v = policy[key];
    if (v !== undefined && !(Number.isFinite(v) && v >= 0)) throw new RenewalPolicyError(`${key} must be a finite number >= 0, got ${v}`);
  }
}

function lifetime(notBefore: Date, notAfter: Date): number {
  const ms = notAfter.getTime() - notBefore.getTime();
  if (!(ms > 0)) throw new RenewalPolicyError(`notAfter (${notAfter.toISOString()}) must be after notBefore (${notBefore.toISOString()})`);
  return ms;
}

export function renewalDueAt(notBefore: Date, notAfter: Date, policy: RenewalPolicy = DEFAULT_RENEWAL_POLICY): Date {
  checkPolicy(policy);
  const span = lifetime(notBefore, notAfter);
  const candidates: number[] = [];
  if (policy.lifetimeFraction !== undefined || policy.renewBeforeMs === undefined) {
    candidates.push(notBefore.getTime() + span * (policy.lifetimeFraction ?? DEFAULT_LIFETIME_FRACTION));
  }
  if (policy.renewBeforeMs !== undefined) candidates.push(notAfter.getTime() - policy.renewBeforeMs);
  // A threshold longer than the lifetime means "renew right away", never before issuance.
  return new Date(Math.max(notBefore.getTime(), Math.round(Math.min(...candidates))));
}

export function renewalStatus(notBefore: Date, notAfter: Date, now: Date, policy: RenewalPolicy = DEFAULT_RENEWAL_POLICY): RenewalStatus {
  const dueAt = renewalDueAt(notBefore, notAfter, policy);
  const remainingMs = notAfter.getTime() - now.getTime();
  const windowMs = notAfter.getTime() - dueAt.getTime();
  const warningBeforeMs = policy.warningBeforeMs ?? windowMs;
  const criticalBeforeMs = policy.criticalBeforeMs ?? windowMs / 2;
  const level: RenewalLevel =
    remainingMs <= 0 ? 'expired' : remainingMs <= criticalBeforeMs ? 'critical' : remainingMs <= warningBeforeMs ? 'warning' : 'ok';
  return { due: now.getTime() >= dueAt.getTime(), dueAt, remainingMs, level };
}
