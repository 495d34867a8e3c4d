import { describe, expect, it } from 'vitest';
import { decide, type Decision } from '../../src/actors/decide.js';
import { evolve } from '../../src/actors/evolve.js';
import { limits } from '../../src/actors/limits.js';
import type { HoldRequest, HoldView, ShowCommand, ShowOk, ShowReply } from '../../src/actors/messages.js';
import type { ShowDefinition } from '../../src/actors/show-definition.js';
import { checkStateInvariants, seatStatus, type ShowState } from '../../src/actors/show-state.js';
import type { ResultCode } from '../../src/protocol/result-codes.js';
import { makeDefinition, makeState, rowSeatIds, snapshotState, type DefinitionOptions } from './fixtures.js';

/** A show under test: every decide is checked for purity, every accepted decision is applied. */
class Show {
  readonly def: ShowDefinition;
  readonly state: ShowState;

  constructor(opts: DefinitionOptions = {}) {
    this.def = makeDefinition(opts);
    this.state = makeState(this.def);
  }

  /** decide only; asserts the state is structurally unchanged and a refusal carries no events. */
  decide(command: ShowCommand, nowMs = 0): Decision {
    const before = snapshotState(this.state);
    const decision = decide(this.state, command, nowMs);
    expect(snapshotState(this.state), 'decide must not mutate the state').toEqual(before);
    if (!decision.reply.ok) expect(decision.events).toEqual([]);
    else expect(decision.reply.version).toBe(this.state.version + decision.events.length);
    return decision;
  }

  /** decide and evolve; returns the reply. */
  apply(command: ShowCommand, nowMs = 0): ShowReply {
    const decision = this.decide(command, nowMs);
    for (const event of decision.events) evolve(this.state, event);
    checkStateInvariants(this.state);
    return decision.reply;
  }

  ok(command: ShowCommand, nowMs = 0): ShowOk {
    const reply = this.apply(command, nowMs);
    if (!reply.ok) throw new Error(`expected ${command.type} to succeed, got ${reply.code}: ${reply.detail}`);
    return reply;
  }

  hold(userId: string, holdId: string, request: HoldRequest, nowMs = 0): HoldView {
    const reply = this.ok({ type: 'place_hold', userId, holdId, request }, nowMs);
    expect(reply.hold).toBeDefined();
    return reply.hold!;
  }

  /** place → pin → confirm: a sold hold. */
  sell(userId: string, holdId: string, orderId: string, request: HoldRequest, nowMs = 0): void {
    this.hold(userId, holdId, request, nowMs);
    this.ok({ type: 'pin_hold', userId, holdId, orderId }, nowMs);
    this.ok({ type: 'confirm_hold', holdId, orderId }, nowMs);
  }

  seat(seatId: string): number {
    return this.state.seatStatus[this.state.inventory.seatIndexOf(seatId)]!;
  }

  poolHeld(poolId: string): number {
    return this.state.poolHeld[this.state.inventory.poolIndexOf(poolId)]!;
  }

  poolSold(poolId: string): number {
    return this.state.poolSold[this.state.inventory.poolIndexOf(poolId)]!;
  }
}

const place = (request: HoldRequest, userId = 'u1', holdId = 'h-new'): ShowCommand => ({ type: 'place_hold', userId, holdId, request });
const seats = (...ids: string[]): HoldRequest => ({ seats: ids });
const pools = (...entries: [string, number][]): HoldRequest => ({ pools: entries.map(([poolId, quantity]) => ({ poolId, quantity })) });
const best = (quantity: number, tierId?: string): HoldRequest => ({ bestAvailable: tierId === undefined ? { quantity } : { quantity, tierId } });

interface RefusalCase {
  name: string;
  def?: DefinitionOptions;
  setup?: (show: Show) => void;
  command: ShowCommand;
  now?: number;
  code: ResultCode;
  /** Exact seats / pools the refusal must name (order-insensitive). */
  seats?: string[];
  pools?: string[];
}

/** Three seats of the best gold row, held by u2 as `h-other`. */
const otherHoldsA1: (show: Show) => void = (show) => show.hold('u2', 'h-other', seats('A:1:1', 'A:1:2', 'A:1:3'));
const u1HoldsTwo: (show: Show) => void = (show) => {
  show.hold('u1', 'h1', seats('A:1:1'));
  show.hold('u1', 'h2', seats('A:1:2'));
};
const u1Holds: (show: Show) => void = (show) => show.hold('u1', 'h1', seats('A:1:1', 'A:1:2'), 0);
const u1Pinned: (show: Show) => void = (show) => {
  show.hold('u1', 'h1', seats('A:1:1'), 0);
  show.ok({ type: 'pin_hold', userId: 'u1', holdId: 'h1', orderId: 'o1' }, 0);
};
const u1Sold: (show: Show) => void = (show) => show.sell('u1', 'h1', 'o1', { seats: ['A:1:1'], pools: [{ poolId: 'ga-floor', quantity: 2 }] });

