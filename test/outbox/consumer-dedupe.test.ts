import { onlyWhere } from '../support/only-where.js';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { DedupingConsumer, MemorySeenEventStore, PostgresSeenEventStore, type SeenEventStore } from '../../src/outbox/consumer-dedupe.js';
import type { SqlDatabase } from '../../src/persistence/database.js';
import { databaseKinds } from '../support/databases.js';
import { resetOutbox, sleep } from './support.js';

interface StoreUnderTest {
  name: string;
  skip: boolean;
  /** A fresh store (emptied tables); `db` is null for the in-memory store. */
  setUp(): Promise<{ store: SeenEventStore; db: SqlDatabase | null }>;
  tearDown(): Promise<void>;
}

const stores: StoreUnderTest[] = [
  { name: 'memory', skip: false, setUp: async () => ({ store: new MemorySeenEventStore(), db: null }), tearDown: async () => undefined },
  ...databaseKinds.map((kind): StoreUnderTest => {
    let db: SqlDatabase | null = null;
    return {
      name: kind.name,
      skip: !kind.available,
      async setUp() {
        db ??= await kind.open();
        await resetOutbox(db);
        return { store: new PostgresSeenEventStore(db), db };
      },
      async tearDown() {
        await db?.close();
        db = null;
      },
    };
  }),
];

for (const implementation of stores) {
  describe.skipIf(implementation.skip)(`consumer dedupe: ${implementation.name}`, () => {
    let store: SeenEventStore;
    let db: SqlDatabase | null;
    beforeEach(async () => {
      ({ store, db } = await implementation.setUp());
    });
    afterAll(async () => implementation.tearDown());

    it('calls the handler once per event id, per consumer', async () => {
      const seen: string[] = [];
      const mailer = new DedupingConsumer<{ eventId: string }>({ consumer: 'mailer', store, handler: async (event) => void seen.push(`mailer:${event.eventId}`) });
      const crm = new DedupingConsumer<{ eventId: string }>({ consumer: 'crm', store, handler: async (event) => void seen.push(`crm:${event.eventId}`) });
      expect(await mailer.handle({ eventId: '1' })).toBe('handled');
      expect(await mailer.handle({ eventId: '1' })).toBe('duplicate');
      expect(await crm.handle({ eventId: '1' })).toBe('handled');
      expect(await mailer.handle({ eventId: '2' })).toBe('handled');
      expect(seen).toEqual(['mailer:1', 'crm:1', 'mailer:2']);
    });

    it('does not record an event whose handler failed: the redelivery runs it again', async () => {
      let calls = 0;
      const consumer = new DedupingConsumer<{ eventId: string }>({
        consumer: 'flaky', store,
        handler: async () => {
          calls++;
          if (calls === 1) throw new Error('downstream down');
        },
      });
      await expect(consumer.handle({ eventId: '9' })).rejects.toThrow('downstream down');
      expect(await consumer.handle({ eventId: '9' })).toBe('handled');
      expect(await consumer.handle({ eventId: '9' })).toBe('duplicate');
      expect(calls).toBe(2);
    });

    it('handles concurrent duplicates once', async () => {
      let calls = 0;
      const consumer = new DedupingConsumer<{ eventId: string }>({ consumer: 'racy', store, handler: async () => { calls++; await sleep(20); } });
      const outcomes = await Promise.all(Array.from({ length: 5 }, () => consumer.handle({ eventId: '5' })));
      expect(calls).toBe(1);
      expect(outcomes.filter((outcome) => outcome === 'handled')).toHaveLength(1);
    });

    onlyWhere(implementation.name !== 'memory')("in the consumer's transaction: commits its writes with the seen record, and rolls both back on failure", async () => {
      const postgres = new PostgresSeenEventStore(db!);
      await db!.exec('create table if not exists mailer_sent (event_id text primary key)');
      const write = (eventId: string, fail: boolean) => postgres.runOnceInTransaction('mailer', eventId, async (tx) => {
        await tx.query('insert into mailer_sent (event_id) values ($1)', [eventId]);
        if (fail) throw new Error('smtp down');
      });
      await expect(write('1', true)).rejects.toThrow('smtp down');
      expect(await postgres.has('mailer', '1')).toBe(false);
      expect(await write('1', false)).toBe('handled');
      expect(await write('1', false)).toBe('duplicate');
      expect((await db!.query('select event_id from mailer_sent')).rows).toEqual([{ event_id: '1' }]);
      expect(await postgres.prune(60_000)).toBe(0);
      await sleep(5);
      expect(await postgres.prune(0)).toBe(1);
    });
  });
}
