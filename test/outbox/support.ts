import type { PGlite } from '@electric-sql/pglite';
import type { SqlDatabase, SqlExecutor } from '../../src/persistence/database.js';
import { migrate } from '../../src/persistence/migrate.js';
import type { OutboxEvent } from '../../src/outbox/outbox-store.js';
import type { OutboxSink } from '../../src/outbox/sinks.js';

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function insertEvent(db: SqlExecutor, showId: string, topic = 'OrderConfirmed', payload: Record<string, unknown> = {}): Promise<string> {
  const { rows } = await db.query<{ id: number }>('insert into outbox (show_id, topic, payload) values ($1, $2, $3::jsonb) returning id', [showId, topic, JSON.stringify(payload)]);
  return String(rows[0]!.id);
}

/** Empties the outbox and everything the tests write next to it. */
export async function resetOutbox(db: SqlDatabase): Promise<void> {
  await db.exec('truncate outbox, outbox_dead_letters, outbox_consumer_seen, journal, show_leases restart identity');
}

export interface OutboxRowState {
  id: string;
  delivered: boolean;
  dead: boolean;
  attempts: number;
  lastError: string | null;
  nextAttemptInMs: number | null;
  /** `next_attempt_at` in epoch ms. */
  nextAttemptAtMs: number | null;
}

/** The database's clock (statement times are what `next_attempt_at` is computed from). */
export async function databaseNowMs(db: SqlDatabase): Promise<number> {
  const { rows } = await db.query<{ now_ms: number }>('select extract(epoch from clock_timestamp()) * 1000 as now_ms');
  return Number(rows[0]!.now_ms);
}

export async function rowState(db: SqlDatabase, eventId: string): Promise<OutboxRowState> {
  const { rows } = await db.query<{ id: number; delivered: boolean; dead: boolean; attempts: number; last_error: string | null; next_in_ms: number | null; next_at_ms: number | null }>(
    `select id, delivered_at is not null as delivered, dead, attempts, last_error,
            extract(epoch from next_attempt_at - now()) * 1000 as next_in_ms,
            extract(epoch from next_attempt_at) * 1000 as next_at_ms
     from outbox where id = $1`,
    [Number(eventId)],
  );
  const row = rows[0]!;
  return { id: String(row.id), delivered: row.delivered, dead: row.dead, attempts: Number(row.attempts), lastError: row.last_error, nextAttemptInMs: row.next_in_ms === null ? null : Number(row.next_in_ms), nextAttemptAtMs: row.next_at_ms === null ? null : Number(row.next_at_ms) };
}

/** Remembers every call (accepted or not) in order; `fail` decides which calls throw. */
export class RecordingSink implements OutboxSink {
  readonly calls: { event: OutboxEvent; accepted: boolean }[] = [];
  constructor(
    readonly name = 'memory',
    private readonly fail: (event: OutboxEvent, attempt: number) => boolean = () => false,
    private readonly delayMs: () => number = () => 0,
  ) {}

  async deliver(event: OutboxEvent): Promise<void> {
    const delay = this.delayMs();
    if (delay > 0) await sleep(delay);
    const attempt = this.calls.filter((call) => call.event.eventId === event.eventId).length + 1;
    const failing = this.fail(event, attempt);
    this.calls.push({ event, accepted: !failing });
    if (failing) throw new Error(`sink refused ${event.eventId} (attempt ${attempt})`);
  }

  accepted(showId?: string): string[] {
    return this.calls.filter((call) => call.accepted && (showId === undefined || call.event.showId === showId)).map((call) => call.event.eventId);
  }

  attempted(showId?: string): string[] {
    return this.calls.filter((call) => showId === undefined || call.event.showId === showId).map((call) => call.event.eventId);
  }
}

export async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000, stepMs = 10): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(stepMs);
  }
}

/**
 * A migrated in-memory PGlite together with its raw handle (for `listen`): `openPglite` keeps the
 * handle private, so this wraps one the same way.
 */
export async function openPgliteWithHandle(): Promise<{ db: SqlDatabase; pglite: PGlite }> {
  const { PGlite: PGliteClass } = await import('@electric-sql/pglite');
  const pglite = new PGliteClass();
  await pglite.waitReady;
  const wrap = (executor: Pick<PGlite, 'query' | 'exec'>): SqlExecutor => ({
    async query<Row>(text: string, params?: unknown[]) {
      const result = await executor.query<Row>(text, params);
      return { rows: result.rows, rowCount: result.affectedRows ?? result.rows.length };
    },
    async exec(script: string) {
      await executor.exec(script);
    },
  });
  const base = wrap(pglite);
  const db: SqlDatabase = {
    kind: 'pglite',
    query: base.query,
    exec: base.exec,
    transaction: (work) => pglite.transaction((tx) => work(wrap(tx))),
    close: () => pglite.close(),
  };
  await migrate(db);
  return { db, pglite };
}
