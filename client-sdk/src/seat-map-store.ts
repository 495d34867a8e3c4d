import type { SeatMapDiffMessage, SeatMapSnapshotMessage, SeatStatusCode } from '../../src/protocol/socket-events.js';

/** Seat status codes of snapshots and diffs (SeatStatusCode in src/protocol/socket-events.ts). */
export const SeatStatus = { available: 0, held: 1, sold: 2, blocked: 3 } as const satisfies Record<string, SeatStatusCode>;

export type SeatMapStatus =
  /** Waiting for the first snapshot. */
  | 'syncing'
  /** Up to date and applying diffs as they come. */
  | 'live'
  /** Missed a diff; asked for a fresh snapshot, buffering diffs meanwhile. */
  | 'resyncing'
  /** Disconnected; the last known state is kept and refreshed on reconnect. */
  | 'offline'
  /** The server refused to watch (e.g. not_found); see `error`. */
  | 'failed'
  | 'closed';

export type SnapshotReason = 'initial' | 'resync' | 'reconnect';

export type SeatMapEvent =
  | { type: 'snapshot'; version: number; previousVersion: number; reason: SnapshotReason }
  | { type: 'diff'; fromVersion: number; toVersion: number; seats: readonly [seat: number, status: SeatStatusCode][]; pools: readonly [pool: number, available: number][] }
  | { type: 'status'; status: SeatMapStatus; error?: unknown };

/** An immutable view for UI frameworks: a new object after every change (React: useSyncExternalStore). */
export interface SeatMapState {
  showId: string;
  status: SeatMapStatus;
  /** -1 until the first snapshot. */
  version: number;
  /** One status code per seat, in the seat map's seat order. Do not mutate. */
  seatStatus: Uint8Array;
  /** Units left per pool, in the seat map's pool order. */
  poolAvailable: readonly number[];
}

export interface SeatMapStoreOptions {
  /** Asked for a fresh snapshot (the client re-emits `show:watch`); it answers with applySnapshot. */
  requestResync: (store: SeatMapStore) => void;
  /** Called by close() (the client unwatches). */
  onClose?: (store: SeatMapStore) => void;
  /** Where a throwing listener's error goes (default: rethrown asynchronously). */
  onListenerError?: (error: unknown) => void;
  /** Diffs kept while waiting for a snapshot; beyond it they are dropped (the snapshot covers them). */
  bufferMax?: number;
}

export type DiffOutcome = 'applied' | 'ignored' | 'gap' | 'buffered';

/**
 * The live seat map of one show: a committed snapshot (a status byte per seat, units per pool,
 * a version) kept current by the server's ordered diffs. At version V a diff is applied when
 * from_version <= V < to_version (statuses are absolute, so overlap is harmless), ignored when
 * to_version <= V, and a gap (from_version > V: something was missed) makes the store ask for a
 * fresh snapshot and buffer diffs until it arrives, then replay the ones past the snapshot.
 * Listeners hear every snapshot, diff and status change.
 */
export class SeatMapStore {
  private currentVersion = -1;
  private seats: Uint8Array = new Uint8Array(0);
  private pools: number[] = [];
  private currentStatus: SeatMapStatus = 'syncing';
  private buffered: SeatMapDiffMessage[] = [];
  private readonly listeners = new Set<(event: SeatMapEvent, store: SeatMapStore) => void>();
  private state: SeatMapState;
  private readyWaiters: { resolve: (store: SeatMapStore) => void; reject: (error: unknown) => void }[] = [];
  private lastError: unknown = undefined;
  /** Counters for diagnostics and tests. */
  readonly stats = { snapshots: 0, diffsApplied: 0, diffsIgnored: 0, gaps: 0 };

  constructor(
    readonly showId: string,
    private readonly options: SeatMapStoreOptions,
  ) {
    this.state = this.freeze();
  }

  get version(): number {
    return this.currentVersion;
  }

  get status(): SeatMapStatus {
    return this.currentStatus;
  }

  /** Live status bytes (same array until the next snapshot). Do not mutate. */
  get seatStatus(): Uint8Array {
    return this.seats;
  }

  get poolAvailable(): readonly number[] {
    return this.pools;
  }

  get error(): unknown {
    return this.lastError;
  }

  /** Status of seat `index` (seat order of the show's geometry). */
  seat(index: number): SeatStatusCode {
    return (this.seats[index] ?? SeatStatus.blocked) as SeatStatusCode;
  }

  /** How many seats are in each status. */
  counts(): { available: number; held: number; sold: number; blocked: number } {
    const counts = [0, 0, 0, 0];
    for (const status of this.seats) counts[status] = (counts[status] ?? 0) + 1;
    return { available: counts[0]!, held: counts[1]!, sold: counts[2]!, blocked: counts[3]! };
  }

  /** The current immutable view (stable identity between changes). */
  readonly getState = (): SeatMapState => this.state;

  /** Listens to snapshots, diffs and status changes; returns the unsubscribe function. */
  readonly subscribe = (listener: (event: SeatMapEvent, store: SeatMapStore) => void): (() => void) => {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  };

