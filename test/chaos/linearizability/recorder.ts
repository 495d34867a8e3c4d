import type { ObservedStatus, Operation, OperationKind } from './history.js';

/** An operation in flight: settle it exactly once. */
export interface PendingOperation {
  ok(update?: { holdId?: string; seats?: readonly string[]; observed?: readonly ObservedStatus[] }): Operation;
  fail(note: string, busySeats?: readonly string[]): Operation;
  timeout(note?: string): Operation;
}

/**
 * Records what clients saw, on one clock: `performance.now()` of this process. Server times
 * (`expires_at_ms`, ms since the epoch on the same machine's wall clock) are put on that clock
 * through the wall-clock offset measured at the start, minus a slack, so an expiry is never
 * placed later than it happened.
 */
export class HistoryRecorder {
  private readonly operations: Operation[] = [];
  private timedOutHolds = 0;
  private readonly epochOffsetMs = Date.now() - performance.now();

  constructor(private readonly serverClockSlackMs = 25) {}

  now(): number {
    return performance.now();
  }

  /** A server timestamp (epoch ms) on the recorder's clock, moved earlier by the slack. */
  serverTimeToLocal(epochMs: number): number {
    return epochMs - this.epochOffsetMs - this.serverClockSlackMs;
  }

  invoke(process: string, kind: OperationKind, holdId: string, seats: readonly string[]): PendingOperation {
    const invokeMs = this.now();
    let settled = false;
    const settle = (operation: Omit<Operation, 'id' | 'process' | 'kind' | 'invokeMs'>): Operation => {
      if (settled) throw new Error(`${kind} ${holdId} settled twice`);
      settled = true;
      const recorded: Operation = { id: this.operations.length, process, kind, invokeMs, ...operation };
      this.operations.push(recorded);
      return recorded;
    };
    return {
      ok: (update = {}) => settle({
        holdId: update.holdId ?? holdId, seats: update.seats ?? seats, outcome: 'ok', responseMs: this.now(),
        ...(update.observed ? { observed: update.observed } : {}),
      }),
      fail: (note, busySeats) => settle({ holdId, seats, outcome: 'fail', responseMs: this.now(), note, ...(busySeats ? { busySeats } : {}) }),
      timeout: (note) => {
        // A hold that never answered has no id the client knows: give it a stand-in.
        const id = kind === 'hold' && holdId === '' ? `timeout-${(this.timedOutHolds += 1)}` : holdId;
        return settle({ holdId: id, seats, outcome: 'timeout', responseMs: null, ...(note ? { note } : {}) });
      },
    };
  }

  /**
   * The server may end a hold by itself from `fromLocalMs` on (or never, if it was released,
   * pinned or sold first): an operation with no response.
   */
  expiry(holdId: string, seats: readonly string[], fromLocalMs: number): void {
    this.operations.push({ id: this.operations.length, process: 'server', kind: 'expire', holdId, seats, outcome: 'timeout', invokeMs: fromLocalMs, responseMs: null });
  }

  history(): Operation[] {
    return [...this.operations];
  }
}
