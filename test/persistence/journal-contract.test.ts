import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HoldView, ShowEvent, ShowReply } from '../../src/actors/messages.js';
import type { SqlDatabase } from '../../src/persistence/database.js';
import { FencedError, IdempotencyConflictError, type JournalBatch, type ShowJournal } from '../../src/persistence/journal.js';
import { MemoryJournal } from '../../src/persistence/memory-journal.js';
import { PostgresJournal } from '../../src/persistence/postgres-journal.js';
import { databaseKinds } from '../support/databases.js';

/** One contract, every journal: in memory, PGlite and PostgreSQL. */
interface JournalUnderTest {
  name: string;
  skip: boolean;
  make(): Promise<{ journal: ShowJournal; close(): Promise<void> }>;
}

const implementations: JournalUnderTest[] = [
  { name: 'memory', skip: false, make: async () => ({ journal: new MemoryJournal(), close: async () => undefined }) },
  ...databaseKinds.map((kind) => ({
    name: kind.name,
    skip: !kind.available,
    make: async () => {
      const db: SqlDatabase = await kind.open();
      return { journal: new PostgresJournal(db), close: () => db.close() };
    },
  })),
];

const placed = (holdId: string, seats: number[]): ShowEvent => ({
  type: 'hold_placed', holdId, userId: 'u1', seats, pools: [], expiresAtMs: 1_000, totalCents: 100, split: false,
});

function batch(overrides: Partial<JournalBatch> & Pick<JournalBatch, 'showId' | 'epoch' | 'fromVersion' | 'toVersion'>): JournalBatch {
  return { events: [], idempotencyRecords: [], seatsSold: [], seatsUnsold: [], poolSoldDeltas: [], outbox: [], attachedWrites: [], ...overrides };
}

async function collect(journal: ShowJournal, showId: string, after: number): Promise<ShowEvent[]> {
  const all: ShowEvent[] = [];
  for await (const events of journal.readEvents(showId, after)) all.push(...events);
  return all;
}

