/**
 * Property tests of the show core: random interleavings of many fans' commands, driven through
 * decideBatch with idempotency keys (fresh, retried, and reused with other parameters), checked
 * after every batch against the state's own invariants, an independent reference model, and a
 * replica rebuilt by folding the emitted events.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decide } from '../../src/actors/decide.js';
import { decideBatch, type CommandEnvelope } from '../../src/actors/decide-batch.js';
import { evolve } from '../../src/actors/evolve.js';
import { fingerprintOf, IdempotencyCache, scopeIdempotencyKey } from '../../src/actors/idempotency.js';
import { limits } from '../../src/actors/limits.js';
import type { HoldRequest, HoldStatus, HoldView, SaleReturnPolicy, ShowCommand, ShowEvent, ShowReply } from '../../src/actors/messages.js';
import type { ShowDefinition } from '../../src/actors/show-definition.js';
import { checkStateInvariants, seatStatus, seatStatusNames, type ShowState } from '../../src/actors/show-state.js';
import type { ResultCode } from '../../src/protocol/result-codes.js';
import { allSeatIds, comparableState, makeDefinition, makeState, roomNightPoolIds, snapshotState } from './fixtures.js';


const SEED = 20_240_601;
const NUM_RUNS = 400;

const def: ShowDefinition = makeDefinition({
  seatsPerRow: 5,
  gaPools: [6, 3],
  roomNightPools: [2, 2, 2],
  policy: { maxItemsPerHold: 6, maxActiveHoldsPerUser: 2 },
});
const policy = def.policy;
const seatIds = allSeatIds(def);
const poolIds = def.pools.map((pool) => pool.id);
const users = ['u0', 'u1', 'u2', 'u3', 'u4'];

// ---------------------------------------------------------------------------------------------
// Reference model: plain maps keyed by ids, written from the spec, not from the implementation.
// ---------------------------------------------------------------------------------------------

type SeatName = (typeof seatStatusNames)[number];

interface ModelHold {
  holdId: string;
  userId: string;
  status: HoldStatus;
  seats: string[];
  pools: [string, number][];
  expiresAtMs: number;
  extensionsUsed: number;
  orderId: string | null;
  totalCents: number;
  split: boolean;
}

interface Expected {
  /** The reply the command must get (refusals are compared by code and named seats/pools). */
  reply: ShowReply;
}

const seatTier = new Map<string, string>();
const seatPrice = new Map<string, number>();
const rows: string[][] = [];
for (const section of def.sections) {
  for (const row of section.rows) {
    rows.push(row.seats.map((seat) => `${section.id}:${row.label}:${seat.label}`));
    for (const seat of row.seats) {
      const id = `${section.id}:${row.label}:${seat.label}`;
      seatTier.set(id, seat.tierId);
      seatPrice.set(id, def.tiers.find((tier) => tier.id === seat.tierId)!.priceCents);
    }
  }
}
const tiersCheapestFirst = [...def.tiers].sort((a, b) => a.priceCents - b.priceCents).map((tier) => tier.id);
const poolCapacity = new Map(def.pools.map((pool) => [pool.id, pool.capacity]));
const poolPrice = new Map(def.pools.map((pool) => [pool.id, pool.priceCents]));

const refuse = (code: ResultCode, extra: { seats?: string[]; pools?: string[] } = {}): Expected => ({ reply: { ok: false, code, detail: '', ...extra } });

class Model {
  version = 0;
  readonly seats = new Map<string, SeatName>(seatIds.map((id) => [id, 'available']));
  readonly poolHeld = new Map<string, number>(poolIds.map((id) => [id, 0]));
  readonly poolSold = new Map<string, number>(poolIds.map((id) => [id, 0]));
  readonly holds = new Map<string, ModelHold>();
  readonly ended = new Map<string, 'expired' | 'released' | 'voided'>();
  readonly orders = new Map<string, string>();
  /** Every expiry a hold ever had (for the duplicate-expiry workaround). */
  readonly expiryHistory = new Map<string, number[]>();

  activeHolds(userId: string): number {
    let count = 0;
    for (const hold of this.holds.values()) if (hold.userId === userId && hold.status !== 'sold') count += 1;
    return count;
  }

  view(hold: ModelHold, overrides: Partial<HoldView> = {}): HoldView {
    return {
      holdId: hold.holdId,
      showId: def.showId,
      userId: hold.userId,
      status: hold.status,
      seats: [...hold.seats],
      pools: hold.pools.map(([poolId, quantity]) => ({ poolId, quantity })),
      expiresAtMs: hold.expiresAtMs,
      totalCents: hold.totalCents,
      currency: def.currency,
      extensionsLeft: Math.max(0, policy.maxExtensions - hold.extensionsUsed),
      orderId: hold.orderId,
      split: hold.split,
      offer: false,
      ...overrides,
    };
  }