// Checks run in a fixed order; the table follows it, and each "beats" case pins one boundary.
const refusals: RefusalCase[] = [
  // show_not_on_sale
  { name: 'place before on-sale time', def: { policy: { onSaleAtMs: 10_000 } }, now: 9_999, command: place(seats('A:1:1')), code: 'show_not_on_sale' },
  { name: 'not-on-sale beats validation', def: { policy: { onSaleAtMs: 10_000 } }, now: 0, command: place({}), code: 'show_not_on_sale' },

  // validation_failed
  { name: 'empty request', command: place({}), code: 'validation_failed' },
  { name: 'empty seat and pool lists', command: place({ seats: [], pools: [] }), code: 'validation_failed' },
  { name: 'best_available and seats together', command: place({ seats: ['A:1:1'], bestAvailable: { quantity: 1 } }), code: 'validation_failed' },
  { name: 'best_available and pools together', command: place({ pools: [{ poolId: 'ga-floor', quantity: 1 }], bestAvailable: { quantity: 1 } }), code: 'validation_failed' },
  { name: 'duplicate seat', command: place(seats('A:1:1', 'A:1:2', 'A:1:1')), code: 'validation_failed' },
  { name: 'duplicate pool', command: place(pools(['ga-floor', 1], ['ga-floor', 1])), code: 'validation_failed' },
  { name: 'non-integer pool quantity', command: place(pools(['ga-floor', 1.5])), code: 'validation_failed' },
  { name: 'zero pool quantity', command: place(pools(['ga-floor', 0])), code: 'validation_failed' },
  { name: 'negative pool quantity', command: place(pools(['ga-floor', -2])), code: 'validation_failed' },
  { name: 'NaN pool quantity', command: place(pools(['ga-floor', Number.NaN])), code: 'validation_failed' },
  { name: 'infinite pool quantity', command: place(pools(['ga-floor', Number.POSITIVE_INFINITY])), code: 'validation_failed' },
  { name: 'non-integer best_available quantity', command: place(best(2.5)), code: 'validation_failed' },
  { name: 'zero best_available quantity', command: place(best(0)), code: 'validation_failed' },
  { name: 'unknown best_available tier', command: place(best(2, 'platinum')), code: 'validation_failed' },
  { name: 'validation beats hold_too_large', command: place(seats('A:1:1', 'A:1:2', 'A:1:3', 'A:1:4', 'A:1:5', 'A:1:6', 'A:2:1', 'A:2:2', 'A:1:1')), code: 'validation_failed' },
  { name: 'block with no seats', command: { type: 'block_seats', seats: [] }, code: 'validation_failed' },
  { name: 'unblock with no seats', command: { type: 'unblock_seats', seats: [] }, code: 'validation_failed' },

  // hold_too_large (maxItemsPerHold 8)
  { name: '9 seats', command: place(seats(...rowSeatIds(makeDefinition(), 0, 0), 'A:2:1', 'A:2:2', 'A:2:3')), code: 'hold_too_large' },
  { name: '9 pool units', command: place(pools(['ga-floor', 5], ['ga-balcony', 4])), code: 'hold_too_large' },
  { name: 'seats and pool units add up', command: place({ seats: ['A:1:1', 'A:1:2'], pools: [{ poolId: 'ga-floor', quantity: 7 }] }), code: 'hold_too_large' },
  { name: 'best_available of 9', command: place(best(9)), code: 'hold_too_large' },
  { name: 'hold_too_large beats too_many_holds', setup: u1HoldsTwo, command: place(best(9)), code: 'hold_too_large' },

  // too_many_holds (maxActiveHoldsPerUser 2)
  { name: 'two held already', setup: u1HoldsTwo, command: place(seats('B:1:1')), code: 'too_many_holds' },
  {
    name: 'pinned holds count as active',
    setup: (show) => {
      u1HoldsTwo(show);
      show.ok({ type: 'pin_hold', userId: 'u1', holdId: 'h1', orderId: 'o1' });
    },
    command: place(pools(['ga-floor', 1])),
    code: 'too_many_holds',
  },
  { name: 'too_many_holds beats unknown_seat', setup: u1HoldsTwo, command: place(seats('Z:9:9')), code: 'too_many_holds' },

  // hold id reuse is a shell bug, refused as internal_error
  { name: 'live hold id reused', setup: u1Holds, command: place(seats('B:1:1'), 'u2', 'h1'), code: 'internal_error' },
  {
    name: 'ended hold id reused',
    setup: (show) => {
      u1Holds(show);
      show.ok({ type: 'release_hold', userId: 'u1', holdId: 'h1' });
    },
    command: place(seats('B:1:1'), 'u2', 'h1'),
    code: 'internal_error',
  },

  // unknown_seat
  { name: 'unknown section', command: place(seats('Z:1:1')), code: 'unknown_seat', seats: ['Z:1:1'] },
  { name: 'unknown row', command: place(seats('A:9:1')), code: 'unknown_seat', seats: ['A:9:1'] },
  { name: 'unknown seat label', command: place(seats('A:1:99')), code: 'unknown_seat', seats: ['A:1:99'] },
  { name: 'malformed seat ids', command: place(seats('nonsense', '', ':', 'A:1:1:1', 'A:1')), code: 'unknown_seat', seats: ['nonsense', '', ':', 'A:1:1:1', 'A:1'] },
  { name: 'names only the unknown ones', command: place(seats('A:1:1', 'A:1:7', 'B:2:2', 'C:1:1')), code: 'unknown_seat', seats: ['A:1:7', 'C:1:1'] },
  { name: 'unknown_seat beats seat_unavailable', setup: otherHoldsA1, command: place(seats('A:1:1', 'A:1:99')), code: 'unknown_seat', seats: ['A:1:99'] },
  { name: 'block unknown seat', command: { type: 'block_seats', seats: ['A:1:1', 'Q:1:1'] }, code: 'unknown_seat', seats: ['Q:1:1'] },
  { name: 'unblock unknown seat', command: { type: 'unblock_seats', seats: ['A:1:0'] }, code: 'unknown_seat', seats: ['A:1:0'] },

  // seat_unavailable
  { name: 'seat held by another user', setup: otherHoldsA1, command: place(seats('A:1:3', 'A:1:4')), code: 'seat_unavailable', seats: ['A:1:3'] },
  { name: 'names every taken seat', setup: otherHoldsA1, command: place(seats('A:1:1', 'A:1:4', 'A:1:2')), code: 'seat_unavailable', seats: ['A:1:1', 'A:1:2'] },
  { name: 'seat sold', setup: (show) => show.sell('u2', 'h-sold', 'o-sold', seats('B:2:2')), command: place(seats('B:2:2')), code: 'seat_unavailable', seats: ['B:2:2'] },
  { name: 'seat blocked', setup: (show) => show.ok({ type: 'block_seats', seats: ['B:3:1'] }), command: place(seats('B:3:1')), code: 'seat_unavailable', seats: ['B:3:1'] },
  { name: 'own held seat', setup: u1Holds, command: place(seats('A:1:2')), code: 'seat_unavailable', seats: ['A:1:2'] },
  {
    name: 'seat_unavailable beats unknown_pool',
    setup: otherHoldsA1,
    command: place({ seats: ['A:1:1'], pools: [{ poolId: 'nope', quantity: 1 }] }),
    code: 'seat_unavailable',
    seats: ['A:1:1'],
  },

  // unknown_pool
  { name: 'unknown pool', command: place(pools(['nope', 1])), code: 'unknown_pool', pools: ['nope'] },
  { name: 'names only the unknown pools', command: place(pools(['ga-floor', 1], ['x', 1], ['room-n4', 1])), code: 'unknown_pool', pools: ['x', 'room-n4'] },
  {
    name: 'unknown_pool beats pool_unavailable',
    setup: (show) => show.hold('u2', 'h-bal', pools(['ga-balcony', 5])),
    command: place(pools(['ga-balcony', 1], ['nope', 1])),
    code: 'unknown_pool',
    pools: ['nope'],
  },

  // pool_unavailable (ga-floor 20, ga-balcony 5, room nights 2 each)
  { name: 'more than capacity', command: place(pools(['room-n1', 3])), code: 'pool_unavailable', pools: ['room-n1'] },
  { name: 'held by others', setup: (show) => show.hold('u2', 'h-bal', pools(['ga-balcony', 4])), command: place(pools(['ga-balcony', 2])), code: 'pool_unavailable', pools: ['ga-balcony'] },
  { name: 'sold to others', setup: (show) => show.sell('u2', 'h-bal', 'o-bal', pools(['ga-balcony', 5])), command: place(pools(['ga-balcony', 1])), code: 'pool_unavailable', pools: ['ga-balcony'] },
  {
    name: 'names only the short pools',
    setup: (show) => show.hold('u2', 'h-n2', pools(['room-n2', 2])),
    command: place(pools(['room-n1', 1], ['room-n2', 1], ['room-n3', 1])),
    code: 'pool_unavailable',
    pools: ['room-n2'],
  },
  { name: 'zero-capacity pool', def: { gaPools: [20, 0] }, command: place(pools(['ga-balcony', 1])), code: 'pool_unavailable', pools: ['ga-balcony'] },

  // sold_out
  { name: 'fewer free seats in the tier than asked', setup: (show) => show.hold('u2', 'h-gold', seats(...rowSeatIds(show.def, 0, 0))), command: place(best(7, 'gold')), code: 'sold_out' },
  { name: 'fewer free seats in any tier', def: { sections: ['A'], rowsPerSection: 1, seatsPerRow: 3 }, command: place(best(4)), code: 'sold_out' },
  {
    name: 'blocked seats are not available',
    def: { sections: ['A'], rowsPerSection: 1, seatsPerRow: 3 },
    setup: (show) => show.ok({ type: 'block_seats', seats: ['A:1:2'] }),
    command: place(best(3)),
    code: 'sold_out',
  },

  // hold_not_found
  { name: 'release unknown hold', command: { type: 'release_hold', userId: 'u1', holdId: 'nope' }, code: 'hold_not_found' },
  { name: 'extend unknown hold', command: { type: 'extend_hold', userId: 'u1', holdId: 'nope' }, code: 'hold_not_found' },
  { name: 'pin unknown hold', command: { type: 'pin_hold', userId: 'u1', holdId: 'nope', orderId: 'o1' }, code: 'hold_not_found' },
  { name: 'confirm unknown hold', command: { type: 'confirm_hold', holdId: 'nope', orderId: 'o1' }, code: 'hold_not_found' },

  // hold_expired (holdTtlMs 60_000)
  { name: 'release at expiry, before expire_due ran', setup: u1Holds, now: 60_000, command: { type: 'release_hold', userId: 'u1', holdId: 'h1' }, code: 'hold_expired' },
  { name: 'extend after expiry', setup: u1Holds, now: 61_000, command: { type: 'extend_hold', userId: 'u1', holdId: 'h1' }, code: 'hold_expired' },
  { name: 'pin after expiry', setup: u1Holds, now: 60_000, command: { type: 'pin_hold', userId: 'u1', holdId: 'h1', orderId: 'o1' }, code: 'hold_expired' },
  { name: 'confirm after the payment window', setup: u1Pinned, now: 300_000, command: { type: 'confirm_hold', holdId: 'h1', orderId: 'o1' }, code: 'hold_expired' },
  {
    name: 'release after expire_due ended it',
    setup: (show) => {
      u1Holds(show);
      show.ok({ type: 'expire_due' }, 60_000);
      expect(show.state.claims.has('h1')).toBe(false);
    },
    now: 60_000,
    command: { type: 'release_hold', userId: 'u1', holdId: 'h1' },
    code: 'hold_expired',
  },
  {
    name: 'confirm after expire_due ended the pinned hold',
    setup: (show) => {
      u1Pinned(show);
      show.ok({ type: 'expire_due' }, 300_000);
    },
    now: 300_001,
    command: { type: 'confirm_hold', holdId: 'h1', orderId: 'o1' },
    code: 'hold_expired',
  },

  // forbidden
  { name: 'release by another user', setup: u1Holds, command: { type: 'release_hold', userId: 'u2', holdId: 'h1' }, code: 'forbidden' },
  { name: 'extend by another user', setup: u1Holds, command: { type: 'extend_hold', userId: 'u2', holdId: 'h1' }, code: 'forbidden' },
  { name: 'pin by another user', setup: u1Holds, command: { type: 'pin_hold', userId: 'u2', holdId: 'h1', orderId: 'o1' }, code: 'forbidden' },
  { name: 'forbidden beats hold_expired', setup: u1Holds, now: 70_000, command: { type: 'release_hold', userId: 'u2', holdId: 'h1' }, code: 'forbidden' },

  // extension_limit_reached (maxExtensions 2)
  {
    name: 'third extension',
    setup: (show) => {
      u1Holds(show);
      show.ok({ type: 'extend_hold', userId: 'u1', holdId: 'h1' });
      show.ok({ type: 'extend_hold', userId: 'u1', holdId: 'h1' });
    },
    command: { type: 'extend_hold', userId: 'u1', holdId: 'h1' },
    code: 'extension_limit_reached',
  },
  { name: 'no extensions allowed', def: { policy: { maxExtensions: 0 } }, setup: u1Holds, command: { type: 'extend_hold', userId: 'u1', holdId: 'h1' }, code: 'extension_limit_reached' },

  // hold_not_active
  {
    name: 'release a released hold',
    setup: (show) => {
      u1Holds(show);
      show.ok({ type: 'release_hold', userId: 'u1', holdId: 'h1' });
    },
    command: { type: 'release_hold', userId: 'u1', holdId: 'h1' },
    code: 'hold_not_active',
  },
  { name: 'extend a pinned hold', setup: u1Pinned, command: { type: 'extend_hold', userId: 'u1', holdId: 'h1' }, code: 'hold_not_active' },
  { name: 'extend a sold hold', setup: u1Sold, command: { type: 'extend_hold', userId: 'u1', holdId: 'h1' }, code: 'hold_not_active' },
  { name: 'release a sold hold', setup: u1Sold, command: { type: 'release_hold', userId: 'u1', holdId: 'h1' }, code: 'hold_not_active' },
  { name: 'pin a pinned hold for another order', setup: u1Pinned, command: { type: 'pin_hold', userId: 'u1', holdId: 'h1', orderId: 'o2' }, code: 'hold_not_active' },
  { name: 'pin a sold hold for another order', setup: u1Sold, command: { type: 'pin_hold', userId: 'u1', holdId: 'h1', orderId: 'o2' }, code: 'hold_not_active' },
  { name: 'confirm an unpinned hold', setup: u1Holds, command: { type: 'confirm_hold', holdId: 'h1', orderId: 'o1' }, code: 'hold_not_active' },
  { name: 'confirm with another order', setup: u1Pinned, command: { type: 'confirm_hold', holdId: 'h1', orderId: 'o2' }, code: 'hold_not_active' },
  { name: 'confirm a sold hold with another order', setup: u1Sold, command: { type: 'confirm_hold', holdId: 'h1', orderId: 'o2' }, code: 'hold_not_active' },
  {
    name: 'confirm a voided sale',
    setup: (show) => {
      u1Sold(show);
      show.ok({ type: 'void_sale', orderId: 'o1', returnTo: 'available' });
    },
    command: { type: 'confirm_hold', holdId: 'h1', orderId: 'o1' },
    code: 'hold_not_active',
  },

  // sale_not_found
  { name: 'void an unknown order', command: { type: 'void_sale', orderId: 'nope', returnTo: 'available' }, code: 'sale_not_found' },
  { name: 'void a pinned, unpaid order', setup: u1Pinned, command: { type: 'void_sale', orderId: 'o1', returnTo: 'available' }, code: 'sale_not_found' },
  {
    name: 'void twice',
    setup: (show) => {
      u1Sold(show);
      show.ok({ type: 'void_sale', orderId: 'o1', returnTo: 'blocked' });
    },
    command: { type: 'void_sale', orderId: 'o1', returnTo: 'available' },
    code: 'sale_not_found',
  },

  // seat_not_blockable
  { name: 'block a held seat', setup: u1Holds, command: { type: 'block_seats', seats: ['A:1:3', 'A:1:2'] }, code: 'seat_not_blockable', seats: ['A:1:2'] },
  { name: 'block a sold seat', setup: u1Sold, command: { type: 'block_seats', seats: ['A:1:1'] }, code: 'seat_not_blockable', seats: ['A:1:1'] },
  { name: 'block a pinned seat', setup: u1Pinned, command: { type: 'block_seats', seats: ['A:1:1', 'B:1:1'] }, code: 'seat_not_blockable', seats: ['A:1:1'] },
];