for (const implementation of implementations) {
  describe.skipIf(implementation.skip)(`journal contract: ${implementation.name}`, () => {
    let journal: ShowJournal;
    let close: () => Promise<void>;
    beforeAll(async () => {
      ({ journal, close } = await implementation.make());
    });
    afterAll(async () => close());

    it('appends batches and reads them back in version order, from any version', async () => {
      const { epoch, committedVersion } = await journal.acquireLease('show-a', 'w1');
      expect(committedVersion).toBe(0);
      await journal.append(batch({ showId: 'show-a', epoch, fromVersion: 0, toVersion: 2, events: [placed('h1', [1]), placed('h2', [2])] }));
      await journal.append(batch({ showId: 'show-a', epoch, fromVersion: 2, toVersion: 3, events: [{ type: 'hold_released', holdId: 'h1' }] }));
      expect((await collect(journal, 'show-a', 0)).map((event) => event.type)).toEqual(['hold_placed', 'hold_placed', 'hold_released']);
      expect(await collect(journal, 'show-a', 2)).toEqual([{ type: 'hold_released', holdId: 'h1' }]);
      expect((await journal.acquireLease('show-a', 'w2')).committedVersion).toBe(3);
    });

    it('refuses a commit under a stale epoch once another owner took the lease (fencing)', async () => {
      const old = await journal.acquireLease('show-b', 'old');
      await journal.append(batch({ showId: 'show-b', epoch: old.epoch, fromVersion: 0, toVersion: 1, events: [placed('h1', [1])] }));
      const next = await journal.acquireLease('show-b', 'new');
      expect(next.epoch).toBe(old.epoch + 1);
      await expect(journal.append(batch({ showId: 'show-b', epoch: old.epoch, fromVersion: 1, toVersion: 2, events: [placed('h2', [2])] }))).rejects.toBeInstanceOf(FencedError);
      expect(await collect(journal, 'show-b', 0)).toHaveLength(1);
      await journal.append(batch({ showId: 'show-b', epoch: next.epoch, fromVersion: 1, toVersion: 2, events: [placed('h3', [3])] }));
    });

    it('refuses a commit that does not continue from the committed version', async () => {
      const { epoch } = await journal.acquireLease('show-c', 'w1');
      await journal.append(batch({ showId: 'show-c', epoch, fromVersion: 0, toVersion: 1, events: [placed('h1', [1])] }));
      await expect(journal.append(batch({ showId: 'show-c', epoch, fromVersion: 0, toVersion: 1, events: [placed('h9', [9])] }))).rejects.toBeInstanceOf(FencedError);
    });

    it('refuses a second sale of one seat written around the actor, atomically', async () => {
      const { epoch } = await journal.acquireLease('show-d', 'w1');
      await journal.append(batch({ showId: 'show-d', epoch, fromVersion: 0, toVersion: 1, events: [placed('h1', [1])], seatsSold: [{ seatId: 'A:1:1', orderId: 'o1' }] }));
      const idem = { scopedKey: 'u2\u001fk', fingerprint: 'f', reply: { ok: true as const, version: 2 } };
      await expect(
        journal.append(batch({ showId: 'show-d', epoch, fromVersion: 1, toVersion: 2, events: [placed('h2', [1])], seatsSold: [{ seatId: 'A:1:1', orderId: 'o2' }], idempotencyRecords: [idem] })),
      ).rejects.toThrow();
      // Nothing of the refused batch is visible: no event, no idempotency record, version unchanged.
      expect(await collect(journal, 'show-d', 0)).toHaveLength(1);
      expect(await journal.findIdempotencyRecord('show-d', idem.scopedKey)).toBeNull();
      await journal.append(batch({ showId: 'show-d', epoch, fromVersion: 1, toVersion: 2, events: [placed('h3', [2])] }));
    });

    it('keeps pool sales within capacity', async () => {
      const { epoch } = await journal.acquireLease('show-e', 'w1');
      await journal.append(batch({ showId: 'show-e', epoch, fromVersion: 0, toVersion: 1, events: [placed('h1', [])], poolSoldDeltas: [{ poolId: 'floor', delta: 3, capacity: 4 }] }));
      await expect(
        journal.append(batch({ showId: 'show-e', epoch, fromVersion: 1, toVersion: 2, events: [placed('h2', [])], poolSoldDeltas: [{ poolId: 'floor', delta: 2, capacity: 4 }] })),
      ).rejects.toThrow();
    });

    it('stores one record per idempotency key and reports keys already recorded', async () => {
      const { epoch } = await journal.acquireLease('show-f', 'w1');
      const record = { scopedKey: 'u1\u001fkey-1', fingerprint: 'fp', reply: { ok: false as const, code: 'seat_unavailable' as const, detail: 'taken', seats: ['A:1:1'] } };
      await journal.append(batch({ showId: 'show-f', epoch, fromVersion: 0, toVersion: 0, idempotencyRecords: [record] }));
      expect(await journal.findIdempotencyRecord('show-f', record.scopedKey)).toEqual(record);
      expect(await journal.findIdempotencyRecord('show-f', 'u1\u001fother')).toBeNull();
      const again = journal.append(batch({ showId: 'show-f', epoch, fromVersion: 0, toVersion: 1, events: [placed('h1', [1])], idempotencyRecords: [record] }));
      await expect(again).rejects.toBeInstanceOf(IdempotencyConflictError);
      await expect(again).rejects.toMatchObject({ scopedKeys: [record.scopedKey] });
    });

    it('records keys and replies with any characters exactly, and names only the keys recorded before', async () => {
      const { epoch } = await journal.acquireLease('show-h', 'w1');
      const awkward = (key: string, detail: string) => ({
        scopedKey: `fan "1"\\\u001f${key}`,
        fingerprint: 'f\\"p',
        reply: { ok: false as const, code: 'seat_unavailable' as const, detail, seats: ['A:1:1', 'é:"x":\\'] },
      });
      const first = [awkward('k1', 'tab\there, quote " and backslash \\ and emoji 🎟'), awkward('k2', 'new\nline')];
      await journal.append(batch({ showId: 'show-h', epoch, fromVersion: 0, toVersion: 0, idempotencyRecords: first }));
      for (const record of first) expect(await journal.findIdempotencyRecord('show-h', record.scopedKey)).toEqual(record);
      const mixed = [awkward('k3', 'fresh'), first[1]!, awkward('k4', 'fresh too'), first[0]!];
      const again = journal.append(batch({ showId: 'show-h', epoch, fromVersion: 0, toVersion: 1, events: [placed('h1', [1])], idempotencyRecords: mixed }));
      await expect(again).rejects.toBeInstanceOf(IdempotencyConflictError);
      const { scopedKeys } = (await again.catch((error: unknown) => error)) as IdempotencyConflictError;
      expect([...scopedKeys].sort()).toEqual([first[0]!.scopedKey, first[1]!.scopedKey].sort());
      // Nothing of the refused batch was written.
      expect(await journal.findIdempotencyRecord('show-h', mixed[0]!.scopedKey)).toBeNull();
      expect(await collect(journal, 'show-h', 0)).toEqual([]);
    });

    it('finds many recorded keys in one lookup: only the recorded ones, each once, exactly as stored, only of its show', async () => {
      const { epoch } = await journal.acquireLease('show-m', 'w1');
      const record = (n: number) => ({ scopedKey: `fan-${n % 7}\u001f"key" ${n}`, fingerprint: `fp-${n}`, reply: { ok: false as const, code: 'seat_unavailable' as const, detail: `taken ${n} \\ "é"`, seats: [`A:1:${n}`] } });
      const stored = Array.from({ length: 6_000 }, (_, n) => record(n)); // more than one lookup query's worth
      await journal.append(batch({ showId: 'show-m', epoch, fromVersion: 0, toVersion: 0, idempotencyRecords: stored }));
      const other = await journal.acquireLease('show-n', 'w1');
      await journal.append(batch({ showId: 'show-n', epoch: other.epoch, fromVersion: 0, toVersion: 0, idempotencyRecords: [record(6_001)] }));
      const asked = [...stored.map((entry) => entry.scopedKey), stored[3]!.scopedKey, 'fan-1\u001fnever recorded', record(6_001).scopedKey];
      const found = await journal.findIdempotencyRecords('show-m', asked);
      const byKey = (a: { scopedKey: string }, b: { scopedKey: string }) => (a.scopedKey < b.scopedKey ? -1 : a.scopedKey > b.scopedKey ? 1 : 0);
      expect([...found].sort(byKey)).toEqual([...stored].sort(byKey));
      expect(await journal.findIdempotencyRecords('show-m', [])).toEqual([]);
    });

    it('keeps the newest snapshot and refuses one from a stale epoch', async () => {
      const { epoch } = await journal.acquireLease('show-g', 'w1');
      await journal.writeSnapshot('show-g', epoch, { version: 5, data: new Uint8Array([1, 2, 3]) });
      await journal.writeSnapshot('show-g', epoch, { version: 4, data: new Uint8Array([9]) });
      const stored = await journal.readSnapshot('show-g');
      expect(stored?.version).toBe(5);
      expect(Array.from(stored!.data)).toEqual([1, 2, 3]);
      await journal.acquireLease('show-g', 'w2');
      await expect(journal.writeSnapshot('show-g', epoch, { version: 9, data: new Uint8Array([7]) })).rejects.toBeInstanceOf(FencedError);
    });
  });
}

