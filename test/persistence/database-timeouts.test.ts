/**
 * Bounded waits on PostgreSQL: a statement running past DATABASE_STATEMENT_TIMEOUT_MS is cancelled
 * by the server (the connection stays usable); a query unanswered past DATABASE_QUERY_TIMEOUT_MS
 * fails on the client and its connection is discarded, so the next caller neither waits behind it
 * nor receives its late answer.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { connectPostgres, type SqlDatabase } from '../../src/persistence/database.js';
import { databaseUrl } from '../support/databases.js';

describe.skipIf(!databaseUrl)('PostgreSQL timeouts', () => {
  const opened: SqlDatabase[] = [];
  const open = (options: { statementTimeoutMs?: number; queryTimeoutMs?: number }): SqlDatabase => {
    // One connection: the next query would run on the very connection the last one left.
    const db = connectPostgres({ connectionString: databaseUrl!, poolSize: 1, applicationName: 'holdfast-timeout-test', ...options });
    opened.push(db);
    return db;
  };
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((db) => db.close()));
  });

  it('a statement past the statement timeout is cancelled by PostgreSQL, and the connection serves the next query', async () => {
    const db = open({ statementTimeoutMs: 200 });
    const startedMs = Date.now();
    await expect(db.query('select pg_sleep(5)')).rejects.toMatchObject({ code: '57014' }); // query_canceled
    expect(Date.now() - startedMs).toBeLessThan(3_000);
    const { rows } = await db.query<{ backend: number; n: number }>('select pg_backend_pid() as backend, 42 as n');
    expect(rows[0]!.n).toBe(42);
  });

  it('a query unanswered past the query timeout fails, and the next query runs at once on a fresh connection with its own answer', async () => {
    const db = open({ queryTimeoutMs: 300 });
    const { rows: before } = await db.query<{ backend: number }>('select pg_backend_pid() as backend');
    const startedMs = Date.now();
    await expect(db.query('select pg_sleep(5)')).rejects.toThrow(/timeout/i);
    expect(Date.now() - startedMs).toBeLessThan(3_000);
    const { rows } = await db.query<{ backend: number; n: number }>('select pg_backend_pid() as backend, 42 as n');
    // Behind the sleeping query this would have waited ~5 s, and got the sleep's answer.
    expect(Date.now() - startedMs).toBeLessThan(3_000);
    expect(rows[0]!.n).toBe(42);
    expect(rows[0]!.backend).not.toBe(before[0]!.backend);
  });

  it('a transaction whose statement goes unanswered fails within the query timeout, and what it did is not committed', async () => {
    const db = open({ queryTimeoutMs: 300 });
    const table = `timeout_tx_${process.pid}_${Date.now()}`;
    await db.query(`create table ${table} (id text primary key)`);
    try {
      const startedMs = Date.now();
      const outcome = db.transaction(async (tx) => {
        await tx.query(`insert into ${table} (id) values ('inside')`);
        await tx.query('select pg_sleep(5)');
      });
      await expect(outcome).rejects.toThrow(/timeout/i);
      expect(Date.now() - startedMs).toBeLessThan(3_000);
      const { rows } = await db.query<{ n: number }>(`select count(*)::int as n from ${table}`);
      expect(rows[0]!.n).toBe(0);
    } finally {
      // Without timeouts: the drop waits for the abandoned backend to finish its sleep and roll back.
      const cleanup = connectPostgres({ connectionString: databaseUrl!, poolSize: 1 });
      await cleanup.query(`drop table if exists ${table}`);
      await cleanup.close();
    }
  });
});
