/**
 * `hotel`: multi-night stays. A hotel of `--seats` rooms per night (queen, double and suite room
 * types) sells 7 nights; each fan books a room type for 1..4 consecutive nights, one hold over
 * one pool per night claimed all or nothing, and buys it. A refused stay (a night is full) is
 * followed by another choice. The run ends when every room-night is sold, or at --duration
 * (single nights left between long stays may take a while to go).
 */
import { randomBytes } from 'node:crypto';
import { addDays } from '../../src/catalog/show-builder.js';
import { arrive } from './fan-actions.js';
import { purchaseLoop } from './onsale.js';
import { createHotelShow } from './organizer.js';
import type { Scenario } from './scenario.js';

const nights = 7;

export const hotel: Scenario = {
  name: 'hotel',
  summary: 'hotel room-nights: stays of 1..4 nights claim one pool per night in one hold',
  async setup(organizer, options) {
    const nowMs = Date.now();
    const firstNight = addDays(new Date(nowMs).toISOString().slice(0, 10), 1);
    const queen = Math.max(1, Math.round(options.seats * 0.5));
    const double = Math.max(1, Math.round(options.seats * 0.35));
    const suite = Math.max(1, options.seats - queen - double);
    const roomTypes = [
      { id: 'queen', rooms: queen, priceCents: 14_900 },
      { id: 'double', rooms: double, priceCents: 18_900 },
      { id: 'suite', rooms: suite, priceCents: 39_900 },
    ];
    const show = await createHotelShow(organizer, {
      name: 'Load hotel',
      roomTypes,
      show: {
        starts_at: `${firstNight}T15:00:00.000Z`, on_sale_at: new Date(nowMs - 60_000).toISOString(), hold_ttl_s: options.holdTtlS,
        max_items_per_hold: 14, max_holds_per_user: 4, lodging: { first_night: firstNight, nights },
      },
    });
    const nightDates = Array.from({ length: nights }, (_, night) => addDays(firstNight, night));
    const pools = roomTypes.flatMap((type) => nightDates.map((night) => ({ poolId: `${type.id}@${night}`, capacity: type.rooms })));
    return {
      scenario: 'hotel', runId: randomBytes(4).toString('hex'), showId: show.id, showIds: [show.id], onSaleAtMs: nowMs, waitingRoom: false,
      capacity: pools.reduce((sum, pool) => sum + pool.capacity, 0), endsAtSellOut: true, pools, hotel: { roomTypes: roomTypes.map((type) => type.id), nights: nightDates },
    };
  },
  async fan(context) {
    const { random, plan } = context;
    const { roomTypes, nights: dates } = plan.hotel!;
    await arrive(context);
    if (context.watcher) context.client.watchShow(plan.showId);
    await purchaseLoop(context, () => {
      const type = roomTypes[Math.floor(random() * roomTypes.length)]!;
      const length = 1 + Math.floor(random() * Math.min(4, dates.length));
      const first = Math.floor(random() * (dates.length - length + 1));
      return { pools: dates.slice(first, first + length).map((night) => ({ pool_id: `${type}@${night}`, quantity: 1 })) };
    }, []);
  },
};
