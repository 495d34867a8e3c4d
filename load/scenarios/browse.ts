/**
 * `browse`: watchers only. Every fan opens the live seat map of one big show (snapshot + ordered
 * diffs through the SDK's SeatMapStore) and just watches; a driver (in worker 0) holds seat
 * groups at --driver-rate per second and releases each 2 s later. Measured: how long a change
 * takes from its commit to each watcher (receipt − the diff's committed_at_ms, same clock), and
 * whether any watcher saw a gap.
 */
import { randomBytes } from 'node:crypto';
import { arrive, onStop, pause, release, tryHold } from './fan-actions.js';
import { geometryOf, rowGroups } from './geometry.js';
import { createArenaShow } from './organizer.js';
import type { Scenario } from './scenario.js';

const holdLifeMs = 2_000;
const holdsPerDriverUser = 20;

export const browse: Scenario = {
  name: 'browse',
  summary: 'watchers only: seat-map diff delivery latency while a driver holds and releases seats',
  async setup(organizer, options) {
    const nowMs = Date.now();
    const show = await createArenaShow(organizer, {
      name: 'Load browse',
      seats: options.seats,
      gaCapacity: 0,
      show: { starts_at: new Date(nowMs + 30 * 86_400_000).toISOString(), on_sale_at: new Date(nowMs - 60_000).toISOString(), hold_ttl_s: options.holdTtlS, max_items_per_hold: 8, max_holds_per_user: holdsPerDriverUser },
    });
    return { scenario: 'browse', runId: randomBytes(4).toString('hex'), showId: show.id, showIds: [show.id], onSaleAtMs: nowMs, waitingRoom: false, capacity: show.seat_count, endsAtSellOut: false };
  },
  async fan(context) {
    await arrive(context);
    const store = context.client.watchShow(context.plan.showId);
    await store.whenReady();
    await new Promise<void>((resolve) => onStop(context.signal, resolve));
    context.metrics.count('diffGaps', store.stats.gaps);
  },
  async driver(context) {
    const { plan, options, signal, random } = context;
    const users = Math.ceil((options.driverRatePerS * (holdLifeMs / 1000 + 1)) / holdsPerDriverUser) + 1;
    const clients = await Promise.all(Array.from({ length: users }, (_, n) => context.client(n)));
    const geometry = geometryOf((await clients[0]!.getSeatMap(plan.showId)).geometry);
    let inFlight = 0;
    let next = 0;
    const tickMs = 20;
    const perTick = (options.driverRatePerS * tickMs) / 1000;
    let budget = 0;
    while (!signal.aborted) {
      budget += perTick;
      while (budget >= 1 && inFlight < 512) {
        budget -= 1;
        inFlight += 1;
        const client = clients[next++ % clients.length]!;
        const groups = rowGroups(geometry, Math.floor(random() * geometry.rows.length));
        const group = groups[Math.floor(random() * groups.length)]!;
        void (async () => {
          const outcome = await tryHold({ ...context, client }, plan.showId, { seat_ids: group });
          if (outcome.ok) {
            await pause(holdLifeMs);
            await release({ ...context, client }, outcome.hold);
          }
        })().finally(() => {
          inFlight -= 1;
        });
      }
      await pause(tickMs, signal);
    }
    while (inFlight > 0) await pause(50);
  },
};
