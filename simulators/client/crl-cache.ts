// A client's offline CRL cache (seed 002 "Revocation & CRL": distribute the CRL daily, cache it
// up to 48 h offline). The client fetches every CRL it needs from the provisioning service's
// public endpoint on a schedule and keeps the last good copy on disk, so it survives a restart and
// an outage of the distribution point. What a stale cache means is the lab's model (README,
// docs/trust-model.md): older than the maximum age, the client no longer trusts it to say that a
// peer is not revoked, so it logs "crl-stale" and refuses new connections until a refresh
// succeeds; a session it already has is kept (the broker checks the client, not the other way).
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ClientLog } from './client-log.ts';

export interface CrlCachePolicy {
  /** How often the client fetches the CRLs (seed 002: daily). */
  refreshIntervalMs: number;
  /** How old the cached copy may be before the client stops trusting it (seed 002: 48 h). */
  maxAgeMs: number;
  /** The length of an hour on the client's clock (the lab's scaled day / 24), for the log's ageHours. */
  hourMs?: number;
}

export type CrlCacheState = { state: 'empty' } | { state: 'fresh' | 'stale'; fetchedAt: Date; ageMs: number };

/** Whether a copy fetched at `fetchedAt` may still be trusted at `now`. */
export function crlCacheState(fetchedAt: Date | undefined, now: Date, maxAgeMs: number): CrlCacheState {
  if (!fetchedAt) return { state: 'empty' };
  const ageMs = now.getTime() - fetchedAt.getTime();
  return { state: ageMs > maxAgeMs ? 'stale' : 'fresh', fetchedAt, ageMs };
}

/** A new connection refused because the client cannot tell whether its peer is revoked. */
export class CrlStaleError extends Error {
  override name = 'CrlStaleError';
  readonly reason = 'crl-stale';
}

const FILES = { crls: 'crl-cache.pem', meta: 'crl-cache.json' } as const;

export class CrlCache {
  readonly #dir: string;
  readonly #fetch: () => Promise<string[]>;
  readonly #log: ClientLog;
  readonly #now: () => Date;
  readonly #policy: CrlCachePolicy;
  #timer: NodeJS.Timeout | undefined;
  #refreshing: Promise<boolean> | undefined;
  /** Staleness is logged once per episode: from the moment it goes stale to the next good refresh. */
  #staleLogged = false;
  #stopped = false;

  constructor(options: { dir: string; fetch: () => Promise<string[]>; log: ClientLog; now: () => Date; policy: CrlCachePolicy }) {
    this.#dir = options.dir;
    this.#fetch = options.fetch;
    this.#log = options.log;
    this.#now = options.now;
    this.#policy = options.policy;
  }

  get fetchedAt(): Date | undefined {
    const file = path.join(this.#dir, FILES.meta);
    if (!existsSync(file)) return undefined;
    return new Date((JSON.parse(readFileSync(file, 'utf8')) as { fetchedAt: string }).fetchedAt);
  }

  /** The cached CRLs (PEM), whatever their age. */
  get crls(): string[] {
    const file = path.join(this.#dir, FILES.crls);
    return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as string[]) : [];
  }

  state(): CrlCacheState {
    return crlCacheState(this.fetchedAt, this.#now(), this.#policy.maxAgeMs);
  }

  #ageHours(ageMs: number): number {
    return Math.round((ageMs / (this.#policy.hourMs ?? 3_600_000)) * 10) / 10;
  }

  /** Fetches now; on failure keeps the cached copy and logs why. True when the cache was renewed. */
  refresh(): Promise<boolean> {
    this.#refreshing ??= (async () => {
      try {
        const crls = await this.#fetch();
        const fetchedAt = this.#now();
        // Written to a temporary file and renamed: a crash never leaves half a CRL behind.
        for (const [name, content] of [[FILES.crls, JSON.stringify(crls)], [FILES.meta, JSON.stringify({ fetchedAt: fetchedAt.toISOString() })]] as const) {
          const file = path.join(this.#dir, name);
          writeFileSync(`${file}.tmp`, content, { mode: 0o644 });
          renameSync(`${file}.tmp`, file);
        }
        this.#staleLogged = false;
        this.#log.write('crl-refreshed', { crls: crls.length, fetchedAt: fetchedAt.toISOString() });
        return true;
      } catch (err) {
        const state = this.state();
        this.#log.write('crl-refresh-failed', { error: (err as Error).message, ageHours: state.state === 'empty' ? null : this.#ageHours(state.ageMs) });
        return false;
      } finally {
        this.#refreshing = undefined;
      }
    })();
    return this.#refreshing;
  }

  /** Logs "crl-stale" once when the cached copy is too old to trust; returns the state. */
  check(): CrlCacheState {
    const state = this.state();
    if (state.state !== 'fresh' && !this.#staleLogged) {
      this.#staleLogged = true;
      this.#log.write('crl-stale', {
        ageHours: state.state === 'empty' ? null : this.#ageHours(state.ageMs),
        maxAgeHours: this.#ageHours(this.#policy.maxAgeMs),
        fetchedAt: state.state === 'empty' ? null : state.fetchedAt.toISOString(),
      });
    }
    return state;
  }

  /** The cached CRLs if they may be trusted now; otherwise CrlStaleError. */
  trusted(): string[] {
    const state = this.check();
    if (state.state !== 'fresh') {
      throw new CrlStaleError(state.state === 'empty' ? 'no CRL has been fetched yet' : `the cached CRL is ${this.#ageHours(state.ageMs)} h old, more than the ${this.#ageHours(this.#policy.maxAgeMs)} h it may be trusted offline`);
    }
    return this.crls;
  }

  /** Refreshes now, then every refreshIntervalMs, checking the age after each attempt. */
  start(): void {
    if (this.#timer || this.#stopped) return;
    const tick = async () => {
      await this.refresh();
      this.check();
      if (!this.#stopped) this.#timer = setTimeout(tick, this.#policy.refreshIntervalMs).unref();
    };
    this.#timer = setTimeout(tick, 0).unref();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#refreshing;
  }

  /** Forgets the cache (its files). */
  clear(): void {
    for (const name of Object.values(FILES)) rmSync(path.join(this.#dir, name), { force: true });
  }
}
