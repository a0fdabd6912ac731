// A Clock whose time only moves when a test says so; due timers run inside advance(), in order.
import type { Clock } from '../../../services/provisioning/service-state.ts';

interface Pending {
  id: number;
  due: number;
  callback: () => void;
}

export class ManualClock implements Clock {
  #now: number;
  #nextId = 1;
  #pending: Pending[] = [];

  constructor(start: number | Date = Date.UTC(2025, 0, 1, 12, 0, 0)) {
    this.#now = typeof start === 'number' ? start : start.getTime();
  }

  now(): number {
    return this.#now;
  }

  setTimeout(callback: () => void, ms: number): unknown {
    const id = this.#nextId++;
    this.#pending.push({ id, due: this.#now + ms, callback });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.#pending = this.#pending.filter((p) => p.id !== handle);
  }

  get pendingTimers(): number {
    return this.#pending.length;
  }

  /** Moves time forward, firing each timer at its due time (timers set by callbacks included). */
  advance(ms: number): void {
    const target = this.#now + ms;
    for (;;) {
      const next = this.#pending.filter((p) => p.due <= target).sort((a, b) => a.due - b.due || a.id - b.id)[0];
      if (!next) break;
      this.#pending = this.#pending.filter((p) => p !== next);
      this.#now = Math.max(this.#now, next.due);
      next.callback();
    }
    this.#now = target;
  }

  /** Jumps time without firing timers, as when the event loop was blocked or the host slept. */
  jump(ms: number): void {
    this.#now += ms;
  }
}