describe('decide: refusals', () => {
  it.each(refusals.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const show = new Show(c.def);
    c.setup?.(show);
    const decision = show.decide(c.command, c.now ?? 0);
    expect(decision.events).toEqual([]);
    expect(decision.reply.ok).toBe(false);
    if (decision.reply.ok) return;
    expect(decision.reply.code, decision.reply.detail).toBe(c.code);
    expect(decision.reply.detail.length).toBeGreaterThan(0);
    if (c.seats !== undefined) expect([...(decision.reply.seats ?? [])].sort()).toEqual([...c.seats].sort());
    if (c.pools !== undefined) expect([...(decision.reply.pools ?? [])].sort()).toEqual([...c.pools].sort());
  });
});

describe('decide: place_hold', () => {
  it('holds specific seats at exactly the on-sale time', () => {
    const show = new Show({ policy: { onSaleAtMs: 5_000 } });
    const decision = show.decide(place(seats('A:2:1', 'A:1:1'), 'u1', 'h1'), 5_000);
    expect(decision.events).toEqual([
      {
        type: 'hold_placed',
        holdId: 'h1',
        userId: 'u1',
        seats: [show.state.inventory.seatIndexOf('A:2:1'), show.state.inventory.seatIndexOf('A:1:1')],
        pools: [],
        expiresAtMs: 65_000,
        totalCents: 8_000 + 12_000,
        split: false,
      },
    ]);
    expect(decision.reply).toEqual({
      ok: true,
      version: 1,
      hold: {
        holdId: 'h1',
        showId: 'show-1',
        userId: 'u1',
        status: 'held',
        seats: ['A:2:1', 'A:1:1'],
        pools: [],
        expiresAtMs: 65_000,
        totalCents: 20_000,
        currency: 'EUR',
        extensionsLeft: 2,
        orderId: null,
        split: false,
        offer: false,
      },
    });
    for (const event of decision.events) evolve(show.state, event);
    expect(show.seat('A:2:1')).toBe(seatStatus.held);
    expect(show.seat('A:1:1')).toBe(seatStatus.held);
    expect(show.state.activeHoldsByUser.get('u1')).toBe(1);
    checkStateInvariants(show.state);
  });

  it('holds pool quantities and seats together', () => {
    const show = new Show();
    const view = show.hold('u1', 'h1', { seats: ['B:3:6'], pools: [{ poolId: 'ga-floor', quantity: 3 }, { poolId: 'room-n2', quantity: 2 }] });
    expect(view.pools).toEqual([
      { poolId: 'ga-floor', quantity: 3 },
      { poolId: 'room-n2', quantity: 2 },
    ]);
    expect(view.totalCents).toBe(5_000 + 3 * 6_000 + 2 * 15_000);
    expect(show.poolHeld('ga-floor')).toBe(3);
    expect(show.poolHeld('room-n2')).toBe(2);
    expect(show.poolHeld('room-n1')).toBe(0);
  });

  it('takes a pool exactly to capacity', () => {
    const show = new Show();
    show.hold('u1', 'h1', pools(['ga-balcony', 3]));
    show.hold('u2', 'h2', pools(['ga-balcony', 2]));
    expect(show.poolHeld('ga-balcony')).toBe(5);
    expect(show.decide(place(pools(['ga-balcony', 1]), 'u3', 'h3')).reply).toMatchObject({ ok: false, code: 'pool_unavailable' });
  });

  it('sold holds do not count toward the active-hold limit', () => {
    const show = new Show();
    show.sell('u1', 'h1', 'o1', seats('A:1:1'));
    show.sell('u1', 'h2', 'o2', seats('A:1:2'));
    show.hold('u1', 'h3', seats('A:1:3'));
    show.hold('u1', 'h4', seats('A:1:4'));
    expect(show.decide(place(seats('A:1:5'), 'u1', 'h5')).reply).toMatchObject({ ok: false, code: 'too_many_holds' });
    expect(show.decide(place(seats('A:1:5'), 'u2', 'h5')).reply.ok).toBe(true);
  });

  it('accepts exactly maxItemsPerHold items', () => {
    const show = new Show();
    expect(show.decide(place({ seats: ['A:1:1', 'A:1:2'], pools: [{ poolId: 'ga-floor', quantity: 6 }] })).reply.ok).toBe(true);
    expect(show.decide(place(best(8))).reply.ok).toBe(true);
  });

  it('frees seats again after release, so they can be held again', () => {
    const show = new Show();
    show.hold('u1', 'h1', seats('A:1:1'));
    const reply = show.ok({ type: 'release_hold', userId: 'u1', holdId: 'h1' }, 1_000);
    expect(reply.hold).toMatchObject({ holdId: 'h1', seats: ['A:1:1'], expiresAtMs: 1_000 });
    expect(show.seat('A:1:1')).toBe(seatStatus.free);
    expect(show.state.endedHolds.get('h1')).toBe('released');
    expect(show.state.activeHoldsByUser.has('u1')).toBe(false);
    show.hold('u2', 'h2', seats('A:1:1'), 1_000);
  });
});

