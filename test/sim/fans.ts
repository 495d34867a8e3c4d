import { fingerprintOf, scopeIdempotencyKey } from '../../src/actors/idempotency.js';
import type { Inventory } from '../../src/actors/inventory.js';
import type { HoldRequest, HoldStatus, ShowCommand, ShowReply } from '../../src/actors/messages.js';
import { channelKeyHash } from '../../src/catalog/show-builder.js';
import type { Prng } from './prng.js';
import { wrongChannelKey } from './show.js';

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
  | 'key_reuse'
  | 'hold_channel'
  | 'join_waitlist'
  | 'leave_waitlist';

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

/** An order as its fan knows it, with the key and card of its last payment attempt (a retry may reuse them). */
export interface KnownOrder {
  orderId: string;
  paymentId: string;
  status: string;
  lastKey: string | null;
  lastCard: string | null;
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
  /** A payment-saga task (checkout or pay, see payments.ts) in flight: the fan waits for it. */
  sagaBusy = false;
  /** Orders the fan created through the saga, by hold id (see payments.ts). */
  readonly orders = new Map<string, KnownOrder>();
  /** Whether the fan believes it is on the waitlist (from acknowledged replies and offers). */
  waitlisted = false;
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
        case 'join_waitlist':
          this.waitlisted = true;
          break;
        case 'leave_waitlist':
          this.waitlisted = false;
          break;
        default:
          break;
      }
      return;
    }
    if (command.type === 'leave_waitlist' && reply.code === 'not_found') this.waitlisted = false;
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
  /** A fresh waitlist entry id (`w…`, as the gateway makes one per request). */
  newEntryId: () => string;
  nowMs: number;
}

