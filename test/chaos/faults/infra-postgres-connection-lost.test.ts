/**
 * A database connection that dies while a transaction holds it (PostgreSQL restarted, the
 * network cut) must fail that transaction — not the process. Found by the PostgreSQL restart
 * fault: the pool's checked-out client emitted 'error' with nobody listening, and the server
 * exited mid-sale. Here the connection is cut precisely: the transaction's backend is terminated
 * from another session while the transaction is between two queries.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectPostgres, type SqlDatabase } from '../../../src/persistence/database.js';

const databaseUrl = process.env['DATABASE_URL'];
if (process.env['CI'] === 'true' && !databaseUrl) throw new Error('CI=true needs DATABASE_URL for the connection-lost test');

describe.skipIf(!databaseUrl)('a connection lost inside a transaction', () => {
  let db: SqlDatabase;
  let admin: SqlDatabase;
  beforeAll(() => {
    db = connectPostgres({ connectionString: databaseUrl!, poolSize: 2, applicationName: 'holdfast-chaos-connection-lost' });
    admin = connectPostgres({ connectionString: databaseUrl!, poolSize: 1 });
  });
  afterAll(async () => {
    await db?.close();
    await admin?.close();
  });

  it('fails that transaction with the connection error, keeps the process up, and the next transaction works', async () => {
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown): void => {
      uncaught.push(error);
    };
    process.on('uncaughtException', onUncaught);
    try {
      const outcome = await db
        .transaction(async (tx) => {
          const { rows } = await tx.query<{ pid: number }>('select pg_backend_pid() as pid');
          await admin.query('select pg_terminate_backend($1)', [rows[0]!.pid]);
          // Between two queries: the dead socket is noticed while no query is active.
          await new Promise((resolve) => setTimeout(resolve, 300));
          await tx.query('select 1');
          return 'committed';
        })
        .catch((error: unknown) => (error instanceof Error ? error.message : String(error)));
      expect(outcome).not.toBe('committed');
      expect(outcome).toMatch(/terminat|Connection|not queryable/i);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(uncaught).toEqual([]);
      const again = await db.transaction((tx) => tx.query<{ one: number }>('select 1 as one'));
      expect(again.rows).toEqual([{ one: 1 }]);
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  });
});