describe('decide: best available', () => {
  it('prefers the first adjacent run in the best row of the tier', () => {
    const show = new Show();
    show.hold('u2', 'hx', seats('A:1:3'));
    // A:1 now has runs [1,2] and [4,5,6]: a party of 3 sits at 4-6, a party of 2 at 1-2.
    expect(show.hold('u1', 'h1', best(3, 'gold')).seats).toEqual(['A:1:4', 'A:1:5', 'A:1:6']);
    expect(show.hold('u1', 'h2', best(2, 'gold')).seats).toEqual(['A:1:1', 'A:1:2']);
  });

  it('moves to a worse row of the same tier rather than split', () => {
    const show = new Show();
    show.hold('u2', 'hx', seats('A:2:2', 'A:2:5'));
    // silver rows are A:2 (runs 1, 3-4, 6) and B:2 (all free)
    const view = show.hold('u1', 'h1', best(3, 'silver'));
    expect(view.seats).toEqual(['B:2:1', 'B:2:2', 'B:2:3']);
    expect(view.split).toBe(false);
    expect(view.totalCents).toBe(3 * 8_000);
  });

  it('splits (split: true) only when no row of the tier has the run, best rows first', () => {
    const show = new Show();
    show.hold('u2', 'hx', seats('A:2:2', 'A:2:5', 'B:2:3'));
    // longest silver runs: A:2 → 2 (3-4), B:2 → 3 (4-6): a party of 3 still fits in B:2
    const together = show.hold('u1', 'h1', best(3, 'silver'));
    expect(together).toMatchObject({ seats: ['B:2:4', 'B:2:5', 'B:2:6'], split: false });
    // now the longest silver run is 2 (A:2:3-4 and B:2:1-2): a party of 3 must split
    const split = show.hold('u3', 'h3', best(3, 'silver'));
    expect(split.split).toBe(true);
    expect(split.seats).toEqual(['A:2:1', 'A:2:3', 'A:2:4']);
    expect(split.seats.every((id) => id.startsWith('A:2:') || id.startsWith('B:2:'))).toBe(true);
  });

  it('picks the cheapest tier when none is given, then the next cheapest', () => {
    const show = new Show();
    const first = show.hold('u1', 'h1', best(4));
    expect(first).toMatchObject({ seats: ['A:3:1', 'A:3:2', 'A:3:3', 'A:3:4'], split: false, totalCents: 4 * 5_000 });
    // fill the rest of bronze (A:3:5-6, B:3:*)
    show.hold('u2', 'h2', seats('A:3:5', 'A:3:6', ...rowSeatIds(show.def, 1, 2)));
    const next = show.hold('u3', 'h3', best(2));
    expect(next).toMatchObject({ seats: ['A:2:1', 'A:2:2'], split: false, totalCents: 2 * 8_000 });
  });

  it('without a tier, a split in the cheapest tier is preferred to a dearer tier (documented order)', () => {
    const show = new Show();
    show.hold('u2', 'hx', seats('A:3:3', 'B:3:3'));
    // bronze: A:3 runs 2 and 3, B:3 runs 2 and 3 → a party of 4 splits within bronze
    const view = show.hold('u1', 'h1', best(4));
    expect(view.split).toBe(true);
    expect(view.seats).toEqual(['A:3:1', 'A:3:2', 'A:3:4', 'A:3:5']);
  });

  it('never makes an adjacent run across a tier boundary within a row', () => {
    // one row: seats 1-2 gold, 3-4 silver, 5-6 gold → no run of 3 gold seats
    const show = new Show({ sections: ['A'], rowsPerSection: 1, tierOf: ({ seat }) => (seat === 2 || seat === 3 ? 'silver' : 'gold') });
    expect(show.hold('u1', 'h1', best(3, 'gold'))).toMatchObject({ seats: ['A:1:1', 'A:1:2', 'A:1:5'], split: true });
    expect(show.hold('u1', 'h2', best(2, 'silver'))).toMatchObject({ seats: ['A:1:3', 'A:1:4'], split: false });
  });

  it('refuses a party larger than the free seats of its tier even if other tiers have room', () => {
    const show = new Show({ sections: ['A'], rowsPerSection: 1, tierOf: ({ seat }) => (seat < 3 ? 'gold' : 'silver') });
    expect(show.decide(place(best(4, 'gold'))).reply).toMatchObject({ ok: false, code: 'sold_out' });
    const view = show.hold('u1', 'h1', best(3, 'silver'));
    expect(view).toMatchObject({ seats: ['A:1:4', 'A:1:5', 'A:1:6'], split: false });
  });

  it('skips held, sold and blocked seats', () => {
    const show = new Show({ sections: ['A'], rowsPerSection: 1, seatsPerRow: 6, tierOf: () => 'gold' });
    show.hold('u2', 'h2', seats('A:1:1'));
    show.sell('u3', 'h3', 'o3', seats('A:1:3'));
    show.ok({ type: 'block_seats', seats: ['A:1:5'] });
    const view = show.hold('u1', 'h1', best(3));
    expect(view).toMatchObject({ seats: ['A:1:2', 'A:1:4', 'A:1:6'], split: true });
    expect(show.decide(place(best(1), 'u4', 'h4')).reply).toMatchObject({ ok: false, code: 'sold_out' });
  });
});

