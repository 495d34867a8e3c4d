import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decide } from '../../src/actors/decide.js';
import { evolve } from '../../src/actors/evolve.js';
import { orphansCreatedBy } from '../../src/actors/orphan-seats.js';
import { seatStatus } from '../../src/actors/show-state.js';
import { makeDefinition, makeState, seatAt } from './fixtures.js';

const oneTier = () => 'gold';

describe('orphan-seat rule', () => {
  it('refuses a hold that strands one seat, naming it, and accepts one that does not', () => {
    const def = makeDefinition({ sections: ['A'], rowsPerSection: 1, seatsPerRow: 6, tierOf: oneTier, policy: { orphanSeatRule: true, maxActiveHoldsPerUser: 5 } });
    const state = makeState(def);
    // Seats 1..6; holding 2 would strand seat 1 at the row's end.
    const stranding = decide(state, { type: 'place_hold', userId: 'u1', holdId: 'h1', request: { seats: [seatAt(def, 0, 0, 1)] } }, 0);
    expect(stranding.reply).toMatchObject({ ok: false, code: 'orphan_seat', seats: [seatAt(def, 0, 0, 0)] });
    const fine = decide(state, { type: 'place_hold', userId: 'u1', holdId: 'h2', request: { seats: [seatAt(def, 0, 0, 0), seatAt(def, 0, 0, 1)] } }, 0);
    expect(fine.reply.ok).toBe(true);
    for (const event of fine.events) evolve(state, event);
    // Seats 3..6 free: taking 4 alone strands 3 between the hold and 4.
    const middle = decide(state, { type: 'place_hold', userId: 'u2', holdId: 'h3', request: { seats: [seatAt(def, 0, 0, 3)] } }, 0);
    expect(middle.reply).toMatchObject({ ok: false, code: 'orphan_seat', seats: [seatAt(def, 0, 0, 2)] });
  });

  it('is off when the show turns it off', () => {
    const def = makeDefinition({ sections: ['A'], rowsPerSection: 1, seatsPerRow: 6, tierOf: oneTier, policy: { orphanSeatRule: false } });
    const state = makeState(def);
    expect(decide(state, { type: 'place_hold', userId: 'u1', holdId: 'h1', request: { seats: [seatAt(def, 0, 0, 1)] } }, 0).reply.ok).toBe(true);
  });

  it('best-available never strands a seat, keeps parties together when a row allows, and splits only when it must', () => {
    fc.assert(
      fc.property(
        fc.array(fc.boolean(), { minLength: 24, maxLength: 24 }),
        fc.integer({ min: 1, max: 5 }),
        (takenPattern, quantity) => {
          const def = makeDefinition({ sections: ['A'], rowsPerSection: 3, seatsPerRow: 8, tierOf: oneTier, policy: { orphanSeatRule: true, maxItemsPerHold: 8 } });
          const state = makeState(def);
          const blocked = takenPattern.flatMap((taken, seat) => (taken ? [seat] : []));
          if (blocked.length > 0) evolve(state, { type: 'seats_blocked', seats: blocked });
          const decision = decide(state, { type: 'place_hold', userId: 'u', holdId: 'h', request: { bestAvailable: { quantity } } }, 0);
          if (!decision.reply.ok) {
            expect(decision.reply.code).toBe('sold_out');
            return;
          }
          const event = decision.events[0]!;
          if (event.type !== 'hold_placed') throw new Error('expected a hold');
          expect(event.seats).toHaveLength(quantity);
          expect(orphansCreatedBy(state, event.seats)).toEqual([]);
          for (const seat of event.seats) expect(state.seatStatus[seat]).toBe(seatStatus.free);
          const rows = new Set(event.seats.map((seat) => state.inventory.seatRow[seat]));
          const contiguous = rows.size === 1 && event.seats.every((seat, index) => index === 0 || seat === event.seats[index - 1]! + 1);
          expect(event.split).toBe(!contiguous);
        },
      ),
      { seed: 4242, numRuns: 400 },
    );
  });
});
