import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommandEnvelope } from '../../src/actors/decide-batch.js';
import { fingerprintOf, scopeIdempotencyKey } from '../../src/actors/idempotency.js';
import type { HoldRequest, ShowReply } from '../../src/actors/messages.js';
import type { SeatMapDiff } from '../../src/actors/seat-map-diff.js';
import { LocalShowRouter } from '../../src/actors/show-router.js';
import type { SqlDatabase } from '../../src/persistence/database.js';
import type { JournalBatch, ShowJournal } from '../../src/persistence/journal.js';
import { PostgresJournal } from '../../src/persistence/postgres-journal.js';
import { ShowDefinitionStore } from '../../src/persistence/show-definitions.js';
import { buildStadiumDefinition } from '../../src/seed/stadium.js';
import { systemClock, systemTimers } from '../../src/shared/clock.js';
import { newHoldId } from '../../src/shared/ids.js';
import { silentLogger } from '../../src/shared/logger.js';
import { databaseKinds } from '../support/databases.js';

function holdEnvelope(showId: string, userId: string, key: string, request: HoldRequest): CommandEnvelope {
  return {
    command: { type: 'place_hold', userId, holdId: newHoldId(showId), request },
    scopedKey: scopeIdempotencyKey(userId, key),
    fingerprint: fingerprintOf({ type: 'place_hold', request }),
  };
}

/** A journal whose next append fails after (or before) writing: a lost acknowledgement or a dropped connection. */
class FlakyJournal extends PostgresJournal {
  failNext: 'none' | 'before' | 'after' = 'none';
  override async append(batch: JournalBatch): Promise<void> {
    const mode = this.failNext;
    this.failNext = 'none';
    if (mode === 'before') throw new Error('connection reset');
    await super.append(batch);
    if (mode === 'after') throw new Error('connection reset after commit');
  }
}

