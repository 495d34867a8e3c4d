/**
 * Child process of the actor bench's memory phase, so the measurement starts from a clean heap:
 *   node --expose-gc --import tsx bench/support/actor-memory-child.ts '<json params>'
 * Activates one warm-up show, then K prepared 50,000-seat shows through a LocalShowRouter on
 * PostgreSQL (each from its snapshot, as in production), and reports the memory they keep after
 * full GCs. Then fills one idempotency cache to capacity with realistic replies and reports its
 * cost too (an actor serving traffic carries one; a freshly activated actor starts empty).
 * Prints one JSON line on stdout.
 */
import { decideBatch, type CommandEnvelope } from '../../src/actors/decide-batch.js';
import { fingerprintOf, IdempotencyCache, scopeIdempotencyKey } from '../../src/actors/idempotency.js';
import { Inventory } from '../../src/actors/inventory.js';
import { limits } from '../../src/actors/limits.js';
import { LocalShowRouter } from '../../src/actors/show-router.js';
import { connectPostgres } from '../../src/persistence/database.js';
import { PostgresJournal } from '../../src/persistence/postgres-journal.js';
import { ShowDefinitionStore } from '../../src/persistence/show-definitions.js';
import { buildStadiumDefinition } from '../../src/seed/stadium.js';
import { systemClock, systemTimers } from '../../src/shared/clock.js';
import { newHoldId } from '../../src/shared/ids.js';
import { silentLogger } from '../../src/shared/logger.js';
import { mulberry32, neighbours, partySize, ShowHistoryGenerator } from './show-history.js';

interface Params {
  connectionString: string;
  schema: string;
  warmupShowId: string;
  showIds: string[];
  soldOutShowId: string;
  seed: number;
}

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with --expose-gc');

async function settle(): Promise<NodeJS.MemoryUsage> {
  for (let pass = 0; pass < 4; pass += 1) {
    gc!();
    await new Promise((resolve) => setImmediate(resolve));
  }
  return process.memoryUsage();
}

/** heapUsed + external; external already includes arrayBuffers (Node docs), so adding it again would double count. */
function retained(usage: NodeJS.MemoryUsage): number {
  return usage.heapUsed + usage.external;
}

const params = JSON.parse(process.argv[2] ?? '{}') as Params;
const db = connectPostgres({ connectionString: params.connectionString, schema: params.schema, poolSize: 4, applicationName: 'holdfast-bench-memory' });
const definitions = new ShowDefinitionStore(db);
const router = new LocalShowRouter({
  ownerId: 'bench-memory',
  journal: new PostgresJournal(db),
  loadDefinition: (showId) => definitions.load(showId),
  clock: systemClock,
  timers: systemTimers,
  logger: silentLogger,
});

// Warm-up: code, pool connection and first-use allocations are not a show's cost.
await router.availability(params.warmupShowId);
const before = await settle();
for (const showId of params.showIds) {
  const snapshot = await router.availability(showId);
  if (snapshot === null) throw new Error(`show ${showId} not found`);
}
const after = await settle();
const shows = params.showIds.length;
await router.availability(params.soldOutShowId);
const afterSoldOut = await settle();

// The immutable part of a show (its Inventory), to split the per-show figure into catalogue and state.
const inventoryBefore = await settle();
const inventory = new Inventory(buildStadiumDefinition({ showId: 'bench-memory-inventory' }));
const inventoryAfter = await settle();
const inventorySeats = inventory.seatCount;

// One idempotency cache at capacity: place_hold replies (hold views) and refusals, as decided.
// Its cost is the memory freed by dropping it while the state it was decided against stays.
const generator = new ShowHistoryGenerator(buildStadiumDefinition({ showId: 'bench-memory-cache' }), { activeHolds: 0, soldSeats: 0 }, mulberry32(params.seed));
let cache: IdempotencyCache | null = new IdempotencyCache(limits.idempotencyCacheEntriesMax);
const random = mulberry32(params.seed + 1);
let userCounter = 0;
while (cache.size < limits.idempotencyCacheEntriesMax) {
  const envelopes: CommandEnvelope[] = [];
  for (let index = 0; index < 1_000; index += 1) {
    const first = Math.floor(random() * generator.layout.ids.length);
    const seats = neighbours(generator.layout, first, partySize(random), () => true).map((seat) => generator.layout.ids[seat]!);
    const userId = `fan-${(userCounter += 1)}`;
    const request = { seats };
    envelopes.push({
      command: { type: 'place_hold', userId, holdId: newHoldId('bench-memory-cache'), request },
      scopedKey: scopeIdempotencyKey(userId, `key-${userCounter}`),
      fingerprint: fingerprintOf({ type: 'place_hold', request }),
    });
  }
  decideBatch(generator.state, cache, envelopes, systemClock.nowMs());
}
const withCache = await settle();
// Read the cache after measuring: V8 frees objects a function never reads again, even if still in scope.
const cacheEntries = cache.size;
cache = null;
const withoutCache = await settle();

const result = {
  shows,
  perShowRetainedBytes: Math.round((retained(after) - retained(before)) / shows),
  perShowHeapUsedBytes: Math.round((after.heapUsed - before.heapUsed) / shows),
  perShowExternalBytes: Math.round((after.external - before.external) / shows),
  perShowArrayBuffersBytes: Math.round((after.arrayBuffers - before.arrayBuffers) / shows),
  perShowRssBytes: Math.round((after.rss - before.rss) / shows),
  soldOutShowRetainedBytes: retained(afterSoldOut) - retained(after),
  inventoryBytes: inventorySeats > 0 ? retained(inventoryAfter) - retained(inventoryBefore) : 0,
  idempotencyCacheAtCapacity: {
    entries: cacheEntries,
    retainedBytes: retained(withCache) - retained(withoutCache),
  },
  processRssMb: Math.round(after.rss / 2 ** 20),
  claimsInCacheState: generator.state.claims.size,
};
process.stdout.write(`${JSON.stringify(result)}\n`);
await router.stopAll();
await db.close();
