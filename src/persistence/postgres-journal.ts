import type { IdempotencyRecord } from '../actors/idempotency.js';
import type { ShowEvent, ShowReply } from '../actors/messages.js';
import { UncommittedError, type SqlDatabase, type SqlExecutor } from './database.js';
import { FencedError, IdempotencyConflictError, type AcquiredLease, type JournalBatch, type ShowJournal, type StoredSnapshot } from './journal.js';

const staleEpochCode = 'HF001';
const idempotencyConflictCode = 'HF002';
const eventPageRows = 500;
/** Keys per lookup query when an actor loads the records of its waiting commands. */
const idempotencyLookupKeys = 5_000;

function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : undefined;
}

function errorDetail(error: unknown): string {
  return typeof error === 'object' && error !== null && 'detail' in error ? String((error as { detail: unknown }).detail) : '[]';
}

/** The journal on PostgreSQL or PGlite: one `holdfast_append_batch_compact` call per group commit. */
export class PostgresJournal implements ShowJournal {
  constructor(private readonly db: SqlDatabase) {}

  async acquireLease(showId: string, ownerId: string): Promise<AcquiredLease> {
    const { rows } = await this.db.query<{ epoch: number; version: number }>(
      `insert into show_leases (show_id, epoch, owner_id, version) values ($1, 1, $2, 0)
       on conflict (show_id) do update set epoch = show_leases.epoch + 1, owner_id = excluded.owner_id, acquired_at = now()
       returning epoch, version`,
      [showId, ownerId],
    );
    const row = rows[0]!;
    return { epoch: Number(row.epoch), committedVersion: Number(row.version) };
  }

  async releaseLease(showId: string, epoch: number): Promise<void> {
    await this.db.query(`update show_leases set owner_id = '' where show_id = $1 and epoch = $2`, [showId, epoch]);
  }

  async readSnapshot(showId: string): Promise<StoredSnapshot | null> {
    const { rows } = await this.db.query<{ version: number; data: Uint8Array }>('select version, data from snapshots where show_id = $1', [showId]);
    const row = rows[0];
    return row === undefined ? null : { version: Number(row.version), data: new Uint8Array(row.data) };
  }

  async *readEvents(showId: string, afterVersion: number): AsyncIterable<ShowEvent[]> {
    let cursor = afterVersion;
    for (;;) {
      const { rows } = await this.db.query<{ from_version: number; to_version: number; events: ShowEvent[] | string }>(
        'select from_version, to_version, events from journal where show_id = $1 and to_version > $2 order by to_version limit $3',
        [showId, cursor, eventPageRows],
      );
      for (const row of rows) {
        const events = typeof row.events === 'string' ? (JSON.parse(row.events) as ShowEvent[]) : row.events;
        const fromVersion = Number(row.from_version);
        yield fromVersion < cursor ? events.slice(cursor - fromVersion) : events;
        cursor = Number(row.to_version);
      }
      if (rows.length < eventPageRows) return;
    }
  }

  async append(batch: JournalBatch): Promise<void> {
    try {
      if (batch.attachedWrites.length === 0) await this.appendCall(this.db, batch);
      else {
        await this.db.transaction(async (tx) => {
          await this.appendCall(tx, batch);
          for (const write of batch.attachedWrites) await tx.query(write.sql, write.params);
        });
      }
    } catch (error) {
      const code = errorCode(error);
      if (code === staleEpochCode) throw new FencedError(batch.showId, batch.epoch);
      if (code === idempotencyConflictCode) throw new IdempotencyConflictError(JSON.parse(errorDetail(error)) as string[]);
      throw error;
    }
  }

  private async appendCall(executor: SqlExecutor, batch: JournalBatch): Promise<void> {
    const records = batch.idempotencyRecords;
    let replies = '';
    for (const record of records) replies += `\u001e${JSON.stringify(record.reply)}`; // see migration 008
    const { rows } = await executor.query(
      'select holdfast_append_batch_compact($1, $2, $3, $4, $5::jsonb, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)',
      [
        batch.showId,
        batch.epoch,
        batch.fromVersion,
        batch.toVersion,
        JSON.stringify(batch.events),
        records.map((record) => record.scopedKey),
        records.map((record) => record.fingerprint),
        replies,
        batch.seatsSold.map((sale) => sale.seatId),
        batch.seatsSold.map((sale) => sale.orderId),
        batch.seatsUnsold,
        batch.poolSoldDeltas.map((delta) => delta.poolId),
        batch.poolSoldDeltas.map((delta) => delta.delta),
        batch.poolSoldDeltas.map((delta) => delta.capacity),
        batch.outbox.map((message) => message.topic),
        batch.outbox.map((message) => JSON.stringify(message.payload)),
      ],
    );
    // The call answers one row; a "success" without it was no execution of the batch (a connection
    // whose replies went out of step with its requests), and must not be acknowledged.
    if (rows.length !== 1) throw new UncommittedError(`group commit of ${batch.showId} ${batch.fromVersion}..${batch.toVersion} answered ${rows.length} rows, not 1`);
  }

  async writeSnapshot(showId: string, epoch: number, snapshot: StoredSnapshot): Promise<void> {
    const { rowCount } = await this.db.query(
      `insert into snapshots (show_id, version, epoch, data)
       select $1, $2, $3, $4 where exists (select 1 from show_leases where show_id = $1 and epoch = $3)
       on conflict (show_id) do update set version = excluded.version, epoch = excluded.epoch, data = excluded.data, written_at = now()
       where snapshots.version < excluded.version`,
      [showId, snapshot.version, epoch, snapshot.data],
    );
    if (rowCount === 0) {
      const { rows } = await this.db.query<{ epoch: number }>('select epoch from show_leases where show_id = $1', [showId]);
      if (Number(rows[0]?.epoch) !== epoch) throw new FencedError(showId, epoch);
    }
  }

  async findIdempotencyRecord(showId: string, scopedKey: string): Promise<IdempotencyRecord | null> {
    return (await this.findIdempotencyRecords(showId, [scopedKey]))[0] ?? null;
  }

  async findIdempotencyRecords(showId: string, scopedKeys: readonly string[]): Promise<IdempotencyRecord[]> {
    const keys = [...new Set(scopedKeys)];
    const records: IdempotencyRecord[] = [];
    for (let from = 0; from < keys.length; from += idempotencyLookupKeys) {
      const { rows } = await this.db.query<{ scoped_key: string; fingerprint: string; reply: ShowReply | string }>(
        'select scoped_key, fingerprint, reply from idempotency_keys where show_id = $1 and scoped_key = any($2::text[])',
        [showId, keys.slice(from, from + idempotencyLookupKeys)],
      );
      for (const row of rows) {
        const reply = typeof row.reply === 'string' ? (JSON.parse(row.reply) as ShowReply) : row.reply;
        records.push({ scopedKey: row.scoped_key, fingerprint: row.fingerprint, reply });
      }
    }
    return records;
  }
}
