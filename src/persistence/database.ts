import type { PGlite } from '@electric-sql/pglite';
import { mkdir } from 'node:fs/promises';
import pg from 'pg';

export interface QueryResult<Row> {
  rows: Row[];
  rowCount: number;
}

/** What both PostgreSQL (pg) and embedded PGlite offer: the same SQL, the same code path. */
export interface SqlExecutor {
  query<Row = Record<string, unknown>>(text: string, params?: unknown[]): Promise<QueryResult<Row>>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(script: string): Promise<void>;
}

export interface SqlDatabase extends SqlExecutor {
  readonly kind: 'postgres' | 'pglite';
  /** Runs `work` in one transaction on one connection; rolls back if it throws. */
  transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /**
   * The same database through a pool of its own, so that one kind of work never queues behind
   * another (show journals commit on theirs, not behind API queries). PGlite, a single
   * in-process engine, returns itself; closing that is then a no-op. Wrappers (tests, faults)
   * may leave it out: their callers then share the one pool.
   */
  sibling?(poolSize: number, applicationName: string): SqlDatabase;
  close(): Promise<void>;
}

// int8 and numeric come back as JS numbers: every value we store fits in 2^53.
pg.types.setTypeParser(20, (value) => Number(value));
pg.types.setTypeParser(1700, (value) => Number(value));

export interface PostgresOptions {
  connectionString: string;
  poolSize?: number;
  applicationName?: string;
  /** Schema to work in (tests isolate themselves this way). */
  schema?: string;
  /** PostgreSQL cancels a statement running longer than this (`statement_timeout`); 0 or unset: never. */
  statementTimeoutMs?: number;
  /**
   * A query still unanswered after this fails, and its connection is discarded. TCP delivers or
   * breaks, so silence means a peer gone without a reset (host lost, a middlebox dropping state),
   * which keepalive alone notices only after minutes — meanwhile a show's group commit would wait,
   * and with it every claim on the show. Longer than the statement timeout, which answers first
   * when PostgreSQL is merely slow. 0 or unset: never.
   */
  queryTimeoutMs?: number;
}

/** A statement or transaction that reported success but did not commit. */
export class UncommittedError extends Error {
  override name = 'UncommittedError';
}

/**
 * Runs `work` on a checked-out connection and gives it back — unless it died (database restarted,
 * network cut: it emits 'error' besides failing its queries, and unheard that event crashes the
 * process), is left inside a transaction block or still waits for a query's answer: such a
 * connection never serves another caller, whose statements' "success" would then be no commit.
 */
async function withClient<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  const onLost = (error: Error): void => {
    broken = error;
  };
  client.on('error', onLost);
  try {
    return await work(client);
  } finally {
    client.removeListener('error', onLost);
    // A query that timed out is still running on the connection: its answer would go to the next caller.
    const reusable = client.getTransactionStatus() === 'I' && answeredAll(client);
    client.release(broken ?? (reusable ? undefined : new Error('connection left inside a transaction or with a query unanswered')));
  }
}

/** No query of the connection's is waiting for its answer (false after a client-side query timeout). */
function answeredAll(client: pg.PoolClient): boolean {
  return (client as unknown as { readyForQuery: boolean }).readyForQuery;
}

export function connectPostgres(options: PostgresOptions): SqlDatabase {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.poolSize ?? 16,
    application_name: options.applicationName ?? 'holdfast',
    idleTimeoutMillis: 30_000,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    ...(options.statementTimeoutMs ? { statement_timeout: options.statementTimeoutMs } : {}),
    ...(options.queryTimeoutMs ? { query_timeout: options.queryTimeoutMs } : {}),
    ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
  });
  // A dropped idle connection must not crash the process; the next query gets a fresh one.
  pool.on('error', () => undefined);
  return {
    kind: 'postgres',
    async query<Row>(text: string, params?: unknown[]) {
      return withClient(pool, async (client) => {
        const result = await client.query(text, params as unknown[]);
        // Outside a transaction a statement's success means it committed — unless the
        // connection was somehow left inside a transaction block, where it is only pending.
        if (client.getTransactionStatus() !== 'I') throw new UncommittedError(`statement answered inside a transaction block (status ${client.getTransactionStatus()}): nothing it did is committed`);
        return { rows: result.rows as Row[], rowCount: result.rowCount ?? 0 };
      });
    },
    async exec(script: string) {
      await withClient(pool, async (client) => {
        await client.query(script);
        if (client.getTransactionStatus() !== 'I') throw new UncommittedError(`script ended inside a transaction block (status ${client.getTransactionStatus()})`);
      });
    },
    async transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
      return withClient(pool, async (client) => {
        await client.query('BEGIN');
        const tx: SqlExecutor = {
          async query<Row>(text: string, params?: unknown[]) {
            const result = await client.query(text, params as unknown[]);
            return { rows: result.rows as Row[], rowCount: result.rowCount ?? 0 };
          },
          async exec(script: string) {
            await client.query(script);
          },
        };
        let value: T;
        try {
          value = await work(tx);
        } catch (error) {
          // Behind an unanswered query a ROLLBACK would wait for it too; the discarded connection rolls back anyway.
          if (answeredAll(client)) await client.query('ROLLBACK').catch(() => undefined);
          throw error;
        }
        // COMMIT of a transaction that had failed (a statement's error caught inside `work`)
        // succeeds with the tag ROLLBACK: that is not a commit.
        const commit = await client.query('COMMIT');
        if (commit.command !== 'COMMIT' || client.getTransactionStatus() !== 'I') throw new UncommittedError(`COMMIT answered ${commit.command} (status ${client.getTransactionStatus()}): the transaction was rolled back`);
        return value;
      });
    },
    sibling(poolSize: number, applicationName: string) {
      return connectPostgres({ ...options, poolSize, applicationName });
    },
    async close() {
      await pool.end();
    },
  };
}

/** Embedded PostgreSQL (WASM). `dataDir` undefined keeps it in memory. */
export async function openPglite(dataDir?: string): Promise<SqlDatabase> {
  const { PGlite: PGliteClass } = await import('@electric-sql/pglite');
  if (dataDir !== undefined) await mkdir(dataDir, { recursive: true });
  const db: PGlite = dataDir === undefined ? new PGliteClass() : new PGliteClass(dataDir);
  await db.waitReady;
  const wrap = (executor: Pick<PGlite, 'query' | 'exec'>): SqlExecutor => ({
    async query<Row>(text: string, params?: unknown[]) {
      const result = await executor.query<Row>(text, params);
      return { rows: result.rows, rowCount: result.affectedRows ?? result.rows.length };
    },
    async exec(script: string) {
      await executor.exec(script);
    },
  });
  const base = wrap(db);
  const database: SqlDatabase = {
    kind: 'pglite',
    query: base.query,
    exec: base.exec,
    transaction: (work) => db.transaction((tx) => work(wrap(tx))),
    sibling: () => ({ ...database, close: () => Promise.resolve() }),
    async close() {
      await db.close();
    },
  };
  return database;
}

/** PostgreSQL when `DATABASE_URL` is set, else embedded PGlite (in `dataDir`, or in memory). */
export async function openDatabase(options: { databaseUrl?: string; schema?: string | undefined; pgliteDataDir?: string; poolSize?: number; statementTimeoutMs?: number; queryTimeoutMs?: number }): Promise<SqlDatabase> {
  const { databaseUrl, pgliteDataDir, ...postgres } = options;
  if (databaseUrl) return connectPostgres({ connectionString: databaseUrl, ...postgres });
  return openPglite(pgliteDataDir);
}
