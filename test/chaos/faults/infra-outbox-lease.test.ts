/**
 * The outbox after a database outage: a relay whose round failed mid-way (PostgreSQL restarted
 * between delivering an event and marking it) hands its own leases back on its next round, so
 * delivery resumes as soon as the database does — found by the PostgreSQL restart fault, where the
 * outbox stood still for the whole 60 s lease after each restart. A lease that may already have
 * run out (and been taken by another relay) is left alone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OutboxRelay } from '../../../src/outbox/outbox-relay.js';
import type { SqlDatabase } from '../../../src/persistence/database.js';
import { silentLogger } from '../../../src/shared/logger.js';
import { databaseKinds } from '../../support/databases.js';
import { insertEvent, RecordingSink, resetOutbox, rowState } from '../../outbox/support.js';

for (const kind of databaseKinds) {
  describe.skipIf(!kind.available)(`outbox leases after a failed round (${kind.name})`, () => {
    let db: SqlDatabase;
    beforeAll(async () => {
      db = await kind.open();
    });
    afterAll(async () => db?.close());

    it('the same relay delivers again on its next round, not after the 60 s lease', async () => {
      await resetOutbox(db);
      const first = await insertEvent(db, 'show-outage');
      const second = await insertEvent(db, 'show-outage');
      const sink = new RecordingSink();
      let marksFailing = 1;
      const relay = new OutboxRelay({
        db, sinks: [sink], logger: silentLogger, leaseMs: 60_000,
        afterSendBeforeMark: () => {
          if (marksFailing-- > 0) throw new Error('Connection terminated unexpectedly');
        },
      });
      await expect(relay.runOnce()).rejects.toThrow('Connection terminated unexpectedly');
      expect((await rowState(db, first)).nextAttemptInMs).toBeGreaterThan(30_000); // leased

      expect(await relay.runOnce()).toMatchObject({ claimed: 2, delivered: 2 });
      expect((await rowState(db, first)).delivered).toBe(true);
      expect((await rowState(db, second)).delivered).toBe(true);
      // At least once: the event sent before the failed mark is sent again (receivers dedupe by id).
      expect(sink.calls.map((call) => call.event.eventId)).toEqual([first, first, second]);
    });

    it('a lease past 80% of its time is not handed back (another relay may hold the rows by now)', async () => {
      await resetOutbox(db);
      const id = await insertEvent(db, 'show-late');
      let nowMs = 0;
      let marksFailing = 1;
      const relay = new OutboxRelay({
        db, sinks: [new RecordingSink()], logger: silentLogger, leaseMs: 60_000, monotonicMs: () => nowMs,
        afterSendBeforeMark: () => {
          if (marksFailing-- > 0) throw new Error('Connection terminated unexpectedly');
        },
      });
      await expect(relay.runOnce()).rejects.toThrow();
      nowMs = 50_000;
      expect((await relay.runOnce()).claimed).toBe(0);
      expect((await rowState(db, id)).delivered).toBe(false);
      expect((await rowState(db, id)).nextAttemptInMs).toBeGreaterThan(30_000);
    });
  });
}
