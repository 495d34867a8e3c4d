import type { IdempotencyRecord } from '../../src/actors/idempotency.js';
import type { ShowEvent } from '../../src/actors/messages.js';
import type { ShowDefinition } from '../../src/actors/show-definition.js';
import { FencedError, type AcquiredLease, type JournalBatch, type ShowJournal, type StoredSnapshot } from '../../src/persistence/journal.js';
import { InjectedCommitFailure } from '../../src/persistence/memory-journal.js';
import type { StoreUnderTest } from './store.js';

/** Every journal call a ShowActor makes, plus its definition lookup: each is an await point. */
export type JournalOpKind =
  | 'load_definition'
  | 'acquire_lease'
  | 'release_lease'
  | 'read_snapshot'
  | 'read_events'
  | 'read_events_next'
  | 'find_idempotency_record'
  | 'find_idempotency_records'
  | 'append'
  | 'write_snapshot';

/**
 * How a parked call completes: normally, refused before it touched storage, done but its answer
 * lost, or timed out — the caller gets an error now while the call stays in flight and may still
 * reach storage later (or never).
 */
export type OpFault = 'none' | 'fail_before_write' | 'fail_after_write' | 'timeout';

export interface ParkedOp {
  readonly id: number;
  /** The process (actor owner id) that made the call. */
  readonly owner: string;
  readonly kind: JournalOpKind;
  readonly batch: JournalBatch | null;
  /** Its caller crashed while the call was in flight; the write may still reach storage. */
  orphaned: boolean;
}

interface ParkedEntry extends ParkedOp {
  execute(fault: OpFault): Promise<void>;
  /** Settles the caller with an error without running the call. */
  abandon(error: Error): void;
}

export class InjectedTimeout extends Error {
  override name = 'InjectedTimeout';
}

export interface JournalViolation {
  invariant: string;
  message: string;
}

export interface SimulatedJournalStats {
  appendsCommitted: number;
  appendsFenced: number;
  appendsRefused: number;
  leasesAcquired: number;
  snapshotsWritten: number;
  orphanedWritesLanded: number;
}

export class InjectedReadFailure extends Error {
  override name = 'InjectedReadFailure';
}

const writeKinds: ReadonlySet<JournalOpKind> = new Set(['append', 'write_snapshot', 'acquire_lease']);

export function isWriteOp(kind: JournalOpKind): boolean {
  return writeKinds.has(kind);
}

/**
 * A ShowJournal around the store under test (a MemoryJournal, or the Postgres journal on
 * PGlite / PostgreSQL) in which every call parks until the simulator completes
 * it, in an order and with an outcome the simulator chooses. Each actor gets its own view, so
 * the journal knows who called: a crashed process's calls are dropped (or, for writes, may
 * still land later), and a reference model of the lease checks that only the current epoch
 * ever commits.
 */
export class SimulatedJournal {
  readonly store: StoreUnderTest;
  readonly stats: SimulatedJournalStats = { appendsCommitted: 0, appendsFenced: 0, appendsRefused: 0, leasesAcquired: 0, snapshotsWritten: 0, orphanedWritesLanded: 0 };
  readonly violations: JournalViolation[] = [];
  private readonly definition: ShowDefinition;
  private readonly parked: ParkedEntry[] = [];
  private readonly dead = new Set<string>();
  private readonly stopped = new Set<string>();
  private nextOpId = 1;
  /** The error the most recently completed call failed with (for traces). */
  lastError: unknown = null;
  /** Whether the call being completed lost its caller (crash or timeout) before it ran. */
  private runningOrphan = false;
  /** Whether a write ran since the auditor last read the store back. */
  private dirty = true;
  /** Reference model of the lease: the newest epoch handed out and who holds it. */
  private modelEpoch = 0;
  private modelHolder: string | null = null;
  /** Reference model of the journal's head, advanced by every commit this wrapper saw succeed. */
  private modelVersion = 0;

  constructor(store: StoreUnderTest, definition: ShowDefinition) {
    this.store = store;
    this.definition = definition;
  }

  get leaseEpoch(): number {
    return this.modelEpoch;
  }

  get leaseHolder(): string | null {
    return this.modelHolder;
  }

  get parkedOps(): readonly ParkedOp[] {
    return this.parked;
  }