for (const kind of databaseKinds) {
  describe.skipIf(!kind.available)(`show actor on ${kind.name}`, () => {
    let db: SqlDatabase;
    let definitions: ShowDefinitionStore;
    const routers: LocalShowRouter[] = [];
    const routerOn = (journal: ShowJournal, ownerId: string): LocalShowRouter => {
      const router = new LocalShowRouter({ ownerId, journal, loadDefinition: (id) => definitions.load(id), clock: systemClock, timers: systemTimers, logger: silentLogger });
      routers.push(router);
      return router;
    };
    const newShow = async (showId: string, holdTtlMs = 60_000): Promise<void> => {
      await definitions.save(buildStadiumDefinition({ showId, sections: 2, rowsPerSection: 5, seatsPerRow: 10, floorCapacity: 20, policy: { holdTtlMs, maxActiveHoldsPerUser: 5, orphanSeatRule: false } }));
    };

    beforeAll(async () => {
      db = await kind.open();
      definitions = new ShowDefinitionStore(db);
    });
    afterAll(async () => {
      await Promise.all(routers.map((router) => router.stopAll()));
      await db.close();
    });

    it('a crash mid-batch loses nothing acknowledged, and the old owner can no longer commit', async () => {
      const showId = 'crash-show';
      await newShow(showId);
      const first = routerOn(new PostgresJournal(db), 'worker-1');
      const acknowledged = await Promise.all(
        Array.from({ length: 40 }, (_, index) => first.submit(showId, holdEnvelope(showId, `fan-${index}`, 'k', { pools: [{ poolId: 'floor', quantity: 1 }] }))),
      );
      // Crash: the first process is abandoned without stopping; more commands are in its mailbox.
      const inFlight = Array.from({ length: 10 }, (_, index) => first.submit(showId, holdEnvelope(showId, `late-${index}`, 'k', { seats: [`101:2:${index + 1}`] })));
      const second = routerOn(new PostgresJournal(db), 'worker-2');
      const recovered = await second.availability(showId);
      const lateReplies = await Promise.all(inFlight);

      const okHolds = acknowledged.filter((reply) => reply.ok).length;
      expect(okHolds).toBe(20);
      expect(acknowledged.filter((reply) => !reply.ok && reply.code === 'pool_unavailable')).toHaveLength(20);
      // Every acknowledged hold survived; the pool shows exactly the acknowledged ones taken.
      expect(recovered!.poolAvailable[0]).toBe(0);
      // Late commands were either committed before the takeover (and are then visible) or refused as not_owner.
      for (const [index, reply] of lateReplies.entries()) {
        const seatIndex = 10 + index; // row 2 of section 101 starts at seat 10
        if (reply.ok) expect(recovered!.seatStatus[seatIndex]).toBe(1);
        else expect(reply.code).toBe('not_owner');
      }
      const afterTakeover = await first.submit(showId, holdEnvelope(showId, 'zombie-fan', 'k', { seats: ['302:5:10'] }));
      expect(afterTakeover).toMatchObject({ ok: false, code: 'not_owner' });
      expect((await second.availability(showId))!.seatStatus[99]).toBe(0);
    });

    it('the same key gets the same reply, also after a restart; other parameters get idempotency_key_reused', async () => {
      const showId = 'idem-show';
      await newShow(showId);
      const router = routerOn(new PostgresJournal(db), 'worker-1');
      const envelope = holdEnvelope(showId, 'fan', 'pay-1', { seats: ['101:1:1', '101:1:2'] });
      const replies = await Promise.all([router.submit(showId, envelope), router.submit(showId, envelope), router.submit(showId, envelope)]);
      expect(replies[0]).toMatchObject({ ok: true });
      expect(replies[1]).toEqual(replies[0]);
      expect(replies[2]).toEqual(replies[0]);
      await router.stopAll();
      const restarted = routerOn(new PostgresJournal(db), 'worker-2');
      const afterRestart = await restarted.submit(showId, { ...envelope, command: { ...envelope.command, holdId: newHoldId(showId) } } as CommandEnvelope);
      expect(afterRestart).toEqual(replies[0]);
      const reused = await restarted.submit(showId, holdEnvelope(showId, 'fan', 'pay-1', { seats: ['101:1:3'] }));
      expect(reused).toMatchObject({ ok: false, code: 'idempotency_key_reused' });
      const availability = await restarted.availability(showId);
      expect(availability!.seatStatus.filter((status) => status === 1)).toHaveLength(2);
    });

    it('an activation with hundreds of commands waiting looks their keys up in one round trip, and the retries among them get their stored replies', async () => {
      const showId = 'lookup-show';
      await newShow(showId);
      const router = routerOn(new PostgresJournal(db), 'worker-1');
      // 100 seats, one per fan: every first attempt is granted.
      const seatOf = (index: number): string => `${index < 50 ? '101' : '302'}:${1 + Math.floor((index % 50) / 10)}:${1 + (index % 10)}`;
      const envelopes = Array.from({ length: 100 }, (_, index) => holdEnvelope(showId, `fan-${index}`, 'first', { seats: [seatOf(index)] }));
      const first = await Promise.all(envelopes.map((envelope) => router.submit(showId, envelope)));
      expect(first.filter((reply) => !reply.ok)).toEqual([]);
      await router.stopAll();

      const lookups = { batched: 0, single: 0 };
      class CountingJournal extends PostgresJournal {
        override findIdempotencyRecords(id: string, keys: readonly string[]) {
          lookups.batched += 1;
          return super.findIdempotencyRecords(id, keys);
        }
        override findIdempotencyRecord(id: string, key: string) {
          lookups.single += 1;
          return super.findIdempotencyRecord(id, key);
        }
      }
      const restarted = routerOn(new CountingJournal(db), 'worker-2');
      // Submitted together: all wait in the mailbox while the show activates.
      const retries = envelopes.map((envelope) => restarted.submit(showId, { ...envelope, command: { ...envelope.command, holdId: newHoldId(showId) } } as CommandEnvelope));
      const fresh = Array.from({ length: 200 }, (_, index) => restarted.submit(showId, holdEnvelope(showId, `other-${index}`, 'k', { seats: [seatOf(index % 100)] })));
      const replies = await Promise.all(retries);
      const freshReplies = await Promise.all(fresh);
      expect(replies).toEqual(first);
      expect(freshReplies.every((reply) => !reply.ok && reply.code === 'seat_unavailable')).toBe(true);
      expect(lookups).toEqual({ batched: 1, single: 0 });
    });

    it('publishes committed diffs in version order, including expiry by the hold timer', async () => {
      const showId = 'diff-show';
      await newShow(showId, 300);
      const router = routerOn(new PostgresJournal(db), 'worker-1');
      const diffs: SeatMapDiff[] = [];
      await router.watch(showId, (diff) => diffs.push(diff));
      const reply = await router.submit(showId, holdEnvelope(showId, 'fan', 'k1', { seats: ['101:1:5'] }));
      expect(reply.ok).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 900));
      expect(diffs.length).toBeGreaterThanOrEqual(2);
      diffs.forEach((diff, index) => {
        expect(diff.toVersion).toBeGreaterThan(diff.fromVersion);
        if (index > 0) expect(diff.fromVersion).toBe(diffs[index - 1]!.toVersion);
      });
      expect(diffs[0]!.seats).toEqual([[4, 1]]);
      expect(diffs.at(-1)!.seats).toEqual([[4, 0]]);
      expect((await router.availability(showId))!.seatStatus[4]).toBe(0);
    });

    it('holds expire across a restart with no janitor', async () => {
      const showId = 'expiry-restart-show';
      await newShow(showId, 200);
      const router = routerOn(new PostgresJournal(db), 'worker-1');
      expect((await router.submit(showId, holdEnvelope(showId, 'fan', 'k1', { pools: [{ poolId: 'floor', quantity: 3 }] }))).ok).toBe(true);
      await router.stopAll();
      await new Promise((resolve) => setTimeout(resolve, 400));
      const restarted = routerOn(new PostgresJournal(db), 'worker-2');
      // Activation alone does not expire (reads see committed state); the timer fires at once.
      await restarted.availability(showId);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect((await restarted.availability(showId))!.poolAvailable[0]).toBe(20);
      const { rows } = await db.query<{ n: number }>(`select count(*)::int as n from outbox where show_id = $1 and topic = 'HoldExpired'`, [showId]);
      expect(rows[0]!.n).toBe(1);
    });

    it('a failed commit answers retryable, rebuilds from the journal, and a retry with the same key is exact', async () => {
      const showId = 'flaky-show';
      await newShow(showId);
      const journal = new FlakyJournal(db);
      const router = routerOn(journal, 'worker-1');
      expect((await router.submit(showId, holdEnvelope(showId, 'warm', 'k', { seats: ['302:1:1'] }))).ok).toBe(true);

      journal.failNext = 'before';
      const lost = holdEnvelope(showId, 'fan-a', 'k', { seats: ['101:3:1'] });
      expect(await router.submit(showId, lost)).toMatchObject({ ok: false, code: 'commit_failed' });
      const retried = await router.submit(showId, lost);
      expect(retried).toMatchObject({ ok: true });

      journal.failNext = 'after';
      const ackLost = holdEnvelope(showId, 'fan-b', 'k', { seats: ['101:3:2'] });
      expect(await router.submit(showId, ackLost)).toMatchObject({ ok: false, code: 'commit_failed' });
      const ackRetried: ShowReply = await router.submit(showId, ackLost);
      expect(ackRetried).toMatchObject({ ok: true, hold: { seats: ['101:3:2'] } });
      const availability = await router.availability(showId);
      expect(availability!.seatStatus.filter((status) => status === 1)).toHaveLength(3);
    });
  });
}

