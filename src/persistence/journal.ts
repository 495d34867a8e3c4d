import type { IdempotencyRecord } from '../actors/idempotency.js';
import type { ShowEvent } from '../actors/messages.js';

/** Rows kept in step with the events so Postgres itself can refuse an oversell. */
export interface SaleRows {
  /** Seats sold in this batch, by seat id: the unique index on (show, seat) refuses a second sale. */
  seatsSold: { seatId: string; orderId: string }[];
  /** Seats whose sale was voided in this batch. */
  seatsUnsold: string[];
  /** Change of sold units per pool; a check constraint keeps sold within capacity. */
  poolSoldDeltas: { poolId: string; delta: number; capacity: number }[];
}

export interface OutboxMessage {
  topic: string;
  payload: Record<string, unknown>;
}

/**
 * A write that must commit atomically with a show command's events (the order saga's order
 * status, tickets and OrderConfirmed ride with the hold's confirmation). Applied only when the
 * command produced events, so a repeated confirmation writes nothing twice.
 */
export interface AttachedWrite {
  sql: string;
  params: unknown[];
}

/** One group commit: everything a batch changed, written in one transaction. */
export interface JournalBatch extends SaleRows {
  attachedWrites: AttachedWrite[];
  showId: string;
  epoch: number;
  fromVersion: number;
  toVersion: number;
  events: ShowEvent[];
  idempotencyRecords: IdempotencyRecord[];
  outbox: OutboxMessage[];
}

export interface StoredSnapshot {
  version: number;
  data: Uint8Array;
}

export interface AcquiredLease {
  epoch: number;
  /** The last version committed under any epoch; recovery must reach exactly this. */
  committedVersion: number;
}

/** The journal's refusal of a commit by a process that no longer holds the show's lease. */
export class FencedError extends Error {
  override name = 'FencedError';
  constructor(showId: string, epoch: number) {
    super(`show ${showId}: epoch ${epoch} no longer holds the lease`);
  }
}

/**
 * Durable storage of a show's history. Implementations: in memory (tests, simulator) and
 * Postgres (server; also PGlite). One contract suite runs over all of them.
 */
export interface ShowJournal {
  /** Takes the show's lease with a new epoch (old epoch + 1); commits under older epochs fail from now on. */
  acquireLease(showId: string, ownerId: string): Promise<AcquiredLease>;
  /** Gives the lease up so the next owner need not wait; a no-op if the epoch is already stale. */
  releaseLease(showId: string, epoch: number): Promise<void>;
  readSnapshot(showId: string): Promise<StoredSnapshot | null>;
  /** Events after `afterVersion`, batch by batch, in version order. */
  readEvents(showId: string, afterVersion: number): AsyncIterable<ShowEvent[]>;
  /** Commits a batch atomically, or throws (FencedError when the epoch is stale). */
  append(batch: JournalBatch): Promise<void>;
  writeSnapshot(showId: string, epoch: number, snapshot: StoredSnapshot): Promise<void>;
  findIdempotencyRecord(showId: string, scopedKey: string): Promise<IdempotencyRecord | null>;
  /** The records of those of `scopedKeys` that are recorded, in any order: one round trip for many keys. */
  findIdempotencyRecords(showId: string, scopedKeys: readonly string[]): Promise<IdempotencyRecord[]>;
}

/**
 * A commit refused because some idempotency keys were already recorded (by an earlier
 * activation, or after falling out of the actor's cache). Nothing was written; the actor
 * loads those records and decides the batch again.
 */
export class IdempotencyConflictError extends Error {
  override name = 'IdempotencyConflictError';
  constructor(readonly scopedKeys: string[]) {
    super(`idempotency keys already recorded: ${scopedKeys.length}`);
  }
}