  /** Resolves once the first snapshot is in (rejects if the server refuses to watch). */
  whenReady(): Promise<SeatMapStore> {
    if (this.currentVersion >= 0) return Promise.resolve(this);
    if (this.currentStatus === 'failed' || this.currentStatus === 'closed') return Promise.reject(this.lastError ?? new Error(`seat map ${this.currentStatus}`));
    return new Promise((resolve, reject) => this.readyWaiters.push({ resolve, reject }));
  }

  /** Resolves when the store reaches `version` (or later). */
  waitForVersion(version: number, timeoutMs = 10_000): Promise<SeatMapStore> {
    if (this.currentVersion >= version) return Promise.resolve(this);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        unsubscribe();
        reject(new Error(`seat map ${this.showId} did not reach version ${version} within ${timeoutMs} ms (at ${this.currentVersion})`));
      }, timeoutMs);
      const unsubscribe = this.subscribe(() => {
        if (this.currentVersion < version) return;
        clearTimeout(timer);
        unsubscribe();
        resolve(this);
      });
    });
  }

  /** Replaces the state with a committed snapshot, then replays buffered diffs past it. */
  applySnapshot(snapshot: Pick<SeatMapSnapshotMessage, 'version' | 'seat_status' | 'pool_available'>, reason: SnapshotReason): void {
    if (this.currentStatus === 'closed') return;
    const previousVersion = this.currentVersion;
    const previousStatus = this.currentStatus;
    const pending = this.buffered;
    this.buffered = [];
    this.seats = Uint8Array.from(snapshot.seat_status);
    this.pools = [...snapshot.pool_available];
    this.currentVersion = snapshot.version;
    this.stats.snapshots += 1;
    this.currentStatus = 'live';
    this.lastError = undefined;
    this.changed({ type: 'snapshot', version: snapshot.version, previousVersion, reason });
    if (previousStatus !== 'live') this.changed({ type: 'status', status: 'live' });
    for (const waiter of this.readyWaiters.splice(0)) waiter.resolve(this);
    pending.sort((a, b) => a.from_version - b.from_version);
    for (const diff of pending) this.applyDiff(diff);
  }

  /** Applies, ignores or buffers one diff; a gap asks for a resync. */
  applyDiff(diff: SeatMapDiffMessage): DiffOutcome {
    if (this.currentStatus === 'closed' || this.currentStatus === 'failed') return 'ignored';
    if (this.currentStatus !== 'live') {
      this.buffered.push(diff);
      if (this.buffered.length > (this.options.bufferMax ?? 1_000)) this.buffered.shift();
      return 'buffered';
    }
    const version = this.currentVersion;
    if (diff.to_version <= version) {
      this.stats.diffsIgnored += 1;
      return 'ignored';
    }
    if (diff.from_version > version) {
      this.stats.gaps += 1;
      this.buffered.push(diff);
      this.setStatus('resyncing');
      this.options.requestResync(this);
      return 'gap';
    }
    for (const [seat, status] of diff.seats) if (seat >= 0 && seat < this.seats.length) this.seats[seat] = status;
    for (const [pool, available] of diff.pools) if (pool >= 0 && pool < this.pools.length) this.pools[pool] = available;
    this.currentVersion = diff.to_version;
    this.stats.diffsApplied += 1;
    this.changed({ type: 'diff', fromVersion: diff.from_version, toVersion: diff.to_version, seats: diff.seats, pools: diff.pools });
    return 'applied';
  }

  /** The connection dropped: keep the last state, mark it stale. */
  markOffline(): void {
    if (this.currentStatus === 'live' || this.currentStatus === 'resyncing') this.setStatus('offline');
  }

  /** Marks the store as waiting for a snapshot (reconnecting or resyncing), so diffs are buffered. */
  markSyncing(): void {
    if (this.currentStatus === 'closed' || this.currentStatus === 'failed') return;
    this.setStatus(this.currentVersion < 0 ? 'syncing' : 'resyncing');
  }

  /** The server refused to watch: waiters reject, listeners hear `failed`. */
  fail(error: unknown): void {
    if (this.currentStatus === 'closed') return;
    this.lastError = error;
    this.setStatus('failed', error);
    for (const waiter of this.readyWaiters.splice(0)) waiter.reject(error);
  }

  /** Stops watching; the last state stays readable. */
  close(): void {
    if (this.currentStatus === 'closed') return;
    this.setStatus('closed');
    for (const waiter of this.readyWaiters.splice(0)) waiter.reject(new Error(`seat map ${this.showId} closed`));
    this.options.onClose?.(this);
    this.listeners.clear();
  }

  private setStatus(status: SeatMapStatus, error?: unknown): void {
    if (this.currentStatus === status) return;
    this.currentStatus = status;
    this.changed(error === undefined ? { type: 'status', status } : { type: 'status', status, error });
  }

  private changed(event: SeatMapEvent): void {
    this.state = this.freeze();
    for (const listener of [...this.listeners]) {
      try {
        listener(event, this);
      } catch (error) {
        if (this.options.onListenerError) this.options.onListenerError(error);
        else
          setTimeout(() => {
            throw error;
          }, 0);
      }
    }
  }

  private freeze(): SeatMapState {
    return { showId: this.showId, status: this.currentStatus, version: this.currentVersion, seatStatus: this.seats, poolAvailable: [...this.pools] };
  }
}