describe('decide: extend / pin / confirm / void flows', () => {
  it('extends twice by extensionMs from the current expiry', () => {
    const show = new Show();
    show.hold('u1', 'h1', seats('A:1:1'), 1_000);
    const first = show.ok({ type: 'extend_hold', userId: 'u1', holdId: 'h1' }, 30_000);
    expect(first.hold).toMatchObject({ expiresAtMs: 61_000 + 120_000, extensionsLeft: 1 });
    const second = show.ok({ type: 'extend_hold', userId: 'u1', holdId: 'h1' }, 100_000);
    expect(second.hold).toMatchObject({ expiresAtMs: 61_000 + 240_000, extensionsLeft: 0 });
    expect(show.state.claims.get('h1')).toMatchObject({ expiresAtMs: 301_000, extensionsUsed: 2 });
    // the stale expiry (61_000) must not end the extended hold
    expect(show.decide({ type: 'expire_due' }, 200_000).events).toEqual([]);
    expect(show.decide({ type: 'expire_due' }, 301_000).events).toEqual([{ type: 'hold_expired', holdId: 'h1' }]);
  });

  it('pin → confirm → void (back to sale) moves seats and pool units', () => {
    const show = new Show();
    show.hold('u1', 'h1', { seats: ['A:1:1', 'A:1:2'], pools: [{ poolId: 'ga-floor', quantity: 2 }] }, 0);
    const pinned = show.ok({ type: 'pin_hold', userId: 'u1', holdId: 'h1', orderId: 'o1' }, 10_000);
    expect(pinned.hold).toMatchObject({ status: 'pinned', orderId: 'o1', expiresAtMs: 310_000 });
    // pinning again for the same order is idempotent
    const again = show.decide({ type: 'pin_hold', userId: 'u1', holdId: 'h1', orderId: 'o1' }, 20_000);
    expect(again.events).toEqual([]);
    expect(again.reply).toMatchObject({ ok: true, hold: { status: 'pinned', expiresAtMs: 310_000 } });
    // a pinned hold outlives the original hold TTL
    expect(show.decide({ type: 'expire_due' }, 100_000).events).toEqual([]);

    const confirmed = show.ok({ type: 'confirm_hold', holdId: 'h1', orderId: 'o1' }, 200_000);
    expect(confirmed.hold).toMatchObject({ status: 'sold', orderId: 'o1' });
    expect(show.seat('A:1:1')).toBe(seatStatus.sold);
    expect(show.poolHeld('ga-floor')).toBe(0);
    expect(show.poolSold('ga-floor')).toBe(2);
    expect(show.state.activeHoldsByUser.has('u1')).toBe(false);
    expect(show.state.holdIdByOrder.get('o1')).toBe('h1');
    // a confirm retried (e.g. a duplicate webhook) is idempotent, even long after the payment window
    const retried = show.decide({ type: 'confirm_hold', holdId: 'h1', orderId: 'o1' }, 10_000_000);
    expect(retried.events).toEqual([]);
    expect(retried.reply).toMatchObject({ ok: true, hold: { status: 'sold' } });
    // sold claims never expire
    expect(show.decide({ type: 'expire_due' }, 10_000_000).events).toEqual([]);

    const voided = show.ok({ type: 'void_sale', orderId: 'o1', returnTo: 'available' }, 400_000);
    expect(voided.seatsChanged).toBe(2);
    expect(show.seat('A:1:1')).toBe(seatStatus.free);
    expect(show.seat('A:1:2')).toBe(seatStatus.free);
    expect(show.poolSold('ga-floor')).toBe(0);
    expect(show.state.claims.has('h1')).toBe(false);
    expect(show.state.holdIdByOrder.has('o1')).toBe(false);
    expect(show.state.endedHolds.get('h1')).toBe('voided');
  });

  it('void with returnTo blocked blocks the seats; unblock returns them', () => {
    const show = new Show();
    show.sell('u1', 'h1', 'o1', seats('B:1:1', 'B:1:2'));
    show.ok({ type: 'void_sale', orderId: 'o1', returnTo: 'blocked' });
    expect(show.seat('B:1:1')).toBe(seatStatus.blocked);
    expect(show.seat('B:1:2')).toBe(seatStatus.blocked);
    expect(show.ok({ type: 'unblock_seats', seats: ['B:1:1', 'B:1:2', 'B:1:3'] }).seatsChanged).toBe(2);
    expect(show.seat('B:1:1')).toBe(seatStatus.free);
  });

  it('refuses a payment window beyond limits.paymentWindowMsMax and honours a shorter one', () => {
    const show = new Show();
    show.hold('u1', 'h1', seats('A:1:1'));
    show.hold('u2', 'h2', seats('A:1:2'));
    const long = decide(show.state, { type: 'pin_hold', userId: 'u1', holdId: 'h1', orderId: 'o1', paymentWindowMs: 10 * limits.paymentWindowMsMax }, 1_000);
    expect(long.reply).toMatchObject({ ok: false, code: 'validation_failed' });
    const short = show.ok({ type: 'pin_hold', userId: 'u2', holdId: 'h2', orderId: 'o2', paymentWindowMs: 5_000 }, 1_000);
    expect(short.hold!.expiresAtMs).toBe(6_000);
  });

  it('a pinned hold can be released (payment failed) and its items return', () => {
    const show = new Show();
    show.hold('u1', 'h1', { seats: ['A:1:1'], pools: [{ poolId: 'room-n1', quantity: 1 }] });
    show.ok({ type: 'pin_hold', userId: 'u1', holdId: 'h1', orderId: 'o1' });
    show.ok({ type: 'release_hold', userId: 'u1', holdId: 'h1' }, 5_000);
    expect(show.seat('A:1:1')).toBe(seatStatus.free);
    expect(show.poolHeld('room-n1')).toBe(0);
    expect(show.decide({ type: 'confirm_hold', holdId: 'h1', orderId: 'o1' }, 6_000).reply).toMatchObject({ ok: false, code: 'hold_not_active' });
  });

  it('expire_due ends every due hold in expiry order and nothing else', () => {
    const show = new Show();
    show.hold('u1', 'h-b', seats('A:1:1'), 2_000);
    show.hold('u2', 'h-a', seats('A:1:2'), 1_000);
    show.hold('u3', 'h-c', pools(['ga-floor', 4]), 3_000);
    show.sell('u4', 'h-sold', 'o4', seats('A:1:3'), 0);
    expect(show.decide({ type: 'expire_due' }, 60_999).events).toEqual([]);
    expect(show.decide({ type: 'expire_due' }, 61_000).events).toEqual([{ type: 'hold_expired', holdId: 'h-a' }]);
    expect(show.decide({ type: 'expire_due' }, 62_000).events).toEqual([
      { type: 'hold_expired', holdId: 'h-a' },
      { type: 'hold_expired', holdId: 'h-b' },
    ]);
    const reply = show.ok({ type: 'expire_due' }, 62_000);
    expect(reply.version).toBe(show.state.version);
    expect(show.state.endedHolds.get('h-a')).toBe('expired');
    expect(show.state.endedHolds.get('h-b')).toBe('expired');
    expect(show.state.claims.has('h-c')).toBe(true);
    expect(show.seat('A:1:1')).toBe(seatStatus.free);
    expect(show.seat('A:1:3')).toBe(seatStatus.sold);
    show.ok({ type: 'expire_due' }, 63_000);
    expect(show.poolHeld('ga-floor')).toBe(0);
    expect(show.decide({ type: 'expire_due' }, 1e12).events).toEqual([]);
  });
});

