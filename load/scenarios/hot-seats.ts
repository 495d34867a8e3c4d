/**
 * `hot-seats`: everyone wants the same 100 seats. A show on sale now (no waiting room); the
 * front rows of its first section are cut into groups (pairs, a trio at a row's odd end) and
 * every fan, in a closed loop, asks for a random group, and when it gets one lets it go again
 * after up to 100 ms, so the seats churn and every attempt contends. What counts is how many
 * hold attempts are answered per second (granted or refused) and how long they take — for the
 * show actor and, in the same run, for the conditional-UPDATE baseline behind the same gateway.
 */
import { randomBytes } from 'node:crypto';
import { arrive, pause, release, tryHold } from './fan-actions.js';
import { fetchGeometry, rowGroups } from './geometry.js';
import { createArenaShow } from './organizer.js';
import type { Scenario } from './scenario.js';

export const hotSeats: Scenario = {
  name: 'hot-seats',
  summary: 'every fan wants the same 100 seats: hold attempts answered per second and their latency, show actor vs conditional UPDATE',
  async setup(organizer, options) {
    const nowMs = Date.now();
    const show = await createArenaShow(organizer, {
      name: 'Load hot seats',
      seats: Math.max(options.seats, options.hotSeats),
      gaCapacity: 0,
      show: { starts_at: new Date(nowMs + 30 * 86_400_000).toISOString(), on_sale_at: new Date(nowMs - 60_000).toISOString(), hold_ttl_s: options.holdTtlS, max_items_per_hold: 8, max_holds_per_user: 20 },
    });
    const geometry = await fetchGeometry(organizer.url, show.id);
    const hotGroups: string[][] = [];
    let seats = 0;
    for (let row = 0; row < geometry.rows.length && seats < options.hotSeats; row += 1) {
      for (const group of rowGroups(geometry, row)) {
        if (seats >= options.hotSeats) break;
        hotGroups.push(group);
        seats += group.length;
      }
    }
    return { scenario: 'hot-seats', runId: randomBytes(4).toString('hex'), showId: show.id, showIds: [show.id], onSaleAtMs: nowMs, waitingRoom: false, capacity: show.seat_count, endsAtSellOut: false, hotGroups };
  },
  async fan(context) {
    const { plan, signal, random } = context;
    const groups = plan.hotGroups!;
    await arrive(context);
    while (!signal.aborted) {
      const outcome = await tryHold(context, plan.showId, { seat_ids: groups[Math.floor(random() * groups.length)]! });
      if (outcome.ok) {
        await pause(random() * 100);
        await release(context, outcome.hold);
      } else if (outcome.code === 'error') {
        await pause(200, signal);
      }
    }
  },
};