export interface IntentOptions {
  keyReuse: number;
  /** Pins and confirmations go through the order saga (payments.ts), not straight to the actor; no voids. */
  sagaPayments?: boolean;
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
export function nextIntent(ctx: IntentFactoryContext, fan: Fan, options: IntentOptions): Intent {
  const { rng } = ctx;
  const key = fan.nextKey();
  const direct = options.sagaPayments !== true;
  if (fan.userId === 'admin') return adminIntent(ctx, fan, key, direct);
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
  // With the saga, a fan may also let go of a hold that is pinned for its payment (and pay anyway).
  const releasable = direct ? held : [...held, ...pinned];
  const choice = rng.weighted({
    hold_seats: 3,
    hold_pool: 2,
    hold_best: 2,
    hold_mixed: 1,
    hold_invalid: 0.5,
    release: releasable.length > 0 ? 1.5 : 0.1,
    extend: held.length > 0 ? 1 : 0,
    pin: direct && held.length > 0 ? 3 : 0,
    confirm: direct && pinned.length > 0 ? 12 : 0,
    foreign_hold: 0.3,
    hold_channel: ctx.inventory.channels.length > 0 ? 1.5 : 0.2,
    join_waitlist: fan.waitlisted ? 0.2 : 1.2,
    leave_waitlist: fan.waitlisted ? 0.5 : 0.05,
  })!;
  switch (choice) {
    case 'hold_seats':
    case 'hold_pool':
    case 'hold_best':
    case 'hold_mixed':
    case 'hold_invalid':
      return placeHoldIntent(ctx, fan, choice, key);
    case 'release': {
      const holdId = releasable.length > 0 ? rng.pick(releasable)[0] : `${ctx.showId}.hnone`;
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
    case 'hold_channel':
      return channelHoldIntent(ctx, fan, key);
    case 'join_waitlist': {
      // Large parties and single tiers: those are the ones that find nothing on sale and wait.
      const partySize = Math.min(ctx.inventory.policy.maxItemsPerHold, rng.pick([1, 2, 2, 3, 4, 4]));
      const seatedTiers = ctx.inventory.tierIds.filter((_, tier) => ctx.inventory.tierRows[tier]!.length > 0);
      const tierId = rng.chance(0.35) ? rng.pick(seatedTiers) : undefined;
      const entryIds: string[] = [];
      return makeIntent(ctx, fan, 'join_waitlist', key, { type: 'join_waitlist', partySize, tierId }, (attempt) => {
        while (entryIds.length <= attempt) entryIds.push(ctx.newEntryId());
        const command: ShowCommand = { type: 'join_waitlist', userId: fan.userId, entryId: entryIds[attempt]!, partySize };
        return tierId === undefined ? command : { ...command, tierId };
      });
    }
    case 'leave_waitlist':
      return makeIntent(ctx, fan, 'leave_waitlist', key, { type: 'leave_waitlist' }, () => ({ type: 'leave_waitlist', userId: fan.userId }));
  }
  throw new Error(`no intent for ${choice}`);
}

/**
 * A hold on presale inventory: the channel's seats, its pool allotment, best available (which
 * may pick channel seats with the key), or a mix — with the channel's key, another channel's,
 * a guessed one, or none (the public trying for channel seats), before or after the release.
 */
function channelHoldIntent(ctx: IntentFactoryContext, fan: Fan, key: string): Intent {
  const { rng, inventory } = ctx;
  const channels = inventory.channels;
  const channel = channels.length > 0 ? rng.pick(channels) : null;
  const roll = rng.float();
  let keyHash: string | undefined;
  if (channel !== null && roll < 0.5) keyHash = channel.keyHash;
  else if (channel !== null && channels.length > 1 && roll < 0.6) keyHash = rng.pick(channels.filter((other) => other !== channel)).keyHash;
  else if (roll < 0.75) keyHash = channelKeyHash(wrongChannelKey);
  const channelPool = channel !== null && channel.pools.length > 0 ? rng.pick(channel.pools).poolId : rng.pick(inventory.pools).id;
  const channelSeats = (): string[] => {
    if (channel === null) return rng.sample(ctx.seatIds, 1);
    const count = Math.min(channel.seats.length, rng.between(1, 3));
    const start = rng.int(channel.seats.length - count + 1);
    return channel.seats.slice(start, start + count);
  };
  let request: HoldRequest;
  switch (rng.int(4)) {
    case 0:
      request = { seats: channelSeats() };
      break;
    case 1:
      request = { pools: [{ poolId: channelPool, quantity: rng.between(1, 3) }] };
      break;
    case 2:
      request = { bestAvailable: { quantity: rng.between(1, 3) } };
      break;
    default:
      request = { seats: channelSeats().slice(0, 1), pools: [{ poolId: channelPool, quantity: 1 }] };
  }
  const holdIds: string[] = [];
  return makeIntent(ctx, fan, 'hold_channel', key, { type: 'place_hold', request, channelKeyHash: keyHash }, (attempt) => {
    while (holdIds.length <= attempt) holdIds.push(ctx.newHoldId());
    const command: ShowCommand = { type: 'place_hold', userId: fan.userId, holdId: holdIds[attempt]!, request };
    return keyHash === undefined ? command : { ...command, channelKeyHash: keyHash };
  });
}

function adminIntent(ctx: IntentFactoryContext, fan: Fan, key: string, voids: boolean): Intent {
  const { rng } = ctx;
  const sold = voids ? ctx.soldOrders() : [];
  const choice = rng.weighted({ void_sale: !voids ? 0 : sold.length > 0 ? 3 : 0.2, block: fan.blockedSeats.size < 4 ? 1 : 0.2, unblock: fan.blockedSeats.size > 0 ? 1.5 : 0.2 })!;
  if (choice === 'void_sale') {
    const orderId = sold.length > 0 ? rng.pick(sold).orderId : 'order-none';
    const returnTo = rng.chance(0.7) ? ('available' as const) : ('blocked' as const);
    return makeIntent(ctx, fan, 'void_sale', key, { type: 'void_sale', orderId, returnTo }, () => ({ type: 'void_sale', orderId, returnTo }));
  }
  const seats = choice === 'unblock' && fan.blockedSeats.size > 0 && rng.chance(0.8) ? rng.sample([...fan.blockedSeats], rng.between(1, 3)) : rng.sample(ctx.seatIds, rng.between(1, 3));
  const type = choice === 'block' ? ('block_seats' as const) : ('unblock_seats' as const);
  return makeIntent(ctx, fan, choice, key, { type, seats }, () => ({ type, seats }));
}
