import type { IdempotencyRecord } from '../actors/idempotency.js';
import type { ShowEvent } from '../actors/messages.js';
import { FencedError, IdempotencyConflictError, type AcquiredLease, type AttachedWrite, type JournalBatch, type OutboxMessage, type ShowJournal, type StoredSnapshot } from './journal.js';

/** What a simulator may make a commit do. */
export type AppendFault = 'none' | 'fail_before_write' | 'fail_after_write';

export class InjectedCommitFailure extends Error {
  override name = 'InjectedCommitFailure';
}

interface ShowRecord {
  epoch: number;
  committedVersion: number;
  batches: { fromVersion: number; toVersion: number; epoch: number; events: ShowEvent[] }[];
  snapshot: StoredSnapshot | null;
  idempotency: Map<string, IdempotencyRecord>;
  soldSeats: Map<string, string>;
  poolSold: Map<string, number>;
  outbox: OutboxMessage[];
  attachedWrites: AttachedWrite[];
}

/**
 * The journal in memory, with the same guarantees as Postgres: epoch fencing, version
 * continuity, one sale per seat, pool sales within capacity, one record per idempotency key.
 * Commits are atomic. `faultFor` lets a simulator refuse a commit or lose its reply.
 */
export class MemoryJournal implements ShowJournal {
  private readonly shows = new Map<string, ShowRecord>();
  faultFor: (batch: JournalBatch) => AppendFault = () => 'none';

  private show(showId: string): ShowRecord {
    let record = this.shows.get(showId);
    if (record === undefined) {
      record = { epoch: 0, committedVersion: 0, batches: [], snapshot: null, idempotency: new Map(), soldSeats: new Map(), poolSold: new Map(), outbox: [], attachedWrites: [] };
      this.shows.set(showId, record);
    }
    return record;
  }

  async acquireLease(showId: string): Promise<AcquiredLease> {
    const record = this.show(showId);
    record.epoch += 1;
    return { epoch: record.epoch, committedVersion: record.committedVersion };
  }

  async releaseLease(): Promise<void> {}

  async readSnapshot(showId: string): Promise<StoredSnapshot | null> {
    return this.show(showId).snapshot;
  }

  async *readEvents(showId: string, afterVersion: number): AsyncIterable<ShowEvent[]> {
    for (const batch of this.show(showId).batches) {
      if (batch.toVersion <= afterVersion) continue;
      yield batch.events.slice(batch.fromVersion < afterVersion ? afterVersion - batch.fromVersion : 0);
    }
  }

  async append(batch: JournalBatch): Promise<void> {
    const fault = this.faultFor(batch);
    if (fault === 'fail_before_write') throw new InjectedCommitFailure('commit refused before write');
    this.commit(batch);
    if (fault === 'fail_after_write') throw new InjectedCommitFailure('committed, but the acknowledgement was lost');
  }

  private commit(batch: JournalBatch): void {
    const record = this.show(batch.showId);
    if (record.epoch !== batch.epoch || record.committedVersion !== batch.fromVersion) throw new FencedError(batch.showId, batch.epoch);
    const conflicts = batch.idempotencyRecords.filter((idem) => record.idempotency.has(idem.scopedKey)).map((idem) => idem.scopedKey);
    if (conflicts.length > 0) throw new IdempotencyConflictError(conflicts);
    const unsold = new Set(batch.seatsUnsold);
    for (const { seatId } of batch.seatsSold) {
      if (record.soldSeats.has(seatId) && !unsold.has(seatId)) throw new Error(`seat ${seatId} sold twice`);
    }
    for (const { poolId, delta, capacity } of batch.poolSoldDeltas) {
      const sold = (record.poolSold.get(poolId) ?? 0) + delta;
      if (sold < 0 || sold > capacity) throw new Error(`pool ${poolId} sold ${sold} outside 0..${capacity}`);
    }
    // All checks passed: apply atomically.
    for (const seatId of batch.seatsUnsold) record.soldSeats.delete(seatId);
    for (const { seatId, orderId } of batch.seatsSold) record.soldSeats.set(seatId, orderId);
    for (const { poolId, delta } of batch.poolSoldDeltas) record.poolSold.set(poolId, (record.poolSold.get(poolId) ?? 0) + delta);
    for (const idem of batch.idempotencyRecords) record.idempotency.set(idem.scopedKey, structuredClone(idem));
    if (batch.events.length > 0) {
      record.batches.push({ fromVersion: batch.fromVersion, toVersion: batch.toVersion, epoch: batch.epoch, events: structuredClone(batch.events) });
    }
    record.outbox.push(...batch.outbox);
    record.attachedWrites.push(...(batch.attachedWrites ?? []));
    record.committedVersion = batch.toVersion;
  }

  async writeSnapshot(showId: string, epoch: number, snapshot: StoredSnapshot): Promise<void> {
    const record = this.show(showId);
    if (record.epoch !== epoch) throw new FencedError(showId, epoch);
    if (record.snapshot === null || record.snapshot.version < snapshot.version) record.snapshot = { version: snapshot.version, data: snapshot.data.slice() };
  }

  async findIdempotencyRecord(showId: string, scopedKey: string): Promise<IdempotencyRecord | null> {
    return (await this.findIdempotencyRecords(showId, [scopedKey]))[0] ?? null;
  }

  async findIdempotencyRecords(showId: string, scopedKeys: readonly string[]): Promise<IdempotencyRecord[]> {
    const records = this.show(showId).idempotency;
    return [...new Set(scopedKeys)].flatMap((key) => {
      const found = records.get(key);
      return found === undefined ? [] : [structuredClone(found)];
    });
  }

  /** For audits in tests: seat id → order id of every committed sale. */
  soldSeats(showId: string): ReadonlyMap<string, string> {
    return this.show(showId).soldSeats;
  }

  outbox(showId: string): readonly OutboxMessage[] {
    return this.show(showId).outbox;
  }

  committedVersion(showId: string): number {
    return this.show(showId).committedVersion;
  }
}