  ok(events: number, extra: { hold?: HoldView; seatsChanged?: number } = {}): Expected {
    this.version += events;
    const reply: ShowReply = { ok: true, version: this.version };
    if (extra.hold !== undefined) reply.hold = extra.hold;
    if (extra.seatsChanged !== undefined) reply.seatsChanged = extra.seatsChanged;
    return { reply };
  }

  private end(hold: ModelHold, ending: 'expired' | 'released'): void {
    for (const seat of hold.seats) this.seats.set(seat, 'available');
    for (const [pool, quantity] of hold.pools) this.poolHeld.set(pool, this.poolHeld.get(pool)! - quantity);
    this.holds.delete(hold.holdId);
    this.ended.set(hold.holdId, ending);
  }

  private recordExpiry(holdId: string, expiresAtMs: number): void {
    const history = this.expiryHistory.get(holdId) ?? [];
    history.push(expiresAtMs);
    this.expiryHistory.set(holdId, history);
  }

  /** Holds due at `now`, ended in (expiry, id) order. */
  expireDue(nowMs: number): void {
    const due = [...this.holds.values()]
      .filter((hold) => hold.status !== 'sold' && hold.expiresAtMs <= nowMs)
      .sort((a, b) => a.expiresAtMs - b.expiresAtMs || (a.holdId < b.holdId ? -1 : a.holdId > b.holdId ? 1 : 0));
    for (const hold of due) {
      this.end(hold, 'expired');
      this.version += 1;
    }
  }

  private freeSeatsOfTier(tier: string): string[] {
    return rows.flatMap((row) => row.filter((seat) => this.seats.get(seat) === 'available' && seatTier.get(seat) === tier));
  }

  private bestAvailable(quantity: number, tierId: string | undefined): { seats: string[]; split: boolean } | null {
    for (const tier of tierId === undefined ? tiersCheapestFirst : [tierId]) {
      for (const row of rows) {
        let run: string[] = [];
        for (const seat of row) {
          if (this.seats.get(seat) === 'available' && seatTier.get(seat) === tier) {
            run.push(seat);
            if (run.length === quantity) return { seats: run, split: false };
          } else {
            run = [];
          }
        }
      }
      const free = this.freeSeatsOfTier(tier);
      if (free.length >= quantity) return { seats: free.slice(0, quantity), split: true };
    }
    return null;
  }

  placeHold(userId: string, holdId: string, request: HoldRequest, nowMs: number): Expected {
    if (nowMs < policy.onSaleAtMs) return refuse('show_not_on_sale');
    const seatsAsked = request.seats ?? [];
    const poolsAsked = request.pools ?? [];
    const hasItems = seatsAsked.length + poolsAsked.length > 0;
    if (request.bestAvailable !== undefined && hasItems) return refuse('validation_failed');
    if (request.bestAvailable === undefined && !hasItems) return refuse('validation_failed');
    const quantities = [...poolsAsked.map((pool) => pool.quantity), ...(request.bestAvailable ? [request.bestAvailable.quantity] : [])];
    if (quantities.some((quantity) => !Number.isInteger(quantity) || quantity < 1)) return refuse('validation_failed');
    if (new Set(seatsAsked).size !== seatsAsked.length) return refuse('validation_failed');
    if (new Set(poolsAsked.map((pool) => pool.poolId)).size !== poolsAsked.length) return refuse('validation_failed');
    const items = request.bestAvailable?.quantity ?? seatsAsked.length + poolsAsked.reduce((sum, pool) => sum + pool.quantity, 0);
    if (items > policy.maxItemsPerHold) return refuse('hold_too_large');
    if (this.activeHolds(userId) >= policy.maxActiveHoldsPerUser) return refuse('too_many_holds');
    if (this.holds.has(holdId) || this.ended.has(holdId)) return refuse('internal_error');

    let seats: string[];
    let pools: [string, number][] = [];
    let split = false;
    if (request.bestAvailable !== undefined) {
      const { quantity, tierId } = request.bestAvailable;
      if (tierId !== undefined && !tiersCheapestFirst.includes(tierId)) return refuse('validation_failed');
      const pick = this.bestAvailable(quantity, tierId);
      if (pick === null) return refuse('sold_out');
      seats = pick.seats;
      split = pick.split;
    } else {
      const unknown = seatsAsked.filter((seat) => !this.seats.has(seat));
      if (unknown.length > 0) return refuse('unknown_seat', { seats: unknown });
      const taken = seatsAsked.filter((seat) => this.seats.get(seat) !== 'available');
      if (taken.length > 0) return refuse('seat_unavailable', { seats: taken });
      const unknownPools = poolsAsked.filter((pool) => !poolCapacity.has(pool.poolId)).map((pool) => pool.poolId);
      if (unknownPools.length > 0) return refuse('unknown_pool', { pools: unknownPools });
      const short = poolsAsked
        .filter((pool) => poolCapacity.get(pool.poolId)! - this.poolHeld.get(pool.poolId)! - this.poolSold.get(pool.poolId)! < pool.quantity)
        .map((pool) => pool.poolId);
      if (short.length > 0) return refuse('pool_unavailable', { pools: short });
      seats = [...seatsAsked];
      pools = poolsAsked.map((pool): [string, number] => [pool.poolId, pool.quantity]);
    }
    let totalCents = 0;
    for (const seat of seats) totalCents += seatPrice.get(seat)!;
    for (const [pool, quantity] of pools) totalCents += poolPrice.get(pool)! * quantity;
    const hold: ModelHold = { holdId, userId, status: 'held', seats, pools, expiresAtMs: nowMs + policy.holdTtlMs, extensionsUsed: 0, orderId: null, totalCents, split };
    for (const seat of seats) this.seats.set(seat, 'held');
    for (const [pool, quantity] of pools) this.poolHeld.set(pool, this.poolHeld.get(pool)! + quantity);
    this.holds.set(holdId, hold);
    this.recordExpiry(holdId, hold.expiresAtMs);
    return this.ok(1, { hold: this.view(hold) });
  }

