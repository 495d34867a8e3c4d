import { randomBytes } from 'node:crypto';
import { connectPostgres } from '../../src/persistence/database.js';

/** A load run's own PostgreSQL schema (`load_<random>`): runs never collide with tests or each other. */
export interface RunSchema {
  name: string;
  /** Drops it (unless the run keeps it for debugging). */
  drop(): Promise<void>;
}

export async function createRunSchema(connectionString: string, keep = false): Promise<RunSchema> {
  const name = `load_${randomBytes(5).toString('hex')}`;
  const run = async (sql: string): Promise<void> => {
    const db = connectPostgres({ connectionString, poolSize: 1 });
    try {
      await db.query(sql);
    } finally {
      await db.close();
    }
  };
  await run(`create schema ${name}`);
  return { name, drop: async () => (keep ? undefined : run(`drop schema if exists ${name} cascade`)) };
}
