import { setImmediate as nextMacrotask } from 'node:timers/promises';
import type { Clock, Timers } from '../../src/shared/clock.js';

interface Entry {
  id: number;
  atMs: number;
  callback: () => void;
}

/** A clock and timers that only move when the test says so. */
export class ManualTime implements Clock, Timers {
  private now: number;
  private nextId = 1;
  private readonly entries = new Map<number, Entry>();

  constructor(startMs = 1_750_000_000_000) {
    this.now = startMs;
  }

  nowMs(): number {
    return this.now;
  }

  setTimeout(callback: () => void, delayMs: number): unknown {
    const id = this.nextId;
    this.nextId += 1;
    this.entries.set(id, { id, atMs: this.now + Math.max(0, delayMs), callback });
    return id;
  }

  clearTimeout(handle: unknown): void {
    if (typeof handle === 'number') this.entries.delete(handle);
  }

  get pending(): number {
    return this.entries.size;
  }

  /** Moves time forward, running due timers in order and letting promises settle between them. */
  async advance(ms: number): Promise<void> {
    const target = this.now + ms;
    await nextMacrotask();
    for (;;) {
      let next: Entry | undefined;
      for (const entry of this.entries.values()) {
        if (entry.atMs <= target && (next === undefined || entry.atMs < next.atMs || (entry.atMs === next.atMs && entry.id < next.id))) next = entry;
      }
      if (!next) break;
      this.entries.delete(next.id);
      this.now = Math.max(this.now, next.atMs);
      next.callback();
      await nextMacrotask();
    }
    this.now = target;
    await nextMacrotask();
  }

  /** Jumps the clock without running timers (a stale timestamp). */
  jump(ms: number): void {
    this.now += ms;
  }
}
