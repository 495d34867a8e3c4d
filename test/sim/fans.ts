import { fingerprintOf, scopeIdempotencyKey } from '../../src/actors/idempotency.js';
import type { Inventory } from '../../src/actors/inventory.js';
import type { HoldRequest, HoldStatus, ShowCommand, ShowReply } from '../../src/actors/messages.js';
import type { Prng } from './prng.js';

export type IntentKind =
  | 'hold_seats'
  | 'hold_pool'
  | 'hold_best'
  | 'hold_mixed'
  | 'hold_invalid'
  | 'release'
  | 'extend'
  | 'pin'
  | 'confirm'
  | 'void_sale'
  | 'block'
  | 'unblock'
  | 'foreign_hold'
  | 'key_reuse';

/** One thing a client wants done, under one Idempotency-Key, retried until it gets a definitive answer. */
export interface Intent {
  id: number;
  fan: Fan;
  kind: IntentKind;
  scopedKey: string;
  fingerprint: string;
  /** The command of one attempt: a hold gets a fresh hold id per request, as the gateway makes one per request. */
  commandFor: (attempt: number) => ShowCommand;
  /** Sent with a key already decided for other parameters: must be answered idempotency_key_reused. */
  reuse: boolean;
  attempts: number;
  result: ShowReply | null;
  /** When the client gives up waiting for the current attempt. */
  deadlineMs: number;
  /** When the client sends its next attempt (after a retryable answer or a timeout). */
  nextRetryAtMs: number | null;
}

interface KnownHold {
  status: HoldStatus;
  orderId: string | null;
}

export interface KeyParams {
  scopedKey: string;
  fingerprint: string;
  params: Record<string, unknown>;
}

/** A simulated fan (or, for `admin`, the box office / payment saga) and what it knows from acknowledged replies. */
export class Fan {
  readonly holds = new Map<string, KnownHold>();
  /** Seats this client (the box office) blocked and has not unblocked since. */
  readonly blockedSeats = new Set<string>();
  current: Intent | null = null;
  readonly finished: Intent[] = [];
  private keyCounter = 0;
  private orderCounter = 0;

  constructor(readonly userId: string) {}

  nextKey(): string {
    this.keyCounter += 1;
    return `${this.userId}-k${this.keyCounter}`;
  }

  nextOrderId(): string {
    this.orderCounter += 1;
    return `order-${this.userId}-${this.orderCounter}`;
  }

  /** Learns from a definitive answer to one of its intents. */
  learn(command: ShowCommand, reply: ShowReply): void {
    if (reply.ok) {
      const hold = reply.hold;
      switch (command.type) {
        case 'place_hold':
          if (hold !== undefined) this.holds.set(hold.holdId, { status: 'held', orderId: null });
          break;
        case 'release_hold':
          this.holds.delete(command.holdId);
          break;
        case 'pin_hold':
          this.holds.set(command.holdId, { status: 'pinned', orderId: command.orderId });
          break;
        case 'confirm_hold':
          this.holds.set(command.holdId, { status: 'sold', orderId: command.orderId });
          break;
        case 'block_seats':
          for (const seat of command.seats) this.blockedSeats.add(seat);
          break;
        case 'unblock_seats':
          for (const seat of command.seats) this.blockedSeats.delete(seat);
          break;
        default:
          break;
      }
      return;
    }
    if ('holdId' in command && ['hold_expired', 'hold_not_found', 'hold_not_active'].includes(reply.code)) this.holds.delete(command.holdId);
  }
}

export interface IntentFactoryContext {
  rng: Prng;
  inventory: Inventory;
  seatIds: readonly string[];
  showId: string;
  newHoldId: () => string;
  nextIntentId: () => number;
  /** Sold orders anyone knows of (for the box office's voids). */
  soldOrders: () => { orderId: string; holdId: string; fan: Fan }[];
  /** Holds of other fans (for requests a fan may not make). */
  foreignHold: (fan: Fan) => string | null;
  nowMs: number;
}