  /** The journal and definition loader one process uses. */
  viewFor(owner: string): { journal: ShowJournal; loadDefinition: (showId: string) => Promise<ShowDefinition | null> } {
    const inner = this.store.journal;
    const journal: ShowJournal = {
      acquireLease: (showId) =>
        this.park<AcquiredLease>(owner, 'acquire_lease', null, async (fault) => {
          if (fault === 'fail_before_write') throw new InjectedReadFailure('lease query failed before it ran');
          const lease = await inner.acquireLease(showId, owner);
          this.leaseAcquired(owner, lease);
          if (fault === 'fail_after_write') throw new InjectedReadFailure('lease taken, but the answer was lost');
          return lease;
        }),
      releaseLease: (showId, epoch) => this.park<void>(owner, 'release_lease', null, () => inner.releaseLease(showId, epoch)),
      readSnapshot: (showId) =>
        this.park<StoredSnapshot | null>(owner, 'read_snapshot', null, async (fault) => {
          if (fault !== 'none') throw new InjectedReadFailure('snapshot read failed');
          const snapshot = await inner.readSnapshot(showId);
          return snapshot === null ? null : { version: snapshot.version, data: snapshot.data.slice() };
        }),
      readEvents: (showId, afterVersion) => this.readEvents(owner, showId, afterVersion),
      append: (batch) => {
        if (this.stopped.has(owner)) this.violation('stopped_actor_stays_stopped', `${owner} appended (versions ${batch.fromVersion}..${batch.toVersion}) after its stop() resolved`);
        return this.park<void>(owner, 'append', batch, (fault) => this.executeAppend(owner, batch, fault));
      },
      writeSnapshot: (showId, epoch, snapshot) =>
        this.park<void>(owner, 'write_snapshot', null, async (fault) => {
          if (fault === 'fail_before_write') throw new InjectedCommitFailure('snapshot refused before write');
          await inner.writeSnapshot(showId, epoch, snapshot);
          this.stats.snapshotsWritten += 1;
          if (epoch !== this.modelEpoch) this.violation('one_writer', `${owner} wrote a snapshot under epoch ${epoch} while the lease is at epoch ${this.modelEpoch}`);
          if (snapshot.version > this.modelVersion) this.violation('snapshot_committed_only', `${owner} wrote a snapshot at version ${snapshot.version}, beyond the committed version ${this.modelVersion}`);
          if (fault === 'fail_after_write') throw new InjectedCommitFailure('snapshot written, but the acknowledgement was lost');
        }),
      findIdempotencyRecord: (showId, scopedKey) =>
        this.park<IdempotencyRecord | null>(owner, 'find_idempotency_record', null, async (fault) => {
          if (fault !== 'none') throw new InjectedReadFailure('idempotency lookup failed');
          return inner.findIdempotencyRecord(showId, scopedKey);
        }),
      findIdempotencyRecords: (showId, scopedKeys) =>
        this.park<IdempotencyRecord[]>(owner, 'find_idempotency_records', null, async (fault) => {
          if (fault !== 'none') throw new InjectedReadFailure('idempotency lookup failed');
          return inner.findIdempotencyRecords(showId, scopedKeys);
        }),
    };
    const loadDefinition = (showId: string): Promise<ShowDefinition | null> =>
      this.park<ShowDefinition | null>(owner, 'load_definition', null, async (fault) => {
        if (fault !== 'none') throw new InjectedReadFailure('definition read failed');
        return showId === this.definition.showId ? structuredClone(this.definition) : null;
      });
    return { journal, loadDefinition };
  }

  /** Runs one parked call now, with `fault`, and settles its caller. */
  async complete(op: ParkedOp, fault: OpFault): Promise<void> {
    const index = this.parked.findIndex((entry) => entry.id === op.id);
    if (index < 0) throw new Error(`op ${op.id} is not parked`);
    const entry = this.parked[index]!;
    this.lastError = null;
    if (fault === 'timeout') {
      // The caller gives up; the call itself stays in flight (orphaned) and may land later.
      entry.orphaned = true;
      entry.abandon(new InjectedTimeout(`${entry.kind} timed out; it may or may not have been applied`));
      return;
    }
    this.parked.splice(index, 1);
    if (isWriteOp(entry.kind) || entry.kind === 'release_lease') this.dirty = true;
    this.runningOrphan = entry.orphaned;
    try {
      await entry.execute(fault);
    } finally {
      this.runningOrphan = false;
    }
  }

  /**
   * The process crashed: its parked calls never answer. Reads are gone; each in-flight write
   * either dies with it or (when `keepWrite` says so) stays orphaned and may still reach storage
   * later. Calls it makes from now on never run. Returns how many writes stay orphaned.
   */
  kill(owner: string, keepWrite: (op: ParkedOp) => boolean): number {
    this.dead.add(owner);
    let kept = 0;
    for (let index = this.parked.length - 1; index >= 0; index -= 1) {
      const op = this.parked[index]!;
      if (op.owner !== owner || op.orphaned) continue;
      if (isWriteOp(op.kind) && op.kind !== 'acquire_lease' && keepWrite(op)) {
        op.orphaned = true;
        kept += 1;
      } else {
        this.parked.splice(index, 1);
      }
    }
    return kept;
  }

  /** True (once) if storage may have changed since the last call: the auditor skips reading it back otherwise. */
  takeDirty(): boolean {
    const dirty = this.dirty;
    this.dirty = false;
    return dirty;
  }

  isDead(owner: string): boolean {
    return this.dead.has(owner);
  }

