/**
 * Where a group commit's time goes, measured without touching src/: a journal subclass times
 * each append (encoding in Node vs the database call), the largest batch is replayed on its own
 * (EXPLAIN ANALYZE for the server's execution time, then a plain call for the whole round trip
 * with its WAL flush), and the pure core's CPU per claim is timed on an in-memory show.
 */
import { performance } from 'node:perf_hooks';
import { decideBatch, type CommandEnvelope } from '../../src/actors/decide-batch.js';
import { fingerprintOf, IdempotencyCache, scopeIdempotencyKey } from '../../src/actors/idempotency.js';
import { Inventory } from '../../src/actors/inventory.js';
import { limits } from '../../src/actors/limits.js';
import type { ShowDefinition } from '../../src/actors/show-definition.js';
import { createShowState } from '../../src/actors/show-state.js';
import type { QueryResult, SqlDatabase } from '../../src/persistence/database.js';
import type { JournalBatch } from '../../src/persistence/journal.js';
import { PostgresJournal } from '../../src/persistence/postgres-journal.js';
import { newHoldId } from '../../src/shared/ids.js';
import { round } from './report.js';

const appendFunction = 'holdfast_append_batch';

/** `db` with its group-commit calls (holdfast_append_batch) passed through `around`. */
function interceptAppend(db: SqlDatabase, around: <Row>(run: () => Promise<QueryResult<Row>>, text: string, params?: unknown[]) => Promise<QueryResult<Row>>): SqlDatabase {
  return {
    kind: db.kind,
    query<Row = Record<string, unknown>>(text: string, params?: unknown[]): Promise<QueryResult<Row>> {
      const run = (): Promise<QueryResult<Row>> => db.query<Row>(text, params);
      return text.includes(appendFunction) ? around(run, text, params) : run();
    },
    exec: (script) => db.exec(script),
    transaction: (work) => db.transaction(work),
    close: () => db.close(),
  };
}

export interface CommitBreakdown {
  batches: number;
  claims: number;
  /** Node-side encoding of a batch (JSON of events and replies, parameter arrays) until the query is issued. */
  encodeUsPerClaim: number;
  /** From issuing the query to its result: driver serialization, network, the SQL function, WAL flush, and waiting for the event loop. */
  databaseUsPerClaim: number;
  /** Batches of at least 512 claims, the ones that carry the load. */
  largeBatches: { count: number; meanClaims: number; meanEncodeMs: number; meanDatabaseMs: number };
}

/** A PostgresJournal that times every append and keeps the largest batch for an isolated replay. */
export class TimedJournal extends PostgresJournal {
  recording = false;
  largest: JournalBatch | null = null;
  private readonly query: { startedMs: number; endedMs: number };
  private batches = 0;
  private claims = 0;
  private encodeMs = 0;
  private databaseMs = 0;
  private large = { count: 0, claims: 0, encodeMs: 0, databaseMs: 0 };

  constructor(db: SqlDatabase) {
    const query = { startedMs: 0, endedMs: 0 };
    super(
      interceptAppend(db, async (run) => {
        query.startedMs = performance.now();
        try {
          return await run();
        } finally {
          query.endedMs = performance.now();
        }
      }),
    );
    this.query = query;
  }

  override async append(batch: JournalBatch): Promise<void> {
    const startedMs = performance.now();
    await super.append(batch);
    if (!this.recording) return;
    const claims = batch.idempotencyRecords.length;
    const encodeMs = this.query.startedMs - startedMs;
    const databaseMs = this.query.endedMs - this.query.startedMs;
    this.batches += 1;
    this.claims += claims;
    this.encodeMs += encodeMs;
    this.databaseMs += databaseMs;
    if (claims >= 512) {
      this.large.count += 1;
      this.large.claims += claims;
      this.large.encodeMs += encodeMs;
      this.large.databaseMs += databaseMs;
    }
    if (this.largest === null || claims > this.largest.idempotencyRecords.length) this.largest = batch;
  }

  breakdown(): CommitBreakdown {
    const { large } = this;
    return {
      batches: this.batches,
      claims: this.claims,
      encodeUsPerClaim: round((this.encodeMs * 1000) / Math.max(1, this.claims), 2),
      databaseUsPerClaim: round((this.databaseMs * 1000) / Math.max(1, this.claims), 2),
      largeBatches: {
        count: large.count,
        meanClaims: round(large.claims / Math.max(1, large.count), 0),
        meanEncodeMs: round(large.encodeMs / Math.max(1, large.count), 2),
        meanDatabaseMs: round(large.databaseMs / Math.max(1, large.count), 2),
      },
    };
  }
}

export interface SqlFunctionTiming {
  claims: number;
  events: number;
  /** Parameter payload the driver sends: events JSON plus the idempotency replies' JSON. */
  payloadKb: number;
  /** Server-side execution of holdfast_append_batch (EXPLAIN ANALYZE "Execution Time"; no commit). */
  serverExecutionMs: number;
  serverUsPerClaim: number;
  /** The same batch (on another show) as a plain autocommit call: encoding, driver, server, commit + WAL flush. */
  roundTripMs: number;
  roundTripUsPerClaim: number;
}