describe('decide: block / unblock', () => {
  it('blocks free seats, ignores already-blocked ones and duplicates', () => {
    const show = new Show();
    const first = show.decide({ type: 'block_seats', seats: ['A:1:3', 'A:1:1', 'A:1:3'] });
    const [i1, i3] = [show.state.inventory.seatIndexOf('A:1:1'), show.state.inventory.seatIndexOf('A:1:3')];
    expect(first.events).toEqual([{ type: 'seats_blocked', seats: [i1, i3] }]);
    expect(first.reply).toMatchObject({ ok: true, seatsChanged: 2 });
    for (const event of first.events) evolve(show.state, event);
    const second = show.decide({ type: 'block_seats', seats: ['A:1:1', 'A:1:2'] });
    expect(second.reply).toMatchObject({ ok: true, seatsChanged: 1 });
    const none = show.decide({ type: 'block_seats', seats: ['A:1:1'] });
    expect(none).toEqual({ events: [], reply: { ok: true, version: show.state.version, seatsChanged: 0 } });
    expect(show.decide({ type: 'unblock_seats', seats: ['A:1:2'] }).reply).toMatchObject({ ok: true, seatsChanged: 0 });
  });

  it('a failed block changes nothing even for the free seats listed', () => {
    const show = new Show();
    show.hold('u1', 'h1', seats('A:1:2'));
    show.apply({ type: 'block_seats', seats: ['A:1:1', 'A:1:2'] });
    expect(show.seat('A:1:1')).toBe(seatStatus.free);
  });
});

