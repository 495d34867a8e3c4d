import type { Clock, Timers } from '../../src/shared/clock.js';

interface TimerEntry {
  id: number;
  atMs: number;
  callback: () => void;
  owner: string;
}

interface TimerHandle {
  readonly simTimerId: number;
}

function isTimerHandle(value: unknown): value is TimerHandle {
  return typeof value === 'object' && value !== null && typeof (value as { simTimerId?: unknown }).simTimerId === 'number';
}

/**
 * Simulated time. Timers run on a monotonic virtual clock that only moves when the simulator
 * advances it; wall clocks (what `Clock.nowMs` returns) are that plus a skew the simulator can
 * jump forward or back, globally or per process — timers, like Node's, ignore wall-clock jumps.
 */
export class VirtualTime {
  private monoMs: number;
  private globalSkewMs = 0;
  private nextId = 1;
  private readonly timers = new Map<number, TimerEntry>();
  private readonly deadOwners = new Set<string>();

  constructor(startMs: number) {
    this.monoMs = startMs;
  }

  get monotonicMs(): number {
    return this.monoMs;
  }

  get skewMs(): number {
    return this.globalSkewMs;
  }

  /** The wall clock of one process: global skew plus the process's own (mutable) offset. */
  clockFor(offset: { skewMs: number }): Clock {
    return { nowMs: () => this.monoMs + this.globalSkewMs + offset.skewMs };
  }

  /** Timers owned by one process; a crash cancels them all and refuses new ones. */
  timersFor(owner: string): Timers {
    return {
      setTimeout: (callback: () => void, delayMs: number): unknown => {
        const id = this.nextId;
        this.nextId += 1;
        if (this.deadOwners.has(owner)) return { simTimerId: id };
        const delay = Number.isFinite(delayMs) ? Math.max(0, delayMs) : 0;
        this.timers.set(id, { id, atMs: this.monoMs + delay, callback, owner });
        return { simTimerId: id };
      },
      clearTimeout: (handle: unknown): void => {
        if (isTimerHandle(handle)) this.timers.delete(handle.simTimerId);
      },
    };
  }

  killOwner(owner: string): void {
    this.deadOwners.add(owner);
    for (const [id, timer] of this.timers) if (timer.owner === owner) this.timers.delete(id);
  }

  /** Moves every process's wall clock (an NTP step or a VM pause). */
  jumpWallClock(deltaMs: number): void {
    this.globalSkewMs += deltaMs;
  }

  get pendingTimers(): number {
    return this.timers.size;
  }

  nextTimerAtMs(): number | undefined {
    let next: number | undefined;
    for (const timer of this.timers.values()) if (next === undefined || timer.atMs < next) next = timer.atMs;
    return next;
  }

  /**
   * Moves monotonic time to `targetMs`, firing due timers one at a time in (time, creation)
   * order and letting `settle` run what each one started before the next fires.
   * Returns how many timers fired.
   */
  async advanceTo(targetMs: number, settle: () => Promise<void>): Promise<number> {
    let fired = 0;
    for (;;) {
      let due: TimerEntry | undefined;
      for (const timer of this.timers.values()) {
        if (timer.atMs > targetMs) continue;
        if (due === undefined || timer.atMs < due.atMs || (timer.atMs === due.atMs && timer.id < due.id)) due = timer;
      }
      if (due === undefined) break;
      this.timers.delete(due.id);
      if (due.atMs > this.monoMs) this.monoMs = due.atMs;
      due.callback();
      fired += 1;
      await settle();
    }
    if (targetMs > this.monoMs) this.monoMs = targetMs;
    return fired;
  }
}