/** Replays `batch` on two throwaway shows, idle machine: once under EXPLAIN ANALYZE, once plainly. */
export async function timeSqlFunction(db: SqlDatabase, batch: JournalBatch): Promise<SqlFunctionTiming> {
  const replay = async (showId: string, explain: boolean): Promise<{ ms: number; executionMs: number }> => {
    await db.query(`insert into show_leases (show_id, epoch, owner_id, version) values ($1, $2, '', $3)`, [showId, batch.epoch, batch.fromVersion]);
    let executionMs = Number.NaN;
    const target = explain
      ? interceptAppend(db, async <Row>(_run: () => Promise<QueryResult<Row>>, text: string, params?: unknown[]) => {
          const { rows } = await db.query<{ 'QUERY PLAN': { 'Execution Time': number }[] }>(`explain (analyze, format json) ${text}`, params);
          executionMs = rows[0]!['QUERY PLAN'][0]!['Execution Time'];
          // What the call itself answers (one row): the journal acknowledges nothing less.
          return { rows: [{}] as Row[], rowCount: 1 };
        })
      : db;
    const startedMs = performance.now();
    await new PostgresJournal(target).append({ ...batch, showId });
    return { ms: performance.now() - startedMs, executionMs };
  };
  const claims = batch.idempotencyRecords.length;
  const explained = await replay('replay-explain', true);
  const plain = await replay('replay-plain', false);
  const payload = JSON.stringify(batch.events).length + batch.idempotencyRecords.reduce((sum, record) => sum + JSON.stringify(record.reply).length + record.scopedKey.length + record.fingerprint.length, 0);
  return {
    claims,
    events: batch.events.length,
    payloadKb: round(payload / 1024, 0),
    serverExecutionMs: round(explained.executionMs, 2),
    serverUsPerClaim: round((explained.executionMs * 1000) / claims, 2),
    roundTripMs: round(plain.ms, 2),
    roundTripUsPerClaim: round((plain.ms * 1000) / claims, 2),
  };
}

export interface CorePerClaim {
  claims: number;
  batchSize: number;
  /** What the shell does per claim before the mailbox: hold id, scoped key, fingerprint. */
  shellEnvelopeUs: number;
  /** decideBatch (decide + evolve + effects + idempotency records), in the actor's single thread. */
  decideUs: number;
  /** JSON.stringify of the batch's events and replies, as PostgresJournal.append does. */
  encodeJsonUs: number;
}

/**
 * CPU per claim of the pure core on an in-memory 50,000-seat show, batch by batch, with the
 * bench's seat choices (`pick`), stale by one batch as under load. No I/O; one thread.
 */
export function timeCorePerClaim(definition: ShowDefinition, batchSize: number, claims: number, pick: () => string[] | null, taken: (seatIds: string[]) => void): CorePerClaim {
  const state = createShowState(new Inventory(definition));
  const cache = new IdempotencyCache(limits.idempotencyCacheEntriesMax);
  const showId = definition.showId;
  let shellMs = 0;
  let decideMs = 0;
  let encodeMs = 0;
  let done = 0;
  let sink = 0;
  while (done < claims) {
    const requests: string[][] = [];
    for (let index = 0; index < batchSize; index += 1) {
      const seats = pick();
      if (seats === null) break;
      requests.push(seats);
    }
    if (requests.length === 0) break;
    let startedMs = performance.now();
    const envelopes: CommandEnvelope[] = requests.map((seats, index) => {
      const userId = `core-${done + index}`;
      const request = { seats };
      return {
        command: { type: 'place_hold', userId, holdId: newHoldId(showId), request },
        scopedKey: scopeIdempotencyKey(userId, `claim-${done + index}`),
        fingerprint: fingerprintOf({ type: 'place_hold', request }),
      };
    });
    shellMs += performance.now() - startedMs;
    startedMs = performance.now();
    const decided = decideBatch(state, cache, envelopes, Date.now());
    decideMs += performance.now() - startedMs;
    startedMs = performance.now();
    sink += JSON.stringify(decided.events).length;
    for (const record of decided.idempotencyRecords) sink += JSON.stringify(record.reply).length;
    encodeMs += performance.now() - startedMs;
    decided.replies.forEach((reply, index) => {
      if (reply.ok) taken(requests[index]!);
      else if (reply.code === 'seat_unavailable') taken(reply.seats ?? []);
    });
    done += requests.length;
  }
  const perClaim = (ms: number): number => round((ms * 1000) / Math.max(1, done), 2);
  return { claims: done + (sink < 0 ? 1 : 0), batchSize, shellEnvelopeUs: perClaim(shellMs), decideUs: perClaim(decideMs), encodeJsonUs: perClaim(encodeMs) };
}