/** A journal whose appends wait until the test opens the gate: a commit that is slow to land. */
class GatedJournal extends PostgresJournal {
  readonly appends: JournalBatch[] = [];
  inFlight = 0;
  maxInFlight = 0;
  failNext = false;
  private gate: (() => void)[] = [];
  closed = false;

  override async append(batch: JournalBatch): Promise<void> {
    this.appends.push(batch);
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      if (this.closed) await new Promise<void>((resolve) => this.gate.push(resolve));
      if (this.failNext) {
        this.failNext = false;
        throw new Error('connection reset');
      }
      await super.append(batch);
    } finally {
      this.inFlight -= 1;
    }
  }

  open(): void {
    this.closed = false;
    for (const resolve of this.gate.splice(0)) resolve();
  }

  async waitForAppends(count: number): Promise<void> {
    while (this.appends.length < count) await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe.skipIf(!databaseKinds[0]!.available)('show actor pipeline (decides while a commit is in flight)', () => {
  let db: SqlDatabase;
  let definitions: ShowDefinitionStore;
  const routers: LocalShowRouter[] = [];
  const routerOn = (journal: ShowJournal): LocalShowRouter => {
    const router = new LocalShowRouter({ ownerId: 'worker-1', journal, loadDefinition: (id) => definitions.load(id), clock: systemClock, timers: systemTimers, logger: silentLogger });
    routers.push(router);
    return router;
  };
  const newShow = async (showId: string): Promise<void> => {
    await definitions.save(buildStadiumDefinition({ showId, sections: 2, rowsPerSection: 5, seatsPerRow: 10, floorCapacity: 20, policy: { maxActiveHoldsPerUser: 5, orphanSeatRule: false } }));
  };

  beforeAll(async () => {
    db = await databaseKinds[0]!.open();
    definitions = new ShowDefinitionStore(db);
  });
  afterAll(async () => {
    await Promise.all(routers.map((router) => router.stopAll()));
    await db.close();
  });

  it('decides the commands that arrive during a commit, answers them only after their own commit, one transaction at a time', async () => {
    const showId = 'pipeline-show';
    await newShow(showId);
    const journal = new GatedJournal(db);
    const router = routerOn(journal);
    await router.availability(showId);
    journal.closed = true;
    const answered: string[] = [];
    const first = router.submit(showId, holdEnvelope(showId, 'fan-0', 'k', { seats: ['101:1:1'] })).then((reply) => (answered.push('fan-0'), reply));
    await journal.waitForAppends(1);
    // While the first commit is held: more commands, in several turns; the same seat again, and a duplicate key.
    const later: Promise<ShowReply>[] = [];
    for (let turn = 0; turn < 3; turn += 1) {
      for (let index = 0; index < 4; index += 1) {
        const fan = `fan-${turn}-${index}`;
        later.push(router.submit(showId, holdEnvelope(showId, fan, 'k', { seats: [`101:${turn + 2}:${index + 1}`] })).then((reply) => (answered.push(fan), reply)));
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    const sameSeat = router.submit(showId, holdEnvelope(showId, 'fan-x', 'k', { seats: ['101:1:1'] }));
    const duplicate = router.submit(showId, holdEnvelope(showId, 'fan-0-0', 'k', { seats: ['101:2:1'] }));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(answered).toEqual([]); // nothing is answered before its commit
    expect(journal.appends).toHaveLength(1);
    // A committed read waits too, and sees only committed state once it runs.
    const read = router.availability(showId);
    journal.open();
    const replies = await Promise.all([first, ...later]);
    expect(replies.every((reply) => reply.ok)).toBe(true);
    expect(await sameSeat).toMatchObject({ ok: false, code: 'seat_unavailable' });
    expect(await duplicate).toEqual(replies[1]);
    expect(journal.maxInFlight).toBe(1);
    // The commands decided during the first commit went out together, not one transaction each.
    expect(journal.appends.length).toBeLessThanOrEqual(3);
    for (let index = 1; index < journal.appends.length; index += 1) expect(journal.appends[index]!.fromVersion).toBe(journal.appends[index - 1]!.toVersion);
    const availability = (await read)!;
    expect(availability.seatStatus.filter((status) => status === 1)).toHaveLength(13);
    expect(availability.version).toBe(journal.appends.at(-1)!.toVersion);
  });

  it('a failed commit fails every command decided after it too, and the state is rebuilt from the journal', async () => {
    const showId = 'pipeline-fail-show';
    await newShow(showId);
    const journal = new GatedJournal(db);
    const router = routerOn(journal);
    expect((await router.submit(showId, holdEnvelope(showId, 'warm', 'k', { seats: ['302:1:1'] }))).ok).toBe(true);
    journal.closed = true;
    journal.failNext = true;
    const doomed = router.submit(showId, holdEnvelope(showId, 'fan-a', 'k', { seats: ['101:3:1'] }));
    await journal.waitForAppends(2);
    const decidedAfter = [router.submit(showId, holdEnvelope(showId, 'fan-b', 'k', { seats: ['101:3:2'] })), router.submit(showId, holdEnvelope(showId, 'fan-c', 'k', { seats: ['101:3:1'] }))];
    await new Promise((resolve) => setTimeout(resolve, 20));
    journal.open();
    expect(await doomed).toMatchObject({ ok: false, code: 'commit_failed' });
    for (const reply of await Promise.all(decidedAfter)) expect(reply).toMatchObject({ ok: false, code: 'commit_failed' });
    // Rebuilt from the journal: only the warm-up hold exists, so the seat the failed commit took is free again.
    const availability = (await router.availability(showId))!;
    expect(availability.seatStatus.filter((status) => status === 1)).toHaveLength(1);
    expect(await router.submit(showId, holdEnvelope(showId, 'fan-c', 'k2', { seats: ['101:3:1'] }))).toMatchObject({ ok: true });
  });

  it('a retried key that an earlier owner recorded, met by a move mid-commit, is sent on (not_owner) and the next owner answers the stored reply', async () => {
    const showId = 'pipeline-move-show';
    await newShow(showId);
    const earlier = routerOn(new PostgresJournal(db));
    const envelope = holdEnvelope(showId, 'fan', 'pay-1', { seats: ['101:4:4'] });
    const original = await earlier.submit(showId, envelope);
    expect(original.ok).toBe(true);
    await earlier.release(showId);
    // The show moves here; the fan, who never saw the reply, retries the same key after activation.
    const journal = new GatedJournal(db);
    const current = routerOn(journal);
    await current.availability(showId);
    journal.closed = true;
    const retried = current.submit(showId, { ...envelope, command: { ...envelope.command, holdId: newHoldId(showId) } as CommandEnvelope['command'] });
    await journal.waitForAppends(1);
    // Ops move the show on while that commit (which will find the key already recorded) is in flight.
    const moving = current.release(showId);
    journal.open();
    await moving;
    expect(await retried).toMatchObject({ ok: false, code: 'not_owner' });
    const next = routerOn(new PostgresJournal(db));
    expect(await next.submit(showId, { ...envelope, command: { ...envelope.command, holdId: newHoldId(showId) } as CommandEnvelope['command'] })).toEqual(original);
  });
});
