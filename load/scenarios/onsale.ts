/**
 * `onsale`: a stadium on-sale. The show goes on sale `lead` seconds after setup behind a waiting
 * room; fans arrive meanwhile (sign in, open their socket, join the room: the pre-sale lottery
 * orders them), are admitted at the room's rate, then race for the best seats — best-available,
 * or specific seats picked from the live seat map — and buy (see fan-actions.ts for the mix of
 * payers, mashers, abandoners and late payers). A fan keeps buying until the run stops, or with
 * --tickets-per-fan until it has the tickets it wanted: the run ends when every seat is sold
 * (abandoned holds come back at their TTL and are bought again).
 */
import { randomBytes } from 'node:crypto';
import { arrive, buy, countError, onStop, pause, tryHold, unitsOf } from './fan-actions.js';
import { createArenaShow } from './organizer.js';
import type { FanContext, Scenario, WorkerShared } from './scenario.js';
import type { HoldRequestBody } from '../../src/protocol/hold-schemas.js';

const available = 0;

/** `quantity` adjacent available seats in a front-biased row of the live map, or null. */
export function pickAdjacentSeats(shared: WorkerShared, quantity: number, random: () => number): string[] | null {
  const { geometry, map } = shared;
  if (geometry === null || map === null || map.status !== 'live') return null;
  const status = map.seatStatus;
  const rows = geometry.rows;
  let row = Math.floor(random() ** 2 * rows.length);
  for (let tried = 0; tried < 24; tried += 1, row = (row + 1) % rows.length) {
    const [start, end] = rows[row]!;
    let run = 0;
    for (let seat = start; seat < end; seat += 1) {
      run = status[seat] === available ? run + 1 : 0;
      if (run === quantity) return geometry.seatIds.slice(seat - quantity + 1, seat + 1);
    }
  }
  return null;
}

/**
 * Holds and buys until the run stops, or until the fan has `wanted` tickets (then it leaves);
 * refusals are answered by trying again, as fans do. `request` gets the last refusal and the
 * most units the fan still wants.
 */
export async function purchaseLoop(context: FanContext, request: (lastRefusal: string | null, mostUnits: number) => HoldRequestBody, soldOutCodes: string[], wanted: number | null = null): Promise<void> {
  const { plan, signal, metrics, random } = context;
  let lastRefusal: string | null = null;
  let soldOutInARow = 0;
  let bought = 0;
  while (!signal.aborted) {
    if (wanted !== null && bought >= wanted) {
      metrics.count('fansDone');
      return;
    }
    const outcome = await tryHold(context, plan.showId, request(lastRefusal, wanted === null ? Number.POSITIVE_INFINITY : wanted - bought));
    lastRefusal = outcome.ok ? null : outcome.code;
    if (outcome.ok) soldOutInARow = 0;
    if (outcome.ok) {
      metrics.gauge('holding', 1);
      try {
        if ((await buy(context, outcome.hold)) === 'paid') bought += unitsOf(outcome.hold);
      } finally {
        metrics.gauge('holding', -1);
      }
      await pause(random() * 500, signal);
    } else if (soldOutCodes.includes(outcome.code)) {
      // Nothing left that fits: wait for returns (abandoned holds expire at their TTL), backing
      // off so a sold-out crowd does not hammer the show: 1, 2, 4 … 16 s, jittered.
      soldOutInARow += 1;
      const backoffMs = 1_000 * 2 ** Math.min(4, soldOutInARow - 1);
      await pause(backoffMs * (0.5 + random() / 2), signal);
      continue;
    } else if (outcome.code === 'seat_unavailable' || outcome.code === 'orphan_seat') {
      await pause(random() * 100, signal);
    } else {
      await pause(500 + random() * 1_000, signal);
    }
  }
}

export const onsale: Scenario = {
  name: 'onsale',
  summary: 'fans queue before on-sale, are admitted, race for the best seats and pay (mashers, abandoners, late payers); ends at sell-out',
  async setup(organizer, options) {
    const leadS = options.leadS ?? Math.max(5, Math.ceil(options.fans / (options.connectRatePerS * options.workers)) + 5);
    const nowMs = Date.now();
    const onSaleAtMs = nowMs + leadS * 1000;
    const show = await createArenaShow(organizer, {
      name: 'Load on-sale',
      seats: options.seats,
      gaCapacity: 0,
      show: {
        starts_at: new Date(nowMs + 30 * 86_400_000).toISOString(),
        on_sale_at: new Date(onSaleAtMs).toISOString(),
        hold_ttl_s: options.holdTtlS,
        max_items_per_hold: 8,
        max_holds_per_user: 4,
        waiting_room: {
          enabled: true,
          opens_at: new Date(nowMs - 1_000).toISOString(),
          mode: options.admissionMode,
          ...(options.activeCap !== null ? { active_cap: options.activeCap } : {}),
          admission_rate_per_s: Math.round(options.admitRatePerS ?? Math.max(50, options.fans / 10)),
          admission_ttl_s: 3_600,
          max_tickets_per_user: 50,
          pow_difficulty: 0,
        },
      },
    });
    return { scenario: 'onsale', runId: randomBytes(4).toString('hex'), showId: show.id, showIds: [show.id], onSaleAtMs, waitingRoom: true, capacity: show.seat_count, endsAtSellOut: true };
  },
  async fan(context) {
    const { client, plan, signal, metrics, options, random, shared } = context;
    await arrive(context);
    if (context.watcher) client.watchShow(plan.showId);
    const tracker = await client.joinQueue(plan.showId, { pollIntervalMs: 10_000 });
    metrics.gauge('queued', 1);
    try {
      let unsubscribe = (): void => undefined;
      const stopped = new Promise<null>((resolve) => {
        unsubscribe = onStop(signal, () => resolve(null));
      });
      const admission = await Promise.race([tracker.admitted(), stopped]).finally(() => unsubscribe());
      if (admission === null) return;
      metrics.count('admitted');
      metrics.recordMs('admission', Math.max(0, Date.now() - plan.onSaleAtMs));
    } catch (error) {
      countError(context, error);
      return;
    } finally {
      metrics.gauge('queued', -1);
      tracker.stop();
    }
    const wanted = options.ticketsPerFan === null ? null : 1 + Math.floor(random() * options.ticketsPerFan);
    await purchaseLoop(context, (_lastRefusal, mostUnits) => {
      const quantity = Math.min(mostUnits, 1 + Math.floor(random() * options.maxPerPurchase));
      const seats = random() < options.specificShare ? pickAdjacentSeats(shared, quantity, random) : null;
      return seats === null ? { best_available: { quantity } } : { seat_ids: seats };
    }, ['sold_out'], wanted);
  },
};
