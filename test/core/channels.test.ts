import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decideBatch } from '../../src/actors/decide-batch.js';
import { IdempotencyCache } from '../../src/actors/idempotency.js';
import type { HoldRequest, ShowEvent } from '../../src/actors/messages.js';
import { checkStateInvariants } from '../../src/actors/show-state.js';
import { makeDefinition, makeState, rowSeatIds } from './fixtures.js';

const hash = (key: string): string => createHash('sha256').update(key).digest('hex');

function channelShow(releaseAtMs: number | null) {
  const def = makeDefinition({ sections: ['A'], rowsPerSection: 2, seatsPerRow: 6, tierOf: () => 'gold', gaPools: [10, 5], policy: { maxItemsPerHold: 8, maxActiveHoldsPerUser: 20 } });
  const fanClubSeats = rowSeatIds(def, 0, 0).slice(0, 4);
  def.channels = [{ id: 'fanclub', name: 'Fan club', keyHash: hash('CLUB-2026'), seats: fanClubSeats, pools: [{ poolId: 'ga-floor', quantity: 6 }], releaseAtMs }];
  return { def, state: makeState(def), fanClubSeats };
}

describe('presale channels', () => {
  it('keeps channel seats and allotments for key holders until release, then opens them to all', () => {
    const { state, fanClubSeats } = channelShow(10_000);
    const place = (userId: string, request: HoldRequest, key: string | undefined, nowMs: number) =>
      decideBatch(state, new IdempotencyCache(10), [{ command: { type: 'place_hold', userId, holdId: `h-${userId}-${nowMs}`, request, ...(key ? { channelKeyHash: hash(key) } : {}) } }], nowMs).replies[0]!;
    expect(place('public', { seats: [fanClubSeats[0]!] }, undefined, 0)).toMatchObject({ ok: false, code: 'channel_restricted', seats: [fanClubSeats[0]] });
    expect(place('guesser', { seats: [fanClubSeats[0]!] }, 'WRONG-KEY', 0)).toMatchObject({ ok: false, code: 'channel_key_invalid' });
    // Of 10 floor places 6 are the fan club's: the public can hold 4, no more.
    expect(place('public', { pools: [{ poolId: 'ga-floor', quantity: 5 }] }, undefined, 0)).toMatchObject({ ok: false, code: 'pool_unavailable' });
    expect(place('public2', { pools: [{ poolId: 'ga-floor', quantity: 4 }] }, undefined, 0)).toMatchObject({ ok: true });
    expect(place('member', { seats: fanClubSeats.slice(0, 2), pools: [{ poolId: 'ga-floor', quantity: 6 }] }, 'CLUB-2026', 0)).toMatchObject({ ok: true });
    checkStateInvariants(state);
    // Best available for the public never picks channel seats.
    const best = decideBatch(state, new IdempotencyCache(10), [{ command: { type: 'place_hold', userId: 'bestfan', holdId: 'h-best', request: { bestAvailable: { quantity: 2 } } } }], 1).events;
    const bestSeats = (best.find((event) => event.type === 'hold_placed') as Extract<ShowEvent, { type: 'hold_placed' }>).seats.map((seat) => state.inventory.seatId(seat));
    for (const seat of bestSeats) expect(fanClubSeats).not.toContain(seat);
    // After release the rest of the channel's seats are open to everyone.
    expect(place('late-public', { seats: fanClubSeats.slice(2, 4) }, undefined, 10_000)).toMatchObject({ ok: true });
  });

  it('never lets channel inventory be held without its key before release', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ key: fc.constantFrom<string | undefined>(undefined, 'CLUB-2026', 'NOPE-0000'), seat: fc.integer({ min: 0, max: 11 }), floor: fc.integer({ min: 0, max: 4 }), nowMs: fc.integer({ min: 0, max: 20_000 }) }), { minLength: 1, maxLength: 40 }),
        (attempts) => {
          const { def, state, fanClubSeats } = channelShow(15_000);
          const allSeats = [...rowSeatIds(def, 0, 0), ...rowSeatIds(def, 0, 1)];
          let nowMs = 0;
          attempts.forEach((attempt, index) => {
            nowMs = Math.max(nowMs, attempt.nowMs);
            const request: HoldRequest = { seats: [allSeats[attempt.seat]!], ...(attempt.floor > 0 ? { pools: [{ poolId: 'ga-floor', quantity: attempt.floor }] } : {}) };
            const decided = decideBatch(state, new IdempotencyCache(10), [{ command: { type: 'place_hold', userId: `u${index}`, holdId: `h${index}`, request, ...(attempt.key ? { channelKeyHash: hash(attempt.key) } : {}) } }], nowMs);
            checkStateInvariants(state);
            const placed = decided.events.find((event) => event.type === 'hold_placed');
            if (placed === undefined || placed.type !== 'hold_placed' || nowMs >= 15_000 || attempt.key === 'CLUB-2026') return;
            // Without the key, before release: no channel seat, and never into the channel's floor allotment.
            for (const seat of placed.seats) expect(fanClubSeats).not.toContain(state.inventory.seatId(seat));
            expect(state.poolHeld[0]! - state.channelPoolUsed[0]![0]!).toBeLessThanOrEqual(4);
          });
        },
      ),
      { seed: 2026, numRuns: 300 },
    );
  });
});
