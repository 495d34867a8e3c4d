import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decideBatch, type CommandEnvelope } from '../../src/actors/decide-batch.js';
import { evolve } from '../../src/actors/evolve.js';
import { IdempotencyCache } from '../../src/actors/idempotency.js';
import type { ShowEvent } from '../../src/actors/messages.js';
import { checkStateInvariants, type ShowState } from '../../src/actors/show-state.js';
import { makeDefinition, makeState, rowSeatIds } from './fixtures.js';

const oneTier = () => 'gold';

function run(state: ShowState, commands: CommandEnvelope['command'][], nowMs: number): { events: ShowEvent[]; replies: ReturnType<typeof decideBatch>['replies'] } {
  const decided = decideBatch(state, new IdempotencyCache(100), commands.map((command) => ({ command })), nowMs);
  checkStateInvariants(state);
  return { events: decided.events, replies: decided.replies };
}

describe('waitlist offers', () => {
  it('refuses to waitlist while seats for the party are on sale, then offers returned seats to the first fan that fits', () => {
    const def = makeDefinition({ sections: ['A'], rowsPerSection: 1, seatsPerRow: 4, tierOf: oneTier, policy: { offerTtlMs: 30_000, maxActiveHoldsPerUser: 4 } });
    const state = makeState(def);
    const [s1, s2, s3, s4] = rowSeatIds(def, 0, 0);
    expect(run(state, [{ type: 'join_waitlist', userId: 'w1', entryId: 'wAAAAAAAAAA1', partySize: 2 }], 0).replies[0]).toMatchObject({ ok: false, code: 'seats_available' });
    run(state, [
      { type: 'place_hold', userId: 'buyer', holdId: 'h1', request: { seats: [s1!, s2!] } },
      { type: 'place_hold', userId: 'buyer', holdId: 'h2', request: { seats: [s3!, s4!] } },
    ], 0);
    const joined = run(state, [
      { type: 'join_waitlist', userId: 'w-three', entryId: 'wAAAAAAAAAA3', partySize: 3 },
      { type: 'join_waitlist', userId: 'w-two', entryId: 'wAAAAAAAAAA2', partySize: 2 },
    ], 1_000);
    expect(joined.replies[0]).toMatchObject({ ok: true, waitlist: { position: 1, partySize: 3 } });
    expect(joined.replies[1]).toMatchObject({ ok: true, waitlist: { position: 2, partySize: 2 } });
    // Two seats come back: the party of three waits, the party of two gets them, as a hold of its own.
    const released = run(state, [{ type: 'release_hold', userId: 'buyer', holdId: 'h1' }], 2_000);
    const offer = released.events.find((event) => event.type === 'hold_placed');
    expect(offer).toMatchObject({ type: 'hold_placed', userId: 'w-two', offerFor: 'wAAAAAAAAAA2', expiresAtMs: 32_000, split: false });
    expect(state.waitlist.has('wAAAAAAAAAA2')).toBe(false);
    expect(state.waitlist.has('wAAAAAAAAAA3')).toBe(true);
    // Not taken in time: the offer expires and passes on; the party of three still does not fit two seats.
    const expired = run(state, [], 32_000);
    expect(expired.events.map((event) => event.type)).toEqual(['hold_expired']);
    // The other two seats come back too: now four adjacent seats, the party of three is offered.
    const next = run(state, [{ type: 'release_hold', userId: 'buyer', holdId: 'h2' }], 33_000);
    expect(next.events.find((event) => event.type === 'hold_placed')).toMatchObject({ userId: 'w-three', split: false });
  });

  it('offers only adjacent seats, never more than came back, and every step replays', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 12 }),
        fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 12 }),
        fc.boolean(),
        (partySizes, releaseOrder, orphanRule) => {
          const def = makeDefinition({ sections: ['A'], rowsPerSection: 2, seatsPerRow: 6, tierOf: oneTier, policy: { offerTtlMs: 10_000, orphanSeatRule: orphanRule, maxActiveHoldsPerUser: 10 } });
          const state = makeState(def);
          const all: ShowEvent[] = [];
          const rows = [rowSeatIds(def, 0, 0), rowSeatIds(def, 0, 1)];
          // Sell out in holds of two seats each.
          const holds = rows.flatMap((row, r) => [0, 2, 4].map((at) => ({ holdId: `h${r}${at}`, seats: [row[at]!, row[at + 1]!] })));
          all.push(...run(state, holds.map((hold) => ({ type: 'place_hold' as const, userId: 'buyer', holdId: hold.holdId, request: { seats: hold.seats } })), 0).events);
          all.push(...run(state, partySizes.map((size, index) => ({ type: 'join_waitlist' as const, userId: `fan${index}`, entryId: `w${String(index).padStart(10, '0')}`, partySize: size })), 1).events);
          let freedSeats = 0;
          let offeredSeats = 0;
          let nowMs = 2;
          for (const pick of releaseOrder) {
            const hold = holds[pick % holds.length]!;
            if (!state.claims.has(hold.holdId)) continue;
            const result = run(state, [{ type: 'release_hold', userId: 'buyer', holdId: hold.holdId }], nowMs);
            nowMs += 1;
            freedSeats += 2;
            all.push(...result.events);
            for (const event of result.events) {
              if (event.type !== 'hold_placed' || event.offerFor === undefined) continue;
              offeredSeats += event.seats.length;
              const sorted = [...event.seats].sort((a, b) => a - b);
              const row = state.inventory.seatRow[sorted[0]!];
              sorted.forEach((seat, index) => {
                expect(state.inventory.seatRow[seat]).toBe(row);
                if (index > 0) expect(seat).toBe(sorted[index - 1]! + 1);
              });
              expect(event.seats).toHaveLength(partySizes[Number(event.offerFor.slice(1))]!);
            }
            expect(offeredSeats).toBeLessThanOrEqual(freedSeats);
          }
          const replayed = makeState(def);
          for (const event of all) evolve(replayed, event);
          expect(replayed.version).toBe(state.version);
          expect(Array.from(replayed.seatStatus)).toEqual(Array.from(state.seatStatus));
          expect([...replayed.waitlist.keys()]).toEqual([...state.waitlist.keys()]);
        },
      ),
      { seed: 777, numRuns: 300 },
    );
  });
});
