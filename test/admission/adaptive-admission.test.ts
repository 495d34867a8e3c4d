import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QueueStore } from '../../src/admission/queue-store.js';
import { WaitingRoomService, type WaitingRoomOptions } from '../../src/admission/waiting-room.js';
import type { ShowRouter } from '../../src/actors/show-router.js';
import type { SqlDatabase } from '../../src/persistence/database.js';
import { silentLogger } from '../../src/shared/logger.js';
import { TokenSigner } from '../../src/shared/signed-tokens.js';
import { databaseKinds } from '../support/databases.js';

/**
 * Adaptive admission: the room admits while checkout has room — active holds plus fans admitted
 * in the last 30 s who have not held yet stay under the cap. A fan who has held counts once (by
 * its hold), and once it has bought, not at all: the next fans come in without waiting out the window.
 */
const kind = databaseKinds[0]!;

/**
 * A hand-ticked adaptive room: a settable clock and active-hold count, and waiting-room services
 * over one database (one a second, as in production: the 30 s window is counted in ticks).
 */
function adaptiveRoom(showId: string, activeCap: number) {
  const world = { nowMs: Date.parse('2030-01-01T12:00:10Z'), activeHolds: 0 };
  const router: ShowRouter = {
    submit: async () => ({ ok: false, code: 'not_found', detail: 'none' }),
    availability: async () => ({ showId, version: 1, seatStatus: new Uint8Array(0), poolAvailable: [], activeHolds: world.activeHolds, itemsAvailable: 1_000 }),
    getHold: async () => null,
    watch: async () => () => undefined,
    stopAll: async () => undefined,
  };
  const service = (db: SqlDatabase, extra: Partial<WaitingRoomOptions> = {}): WaitingRoomService => {
    const room = new WaitingRoomService({
      store: new QueueStore(db), router, signer: new TokenSigner('adaptive-test-secret-1234'), clock: { nowMs: () => world.nowMs }, logger: silentLogger,
      settingsOf: async () => ({ enabled: true, opensAtMs: 0, onSaleAtMs: Date.parse('2030-01-01T12:00:00Z'), mode: 'adaptive', admissionRatePerS: 100, activeCap, admissionTtlMs: 600_000, powDifficulty: 0 }),
      onServing: () => undefined, tickMs: 1_000, joinBatchMax: 100, ...extra,
    });
    room.close(); // ticked by hand
    return room;
  };
  return { world, service };
}
const showId = 'shw-adaptive';

describe('adaptive admission', () => {
  const { world, service } = adaptiveRoom(showId, 10);
  let db: SqlDatabase;
  let room: WaitingRoomService;

  beforeAll(async () => {
    db = await kind.open();
    room = service(db);
  });
  afterAll(async () => {
    await db.close();
  });

  const tick = async (): Promise<number> => {
    world.nowMs += 1_000;
    await room.tickAll();
    return (await room.stats(showId))['admitted'] as number;
  };

  it('admits up to the cap, waits while admitted fans have not held, and lets the next ones in once they have bought', async () => {
    const fans = Array.from({ length: 30 }, (_, index) => `fan-${index}`);
    const tickets = new Map<string, string>();
    for (const fan of fans) tickets.set(fan, (await room.join(fan, showId, {})).ticket);
    await room.tickAll(); // the room's first tick starts its clock
    expect(await tick()).toBe(10);
    // Ten admitted, none has held yet: they fill checkout.
    expect(await tick()).toBe(10);
    const admitted = [];
    for (const fan of fans) {
      const status = await room.status(fan, tickets.get(fan)!);
      if (status.phase === 'admitted') admitted.push({ fan, token: status.admissionToken! });
    }
    expect(admitted).toHaveLength(10);
    // They hold (twice each: a fan counts once) — now their holds fill checkout.
    for (const { fan, token } of admitted) {
      await room.checkAdmitted(fan, showId, token);
      await room.checkAdmitted(fan, showId, token);
    }
    world.activeHolds = 10;
    expect(await tick()).toBe(10);
    // Half of them bought (their holds are sold): five places open at once, well inside the 30 s window.
    world.activeHolds = 5;
    expect(await tick()).toBe(15);
    // Those five have not held yet: nothing more until they do.
    expect(await tick()).toBe(15);
    await expect(room.checkAdmitted('fan-29', showId, admitted[0]!.token)).rejects.toMatchObject({ code: 'admission_required' });
  });

  it('counts a fan once even when it holds again after the 30 s window (it is not a new arrival)', async () => {
    const roomShowId = 'shw-adaptive-late';
    const late = adaptiveRoom(roomShowId, 10);
    const lateRoom = late.service(db);
    const lateTick = async (): Promise<number> => {
      late.world.nowMs += 1_000;
      await lateRoom.tickAll();
      return (await lateRoom.stats(roomShowId))['admitted'] as number;
    };
    const fans = Array.from({ length: 30 }, (_, index) => `late-fan-${index}`);
    const tickets = new Map<string, string>();
    for (const fan of fans) tickets.set(fan, (await lateRoom.join(fan, roomShowId, {})).ticket);
    await lateRoom.tickAll();
    expect(await lateTick()).toBe(10);
    const tokens = new Map<string, string>();
    for (const fan of fans.slice(0, 10)) tokens.set(fan, (await lateRoom.status(fan, tickets.get(fan)!)).admissionToken!);
    for (const [fan, token] of tokens) await lateRoom.checkAdmitted(fan, roomShowId, token);
    late.world.activeHolds = 10;
    // The ten keep shopping past the window: their admissions and first holds leave it.
    for (let second = 0; second < 35; second += 1) expect(await lateTick()).toBe(10);
    // Five buy: five fans come in, and have not held yet.
    late.world.activeHolds = 5;
    expect(await lateTick()).toBe(15);
    // The five still shopping hold again: not arrivals, so the five newcomers still count as coming.
    for (const fan of fans.slice(5, 10)) await lateRoom.checkAdmitted(fan, roomShowId, tokens.get(fan)!);
    expect(await lateTick()).toBe(15);
    expect(await lateTick()).toBe(15);
  });
});

