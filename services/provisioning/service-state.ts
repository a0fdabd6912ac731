// ON/OFF state of the provisioning service (FR-PS-003). OFF is the safe state: it is the default,
// turning OFF clears the white list, and every doubtful path (expired timer, deadline passed while
// the service was down, late timer callback) ends in OFF.
import { z } from 'zod';
import { Whitelist, parseWhitelist } from './whitelist.ts';

/** Time and timers, injected so tests advance time instead of sleeping. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => {
    // The server keeps the process alive; a pending auto-off alone must not.
    const handle = setTimeout(callback, ms);
    handle.unref();
    return handle;
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export type DisableCause = 'admin' | 'auto-off';

export type ServiceStateEvent =
  | { type: 'enabled'; at: string; autoOffAt: string | null; whitelist: string[] }
  | { type: 'disabled'; at: string; cause: DisableCause; reason: string; clearedWhitelist: string[] }
  | { type: 'whitelist-changed'; at: string; whitelist: string[] }
  | { type: 'restored'; at: string; enabled: boolean; autoOffAt: string | null; whitelist: string[] };

export type ServiceStateListener = (event: ServiceStateEvent) => void;

export interface ServiceSnapshot {
  enabled: boolean;
  enabledAt: string | null;
  autoOffAt: string | null;
  /** Whole seconds left, rounded up so the page never shows 0 while still ON; null without timer. */
  remainingSeconds: number | null;
  whitelist: string[];
}

export type AccessDecision =
  | { allowed: true; entry: string }
  | { allowed: false; reason: 'service-off' | 'not-whitelisted'; message: string };

const persistedSchema = z.object({
  version: z.literal(1),
  enabled: z.boolean(),
  enabledAt: z.iso.datetime().nullable(),
  autoOffAt: z.iso.datetime().nullable(),
  whitelist: z.array(z.string()),
});
export type PersistedServiceState = z.infer<typeof persistedSchema>;

export class ServiceStateError extends Error {
  override name = 'ServiceStateError';
}

export interface ServiceStateOptions {
  clock?: Clock;
  /** Subscribed before anything happens, so fromJSON's own events reach it. */
  listener?: ServiceStateListener;
  /** A failing listener (say, a full disk under the audit log) must not break the state machine. */
  onListenerError?: (error: unknown, event: ServiceStateEvent) => void;
}