function makeIntent(ctx: IntentFactoryContext, fan: Fan, kind: IntentKind, key: string, params: Record<string, unknown>, commandFor: (attempt: number) => ShowCommand, reuse = false): Intent {
  return {
    id: ctx.nextIntentId(),
    fan,
    kind,
    scopedKey: scopeIdempotencyKey(fan.userId, key),
    fingerprint: fingerprintOf(params),
    commandFor,
    reuse,
    attempts: 0,
    result: null,
    deadlineMs: ctx.nowMs,
    nextRetryAtMs: ctx.nowMs,
  };
}

function holdRequest(ctx: IntentFactoryContext, kind: 'hold_seats' | 'hold_pool' | 'hold_best' | 'hold_mixed' | 'hold_invalid'): HoldRequest {
  const { rng, inventory, seatIds } = ctx;
  const poolId = (): string => rng.pick(inventory.pools).id;
  const seats = (): string[] => {
    const count = rng.between(1, 3);
    if (rng.chance(0.6)) {
      const start = rng.int(seatIds.length - count + 1);
      return seatIds.slice(start, start + count);
    }
    return rng.sample(seatIds, count);
  };
  switch (kind) {
    case 'hold_seats':
      return { seats: seats() };
    case 'hold_pool':
      // Sometimes several pools at once, all or nothing (a multi-night stay).
      if (inventory.pools.length > 1 && rng.chance(0.3)) return { pools: inventory.pools.map((pool) => ({ poolId: pool.id, quantity: rng.between(1, 2) })) };
      return { pools: [{ poolId: poolId(), quantity: rng.between(1, 3) }] };
    case 'hold_best': {
      const tierId = rng.chance(0.4) ? rng.pick(inventory.tierIds) : undefined;
      return { bestAvailable: tierId === undefined ? { quantity: rng.between(1, 4) } : { quantity: rng.between(1, 4), tierId } };
    }
    case 'hold_mixed':
      return { seats: seats().slice(0, 2), pools: [{ poolId: poolId(), quantity: 1 }] };
    case 'hold_invalid':
      switch (rng.int(5)) {
        case 0:
          return { seats: ['Z:9:9'] };
        case 1:
          return { pools: [{ poolId: poolId(), quantity: 0 }] };
        case 2:
          return { bestAvailable: { quantity: inventory.policy.maxItemsPerHold + 1 } };
        case 3: {
          const seat = rng.pick(seatIds);
          return { seats: [seat, seat] };
        }
        default:
          return { pools: [{ poolId: 'no-such-pool', quantity: 1 }] };
      }
  }
}

function placeHoldIntent(ctx: IntentFactoryContext, fan: Fan, kind: 'hold_seats' | 'hold_pool' | 'hold_best' | 'hold_mixed' | 'hold_invalid', key: string, reuse = false): Intent {
  const request = holdRequest(ctx, kind);
  const holdIds: string[] = [];
  return makeIntent(ctx, fan, reuse ? 'key_reuse' : kind, key, { type: 'place_hold', request }, (attempt) => {
    while (holdIds.length <= attempt) holdIds.push(ctx.newHoldId());
    return { type: 'place_hold', userId: fan.userId, holdId: holdIds[attempt]!, request };
  }, reuse);
}