for (const kind of databaseKinds) {
  describe.skipIf(!kind.available)(`group commit on ${kind.name}: stored forms`, () => {
    it('stores each reply as the exact text of JSON.stringify(reply), as journals written before the compact commit did', async () => {
      const db = await kind.open();
      try {
        const journal = new PostgresJournal(db);
        const { epoch } = await journal.acquireLease('show-text', 'w1');
        const hold: HoldView = {
          holdId: 'show-text.h1', showId: 'show-text', userId: 'fan "1" \\ \u0001 é', status: 'held', seats: ['B:2:10', 'é'], pools: [],
          expiresAtMs: 1_000, totalCents: 100, currency: 'EUR', extensionsLeft: 2, orderId: null, split: false, offer: false,
        };
        const reply: ShowReply = { ok: true, version: 1, hold, decidedAtMs: 12 };
        const records = [{ scopedKey: 'u\u001fk', fingerprint: 'fp', reply }];
        await journal.append(batch({ showId: 'show-text', epoch, fromVersion: 0, toVersion: 1, events: [placed('show-text.h1', [3])], idempotencyRecords: records }));
        const { rows } = await db.query<{ reply: string }>('select reply from idempotency_keys where show_id = $1', ['show-text']);
        expect(rows.map((row) => row.reply)).toEqual([JSON.stringify(reply)]);
      } finally {
        await db.close();
      }
    });
  });
}