/** setTimeout fires at once for delays above 2^31-1 ms (~24.8 days); longer timers are chained. */
const MAX_TIMER_MS = 2 ** 31 - 1;
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export class ServiceState {
  readonly #clock: Clock;
  readonly #listeners = new Set<ServiceStateListener>();
  readonly #onListenerError: (error: unknown, event: ServiceStateEvent) => void;
  #enabledAt: number | null = null;
  #autoOffAt: number | null = null;
  #whitelist: Whitelist = Whitelist.empty;
  #timer: unknown = undefined;

  constructor(options: ServiceStateOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    this.#onListenerError = options.onListenerError ?? ((error, event) => console.error(`service-state listener failed on ${event.type}:`, error));
    if (options.listener) this.#listeners.add(options.listener);
  }

  /** Returns the unsubscribe function. */
  subscribe(listener: ServiceStateListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  get enabled(): boolean {
    this.#expireIfDue();
    return this.#enabledAt !== null;
  }

  get whitelist(): Whitelist {
    this.#expireIfDue();
    return this.#whitelist;
  }

  /**
   * Turns the service ON, or updates it if already ON. The call states the whole timer setting:
   * without autoOffSeconds there is no auto-off. A given white list replaces the current one;
   * it is validated before anything changes.
   */
  enable(options: { autoOffSeconds?: number; whitelist?: readonly string[] } = {}): ServiceSnapshot {
    const { autoOffSeconds } = options;
    if (autoOffSeconds !== undefined && !(Number.isFinite(autoOffSeconds) && autoOffSeconds > 0)) {
      throw new ServiceStateError(`autoOffSeconds must be a positive number of seconds, got ${autoOffSeconds}`);
    }
    const whitelist = options.whitelist ? parseWhitelist(options.whitelist) : undefined;
    this.#expireIfDue();
    const now = this.#clock.now();
    this.#enabledAt ??= now;
    if (whitelist) this.#whitelist = whitelist;
    this.#autoOffAt = autoOffSeconds === undefined ? null : now + Math.round(autoOffSeconds * 1000);
    this.#schedule();
    this.#emit({ type: 'enabled', at: iso(now)!, autoOffAt: iso(this.#autoOffAt), whitelist: this.#whitelist.entries });
    return this.snapshot(now);
  }

  /** Turns the service OFF and clears the white list; false if it was already OFF. */
  disable(reason: string): boolean {
    this.#expireIfDue();
    if (this.#enabledAt === null) return false;
    this.#turnOff('admin', reason);
    return true;
  }

  /**
   * Replaces the white list, all or nothing (throws WhitelistError listing every bad entry).
   * Refused while OFF: a list kept while OFF would contradict "OFF clears the list".
   */
  setWhitelist(entries: readonly string[]): Whitelist {
    const whitelist = parseWhitelist(entries);
    if (!this.enabled) throw new ServiceStateError('the provisioning service is OFF; turn it ON before editing the white list');
    this.#whitelist = whitelist;
    this.#emit({ type: 'whitelist-changed', at: iso(this.#clock.now())!, whitelist: whitelist.entries });
    return whitelist;
  }

  /**
   * Whether a request from this source may be served. An empty white list admits nobody: FR-PS-002
   * says reject non-white-listed sources (unlike the commercial DPS, where empty means open).
   */
  decide(sourceAddress: string | undefined): AccessDecision {
    if (!this.enabled) return { allowed: false, reason: 'service-off', message: 'the provisioning service is OFF' };
    const entry = this.#whitelist.match(sourceAddress);
    if (entry) return { allowed: true, entry: entry.normalized };
    const message = this.#whitelist.size === 0
      ? `${sourceAddress ?? 'unknown address'} refused: the white list is empty`
      : `${sourceAddress ?? 'unknown address'} is not on the white list`;
    return { allowed: false, reason: 'not-whitelisted', message };
  }

  /** `now` only sets what remainingSeconds counts from; expiry is always judged by the clock. */
  snapshot(now: number = this.#clock.now()): ServiceSnapshot {
    this.#expireIfDue();
    return {
      enabled: this.#enabledAt !== null,
      enabledAt: iso(this.#enabledAt),
      autoOffAt: iso(this.#autoOffAt),
      remainingSeconds: this.#autoOffAt === null ? null : Math.max(0, Math.ceil((this.#autoOffAt - now) / 1000)),
      whitelist: this.#whitelist.entries,
    };
  }

  toJSON(): PersistedServiceState {
    this.#expireIfDue();
    return {
      version: 1,
      enabled: this.#enabledAt !== null,
      enabledAt: iso(this.#enabledAt),
      autoOffAt: iso(this.#autoOffAt),
      whitelist: this.#whitelist.entries,
    };
  }

  /**
   * Restores a persisted state. The deadline is absolute, so a service that was down past it comes
   * back OFF (with a 'disabled' event for the audit log). Throws on data that does not validate:
   * the caller decides whether to start OFF instead.
   */
  static fromJSON(data: unknown, options: ServiceStateOptions = {}): ServiceState {
    const parsed = persistedSchema.safeParse(data);
    if (!parsed.success) throw new ServiceStateError(`persisted service state is invalid: ${z.prettifyError(parsed.error)}`);
    const saved = parsed.data;
    const state = new ServiceState(options);
    if (!saved.enabled) {
      state.#emit({ type: 'restored', at: iso(state.#clock.now())!, enabled: false, autoOffAt: null, whitelist: [] });
      return state;
    }
    const now = state.#clock.now();
    if (saved.autoOffAt !== null && now >= Date.parse(saved.autoOffAt)) {
      // Already OFF; the event still tells the audit log that the timer ended this session.
      state.#emit({
        type: 'disabled', at: iso(now)!, cause: 'auto-off',
        reason: `auto-off deadline ${saved.autoOffAt} passed while the service was down`, clearedWhitelist: saved.whitelist,
      });
      return state;
    }
    state.#whitelist = parseWhitelist(saved.whitelist);
    state.#enabledAt = saved.enabledAt === null ? now : Date.parse(saved.enabledAt);
    state.#autoOffAt = saved.autoOffAt === null ? null : Date.parse(saved.autoOffAt);
    state.#schedule();
    const s = state.snapshot();
    state.#emit({ type: 'restored', at: iso(state.#clock.now())!, enabled: true, autoOffAt: s.autoOffAt, whitelist: s.whitelist });
    return state;
  }

  /** Stops the timer without changing the state, for shutdown; the persisted deadline still holds. */
  dispose(): void {
    this.#cancelTimer();
  }

  #schedule(): void {
    this.#cancelTimer();
    if (this.#autoOffAt === null) return;
    const delay = Math.min(Math.max(0, this.#autoOffAt - this.#clock.now()), MAX_TIMER_MS);
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      // Timers can fire early (chained long delays, clock adjustments): re-check the deadline.
      if (!this.#expireIfDue()) this.#schedule();
    }, delay);
  }

  #cancelTimer(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Requests must not slip in after the deadline just because the timer callback is late. */
  #expireIfDue(): boolean {
    if (this.#enabledAt === null || this.#autoOffAt === null || this.#clock.now() < this.#autoOffAt) return false;
    this.#turnOff('auto-off', 'auto-off timer expired');
    return true;
  }

  #turnOff(cause: DisableCause, reason: string): void {
    const cleared = this.#whitelist.entries;
    this.#cancelTimer();
    this.#enabledAt = null;
    this.#autoOffAt = null;
    this.#whitelist = Whitelist.empty;
    this.#emit({ type: 'disabled', at: iso(this.#clock.now())!, cause, reason, clearedWhitelist: cleared });
  }

  #emit(event: ServiceStateEvent): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(event);
      } catch (error) {
        this.#onListenerError(error, event);
      }
    }
  }
}