  private findActive(holdId: string, nowMs: number, userId: string | null): ModelHold | Expected {
    const hold = this.holds.get(holdId);
    if (hold === undefined) {
      const ending = this.ended.get(holdId);
      if (ending === 'expired') return refuse('hold_expired');
      if (ending !== undefined) return refuse('hold_not_active');
      return refuse('hold_not_found');
    }
    if (userId !== null && hold.userId !== userId) return refuse('forbidden');
    if (hold.status !== 'sold' && hold.expiresAtMs <= nowMs) return refuse('hold_expired');
    return hold;
  }

  release(userId: string, holdId: string, nowMs: number): Expected {
    const hold = this.findActive(holdId, nowMs, userId);
    if ('reply' in hold) return hold;
    if (hold.status === 'sold') return refuse('hold_not_active');
    const view = this.view(hold, { expiresAtMs: nowMs });
    this.end(hold, 'released');
    return this.ok(1, { hold: view });
  }

  extend(userId: string, holdId: string, nowMs: number): Expected {
    const hold = this.findActive(holdId, nowMs, userId);
    if ('reply' in hold) return hold;
    if (hold.status !== 'held') return refuse('hold_not_active');
    if (hold.extensionsUsed >= policy.maxExtensions) return refuse('extension_limit_reached');
    hold.expiresAtMs += policy.extensionMs;
    hold.extensionsUsed += 1;
    this.recordExpiry(holdId, hold.expiresAtMs);
    return this.ok(1, { hold: this.view(hold) });
  }

  pin(userId: string, holdId: string, orderId: string, paymentWindowMs: number | undefined, nowMs: number): Expected {
    const hold = this.findActive(holdId, nowMs, userId);
    if ('reply' in hold) return hold;
    if (hold.status !== 'held') return hold.orderId === orderId ? this.ok(0, { hold: this.view(hold) }) : refuse('hold_not_active');
    const windowMs = paymentWindowMs ?? policy.paymentWindowMs;
    if (!Number.isInteger(windowMs) || windowMs < limits.paymentWindowMsMin || windowMs > limits.paymentWindowMsMax) return refuse('validation_failed');
    hold.status = 'pinned';
    hold.orderId = orderId;
    hold.expiresAtMs = nowMs + windowMs;
    this.recordExpiry(holdId, hold.expiresAtMs);
    return this.ok(1, { hold: this.view(hold) });
  }

  confirm(holdId: string, orderId: string, nowMs: number): Expected {
    const hold = this.findActive(holdId, nowMs, null);
    if ('reply' in hold) return hold;
    if (hold.orderId !== orderId) return refuse('hold_not_active');
    if (hold.status === 'sold') return this.ok(0, { hold: this.view(hold) });
    if (hold.status !== 'pinned') return refuse('hold_not_active');
    hold.status = 'sold';
    for (const seat of hold.seats) this.seats.set(seat, 'sold');
    for (const [pool, quantity] of hold.pools) {
      this.poolHeld.set(pool, this.poolHeld.get(pool)! - quantity);
      this.poolSold.set(pool, this.poolSold.get(pool)! + quantity);
    }
    this.orders.set(orderId, holdId);
    return this.ok(1, { hold: this.view(hold) });
  }

  voidSale(orderId: string, returnTo: SaleReturnPolicy): Expected {
    const holdId = this.orders.get(orderId);
    const hold = holdId === undefined ? undefined : this.holds.get(holdId);
    if (hold === undefined || hold.status !== 'sold') return refuse('sale_not_found');
    for (const seat of hold.seats) this.seats.set(seat, returnTo === 'blocked' ? 'blocked' : 'available');
    for (const [pool, quantity] of hold.pools) this.poolSold.set(pool, this.poolSold.get(pool)! - quantity);
    this.holds.delete(hold.holdId);
    this.orders.delete(orderId);
    this.ended.set(hold.holdId, 'voided');
    return this.ok(1, { seatsChanged: hold.seats.length });
  }