/** The next thing a fan wants, given what it knows. */
export function nextIntent(ctx: IntentFactoryContext, fan: Fan, options: { keyReuse: number }): Intent {
  const { rng } = ctx;
  const key = fan.nextKey();
  if (fan.userId === 'admin') return adminIntent(ctx, fan, key);
  const decided = fan.finished.filter((intent) => !intent.reuse && intent.result !== null);
  if (decided.length > 0 && rng.chance(options.keyReuse)) {
    const original = rng.pick(decided);
    const keyPart = original.scopedKey.slice(original.scopedKey.indexOf('\u001f') + 1);
    for (;;) {
      const intent = placeHoldIntent(ctx, fan, rng.pick(['hold_seats', 'hold_pool', 'hold_best'] as const), keyPart, true);
      if (intent.fingerprint !== original.fingerprint) return { ...intent, scopedKey: original.scopedKey };
    }
  }
  const held = [...fan.holds].filter(([, hold]) => hold.status === 'held');
  const pinned = [...fan.holds].filter(([, hold]) => hold.status === 'pinned');
  const choice = rng.weighted({
    hold_seats: 3,
    hold_pool: 2,
    hold_best: 2,
    hold_mixed: 1,
    hold_invalid: 0.5,
    release: held.length > 0 ? 1.5 : 0.1,
    extend: held.length > 0 ? 1 : 0,
    pin: held.length > 0 ? 3 : 0,
    confirm: pinned.length > 0 ? 12 : 0,
    foreign_hold: 0.3,
  })!;
  switch (choice) {
    case 'hold_seats':
    case 'hold_pool':
    case 'hold_best':
    case 'hold_mixed':
    case 'hold_invalid':
      return placeHoldIntent(ctx, fan, choice, key);
    case 'release': {
      const holdId = held.length > 0 ? rng.pick(held)[0] : `${ctx.showId}.hnone`;
      return makeIntent(ctx, fan, 'release', key, { type: 'release_hold', holdId }, () => ({ type: 'release_hold', userId: fan.userId, holdId }));
    }
    case 'extend': {
      const holdId = rng.pick(held)[0];
      return makeIntent(ctx, fan, 'extend', key, { type: 'extend_hold', holdId }, () => ({ type: 'extend_hold', userId: fan.userId, holdId }));
    }
    case 'pin': {
      const holdId = rng.pick(held)[0];
      const orderId = fan.nextOrderId();
      const paymentWindowMs = rng.chance(0.3) ? rng.between(30_000, 120_000) : undefined;
      const params = { type: 'pin_hold', holdId, orderId, paymentWindowMs };
      return makeIntent(ctx, fan, 'pin', key, params, () =>
        paymentWindowMs === undefined ? { type: 'pin_hold', userId: fan.userId, holdId, orderId } : { type: 'pin_hold', userId: fan.userId, holdId, orderId, paymentWindowMs },
      );
    }
    case 'confirm': {
      const [holdId, hold] = rng.pick(pinned);
      const orderId = hold.orderId!;
      return makeIntent(ctx, fan, 'confirm', key, { type: 'confirm_hold', holdId, orderId }, () => ({ type: 'confirm_hold', holdId, orderId }));
    }
    case 'foreign_hold': {
      const holdId = ctx.foreignHold(fan) ?? `${ctx.showId}.hnobody`;
      const extend = rng.chance(0.5);
      return makeIntent(ctx, fan, 'foreign_hold', key, { type: extend ? 'extend_hold' : 'release_hold', holdId }, () =>
        extend ? { type: 'extend_hold', userId: fan.userId, holdId } : { type: 'release_hold', userId: fan.userId, holdId },
      );
    }
  }
  throw new Error(`no intent for ${choice}`);
}

function adminIntent(ctx: IntentFactoryContext, fan: Fan, key: string): Intent {
  const { rng } = ctx;
  const sold = ctx.soldOrders();
  const choice = rng.weighted({ void_sale: sold.length > 0 ? 3 : 0.2, block: fan.blockedSeats.size < 4 ? 1 : 0.2, unblock: fan.blockedSeats.size > 0 ? 1.5 : 0.2 })!;
  if (choice === 'void_sale') {
    const orderId = sold.length > 0 ? rng.pick(sold).orderId : 'order-none';
    const returnTo = rng.chance(0.7) ? ('available' as const) : ('blocked' as const);
    return makeIntent(ctx, fan, 'void_sale', key, { type: 'void_sale', orderId, returnTo }, () => ({ type: 'void_sale', orderId, returnTo }));
  }
  const seats = choice === 'unblock' && fan.blockedSeats.size > 0 && rng.chance(0.8) ? rng.sample([...fan.blockedSeats], rng.between(1, 3)) : rng.sample(ctx.seatIds, rng.between(1, 3));
  const type = choice === 'block' ? ('block_seats' as const) : ('unblock_seats' as const);
  return makeIntent(ctx, fan, choice, key, { type, seats }, () => ({ type, seats }));
}
