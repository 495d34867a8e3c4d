import { afterEach, beforeAll, afterAll, describe, expect, it } from 'vitest';
import type { CommandEnvelope } from '../../src/actors/decide-batch.js';
import { fingerprintOf, scopeIdempotencyKey } from '../../src/actors/idempotency.js';
import type { HoldRequest, ShowReply } from '../../src/actors/messages.js';
import type { SeatMapDiff } from '../../src/actors/seat-map-diff.js';
import { seatIdOf, type ShowDefinition } from '../../src/actors/show-definition.js';
import type { SqlDatabase } from '../../src/persistence/database.js';
import { ShowDefinitionStore } from '../../src/persistence/show-definitions.js';
import { buildStadiumDefinition } from '../../src/seed/stadium.js';
import { newHoldId } from '../../src/shared/ids.js';
import { databaseKinds } from '../support/databases.js';
import { InProcessCluster, type InProcessWorker } from './support/in-process-cluster.js';

function holdEnvelope(showId: string, userId: string, key: string, request: HoldRequest): CommandEnvelope {
  return {
    command: { type: 'place_hold', userId, holdId: newHoldId(showId), request },
    scopedKey: scopeIdempotencyKey(userId, key),
    fingerprint: fingerprintOf({ type: 'place_hold', request }),
  };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function seatIds(definition: ShowDefinition): string[] {
  return definition.sections.flatMap((section) => section.rows.flatMap((row) => row.seats.map((seat) => seatIdOf(section.id, row.label, seat.label))));
}

interface Acknowledged {
  userId: string;
  key: string;
  holdId: string;
  seats: string[];
}

/** What a user would check after the run: every acknowledged hold is alive with its seats, and no seat is in two. */
async function auditHolds(entry: InProcessWorker, showId: string, acknowledged: Acknowledged[]): Promise<void> {
  const owners = new Map<string, string>();
  for (const hold of acknowledged) {
    const view = await entry.router.getHold(showId, hold.holdId);
    expect(view, `acknowledged hold ${hold.holdId} is lost`).not.toBeNull();
    expect(view!.status).toBe('held');
    expect([...view!.seats].sort()).toEqual([...hold.seats].sort());
    for (const seat of hold.seats) {
      const other = owners.get(seat);
      expect(other === undefined || other === hold.holdId, `seat ${seat} is in holds ${other} and ${hold.holdId}`).toBe(true);
      owners.set(seat, hold.holdId);
    }
  }
}

for (const kind of databaseKinds) {
  describe.skipIf(!kind.available)(`sharded show routing on ${kind.name} (in-process workers, real IpcHub)`, () => {
    let db: SqlDatabase;
    let definitions: ShowDefinitionStore;
    let cluster: InProcessCluster | null = null;
    let showCounter = 0;
    const newShow = async (): Promise<{ showId: string; seats: string[] }> => {
      const showId = `shw-cluster-${kind.name}-${Date.now().toString(36)}-${(showCounter += 1)}`;
      const definition = buildStadiumDefinition({ showId, sections: 2, rowsPerSection: 6, seatsPerRow: 20, floorCapacity: 0, policy: { holdTtlMs: 10 * 60_000, maxActiveHoldsPerUser: 10, orphanSeatRule: false } });
      await definitions.save(definition);
      return { showId, seats: seatIds(definition) };
    };

    beforeAll(async () => {
      db = await kind.open();
      definitions = new ShowDefinitionStore(db);
    });
    afterEach(async () => {
      await cluster?.close();
      cluster = null;
    });
    afterAll(async () => {
      await db.close();
    });

    it('a claim sent to any worker is served by the show owner, and the same key at another worker returns the same reply', async () => {
      cluster = new InProcessCluster(db);
      for (const id of ['w1', 'w2', 'w3']) await cluster.addWorker(id);
      const { showId, seats } = await newShow();
      const owner = cluster.workers[0]!.router.ownerOf(showId);
      for (const worker of cluster.workers) expect(worker.router.ownerOf(showId)).toBe(owner);
      const entry = cluster.workers.find((worker) => worker.id !== owner)!;
      const envelope = holdEnvelope(showId, 'fan-1', 'intent-1', { seats: [seats[0]!, seats[1]!] });
      const first = await entry.router.submit(showId, envelope);
      expect(first.ok).toBe(true);
      // Only the owner hosts the actor.
      expect(cluster.worker(owner!).local.activeShowIds()).toContain(showId);
      expect(entry.local.activeShowIds()).not.toContain(showId);
      const other = cluster.workers.find((worker) => worker.id !== owner && worker !== entry)!;
      const retried = await other.router.submit(showId, { ...envelope, command: { ...envelope.command, holdId: newHoldId(showId) } as CommandEnvelope['command'] });
      expect(retried).toEqual(first);
    });

    it('moving a hot show 20 times and draining a worker under load loses no acknowledged claim and sells no seat twice', async () => {
      cluster = new InProcessCluster(db);
      for (const id of ['w1', 'w2', 'w3', 'w4']) await cluster.addWorker(id);
      const { showId, seats } = await newShow();
      const acknowledged: Acknowledged[] = [];
      const unexpected: ShowReply[] = [];
      let running = true;
      const fan = async (index: number): Promise<void> => {
        const userId = `fan-${index}`;
        for (let attempt = 0; running; attempt += 1) {
          const want = [seats[(index * 7 + attempt * 13) % seats.length]!, seats[(index * 7 + attempt * 13 + 1) % seats.length]!];
          const key = `intent-${attempt}`;
          const envelope = holdEnvelope(showId, userId, key, { seats: want });
          const entry = cluster!.workers[(index + attempt) % cluster!.workers.length]!;
          const reply = await entry.router.submit(showId, envelope);
          if (reply.ok && reply.hold) {
            acknowledged.push({ userId, key, holdId: reply.hold.holdId, seats: reply.hold.seats });
            // A fan who did not see the answer retries the same intent at another worker.
            if (attempt % 3 === 0) {
              const again = await cluster!.workers[(index + attempt + 1) % cluster!.workers.length]!.router.submit(showId, holdEnvelope(showId, userId, key, { seats: want }));
              expect(again.ok && again.hold?.holdId, JSON.stringify(again)).toBe(reply.hold.holdId);
            }
          } else if (!reply.ok && reply.code !== 'seat_unavailable' && reply.code !== 'too_many_holds') unexpected.push(reply);
          await sleep(2);
        }
      };
      const fans = Array.from({ length: 24 }, (_, index) => fan(index));
      const ids = cluster.workers.map((worker) => worker.id);
      for (let move = 0; move < 20; move += 1) {
        await sleep(40);
        await cluster.workers[move % 4]!.router.pin(showId, ids[(move + 1) % 4]!);
        if (move === 10) {
          await cluster.workers[0]!.router.pin(showId, null);
          await cluster.workers[0]!.router.drain('w2', true);
        }
      }
      await sleep(100);
      running = false;
      await Promise.all(fans);
      await cluster.settle();
      expect(unexpected).toEqual([]);
      expect(acknowledged.length).toBeGreaterThan(20);
      await auditHolds(cluster.workers[2]!, showId, acknowledged);
      // The show was really handed around: several epochs were taken.
      const { rows } = await db.query<{ epoch: number }>('select epoch from show_leases where show_id = $1', [showId]);
      expect(Number(rows[0]!.epoch)).toBeGreaterThan(5);
    });

    it('zombie owner: its commit held up while ops move the show is refused by the epoch check; nothing is held twice', async () => {
      cluster = new InProcessCluster(db, { hopTimeoutMs: 300 });
      for (const id of ['w1', 'w2', 'w3']) await cluster.addWorker(id);
      const { showId, seats } = await newShow();
      const owner = cluster.workers[0]!.router.ownerOf(showId)!;
      const zombie = cluster.worker(owner);
      const rescuer = cluster.workers.find((worker) => worker.id !== owner)!;
      expect((await zombie.router.submit(showId, holdEnvelope(showId, 'warm', 'k', { seats: [seats[50]!] }))).ok).toBe(true);
      // The owner freezes mid-commit (SIGSTOP): its pending claims for seats 0-9 sit in an unfinished commit.
      zombie.journal.pause();
      const zombieClaims = Array.from({ length: 10 }, (_, index) => zombie.router.submit(showId, holdEnvelope(showId, `early-${index}`, 'k', { seats: [seats[index]!] })));
      await sleep(50);
      expect(zombie.journal.appendsWaiting).toBe(1);
      // Ops move the show; the new owner takes the lease with a higher epoch and sells the same seats.
      await rescuer.router.pin(showId, rescuer.id);
      await cluster.settle();
      const rescuerClaims = await Promise.all(Array.from({ length: 10 }, (_, index) => rescuer.router.submit(showId, holdEnvelope(showId, `late-${index}`, 'k', { seats: [seats[index]!] }))));
      expect(rescuerClaims.every((reply) => reply.ok)).toBe(true);
      // SIGCONT: the zombie's commit runs now, under its old epoch.
      zombie.journal.resume();
      const zombieReplies = await Promise.all(zombieClaims);
      // Retried at the new owner with their keys: the seats are taken, so every one is refused.
      for (const reply of zombieReplies) expect(reply.ok ? 'acknowledged' : reply.code).toBe('seat_unavailable');
      const acknowledged = rescuerClaims.map((reply, index) => ({ userId: `late-${index}`, key: 'k', holdId: reply.ok ? reply.hold!.holdId : '', seats: [seats[index]!] }));
      await auditHolds(rescuer, showId, acknowledged);
      const { rows } = await db.query<{ n: number }>("select count(*)::int as n from journal where show_id = $1 and epoch = (select min(epoch) from journal where show_id = $1)", [showId]);
      expect(rows[0]!.n).toBe(1); // only the warm-up commit of the first epoch landed
    });

    it('a dead owner\'s shows are served by the survivors, with every claim it acknowledged', async () => {
      cluster = new InProcessCluster(db);
      for (const id of ['w1', 'w2', 'w3']) await cluster.addWorker(id);
      const { showId, seats } = await newShow();
      const owner = cluster.workers[0]!.router.ownerOf(showId)!;
      const survivor = cluster.workers.find((worker) => worker.id !== owner)!;
      const before = await survivor.router.submit(showId, holdEnvelope(showId, 'fan-a', 'k', { seats: [seats[3]!] }));
      expect(before.ok).toBe(true);
      await cluster.kill(owner);
      expect(survivor.router.ownerOf(showId)).not.toBe(owner);
      const after = await survivor.router.submit(showId, holdEnvelope(showId, 'fan-b', 'k', { seats: [seats[3]!, seats[4]!] }));
      expect(after.ok ? 'acknowledged' : after.code).toBe('seat_unavailable');
      const fresh = await survivor.router.submit(showId, holdEnvelope(showId, 'fan-b', 'k2', { seats: [seats[4]!] }));
      expect(fresh.ok).toBe(true);
      await auditHolds(survivor, showId, [{ userId: 'fan-a', key: 'k', holdId: before.ok ? before.hold!.holdId : '', seats: [seats[3]!] }]);
    });

    it('a watcher on another worker gets one contiguous diff stream across moves', async () => {
      cluster = new InProcessCluster(db);
      for (const id of ['w1', 'w2', 'w3']) await cluster.addWorker(id);
      const { showId, seats } = await newShow();
      const watcher = cluster.workers[2]!;
      const diffs: SeatMapDiff[] = [];
      const unwatch = await watcher.router.watch(showId, (diff) => diffs.push(diff));
      for (let index = 0; index < 30; index += 1) {
        if (index % 5 === 4) await cluster.workers[0]!.router.pin(showId, cluster.workers[index % 3]!.id);
        const reply = await cluster.workers[index % 3]!.router.submit(showId, holdEnvelope(showId, `fan-${index}`, 'k', { seats: [seats[index]!] }));
        expect(reply.ok).toBe(true);
      }
      await sleep(50);
      unwatch();
      const final = await watcher.router.availability(showId);
      expect(diffs.length).toBeGreaterThan(0);
      for (let index = 1; index < diffs.length; index += 1) expect(diffs[index]!.fromVersion).toBe(diffs[index - 1]!.toVersion);
      expect(diffs.at(-1)!.toVersion).toBe(final!.version);
      const heldSeats = new Set(diffs.flatMap((diff) => diff.seats.filter(([, status]) => status !== 0).map(([seat]) => seat)));
      expect(heldSeats.size).toBe(30);
    });
  });
}