  /** The owner's stop() has resolved: it must never take the lease or commit again. */
  markStopped(owner: string): void {
    this.stopped.add(owner);
  }

  private violation(invariant: string, message: string): void {
    this.violations.push({ invariant, message });
  }

  private leaseAcquired(owner: string, lease: AcquiredLease): void {
    this.stats.leasesAcquired += 1;
    if (this.stopped.has(owner) && !this.runningOrphan) this.violation('stopped_actor_stays_stopped', `${owner} took the lease (epoch ${lease.epoch}) after its stop() resolved`);
    if (lease.epoch <= this.modelEpoch) this.violation('one_writer', `lease epoch went from ${this.modelEpoch} to ${lease.epoch} (must rise)`);
    if (lease.committedVersion !== this.modelVersion) this.violation('acknowledged_durable', `lease says committed version ${lease.committedVersion}, the commits seen add up to ${this.modelVersion}`);
    this.modelEpoch = Math.max(this.modelEpoch, lease.epoch);
    this.modelHolder = owner;
  }

  /** Runs an append with `fault`: through MemoryJournal.faultFor, or around any other store. */
  private appendWithFault(batch: JournalBatch, fault: OpFault): Promise<void> {
    const { memory, journal } = this.store;
    if (memory !== null) {
      const memoryFault = fault === 'timeout' ? 'none' : fault;
      memory.faultFor = () => memoryFault;
      try {
        return memory.append(batch);
      } finally {
        memory.faultFor = () => 'none';
      }
    }
    if (fault === 'fail_before_write') return Promise.reject(new InjectedCommitFailure('commit refused before write'));
    return journal.append(batch).then(() => {
      if (fault === 'fail_after_write') throw new InjectedCommitFailure('committed, but the acknowledgement was lost');
    });
  }

  private async executeAppend(owner: string, batch: JournalBatch, fault: OpFault): Promise<void> {
    const wasOrphan = this.runningOrphan;
    const pending = this.appendWithFault(batch, fault);
    let committed = false;
    try {
      await pending;
      committed = true;
    } catch (error) {
      if (fault === 'fail_after_write' && error instanceof InjectedCommitFailure) committed = true;
      else if (error instanceof FencedError) this.stats.appendsFenced += 1;
      else this.stats.appendsRefused += 1;
      if (committed) this.appendCommitted(owner, batch, wasOrphan);
      throw error;
    }
    this.appendCommitted(owner, batch, wasOrphan);
  }

  private appendCommitted(owner: string, batch: JournalBatch, wasOrphan: boolean): void {
    this.stats.appendsCommitted += 1;
    if (wasOrphan) this.stats.orphanedWritesLanded += 1;
    if (batch.epoch !== this.modelEpoch) {
      this.violation('one_writer', `${owner} committed versions ${batch.fromVersion}..${batch.toVersion} under epoch ${batch.epoch} while the lease is at epoch ${this.modelEpoch} (held by ${this.modelHolder ?? 'nobody'})`);
    }
    if (batch.fromVersion !== this.modelVersion) {
      this.violation('journal_continuity', `${owner} committed from version ${batch.fromVersion}, the journal head was ${this.modelVersion}`);
    }
    this.modelVersion = batch.toVersion;
  }

  private readEvents(owner: string, showId: string, afterVersion: number): AsyncIterable<ShowEvent[]> {
    const park = <T>(kind: JournalOpKind, run: (fault: OpFault) => Promise<T>): Promise<T> => this.park(owner, kind, null, run);
    const inner = this.store.journal;
    return (async function* (): AsyncGenerator<ShowEvent[]> {
      const batches = await park('read_events', async (fault) => {
        if (fault !== 'none') throw new InjectedReadFailure('journal read failed');
        const out: ShowEvent[][] = [];
        for await (const events of inner.readEvents(showId, afterVersion)) out.push(structuredClone(events));
        return out;
      });
      for (let index = 0; index < batches.length; index += 1) {
        if (index > 0) {
          await park('read_events_next', async (fault) => {
            if (fault !== 'none') throw new InjectedReadFailure('journal read failed mid-stream');
          });
        }
        yield batches[index]!;
      }
    })();
  }

  private park<T>(owner: string, kind: JournalOpKind, batch: JournalBatch | null, run: (fault: OpFault) => Promise<T>): Promise<T> {
    if (this.dead.has(owner)) return new Promise<T>(() => undefined);
    return new Promise<T>((resolve, reject) => {
      const entry: ParkedEntry = {
        id: this.nextOpId,
        owner,
        kind,
        batch,
        orphaned: false,
        execute: async (fault) => {
          try {
            resolve(await run(fault));
          } catch (error) {
            this.lastError = error;
            reject(error);
          }
        },
        abandon: (error) => {
          this.lastError = error;
          reject(error);
        },
      };
      this.nextOpId += 1;
      this.parked.push(entry);
    });
  }
}
