/**
 * `ga`: a general-admission floor sells out by counter. One pool of `--seats` places, on sale
 * now without a waiting room; fans ask for 1..max places, buy with the usual mix, and try again
 * (smaller) when the floor cannot fit their party. The run ends when every place is sold.
 */
import { randomBytes } from 'node:crypto';
import { arrive } from './fan-actions.js';
import { purchaseLoop } from './onsale.js';
import { createArenaShow } from './organizer.js';
import type { Scenario } from './scenario.js';

export const ga: Scenario = {
  name: 'ga',
  summary: 'a general-admission floor (one pool) sells out by counter; fans buy 1..max places',
  async setup(organizer, options) {
    const nowMs = Date.now();
    const show = await createArenaShow(organizer, {
      name: 'Load GA floor',
      seats: 0,
      gaCapacity: options.seats,
      show: { starts_at: new Date(nowMs + 30 * 86_400_000).toISOString(), on_sale_at: new Date(nowMs - 60_000).toISOString(), hold_ttl_s: options.holdTtlS, max_items_per_hold: 8, max_holds_per_user: 4 },
    });
    return {
      scenario: 'ga', runId: randomBytes(4).toString('hex'), showId: show.id, showIds: [show.id], onSaleAtMs: nowMs, waitingRoom: false,
      capacity: options.seats, endsAtSellOut: true, pools: [{ poolId: 'floor', capacity: options.seats }],
    };
  },
  async fan(context) {
    const { options, random } = context;
    await arrive(context);
    if (context.watcher) context.client.watchShow(context.plan.showId);
    await purchaseLoop(context, (lastRefusal) => {
      // After a refusal a party tries again with one place (the floor may have fewer left than it wanted).
      const quantity = lastRefusal === 'pool_unavailable' ? 1 : 1 + Math.floor(random() * options.maxPerPurchase);
      return { ga: [{ section_id: 'floor', quantity }] };
    }, ['pool_unavailable']);
  },
};
