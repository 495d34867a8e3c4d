import type { SeatMapDiff } from '../../actors/seat-map-diff.js';
import type { ShowRouter } from '../../actors/show-router.js';
import type { SeatMapDiffMessage, SeatStatusCode } from '../../protocol/socket-events.js';
import type { Logger } from '../../shared/logger.js';

interface PendingDiff {
  fromVersion: number;
  toVersion: number;
  committedAtMs: number;
  seats: Map<number, SeatStatusCode>;
  pools: Map<number, number>;
}

interface WatchedShow {
  watchers: number;
  unsubscribe: (() => void) | null;
  subscribing: Promise<void> | null;
  pending: PendingDiff | null;
  /** performance.now() of the last broadcast; -Infinity before the first. */
  lastFlushMs: number;
  /** Set while a merged diff waits for the end of the current tick. */
  timer: NodeJS.Timeout | null;
}

/**
 * One subscription per watched show per process, whatever the number of watchers. Committed
 * diffs are merged per show and sent at most once per tick, so a burst of 1,000 commits costs
 * each watcher one message; each seat's latest status wins, versions stay contiguous. A commit
 * that arrives when the show's last broadcast is a tick old or more goes out at once (a
 * throttle, not a delay): coalescing bounds the rate without adding the tick to every change.
 */
export class SeatMapFanout {
  private readonly shows = new Map<string, WatchedShow>();
  diffsEmitted = 0;

  constructor(
    private readonly router: ShowRouter,
    private readonly emit: (message: SeatMapDiffMessage) => void,
    private readonly tickMs: number,
    private readonly logger: Logger,
  ) {}

  /** Counts a watcher; the first one subscribes the process to the show's diffs. */
  async addWatcher(showId: string): Promise<void> {
    let show = this.shows.get(showId);
    if (show === undefined) {
      show = { watchers: 0, unsubscribe: null, subscribing: null, pending: null, lastFlushMs: Number.NEGATIVE_INFINITY, timer: null };
      this.shows.set(showId, show);
    }
    show.watchers += 1;
    if (show.unsubscribe === null && show.subscribing === null) {
      const watched = show;
      watched.subscribing = this.router
        .watch(showId, (diff) => this.onDiff(showId, diff))
        .then((unsubscribe) => {
          watched.unsubscribe = unsubscribe;
        })
        .finally(() => {
          watched.subscribing = null;
        });
    }
    try {
      await show.subscribing;
    } catch (error) {
      this.removeWatcher(showId);
      throw error;
    }
  }

  removeWatcher(showId: string): void {
    const show = this.shows.get(showId);
    if (show === undefined) return;
    show.watchers -= 1;
    if (show.watchers > 0) return;
    this.flushShow(showId, show);
    show.unsubscribe?.();
    this.shows.delete(showId);
  }

  watcherCount(showId: string): number {
    return this.shows.get(showId)?.watchers ?? 0;
  }

  close(): void {
    for (const show of this.shows.values()) {
      if (show.timer !== null) clearTimeout(show.timer);
      show.unsubscribe?.();
    }
    this.shows.clear();
  }

  private onDiff(showId: string, diff: SeatMapDiff): void {
    const show = this.shows.get(showId);
    if (show === undefined) return;
    const pending = show.pending ?? { fromVersion: diff.fromVersion, toVersion: diff.fromVersion, committedAtMs: diff.committedAtMs, seats: new Map(), pools: new Map() };
    if (diff.fromVersion !== pending.toVersion) {
      // Never merge across a gap: send what we have and start afresh; clients resync on the gap.
      this.logger.warn({ showId, expected: pending.toVersion, got: diff.fromVersion }, 'seat-map diff gap');
      this.flushShow(showId, show);
      return this.onDiff(showId, diff);
    }
    for (const [seat, status] of diff.seats) pending.seats.set(seat, status);
    for (const [pool, available] of diff.pools) pending.pools.set(pool, available);
    pending.toVersion = diff.toVersion;
    show.pending = pending;
    if (show.timer !== null) return; // goes out at the end of this tick
    const waitMs = show.lastFlushMs + this.tickMs - performance.now();
    if (waitMs <= 0) this.flushShow(showId, show);
    else {
      show.timer = setTimeout(() => {
        show.timer = null;
        this.flushShow(showId, show);
      }, waitMs);
    }
  }

  private flushShow(showId: string, show: WatchedShow): void {
    if (show.timer !== null) {
      clearTimeout(show.timer);
      show.timer = null;
    }
    const pending = show.pending;
    if (pending === null) return;
    show.pending = null;
    show.lastFlushMs = performance.now();
    this.diffsEmitted += 1;
    this.emit({ show_id: showId, from_version: pending.fromVersion, to_version: pending.toVersion, committed_at_ms: pending.committedAtMs, seats: [...pending.seats], pools: [...pending.pools] });
  }
}