// On both databases: every worker runs the same SQL against the room's rows.
for (const shared of databaseKinds.filter((each) => each.available)) describe(`adaptive admission across workers: one ticks the room, another takes the fans' holds (${shared.name})`, () => {
  let db: SqlDatabase;

  beforeAll(async () => {
    db = await shared.open();
  });
  afterAll(async () => {
    await db.close();
  });

  /** Two workers on one room: the owner ticks it; the other passes the first holds it saw on to the room's row. */
  const twoWorkers = (showId: string) => {
    const { world, service } = adaptiveRoom(showId, 8);
    const owner = service(db, { ticksHere: () => true, sharedCounters: true });
    const other = service(db, { ticksHere: () => false, sharedCounters: true });
    const tickBoth = async (): Promise<number> => {
      world.nowMs += 1_000;
      await other.tickAll(); // passes the first holds it saw on to the room's row
      await owner.tickAll();
      return (await owner.stats(showId))['admitted'] as number;
    };
    return { world, owner, other, tickBoth };
  };

  it("counts first holds made through another worker, so a fan who bought frees its place there too", async () => {
    const clusterShowId = 'shw-adaptive-cluster';
    const { world, owner, other, tickBoth } = twoWorkers(clusterShowId);
    const fans = Array.from({ length: 20 }, (_, index) => `cluster-fan-${index}`);
    const tickets = new Map<string, string>();
    for (const fan of fans) tickets.set(fan, (await owner.join(fan, clusterShowId, {})).ticket);
    await owner.tickAll(); // starts the room's clock and reads the row's arrivals
    expect(await tickBoth()).toBe(8);
    expect(await tickBoth()).toBe(8);
    // The eight hold through the other worker, then buy.
    for (const fan of fans.slice(0, 8)) {
      const status = await owner.status(fan, tickets.get(fan)!);
      expect(status.phase).toBe('admitted');
      await other.checkAdmitted(fan, clusterShowId, status.admissionToken!);
    }
    world.activeHolds = 0;
    expect(await tickBoth()).toBe(16);
  });

  it('counts a fan whose holds go through both workers as one arrival: the room does not admit past its cap', async () => {
    const bothShowId = 'shw-adaptive-both';
    const { world, owner, other, tickBoth } = twoWorkers(bothShowId);
    const fans = Array.from({ length: 20 }, (_, index) => `both-fan-${index}`);
    const tickets = new Map<string, string>();
    for (const fan of fans) tickets.set(fan, (await owner.join(fan, bothShowId, {})).ticket);
    await owner.tickAll();
    expect(await tickBoth()).toBe(8);
    // Four of the eight hold, each once through each worker (REST and socket land on different ones).
    for (const fan of fans.slice(0, 4)) {
      const token = (await owner.status(fan, tickets.get(fan)!)).admissionToken!;
      await other.checkAdmitted(fan, bothShowId, token);
      await owner.checkAdmitted(fan, bothShowId, token);
    }
    world.activeHolds = 4;
    // Four holding plus four admitted who have not held yet: checkout is full. Counted once per
    // worker, the four would look like eight arrivals and let four more in.
    expect(await tickBoth()).toBe(8);
    expect(await tickBoth()).toBe(8);
  });
});
