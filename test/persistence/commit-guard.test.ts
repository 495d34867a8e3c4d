/**
 * "Acknowledged means durable" at the driver's edge: a statement PostgreSQL answers while its
 * connection sits inside a transaction block is not committed, and a COMMIT of a failed
 * transaction is a rollback. Either way the caller must get an error, never a success — and the
 * connection must not serve the next caller (whose statements would silently join that block).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { connectPostgres, UncommittedError, type SqlDatabase } from '../../src/persistence/database.js';
import { PostgresJournal } from '../../src/persistence/postgres-journal.js';
import { databaseUrl } from '../support/databases.js';

describe.skipIf(!databaseUrl)('PostgreSQL commit guard', () => {
  const opened: SqlDatabase[] = [];
  const table = `commit_guard_${randomBytes(4).toString('hex')}`;
  /** One connection only, so the next statement would run on the very connection the last one left. */
  const open = async (): Promise<SqlDatabase> => {
    const db = connectPostgres({ connectionString: databaseUrl!, poolSize: 1 });
    opened.push(db);
    await db.query(`create table if not exists ${table} (id text primary key)`);
    return db;
  };
  /** What another session sees: committed rows only. */
  const committedIds = async (): Promise<string[]> => {
    const observer = connectPostgres({ connectionString: databaseUrl!, poolSize: 1 });
    opened.push(observer);
    const { rows } = await observer.query<{ id: string }>(`select id from ${table} order by id`);
    return rows.map((row) => row.id);
  };

  afterEach(async () => {
    const cleanup = connectPostgres({ connectionString: databaseUrl!, poolSize: 1 });
    await cleanup.query(`drop table if exists ${table}`);
    await cleanup.close();
    await Promise.all(opened.splice(0).map((db) => db.close()));
  });

  it('a statement that leaves its connection inside a transaction fails, and the next statement commits on a fresh connection', async () => {
    const db = await open();
    await expect(db.query('begin')).rejects.toBeInstanceOf(UncommittedError);
    // Had the connection gone back to the pool, this insert would "succeed" inside that open block.
    await db.query(`insert into ${table} (id) values ('after')`);
    expect(await committedIds()).toEqual(['after']);
  });

  it('a statement answered inside a transaction block is an error, and what it did is rolled back', async () => {
    const db = await open();
    await expect(db.exec(`begin; insert into ${table} (id) values ('pending')`)).rejects.toBeInstanceOf(UncommittedError);
    await db.query(`insert into ${table} (id) values ('next')`);
    expect(await committedIds()).toEqual(['next']);
  });

  it('a transaction whose failed statement was caught inside it is reported rolled back, not committed', async () => {
    const db = await open();
    await db.query(`insert into ${table} (id) values ('taken')`);
    const outcome = db.transaction(async (tx) => {
      await tx.query(`insert into ${table} (id) values ('mine')`);
      await tx.query(`insert into ${table} (id) values ('taken')`).catch(() => undefined); // the transaction is now failed
      return 'done';
    });
    await expect(outcome).rejects.toBeInstanceOf(UncommittedError);
    expect(await committedIds()).toEqual(['taken']);
    await db.transaction(async (tx) => tx.query(`insert into ${table} (id) values ('later')`));
    expect(await committedIds()).toEqual(['later', 'taken']);
  });
});

describe('group commit answer', () => {
  /** A driver that says "success" without the call's row: what a connection whose replies went out of step with its requests gives. */
  const answering = (rows: unknown[]): SqlDatabase => ({
    kind: 'postgres',
    query: async <Row>() => ({ rows: rows as Row[], rowCount: rows.length }),
    exec: async () => undefined,
    transaction: async (work) => work({ query: async <Row>() => ({ rows: rows as Row[], rowCount: rows.length }), exec: async () => undefined }),
    close: async () => undefined,
  });
  const batch = { showId: 'shw-guard', epoch: 1, fromVersion: 0, toVersion: 1, events: [], idempotencyRecords: [], outbox: [], attachedWrites: [], seatsSold: [], seatsUnsold: [], poolSoldDeltas: [] };

  it('is acknowledged only when the append call answered its one row', async () => {
    await expect(new PostgresJournal(answering([{ holdfast_append_batch_compact: null }])).append(batch)).resolves.toBeUndefined();
    await expect(new PostgresJournal(answering([])).append(batch)).rejects.toBeInstanceOf(UncommittedError);
  });
});