describe('decide: a multi-night stay is one all-or-nothing hold', () => {
  const stay = (): HoldRequest => pools(['room-n1', 1], ['room-n2', 1], ['room-n3', 1]);

  it('claims all three nights atomically', () => {
    const show = new Show();
    const view = show.hold('u1', 'stay-1', stay());
    expect(view.pools.map((p) => p.poolId)).toEqual(['room-n1', 'room-n2', 'room-n3']);
    expect(view.totalCents).toBe(3 * 15_000);
    expect(show.state.version).toBe(1);
    for (const night of ['room-n1', 'room-n2', 'room-n3']) expect(show.poolHeld(night)).toBe(1);
    show.ok({ type: 'release_hold', userId: 'u1', holdId: 'stay-1' });
    for (const night of ['room-n1', 'room-n2', 'room-n3']) expect(show.poolHeld(night)).toBe(0);
  });

  it.each([
    ['first night full', 'room-n1'],
    ['middle night full', 'room-n2'],
    ['last night full', 'room-n3'],
  ])('refuses the whole stay when the %s, and changes nothing', (_label, fullNight) => {
    const show = new Show();
    show.sell('u2', 'h-full', 'o-full', pools([fullNight, 2]));
    show.hold('u3', 'h-other', pools([fullNight === 'room-n1' ? 'room-n3' : 'room-n1', 1]));
    const before = snapshotState(show.state);
    const decision = show.decide(place(stay(), 'u1', 'stay-1'), 1_000);
    expect(decision.events).toEqual([]);
    expect(decision.reply).toMatchObject({ ok: false, code: 'pool_unavailable', pools: [fullNight] });
    expect(snapshotState(show.state)).toEqual(before);
    // once the night frees up the same stay succeeds
    show.ok({ type: 'void_sale', orderId: 'o-full', returnTo: 'available' }, 2_000);
    show.hold('u1', 'stay-1', stay(), 3_000);
  });

  it('a stay expires as a whole', () => {
    const show = new Show();
    show.hold('u1', 'stay-1', stay(), 0);
    show.ok({ type: 'expire_due' }, 60_000);
    for (const night of ['room-n1', 'room-n2', 'room-n3']) expect(show.poolHeld(night)).toBe(0);
    expect(show.state.endedHolds.get('stay-1')).toBe('expired');
  });
});

describe('fixtures: the purity check itself', () => {
  it('snapshotState sees changes to seats, claims, counters and the expiry heap', () => {
    const base = new Show();
    base.hold('u1', 'h1', seats('A:1:1'));
    const before = snapshotState(base.state);
    const mutations: ((state: ShowState) => void)[] = [
      (state) => (state.seatStatus[5] = seatStatus.blocked),
      (state) => (state.rowFree[0]! -= 1),
      (state) => (state.poolHeld[0]! += 1),
      (state) => (state.claims.get('h1')!.expiresAtMs += 1),
      (state) => state.claims.get('h1')!.seats.push(3),
      (state) => state.expiry.push(1, 'h1'),
      (state) => state.endedHolds.set('x', 'expired'),
      (state) => (state.version += 1),
    ];
    for (const mutate of mutations) {
      const show = new Show();
      show.hold('u1', 'h1', seats('A:1:1'));
      expect(snapshotState(show.state)).toEqual(before);
      mutate(show.state);
      expect(snapshotState(show.state)).not.toEqual(before);
    }
  });
});
