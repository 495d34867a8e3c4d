import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectPostgres, type SqlDatabase } from '../../src/persistence/database.js';
import { PostgresJournal } from '../../src/persistence/postgres-journal.js';
import { OutboxStore } from '../../src/outbox/outbox-store.js';
import { databaseKinds } from '../support/databases.js';

const postgres = databaseKinds.find((kind) => kind.name === 'postgres')!;

/** The statements that run many times a second are prepared once per connection, not re-planned per call. */
describe.skipIf(!postgres.available)('prepared hot statements (postgres)', () => {
  let db: SqlDatabase;
  let oneConnection: SqlDatabase;
  beforeAll(async () => {
    db = await postgres.open();
    // One connection, so the session that prepared the statements is the one asked about them.
    oneConnection = db.sibling!(1, 'holdfast-prepared-test');
  });
  afterAll(async () => {
    await oneConnection.close();
    await db.close();
  });

  const prepared = async (): Promise<Map<string, number>> => {
    const { rows } = await oneConnection.query<{ name: string; generic_plans: number; custom_plans: number }>('select name, generic_plans, custom_plans from pg_prepared_statements');
    return new Map(rows.map((row) => [row.name, Number(row.generic_plans) + Number(row.custom_plans)]));
  };

  it('prepares the group commit once and runs it again by name', async () => {
    const journal = new PostgresJournal(oneConnection);
    const { epoch } = await journal.acquireLease('show-p', 'w1');
    const empty = { events: [], seatsSold: [], seatsUnsold: [], poolSoldDeltas: [], outbox: [], attachedWrites: [] };
    await journal.append({ ...empty, showId: 'show-p', epoch, fromVersion: 0, toVersion: 0, idempotencyRecords: [{ scopedKey: 'u1\u001fk1', fingerprint: 'f1', reply: { ok: false, code: 'seat_unavailable', detail: 'taken' } }] });
    await journal.append({ ...empty, showId: 'show-p', epoch, fromVersion: 0, toVersion: 0, idempotencyRecords: [{ scopedKey: 'u1\u001fk2', fingerprint: 'f2', reply: { ok: false, code: 'seat_unavailable', detail: 'taken' } }] });
    expect((await prepared()).get('holdfast_append_batch')).toBe(2);
    // Still the same function underneath: both records are stored.
    const { rows } = await oneConnection.query<{ n: number }>('select count(*)::int as n from idempotency_keys where show_id = $1', ['show-p']);
    expect(rows[0]!.n).toBe(2);
  });

  it("prepares the outbox relay's claim and delivery statements", async () => {
    await oneConnection.query(`insert into outbox (show_id, topic, payload) values ('show-p', 'SeatsReleased', '{}'::jsonb), ('show-p', 'SeatsReleased', '{}'::jsonb)`);
    const store = new OutboxStore(oneConnection);
    const groups = await store.claim(10, 30_000);
    expect(groups.flat()).toHaveLength(2);
    await store.markDelivered(groups.flat().map((event) => event.eventId));
    expect(await store.claim(10, 30_000)).toEqual([]);
    const names = await prepared();
    for (const name of ['holdfast_outbox_heads', 'holdfast_outbox_show_locks', 'holdfast_outbox_claim', 'holdfast_outbox_delivered']) expect(names.get(name), name).toBeGreaterThan(0);
    expect(names.get('holdfast_outbox_heads')).toBe(2);
  });

  it('settles on one generic plan for the relay statements, so they stop being planned', async () => {
    const store = new OutboxStore(oneConnection);
    for (let round = 0; round < 8; round += 1) {
      await oneConnection.query(`insert into outbox (show_id, topic, payload) values ('show-g', 'SeatsReleased', '{}'::jsonb)`);
      const groups = await store.claim(10, 30_000);
      await store.markDelivered(groups.flat().map((event) => event.eventId));
    }
    const { rows } = await oneConnection.query<{ name: string; generic_plans: number }>(`select name, generic_plans from pg_prepared_statements where name like 'holdfast_outbox_%'`);
    const generic = Object.fromEntries(rows.map((row) => [row.name, Number(row.generic_plans)]));
    console.log('[prepared statements] generic plans after 8 relay rounds:', JSON.stringify(generic));
    expect(generic['holdfast_outbox_heads']).toBeGreaterThan(0);
    expect(generic['holdfast_outbox_claim']).toBeGreaterThan(0);
  });

  it('runs them unnamed with namedStatements: false (behind a transaction-mode pooler)', async () => {
    const { rows } = await oneConnection.query<{ schema: string }>('select current_schema() as schema');
    const unnamed = connectPostgres({ connectionString: process.env['DATABASE_URL']!, schema: rows[0]!.schema, poolSize: 1, namedStatements: false });
    try {
      const journal = new PostgresJournal(unnamed);
      const { epoch } = await journal.acquireLease('show-u', 'w1');
      await journal.append({ events: [], seatsSold: [], seatsUnsold: [], poolSoldDeltas: [], outbox: [], attachedWrites: [], showId: 'show-u', epoch, fromVersion: 0, toVersion: 0, idempotencyRecords: [{ scopedKey: 'u1\u001fk9', fingerprint: 'f9', reply: { ok: false, code: 'seat_unavailable', detail: 'taken' } }] });
      const prepared = await unnamed.query<{ n: number }>('select count(*)::int as n from pg_prepared_statements');
      expect(prepared.rows[0]!.n).toBe(0);
      const stored = await unnamed.query<{ n: number }>('select count(*)::int as n from idempotency_keys where show_id = $1', ['show-u']);
      expect(stored.rows[0]!.n).toBe(1);
    } finally {
      await unnamed.close();
    }
  });
});