  block(seats: string[], action: 'block' | 'unblock'): Expected {
    if (seats.length === 0) return refuse('validation_failed');
    const unknown = seats.filter((seat) => !this.seats.has(seat));
    if (unknown.length > 0) return refuse('unknown_seat', { seats: unknown });
    const distinct = [...new Set(seats)];
    if (action === 'block') {
      const claimed = distinct.filter((seat) => this.seats.get(seat) === 'held' || this.seats.get(seat) === 'sold');
      if (claimed.length > 0) return refuse('seat_not_blockable', { seats: claimed });
    }
    const from: SeatName = action === 'block' ? 'available' : 'blocked';
    const changed = distinct.filter((seat) => this.seats.get(seat) === from);
    for (const seat of changed) this.seats.set(seat, action === 'block' ? 'blocked' : 'available');
    return this.ok(changed.length > 0 ? 1 : 0, { seatsChanged: changed.length });
  }

  step(command: ShowCommand, nowMs: number): Expected {
    switch (command.type) {
      case 'place_hold':
        return this.placeHold(command.userId, command.holdId, command.request, nowMs);
      case 'release_hold':
        return this.release(command.userId, command.holdId, nowMs);
      case 'extend_hold':
        return this.extend(command.userId, command.holdId, nowMs);
      case 'pin_hold':
        return this.pin(command.userId, command.holdId, command.orderId, command.paymentWindowMs, nowMs);
      case 'confirm_hold':
        return this.confirm(command.holdId, command.orderId, nowMs);
      case 'void_sale':
        return this.voidSale(command.orderId, command.returnTo);
      case 'block_seats':
        return this.block(command.seats, 'block');
      case 'unblock_seats':
        return this.block(command.seats, 'unblock');
      case 'expire_due':
        this.expireDue(nowMs);
        return this.ok(0);
      case 'join_waitlist':
      case 'leave_waitlist':
      case 'make_offers':
        // The waitlist has its own tests (waitlist.test.ts); this model's command mix never sends these.
        throw new Error(`the reference model does not cover ${command.type}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Generated operations
// ---------------------------------------------------------------------------------------------

type KeySpec = { mode: 'none' } | { mode: 'fresh' } | { mode: 'retry'; pick: number } | { mode: 'reuse'; pick: number };

/** Which hold a command names: mostly a live one in a fitting status, sometimes any id ever issued (or an unknown one). */
interface Target {
  live: boolean;
  pick: number;
}

type Op =
  | { kind: 'place'; user: number; request: HoldRequest; key: KeySpec }
  | { kind: 'release' | 'extend'; asOwner: boolean; user: number; target: Target; key: KeySpec }
  | { kind: 'pin'; asOwner: boolean; user: number; target: Target; paymentWindowMs: number | undefined; key: KeySpec }
  | { kind: 'confirm'; target: Target; rightOrder: boolean; key: KeySpec }
  | { kind: 'void'; target: Target; returnTo: SaleReturnPolicy; key: KeySpec }
  | { kind: 'block' | 'unblock'; seats: string[]; key: KeySpec };

interface Batch {
  advanceMs: number;
  ops: Op[];
}

const seatArb = fc.oneof({ weight: 30, arbitrary: fc.constantFrom(...seatIds) }, { weight: 1, arbitrary: fc.constantFrom('Z:1:1', 'A:1:99') });
const tierArb = fc.constantFrom(undefined, ...def.tiers.map((tier) => tier.id));
const requestArb: fc.Arbitrary<HoldRequest> = fc.oneof(
  { weight: 5, arbitrary: fc.array(seatArb, { minLength: 1, maxLength: 4 }).map((seats): HoldRequest => ({ seats })) },
  {
    weight: 3,
    arbitrary: fc
      .uniqueArray(fc.record({ poolId: fc.constantFrom(...poolIds), quantity: fc.integer({ min: 1, max: 3 }) }), { minLength: 1, maxLength: 2, selector: (pool) => pool.poolId })
      .map((pools): HoldRequest => ({ pools })),
  },
  {
    weight: 3,
    arbitrary: fc
      .record({ quantity: fc.integer({ min: 1, max: 5 }), tierId: tierArb })
      .map(({ quantity, tierId }): HoldRequest => ({ bestAvailable: tierId === undefined ? { quantity } : { quantity, tierId } })),
  },
  // a multi-night stay: one hold over the three room-night pools
  { weight: 2, arbitrary: fc.integer({ min: 1, max: 2 }).map((quantity): HoldRequest => ({ pools: roomNightPoolIds.map((poolId) => ({ poolId, quantity })) })) },
  {
    weight: 1,
    arbitrary: fc
      .record({ seats: fc.array(seatArb, { minLength: 1, maxLength: 2 }), poolId: fc.constantFrom(...poolIds), quantity: fc.integer({ min: 1, max: 2 }) })
      .map(({ seats, poolId, quantity }): HoldRequest => ({ seats, pools: [{ poolId, quantity }] })),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom<HoldRequest>(
      {},
      { seats: [] },
      { pools: [{ poolId: 'ga-floor', quantity: 1.5 }] },
      { pools: [{ poolId: 'ga-floor', quantity: 0 }] },
      { bestAvailable: { quantity: 2 }, seats: ['A:1:1'] },
      { bestAvailable: { quantity: 7 } },
      { bestAvailable: { quantity: 2, tierId: 'platinum' } },
      { pools: [{ poolId: 'nope', quantity: 1 }] },
      { pools: [{ poolId: 'room-n1', quantity: 1 }, { poolId: 'room-n1', quantity: 1 }] },
    ),
  },
);

const keyArb: fc.Arbitrary<KeySpec> = fc.oneof(
  { weight: 2, arbitrary: fc.constant<KeySpec>({ mode: 'none' }) },
  { weight: 10, arbitrary: fc.constant<KeySpec>({ mode: 'fresh' }) },
  { weight: 3, arbitrary: fc.nat().map((pick): KeySpec => ({ mode: 'retry', pick })) },
  { weight: 2, arbitrary: fc.nat().map((pick): KeySpec => ({ mode: 'reuse', pick })) },
);
const userArb = fc.integer({ min: 0, max: users.length - 1 });
const ownerArb = fc.oneof({ weight: 5, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) });
const targetArb: fc.Arbitrary<Target> = fc.record({ live: ownerArb, pick: fc.nat() });

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('place' as const), user: userArb, request: requestArb, key: keyArb }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('release' as const), asOwner: ownerArb, user: userArb, target: targetArb, key: keyArb }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('extend' as const), asOwner: ownerArb, user: userArb, target: targetArb, key: keyArb }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('pin' as const),
      asOwner: ownerArb,
      user: userArb,
      target: targetArb,
      paymentWindowMs: fc.constantFrom(undefined, 1, 30_000, 60_000, 120_000, 10 * limits.paymentWindowMsMax),
      key: keyArb,
    }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('confirm' as const), target: targetArb, rightOrder: ownerArb, key: keyArb }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('void' as const), target: targetArb, returnTo: fc.constantFrom<SaleReturnPolicy>('available', 'blocked'), key: keyArb }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('block' as const), seats: fc.array(seatArb, { maxLength: 3 }), key: keyArb }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('unblock' as const), seats: fc.array(seatArb, { maxLength: 3 }), key: keyArb }) },
);

const advanceArb = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(0, 0, 1, 1_000, 5_000) },
  { weight: 3, arbitrary: fc.constantFrom(30_000, 59_999, 60_000, 60_001, 120_000, 180_000, 300_000) },
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 200_000 }) },
  { weight: 1, arbitrary: fc.integer({ min: 1_000_000, max: 100_000_000 }) },
);

const batchesArb: fc.Arbitrary<Batch[]> = fc.array(fc.record({ advanceMs: advanceArb, ops: fc.array(opArb, { maxLength: 8, size: 'medium' }) }), {
  minLength: 1,
  maxLength: 40,
  size: 'medium',
});

// ---------------------------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------------------------

/** What a client fingerprints: the command minus the ids the shell chooses (a place's holdId). */
function clientParams(command: ShowCommand): unknown {
  if (command.type === 'place_hold') return { type: command.type, userId: command.userId, request: command.request };
  return command;
}

function callerOf(command: ShowCommand): string {
  switch (command.type) {
    case 'place_hold':
    case 'release_hold':
    case 'extend_hold':
    case 'pin_hold':
      return command.userId;
    case 'confirm_hold':
    case 'void_sale':
      return 'payments';
    default:
      return 'ops';
  }
}

interface KeyedEnvelope {
  caller: string;
  rawKey: string;
  scopedKey: string;
  fingerprint: string;
  command: ShowCommand;
}

/** The state's view of everything the model tracks, in model terms. */
function observed(state: ShowState): unknown {
  const { inventory } = state;
  return {
    version: state.version,
    seats: Object.fromEntries(seatIds.map((id) => [id, seatStatusNames[state.seatStatus[inventory.seatIndexOf(id)]!]])),
    poolHeld: Object.fromEntries(poolIds.map((id) => [id, state.poolHeld[inventory.poolIndexOf(id)]])),
    poolSold: Object.fromEntries(poolIds.map((id) => [id, state.poolSold[inventory.poolIndexOf(id)]])),
    holds: Object.fromEntries(
      [...state.claims.values()].map((claim) => [
        claim.holdId,
        {
          holdId: claim.holdId,
          userId: claim.userId,
          status: claim.status,
          seats: claim.seats.map((seat) => inventory.seatId(seat)),
          pools: claim.pools.map(([pool, quantity]) => [inventory.pools[pool]!.id, quantity]),
          expiresAtMs: claim.expiresAtMs,
          extensionsUsed: claim.extensionsUsed,
          orderId: claim.orderId,
          totalCents: claim.totalCents,
          split: claim.split,
        },
      ]),
    ),
    ended: [...state.endedHolds.entries()],
    // The model keeps sold orders; the index also names pinned ones (checkStateInvariants checks those).
    orders: Object.fromEntries([...state.holdIdByOrder].filter(([, holdId]) => state.claims.get(holdId)?.status === 'sold')),
    activeHoldsByUser: Object.fromEntries([...state.activeHoldsByUser.entries()].sort(([a], [b]) => (a < b ? -1 : 1))),
  };
}

function modelView(model: Model): unknown {
  const active = new Map<string, number>();
  for (const hold of model.holds.values()) if (hold.status !== 'sold') active.set(hold.userId, (active.get(hold.userId) ?? 0) + 1);
  return {
    version: model.version,
    seats: Object.fromEntries(model.seats),
    poolHeld: Object.fromEntries(model.poolHeld),
    poolSold: Object.fromEntries(model.poolSold),
    holds: Object.fromEntries([...model.holds.values()].map((hold) => [hold.holdId, { ...hold, seats: [...hold.seats], pools: hold.pools.map(([p, q]) => [p, q]) }])),
    ended: [...model.ended.entries()],
    orders: Object.fromEntries(model.orders),
    activeHoldsByUser: Object.fromEntries([...active.entries()].sort(([a], [b]) => (a < b ? -1 : 1))),
  };
}

function expectReply(actual: ShowReply, expected: ShowReply, context: string, nowMs: number): void {
  if (expected.ok) {
    // Accepted replies are stamped with the decision time, so a retry gets the very same reply.
    expect(actual, context).toEqual({ ...expected, decidedAtMs: nowMs });
    return;
  }
  expect(actual.ok, context).toBe(false);
  if (actual.ok) return;
  expect(actual.code, `${context}: ${actual.detail}`).toBe(expected.code);
  if (expected.seats !== undefined) expect([...(actual.seats ?? [])].sort(), context).toEqual([...expected.seats].sort());
  if (expected.pools !== undefined) expect([...(actual.pools ?? [])].sort(), context).toEqual([...expected.pools].sort());
}

interface RunStats {
  commands: number;
  accepted: number;
  codes: Map<string, number>;
}

function runScenario(batches: Batch[], stats?: RunStats): void {
  const state = makeState(def);
  const replica = makeState(def);
  const cache = new IdempotencyCache(limits.idempotencyCacheEntriesMax);
  const model = new Model();
  const firstReplies = new Map<string, { fingerprint: string; reply: ShowReply }>();
  const keyed: KeyedEnvelope[] = [];
  const holdIds: string[] = [];
  const allEvents: ShowEvent[] = [];
  let nextHold = 0;
  let nextKey = 0;
  let nowMs = 0;

  const targetHold = (target: Target, prefer: HoldStatus[]): string => {
    const candidates = [...model.holds.values()].filter((hold) => prefer.includes(hold.status));
    if (target.live && candidates.length > 0) return candidates[target.pick % candidates.length]!.holdId;
    const index = target.pick % (holdIds.length + 1);
    return index === holdIds.length ? 'h-unknown' : holdIds[index]!;
  };
  const ownerOf = (holdId: string): string | undefined => model.holds.get(holdId)?.userId;

  const commandOf = (op: Op): ShowCommand => {
    switch (op.kind) {
      case 'place': {
        const holdId = `h${nextHold++}`;
        holdIds.push(holdId);
        return { type: 'place_hold', userId: users[op.user]!, holdId, request: op.request };
      }
      case 'release':
      case 'extend': {
        const holdId = targetHold(op.target, op.kind === 'release' ? ['held', 'pinned'] : ['held']);
        const userId = op.asOwner ? (ownerOf(holdId) ?? users[op.user]!) : users[op.user]!;
        return { type: op.kind === 'release' ? 'release_hold' : 'extend_hold', userId, holdId };
      }
      case 'pin': {
        const holdId = targetHold(op.target, ['held']);
        const userId = op.asOwner ? (ownerOf(holdId) ?? users[op.user]!) : users[op.user]!;
        const command: ShowCommand = { type: 'pin_hold', userId, holdId, orderId: `o-${holdId}` };
        if (op.paymentWindowMs !== undefined) command.paymentWindowMs = op.paymentWindowMs;
        return command;
      }
      case 'confirm': {
        const holdId = targetHold(op.target, ['pinned']);
        return { type: 'confirm_hold', holdId, orderId: op.rightOrder ? `o-${holdId}` : 'o-wrong' };
      }
      case 'void':
        return { type: 'void_sale', orderId: `o-${targetHold(op.target, ['sold'])}`, returnTo: op.returnTo };
      case 'block':
        return { type: 'block_seats', seats: op.seats };
      case 'unblock':
        return { type: 'unblock_seats', seats: op.seats };
    }
  };

  const envelopeOf = (op: Op): CommandEnvelope => {
    const { key } = op;
    if (key.mode === 'retry' && keyed.length > 0) {
      // an exact client retry: same key, same parameters (a place gets a new shell hold id)
      const earlier = keyed[key.pick % keyed.length]!;
      let command = earlier.command;
      if (command.type === 'place_hold') {
        const holdId = `h${nextHold++}`;
        holdIds.push(holdId);
        command = { ...command, holdId };
      }
      return { command, scopedKey: earlier.scopedKey, fingerprint: earlier.fingerprint };
    }
    const command = commandOf(op);
    if (key.mode === 'none') return { command };
    const caller = callerOf(command);
    const callerKeys = keyed.filter((entry) => entry.caller === caller);
    const rawKey = key.mode === 'reuse' && callerKeys.length > 0 ? callerKeys[key.pick % callerKeys.length]!.rawKey : `k${nextKey++}`;
    const entry: KeyedEnvelope = { caller, rawKey, scopedKey: scopeIdempotencyKey(caller, rawKey), fingerprint: fingerprintOf(clientParams(command)), command };
    keyed.push(entry);
    return { command, scopedKey: entry.scopedKey, fingerprint: entry.fingerprint };
  };

  for (const [batchIndex, batch] of batches.entries()) {
    nowMs += batch.advanceMs;
    const envelopes = batch.ops.map(envelopeOf);


    // decide is pure: deciding any of the batch's commands against the pre-batch state changes nothing
    const before = snapshotState(state);
    for (const envelope of envelopes) decide(state, envelope.command, nowMs);
    decide(state, { type: 'expire_due' }, nowMs);
    expect(snapshotState(state), 'decide mutated the state').toEqual(before);

    const fromVersion = state.version;
    const decided = decideBatch(state, cache, envelopes, nowMs);
    const context = `batch ${batchIndex} @${nowMs}`;

    // the batch's bookkeeping
    expect(decided.fromVersion).toBe(fromVersion);
    expect(decided.toVersion).toBe(state.version);
    expect(decided.events.length).toBe(decided.toVersion - decided.fromVersion);
    expect(decided.replies.length).toBe(envelopes.length);

    // model: expire first, then each envelope in order
    model.expireDue(nowMs);
    for (const [index, envelope] of envelopes.entries()) {
      const reply = decided.replies[index]!;
      const where = `${context} #${index} ${JSON.stringify(envelope.command)}`;
      if (stats !== undefined) {
        stats.commands += 1;
        if (reply.ok) stats.accepted += 1;
        const code = reply.ok ? `ok:${envelope.command.type}` : reply.code;
        stats.codes.set(code, (stats.codes.get(code) ?? 0) + 1);
      }
      if (envelope.scopedKey !== undefined) {
        const first = firstReplies.get(envelope.scopedKey);
        if (first !== undefined) {
          if (first.fingerprint === envelope.fingerprint) expect(reply, `${where}: a retry gets the first reply`).toEqual(first.reply);
          else expect(reply, `${where}: key reused with other parameters`).toMatchObject({ ok: false, code: 'idempotency_key_reused' });
          continue;
        }
      }
      const expected = model.step(envelope.command, nowMs);
      expectReply(reply, expected.reply, where, nowMs);
      if (envelope.scopedKey !== undefined) firstReplies.set(envelope.scopedKey, { fingerprint: envelope.fingerprint!, reply: structuredClone(reply) });
    }
    const records = decided.idempotencyRecords.map((record) => record.scopedKey);
    expect(new Set(records).size, 'one idempotency record per new key').toBe(records.length);

    // the state's own consistency check
    checkStateInvariants(state);

    // no seat in two claims; pools within capacity; nothing held past its expiry
    const claimedSeats = new Set<number>();
    for (const claim of state.claims.values()) {
      for (const seat of claim.seats) {
        expect(claimedSeats.has(seat), `${context}: seat ${state.inventory.seatId(seat)} in two claims`).toBe(false);
        claimedSeats.add(seat);
        expect(state.seatStatus[seat]).toBe(claim.status === 'sold' ? seatStatus.sold : seatStatus.held);
      }
      if (claim.status !== 'sold') expect(claim.expiresAtMs, `${context}: hold ${claim.holdId} alive past expiry`).toBeGreaterThan(nowMs);
    }
    def.pools.forEach((pool, index) => {
      expect(state.poolHeld[index]!).toBeGreaterThanOrEqual(0);
      expect(state.poolSold[index]!).toBeGreaterThanOrEqual(0);
      expect(state.poolHeld[index]! + state.poolSold[index]!, `${context}: pool ${pool.id} over capacity`).toBeLessThanOrEqual(pool.capacity);
    });

    // the reference model agrees on seats, pools, holds, endings and orders
    expect(observed(state), `${context}: state disagrees with the model`).toEqual(modelView(model));

    // a replica folding the same (serialized) events stays identical
    const journaled = structuredClone(decided.events);
    for (const event of journaled) evolve(replica, event);
    allEvents.push(...structuredClone(decided.events));
    expect(comparableState(replica), `${context}: replica diverged`).toEqual(comparableState(state));
  }

  // replay: a fresh state folded over every event equals the live state
  const replayed = makeState(def);
  for (const event of allEvents) evolve(replayed, event);
  checkStateInvariants(replayed);
  expect(replayed.version).toBe(allEvents.length);
  expect(comparableState(replayed)).toEqual(comparableState(state));
  for (let seat = 0; seat < state.inventory.seatCount; seat += 1) expect(replayed.seatStatus[seat]).toBe(state.seatStatus[seat]);
  // the replayed state's expiry heap names the same next live expiry
  const liveNext = [...state.claims.values()].filter((claim) => claim.status !== 'sold').map((claim) => claim.expiresAtMs);
  if (liveNext.length > 0) {
    expect(replayed.expiry.peekMs()).toBe(Math.min(...liveNext));
    expect(state.expiry.peekMs()).toBe(Math.min(...liveNext));
  }
}

describe('show core properties', () => {
  it('random interleavings keep every invariant, agree with the model and replay to the same state', () => {
    const stats: RunStats = { commands: 0, accepted: 0, codes: new Map() };
    fc.assert(
      fc.property(batchesArb, (batches) => {
        runScenario(batches, stats);
      }),
      { seed: SEED, numRuns: NUM_RUNS },
    );
    // the generator must actually reach the interesting outcomes
    if (process.env.HOLDFAST_PROPERTY_STATS === '1') console.log(stats.commands, stats.accepted, [...stats.codes.entries()].sort());
    const seen = (code: string): number => stats.codes.get(code) ?? 0;
    for (const code of [
      'ok:place_hold',
      'ok:release_hold',
      'ok:extend_hold',
      'ok:pin_hold',
      'ok:confirm_hold',
      'ok:void_sale',
      'ok:block_seats',
      'ok:unblock_seats',
      'validation_failed',
      'hold_too_large',
      'too_many_holds',
      'unknown_seat',
      'seat_unavailable',
      'unknown_pool',
      'pool_unavailable',
      'sold_out',
      'hold_not_found',
      'hold_expired',
      'forbidden',
      'extension_limit_reached',
      'hold_not_active',
      'sale_not_found',
      'seat_not_blockable',
      'idempotency_key_reused',
    ]) {
      expect(seen(code), `outcome ${code} never generated`).toBeGreaterThan(0);
    }
  });

  it('a pool is never over-claimed under heavy contention for the same multi-night stay', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ user: userArb, advanceMs: fc.constantFrom(0, 10_000, 59_999, 60_000), nights: fc.subarray([...roomNightPoolIds], { minLength: 1 }) }), {
          minLength: 1,
          maxLength: 60,
        }),
        (attempts) => {
          const state = makeState(def);
          const cache = new IdempotencyCache(1_000);
          let nowMs = 0;
          attempts.forEach((attempt, index) => {
            nowMs += attempt.advanceMs;
            const before = comparableState(state);
            const command: ShowCommand = {
              type: 'place_hold',
              userId: users[attempt.user]!,
              holdId: `stay-${index}`,
              request: { pools: attempt.nights.map((poolId) => ({ poolId, quantity: 1 })) },
            };
            const expired = decide(state, { type: 'expire_due' }, nowMs).events.length;
            const { replies, events } = decideBatch(state, cache, [{ command }], nowMs);
            const reply = replies[0]!;
            if (!reply.ok) {
              // all or nothing: apart from expiries, a refused stay changed nothing
              expect(events.length).toBe(expired);
              if (expired === 0) expect(comparableState(state)).toEqual(before);
            } else {
              expect(reply.hold!.pools.map((pool) => pool.poolId)).toEqual(attempt.nights);
            }
            checkStateInvariants(state);
            def.pools.forEach((pool, poolIndex) => expect(state.poolHeld[poolIndex]! + state.poolSold[poolIndex]!).toBeLessThanOrEqual(pool.capacity));
          });
        },
      ),
      { seed: SEED + 1, numRuns: 200 },
    );
  });
});
