import type { SqlDatabase } from './database.js';
import { journalSchema } from './migrations/001-journal.js';
import { catalogSchema } from './migrations/002-catalog.js';
import { httpIdempotencySchema } from './migrations/003-http-idempotency.js';
import { waitingRoomSchema } from './migrations/004-waiting-room.js';
import { ordersSchema } from './migrations/005-orders.js';
import { ticketTransfersSchema } from './migrations/007-ticket-transfers.js';
import { outboxDeliverySchema } from './migrations/006-outbox-delivery.js';
import { compactCommitSchema } from './migrations/008-compact-commit.js';
import { roomArrivalsSchema } from './migrations/009-room-arrivals.js';
import { ticketArrivalsSchema } from './migrations/010-ticket-arrivals.js';
import { plainIdempotencyInsertSchema } from './migrations/011-plain-idempotency-insert.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Ordered schema changes; append only. Later features add their migrations here. */
export const migrations: Migration[] = [
  { version: 1, name: 'journal', sql: journalSchema },
  { version: 2, name: 'catalog', sql: catalogSchema },
  { version: 3, name: 'http idempotency', sql: httpIdempotencySchema },
  { version: 4, name: 'waiting room', sql: waitingRoomSchema },
  { version: 5, name: 'orders', sql: ordersSchema },
  { version: 6, name: 'outbox delivery', sql: outboxDeliverySchema },
  { version: 7, name: 'ticket transfers', sql: ticketTransfersSchema },
  { version: 8, name: 'compact group commit', sql: compactCommitSchema },
  { version: 9, name: 'waiting-room arrivals', sql: roomArrivalsSchema },
  { version: 10, name: 'ticket arrivals', sql: ticketArrivalsSchema },
  { version: 11, name: 'plain idempotency insert', sql: plainIdempotencyInsertSchema },
];

const migrationLockKey = 741_300_001;

/**
 * Applies pending migrations, each in its own transaction, under an advisory lock so that
 * workers starting together migrate once. Returns the versions it applied.
 */
export async function migrate(db: SqlDatabase, onProgress: (message: string) => void = () => undefined): Promise<number[]> {
  await db.query('create table if not exists schema_migrations (version integer primary key, name text not null, applied_at timestamptz not null default now())');
  return db.transaction(async (tx) => {
    await tx.query('select pg_advisory_xact_lock($1)', [migrationLockKey]);
    const applied = new Set((await tx.query<{ version: number }>('select version from schema_migrations')).rows.map((row) => Number(row.version)));
    const done: number[] = [];
    for (const migration of migrations) {
      if (applied.has(migration.version)) continue;
      onProgress(`migration ${migration.version} ${migration.name}`);
      await tx.exec(migration.sql);
      await tx.query('insert into schema_migrations (version, name) values ($1, $2)', [migration.version, migration.name]);
      done.push(migration.version);
    }
    return done;
  });
}
