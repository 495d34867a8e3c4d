import type { SqlDatabase } from '../../src/persistence/database.js';
import type { ShowJournal } from '../../src/persistence/journal.js';
import { MemoryJournal } from '../../src/persistence/memory-journal.js';
import { PostgresJournal } from '../../src/persistence/postgres-journal.js';

/**
 * The storage under test: a real ShowJournal plus the two audit reads the simulator needs that
 * the journal interface does not offer (committed version, sold-seat rows), read straight from
 * the store so a journal that lies about them is caught.
 */
export interface StoreUnderTest {
  readonly name: string;
  readonly journal: ShowJournal;
  /** Set when the store is a MemoryJournal: commit faults then go through its `faultFor`. */
  readonly memory: MemoryJournal | null;
  /** The SQL database behind a Postgres journal (the order saga runs on it), else null. */
  readonly sql: SqlDatabase | null;
  committedVersion(showId: string): Promise<number>;
  soldSeats(showId: string): Promise<ReadonlyMap<string, string>>;
}

export function memoryStore(journal: MemoryJournal = new MemoryJournal()): StoreUnderTest {
  return {
    name: 'memory',
    journal,
    memory: journal,
    sql: null,
    committedVersion: async (showId) => journal.committedVersion(showId),
    soldSeats: async (showId) => new Map(journal.soldSeats(showId)),
  };
}

/** The Postgres journal (PostgreSQL or PGlite) on a migrated database; `reset` empties it between seeds. */
export function sqlStore(db: SqlDatabase): StoreUnderTest & { reset(): Promise<void> } {
  return {
    name: db.kind,
    journal: new PostgresJournal(db),
    memory: null,
    sql: db,
    async committedVersion(showId) {
      const { rows } = await db.query<{ version: number }>('select version from show_leases where show_id = $1', [showId]);
      return rows[0] === undefined ? 0 : Number(rows[0].version);
    },
    async soldSeats(showId) {
      const { rows } = await db.query<{ seat_id: string; order_id: string }>('select seat_id, order_id from sold_seats where show_id = $1', [showId]);
      return new Map(rows.map((row) => [row.seat_id, row.order_id]));
    },
    async reset() {
      await db.exec('truncate show_leases, journal, snapshots, idempotency_keys, sold_seats, pool_sales, outbox, orders, payments, tickets, ticket_transfers, webhook_events');
    },
  };
}
