import { randomBytes } from 'node:crypto';
import { connectPostgres, openPglite, type SqlDatabase } from '../../src/persistence/database.js';
import { migrate } from '../../src/persistence/migrate.js';

/**
 * The databases a persistence test runs on: embedded PGlite always, and real PostgreSQL when
 * DATABASE_URL is set. On a fresh machine without it the Postgres variant is skipped and says
 * so; under CI=true a missing DATABASE_URL is an error, never a silent skip.
 */
export const databaseUrl = process.env['DATABASE_URL'];
export const requirePostgres = process.env['CI'] === 'true';
if (requirePostgres && !databaseUrl) throw new Error('CI=true but DATABASE_URL is not set: the PostgreSQL tests would be skipped');

export interface DatabaseKind {
  name: 'pglite' | 'postgres';
  available: boolean;
  /** A fresh, migrated database (an isolated schema on PostgreSQL). */
  open(): Promise<SqlDatabase>;
}

export const databaseKinds: DatabaseKind[] = [
  {
    name: 'pglite',
    available: true,
    async open() {
      const db = await openPglite();
      await migrate(db);
      return db;
    },
  },
  {
    name: 'postgres',
    available: Boolean(databaseUrl),
    async open() {
      const schema = `hf_test_${randomBytes(6).toString('hex')}`;
      const admin = connectPostgres({ connectionString: databaseUrl!, poolSize: 1 });
      await admin.query(`create schema ${schema}`);
      await admin.close();
      const db = connectPostgres({ connectionString: databaseUrl!, schema, poolSize: 8 });
      await migrate(db);
      const close = db.close.bind(db);
      return {
        ...db,
        async close() {
          await close();
          const cleanup = connectPostgres({ connectionString: databaseUrl!, poolSize: 1 });
          await cleanup.query(`drop schema ${schema} cascade`);
          await cleanup.close();
        },
      };
    },
  },
];

if (!databaseUrl) console.warn('[holdfast tests] DATABASE_URL not set: PostgreSQL variants are skipped (embedded PGlite still runs)');
