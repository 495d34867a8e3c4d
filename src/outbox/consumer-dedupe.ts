import type { SqlDatabase, SqlExecutor } from '../persistence/database.js';

/**
 * Remembers which events a consumer has handled. `runOnce` runs `work` unless the event was
 * handled before, and records the event only if `work` succeeds: a failed handler leaves the event
 * unrecorded, so the sender's retry runs it again (never lost, never handled twice).
 */
export interface SeenEventStore {
  runOnce(consumer: string, eventId: string, work: () => Promise<void>): Promise<'handled' | 'duplicate'>;
}

/** In one process' memory (tests, single-instance consumers). Concurrent duplicates share the first run. */
export class MemorySeenEventStore implements SeenEventStore {
  private readonly seen = new Set<string>();
  private readonly inFlight = new Map<string, Promise<void>>();

  constructor(private readonly capacity = 100_000) {}

  async runOnce(consumer: string, eventId: string, work: () => Promise<void>): Promise<'handled' | 'duplicate'> {
    const key = `${consumer}\u0000${eventId}`;
    for (;;) {
      if (this.seen.has(key)) return 'duplicate';
      const running = this.inFlight.get(key);
      if (running === undefined) break;
      // Another delivery of the same event is being handled: its outcome decides.
      await running.catch(() => undefined);
    }
    const run = work();
    this.inFlight.set(key, run);
    try {
      await run;
      this.seen.add(key);
      // Forget the oldest ids past capacity (a Set iterates in insertion order).
      if (this.seen.size > this.capacity) this.seen.delete(this.seen.values().next().value!);
      return 'handled';
    } finally {
      this.inFlight.delete(key);
    }
  }

  has(consumer: string, eventId: string): boolean {
    return this.seen.has(`${consumer}\u0000${eventId}`);
  }
}

/**
 * In PostgreSQL (`outbox_consumer_seen`, migration 006): the id is inserted and the handler run in
 * one transaction, so a concurrent duplicate waits on the first's row lock and then sees it, and a
 * handler failure rolls the record back. `runOnceInTransaction` hands the handler that transaction,
 * so the consumer's own writes commit atomically with the record (effectively exactly once).
 */
export class PostgresSeenEventStore implements SeenEventStore {
  constructor(private readonly db: SqlDatabase) {}

  runOnce(consumer: string, eventId: string, work: () => Promise<void>): Promise<'handled' | 'duplicate'> {
    return this.runOnceInTransaction(consumer, eventId, () => work());
  }

  async runOnceInTransaction(consumer: string, eventId: string, work: (tx: SqlExecutor) => Promise<void>): Promise<'handled' | 'duplicate'> {
    return this.db.transaction(async (tx) => {
      const { rowCount } = await tx.query('insert into outbox_consumer_seen (consumer, event_id) values ($1, $2) on conflict do nothing', [consumer, eventId]);
      if (rowCount === 0) return 'duplicate';
      await work(tx);
      return 'handled';
    });
  }

  async has(consumer: string, eventId: string): Promise<boolean> {
    const { rows } = await this.db.query('select 1 from outbox_consumer_seen where consumer = $1 and event_id = $2', [consumer, eventId]);
    return rows.length > 0;
  }

  /** Forgets records older than `olderThanMs` (keep it well above the producer's retry horizon). */
  async prune(olderThanMs: number): Promise<number> {
    const { rowCount } = await this.db.query(`delete from outbox_consumer_seen where seen_at < now() - $1::float8 * interval '1 millisecond'`, [olderThanMs]);
    return rowCount;
  }
}

/** A handler wrapped so each event id reaches it once, whatever the sender redelivers. */
export class DedupingConsumer<Event extends { eventId: string }> {
  constructor(
    private readonly options: {
      /** Names this consumer in the store: several consumers may share one. */
      consumer: string;
      store: SeenEventStore;
      handler: (event: Event) => Promise<void>;
    },
  ) {}

  handle(event: Event): Promise<'handled' | 'duplicate'> {
    return this.options.store.runOnce(this.options.consumer, event.eventId, () => this.options.handler(event));
  }
}
