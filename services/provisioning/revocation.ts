// Revocation as the service performs it, from the admin API or by itself once a superseded
// certificate's grace period has passed (seed 002: "keep old cert valid during 7-day grace ...
// remove old after grace"; seed 003 lists "superseded" among the revocation reasons).
import type { CertificateRecord } from './inventory.ts';
import type { ServiceContext } from './context.ts';
import type { RevocationReason } from './step-ca-client.ts';

/**
 * Revokes at the authority that issued it, marks the inventory, audits, and tells the lab (which
 * publishes the CRL and, unless superseded, disconnects the identity) before returning.
 */
export async function revokeRecord(
  ctx: ServiceContext,
  record: CertificateRecord,
  reason: RevocationReason,
  audit: { sourceIp?: string; trigger: 'admin' | 'grace-expired'; successor?: string },
): Promise<CertificateRecord> {
  const authority = record.kind === 'bootstrap' ? ctx.authorities.bootstrap : ctx.authorities.operational;
  await authority.revoke(record.serial, reason, `revoked by the provisioning service: ${reason}`);
  const revoked = ctx.inventory.markRevoked(record.serial, reason, new Date(ctx.now()))!;
  ctx.audit.write({ event: 'revocation', decision: 'served', serial: record.serial, deviceId: record.deviceId, reason, kind: record.kind, ...audit });
  await ctx.options.onRevoked?.({
    serial: record.serial,
    identity: record.deviceId,
    kind: record.kind,
    reason,
    crlPem: record.kind === 'bootstrap' ? undefined : await ctx.authorities.operational.crlPem(),
  });
  return revoked;
}

export interface SupersededCertificate {
  record: CertificateRecord;
  /** The newer certificate of the same identity that replaced it. */
  successor: CertificateRecord;
  /** When the grace period ends: the successor's arrival in the inventory plus the grace. */
  graceEndsAt: number;
}

/**
 * Active operational certificates that a newer active one of the same identity replaced: each with
 * the end of its grace period. The grace starts when the service learnt of the successor (its
 * inventory record), not at its notBefore, which step-ca backdates. An expired certificate is left
 * out: the broker already refuses it, and a CRL entry would add nothing.
 */
export function supersededCertificates(records: readonly CertificateRecord[], now: number, graceMs: number): SupersededCertificate[] {
  const byIdentity = new Map<string, CertificateRecord[]>();
  for (const r of records) {
    if (r.kind !== 'operational' || r.status !== 'active') continue;
    byIdentity.set(r.deviceId, [...(byIdentity.get(r.deviceId) ?? []), r]);
  }
  const out: SupersededCertificate[] = [];
  for (const held of byIdentity.values()) {
    held.sort((a, b) => a.notBefore.getTime() - b.notBefore.getTime() || a.recordedAt.getTime() - b.recordedAt.getTime());
    for (let i = 0; i < held.length - 1; i++) {
      const record = held[i]!;
      if (record.notAfter.getTime() < now) continue;
      // The next newer certificate started this one's grace, even if a third replaced that one since.
      const successor = held[i + 1]!;
      out.push({ record, successor, graceEndsAt: successor.recordedAt.getTime() + graceMs });
    }
  }
  return out;
}

export interface SupersededRevokerOptions {
  graceMs: number;
  /** How often it looks; default a quarter of the grace, between 100 ms and a minute. */
  intervalMs?: number;
  /** Brings the inventory up to date first (renewals straight at step-ca arrive through its log). */
  beforeSweep?: () => void;
  onError(err: Error): void;
}

/** Revokes superseded certificates as 'superseded' once their grace has passed; the state is the inventory, so a restart loses nothing. */
export class SupersededRevoker {
  readonly #ctx: ServiceContext;
  readonly #options: SupersededRevokerOptions;
  #timer: NodeJS.Timeout | undefined;
  #sweeping: Promise<void> | undefined;
  #stopped = false;

  constructor(ctx: ServiceContext, options: SupersededRevokerOptions) {
    this.#ctx = ctx;
    this.#options = options;
  }

  get intervalMs(): number {
    return this.#options.intervalMs ?? Math.min(60_000, Math.max(100, this.#options.graceMs / 4));
  }

  start(): void {
    if (this.#stopped || this.#timer) return;
    const tick = () => {
      this.#sweeping = this.sweep()
        .then(() => undefined)
        .catch((err: Error) => this.#options.onError(err))
        .finally(() => {
          this.#sweeping = undefined;
          if (!this.#stopped) this.#timer = setTimeout(tick, this.intervalMs).unref();
        });
    };
    this.#timer = setTimeout(tick, this.intervalMs).unref();
  }

  /** Revokes every certificate whose grace has ended; returns their serials. */
  async sweep(): Promise<string[]> {
    this.#options.beforeSweep?.();
    const now = this.#ctx.now();
    const due = supersededCertificates(this.#ctx.inventory.list(), now, this.#options.graceMs).filter((s) => s.graceEndsAt <= now);
    const revoked: string[] = [];
    for (const { record, successor } of due) {
      if (this.#stopped) break;
      // The engineer may have revoked it meanwhile (the admin API does not wait for a sweep).
      if (this.#ctx.inventory.get(record.serial)?.status !== 'active') continue;
      await revokeRecord(this.#ctx, record, 'superseded', { trigger: 'grace-expired', successor: successor.serial });
      revoked.push(record.serial);
    }
    return revoked;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#sweeping;
  }
}
