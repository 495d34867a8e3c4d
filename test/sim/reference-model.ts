import type { Inventory } from '../../src/actors/inventory.js';
import type { ShowEvent } from '../../src/actors/messages.js';
import { check } from './failure.js';

type RefStatus = 'held' | 'pinned' | 'sold';

interface RefHold {
  holdId: string;
  userId: string;
  seats: number[];
  pools: [number, number][];
  status: RefStatus;
  orderId: string | null;
  expiresAtMs: number;
  extensions: number;
  /** Pool units this hold counts against channel allotments: [pool, channel, units]. */
  channelQuota: [number, number, number][];
}

interface RefEntry {
  entryId: string;
  userId: string;
  partySize: number;
  tier: number | null;
}

/** How the reference model learns which presale key (its sha256) a hold was asked with; undefined for none. */
export type HoldKeyLookup = (holdId: string) => string | undefined;

/** Seat status codes as the actor's state spells them (free, held, sold, blocked). */
export const refSeatCode = { free: 0, held: 1, sold: 2, blocked: 3 } as const;

/**
 * An independent reference model of a show, folded from committed journal events with its own
 * (deliberately naive) bookkeeping. Every event is checked against the rules that make a sale
 * safe: a seat belongs to at most one live claim, pools stay within capacity, a hold is
 * confirmed only after its pin, a sale is voided only once, a hold id is never reused.
 */
export class ReferenceModel {
  private readonly holds = new Map<string, RefHold>();
  private readonly everPlaced = new Set<string>();
  private readonly seatHolder: (string | null)[];
  private readonly blocked: boolean[];
  private readonly poolHeld: number[];
  private readonly poolSold: number[];
  private readonly soldOrders = new Map<string, string>();
  private readonly everConfirmed = new Set<string>();
  /** Channel of each seat (index into the definition's channels), from the definition's seat ids. */
  private readonly seatChannelOf = new Map<number, number>();
  /** Units of each pool set aside for each channel, and how many of them live claims use. */
  private readonly channelQuota: number[][];
  private readonly channelUsed: number[][];
  private readonly waitlist = new Map<string, RefEntry>();
  private readonly everJoined = new Set<string>();
  /** A waitlist_offered whose hold_placed must come next. */
  private pendingOffer: { entryId: string; holdId: string; entry: RefEntry; version: number } | null = null;
  /** Voided sales that included pool units (coverage). */
  poolSalesVoided = 0;
  /** Coverage: offers made, and holds that took channel seats or channel pool allotment. */
  offersMade = 0;
  /** Holds that took channel inventory with the channel's key before its release, and after a release. */
  channelHoldsKeyed = 0;
  channelHoldsReleased = 0;

  constructor(
    private readonly inventory: Inventory,
    private readonly holdKey: HoldKeyLookup = () => undefined,
  ) {
    this.seatHolder = Array.from({ length: inventory.seatCount }, () => null);
    this.blocked = Array.from({ length: inventory.seatCount }, () => false);
    this.poolHeld = inventory.pools.map(() => 0);
    this.poolSold = inventory.pools.map(() => 0);
    const poolIndex = new Map(inventory.pools.map((pool, index) => [pool.id, index]));
    this.channelQuota = inventory.channels.map((channel, index) => {
      for (const seatId of channel.seats) this.seatChannelOf.set(inventory.seatIndexOf(seatId), index);
      const quota = inventory.pools.map(() => 0);
      for (const { poolId, quantity } of channel.pools) quota[poolIndex.get(poolId)!] = quantity;
      return quota;
    });
    this.channelUsed = inventory.channels.map(() => inventory.pools.map(() => 0));
  }

  /** Whether a channel's seats and allotments are still kept for its key holders at `nowMs`. */
  private restricted(channel: number, nowMs: number): boolean {
    const releaseAtMs = this.inventory.channels[channel]!.releaseAtMs;
    return releaseAtMs === null || nowMs < releaseAtMs;
  }

  apply(event: ShowEvent, version: number): void {
    const where = `event v${version} ${event.type}`;
    const inv = 'no_oversell';
    const offer = this.pendingOffer;
    if (offer !== null) {
      this.pendingOffer = null;
      check(event.type === 'hold_placed' && event.holdId === offer.holdId, 'waitlist_offers', () => `${where}: the offer to ${offer.entryId} (v${offer.version}) is not followed by its hold ${offer.holdId}`);
    }
    switch (event.type) {
      case 'hold_placed': {
        check(!this.everPlaced.has(event.holdId), inv, () => `${where}: hold id ${event.holdId} used twice`);
        check((event.offerFor === undefined) === (offer === null), 'waitlist_offers', () => `${where}: hold ${event.holdId} ${event.offerFor === undefined ? 'follows an offer but is not one' : `is an offer to ${event.offerFor} without waitlist_offered`}`);
        if (offer !== null) this.checkOffer(where, event, offer.entry);
        this.checkChannels(where, event);
        check(new Set(event.seats).size === event.seats.length, inv, () => `${where}: a seat listed twice`);
        const { policy } = this.inventory;
        const items = event.seats.length + event.pools.reduce((sum, [, quantity]) => sum + quantity, 0);
        check(items > 0 && items <= policy.maxItemsPerHold, 'hold_rules', () => `${where}: ${items} items (max ${policy.maxItemsPerHold})`);
        let active = 0;
        for (const hold of this.holds.values()) if (hold.userId === event.userId && hold.status !== 'sold') active += 1;
        check(active < policy.maxActiveHoldsPerUser, 'hold_rules', () => `${where}: user ${event.userId} already has ${active} active holds`);
        for (const seat of event.seats) {
          check(seat >= 0 && seat < this.inventory.seatCount, inv, () => `${where}: seat index ${seat} out of range`);
          check(this.seatHolder[seat] === null, inv, () => `${where}: seat ${this.inventory.seatId(seat)} already claimed by ${this.seatHolder[seat]}`);
          check(!this.blocked[seat], inv, () => `${where}: seat ${this.inventory.seatId(seat)} is blocked`);
        }
        for (const [pool, quantity] of event.pools) {
          const capacity = this.inventory.pools[pool]!.capacity;
          check(quantity > 0, inv, () => `${where}: pool quantity ${quantity}`);
          check(this.poolHeld[pool]! + this.poolSold[pool]! + quantity <= capacity, inv, () => `${where}: pool ${this.inventory.pools[pool]!.id} over capacity (${this.poolHeld[pool]} held + ${this.poolSold[pool]} sold + ${quantity} > ${capacity})`);
        }
        for (const seat of event.seats) this.seatHolder[seat] = event.holdId;
        for (const [pool, quantity] of event.pools) this.poolHeld[pool]! += quantity;
        const channelQuota = (event.channelQuota ?? []).map(([pool, channel, units]): [number, number, number] => [pool, channel, units]);
        for (const [pool, channel, units] of channelQuota) this.channelUsed[channel]![pool]! += units;
        this.everPlaced.add(event.holdId);
        this.holds.set(event.holdId, {
          holdId: event.holdId,
          userId: event.userId,
          seats: [...event.seats],
          pools: event.pools.map(([pool, quantity]): [number, number] => [pool, quantity]),
          status: 'held',
          orderId: null,
          expiresAtMs: event.expiresAtMs,
          extensions: 0,
          channelQuota,
        });
        break;
      }
      case 'hold_released':
      case 'hold_expired': {
        const hold = this.holds.get(event.holdId);
        check(hold !== undefined && hold.status !== 'sold', 'hold_rules', () => `${where}: hold ${event.holdId} is ${hold?.status ?? 'not live'}`);
        this.endHold(hold, null);
        break;
      }
      case 'hold_extended': {
        const hold = this.holds.get(event.holdId);
        check(hold !== undefined && hold.status === 'held', 'hold_rules', () => `${where}: hold ${event.holdId} is ${hold?.status ?? 'not live'}`);
        check(event.expiresAtMs > hold.expiresAtMs, 'hold_rules', () => `${where}: extension moves expiry back`);
        hold.extensions += 1;
        check(hold.extensions <= this.inventory.policy.maxExtensions, 'hold_rules', () => `${where}: hold ${event.holdId} extended ${hold.extensions} times`);
        hold.expiresAtMs = event.expiresAtMs;
        break;
      }
      case 'hold_pinned': {
        const hold = this.holds.get(event.holdId);
        check(hold !== undefined && hold.status === 'held', 'hold_rules', () => `${where}: hold ${event.holdId} is ${hold?.status ?? 'not live'}`);
        hold.status = 'pinned';
        hold.orderId = event.orderId;
        hold.expiresAtMs = event.expiresAtMs;
        break;
      }
      case 'hold_confirmed': {
        const hold = this.holds.get(event.holdId);
        check(hold !== undefined && hold.status === 'pinned' && hold.orderId === event.orderId, inv, () => `${where}: hold ${event.holdId} confirmed for ${event.orderId} but is ${hold?.status ?? 'not live'} for ${hold?.orderId ?? '-'}`);
        check(!this.soldOrders.has(event.orderId), inv, () => `${where}: order ${event.orderId} confirmed twice`);
        hold.status = 'sold';
        for (const [pool, quantity] of hold.pools) {
          this.poolHeld[pool]! -= quantity;
          this.poolSold[pool]! += quantity;
        }
        this.soldOrders.set(event.orderId, event.holdId);
        this.everConfirmed.add(event.orderId);
        break;
      }
      case 'sale_voided': {
        const hold = this.holds.get(event.holdId);
        check(hold !== undefined && hold.status === 'sold' && hold.orderId === event.orderId, inv, () => `${where}: sale ${event.orderId} voided but hold ${event.holdId} is ${hold?.status ?? 'gone'}`);
        this.soldOrders.delete(event.orderId);
        if (hold.pools.length > 0) this.poolSalesVoided += 1;
        this.endHold(hold, event.returnTo === 'blocked');
        break;
      }
      case 'seats_blocked':
        for (const seat of event.seats) {
          check(this.seatHolder[seat] === null && !this.blocked[seat], inv, () => `${where}: seat ${this.inventory.seatId(seat)} is not free`);
          this.blocked[seat] = true;
        }
        break;
      case 'seats_unblocked':
        for (const seat of event.seats) {
          check(this.blocked[seat] === true, inv, () => `${where}: seat ${this.inventory.seatId(seat)} is not blocked`);
          this.blocked[seat] = false;
        }
        break;
      case 'waitlist_joined': {
        const { policy } = this.inventory;
        check(!this.everJoined.has(event.entryId), 'waitlist_offers', () => `${where}: entry id ${event.entryId} used twice`);
        check(![...this.waitlist.values()].some((entry) => entry.userId === event.userId), 'waitlist_offers', () => `${where}: ${event.userId} is already waiting`);
        check(Number.isInteger(event.partySize) && event.partySize >= 1 && event.partySize <= policy.maxItemsPerHold, 'waitlist_offers', () => `${where}: party of ${event.partySize}`);
        this.everJoined.add(event.entryId);
        this.waitlist.set(event.entryId, { entryId: event.entryId, userId: event.userId, partySize: event.partySize, tier: event.tier });
        break;
      }
      case 'waitlist_left':
        check(this.waitlist.delete(event.entryId), 'waitlist_offers', () => `${where}: entry ${event.entryId} is not waiting`);
        break;
      case 'waitlist_offered': {
        // Offers only go to entries that are waiting, and each takes its entry off the list.
        const entry = this.waitlist.get(event.entryId);
        check(entry !== undefined, 'waitlist_offers', () => `${where}: offer to ${event.entryId}, which is not waiting`);
        check(event.holdId === `${this.inventory.showId}.h${event.entryId.slice(1)}`, 'waitlist_offers', () => `${where}: offer hold id ${event.holdId} is not the entry's`);
        this.waitlist.delete(event.entryId);
        this.pendingOffer = { entryId: event.entryId, holdId: event.holdId, entry, version };
        this.offersMade += 1;
        break;
      }
    }
  }

  /** A waitlist offer: the entry's fan, exactly its party size, side by side in one row, in its tier, nothing else. */
  private checkOffer(where: string, event: Extract<ShowEvent, { type: 'hold_placed' }>, entry: RefEntry): void {
    const { inventory } = this;
    const seats = [...event.seats].sort((a, b) => a - b);
    const seatIds = (): string => seats.map((seat) => inventory.seatId(seat)).join(' ');
    check(event.offerFor === entry.entryId && event.userId === entry.userId, 'waitlist_offers', () => `${where}: offer for ${event.offerFor} to ${event.userId}, entry ${entry.entryId} is ${entry.userId}'s`);
    check(seats.length === entry.partySize && event.pools.length === 0 && !event.split, 'waitlist_offers', () => `${where}: offer of [${seatIds()}] + ${JSON.stringify(event.pools)} for a party of ${entry.partySize}`);
    const row = inventory.seatRow[seats[0]!]!;
    const adjacent = seats.every((seat, index) => inventory.seatRow[seat] === row && (index === 0 || seat === seats[index - 1]! + 1));
    check(adjacent, 'waitlist_offers', () => `${where}: offer seats [${seatIds()}] are not side by side in one row`);
    if (entry.tier !== null) check(seats.every((seat) => inventory.seatTier[seat] === entry.tier), 'waitlist_offers', () => `${where}: offer seats [${seatIds()}] are not all in tier ${inventory.tierIds[entry.tier!]}`);
  }

  /**
   * Presale channels, judged at the time the hold was decided (its expiry minus the TTL, on the
   * deciding actor's clock): no channel seat and no unit of a channel's pool allotment before
   * the release without the channel's key; a hold asked with an unknown key is never placed;
   * allotment units used are recorded exactly.
   */
  private checkChannels(where: string, event: Extract<ShowEvent, { type: 'hold_placed' }>): void {
    const { inventory } = this;
    const channels = inventory.channels;
    const key = event.offerFor === undefined ? this.holdKey(event.holdId) : undefined;
    const keyChannel = key === undefined ? null : channels.findIndex((channel) => channel.keyHash === key);
    check(keyChannel !== -1, 'channel_access', () => `${where}: hold ${event.holdId} placed with a presale key that matches no channel`);
    const decidedAtMs = event.expiresAtMs - (event.offerFor === undefined ? inventory.policy.holdTtlMs : inventory.policy.offerTtlMs);
    let keyed = false;
    let released = false;
    for (const seat of event.seats) {
      const channel = this.seatChannelOf.get(seat);
      if (channel === undefined) continue;
      if (this.restricted(channel, decidedAtMs)) keyed = true;
      else released = true;
      check(channel === keyChannel || !this.restricted(channel, decidedAtMs), 'channel_access', () => `${where}: ${event.userId} holds seat ${inventory.seatId(seat)} of channel ${channels[channel]!.id} at ${decidedAtMs} (released ${channels[channel]!.releaseAtMs ?? 'never'}) ${keyChannel === null ? 'without a key' : `with channel ${channels[keyChannel]!.id}'s key`}`);
    }
    const recorded = event.channelQuota ?? [];
    for (const [pool, quantity] of event.pools) {
      let reservedForOthers = 0;
      channels.forEach((_, channel) => {
        if (channel !== keyChannel && this.restricted(channel, decidedAtMs)) reservedForOthers += Math.max(0, this.channelQuota[channel]![pool]! - this.channelUsed[channel]![pool]!);
      });
      const free = inventory.pools[pool]!.capacity - this.poolHeld[pool]! - this.poolSold[pool]!;
      check(quantity <= free - reservedForOthers, 'channel_access', () => `${where}: ${quantity} of pool ${inventory.pools[pool]!.id} held with ${free} free of which ${reservedForOthers} are kept for other channels' key holders at ${decidedAtMs}`);
      const ownLeft = keyChannel !== null && this.restricted(keyChannel, decidedAtMs) ? Math.max(0, this.channelQuota[keyChannel]![pool]! - this.channelUsed[keyChannel]![pool]!) : 0;
      const expected = Math.min(ownLeft, quantity);
      const entries = recorded.filter(([entryPool]) => entryPool === pool);
      const ok = expected === 0 ? entries.length === 0 : entries.length === 1 && entries[0]![1] === keyChannel && entries[0]![2] === expected;
      check(ok, 'channel_access', () => `${where}: allotment use of pool ${inventory.pools[pool]!.id} recorded as ${JSON.stringify(entries)}, expected ${expected} units of channel ${keyChannel ?? '-'}`);
      if (expected > 0) keyed = true;
    }
    check(recorded.every(([pool]) => event.pools.some(([held]) => held === pool)), 'channel_access', () => `${where}: allotment use ${JSON.stringify(recorded)} for pools the hold does not take`);
    if (keyed) this.channelHoldsKeyed += 1;
    if (released) this.channelHoldsReleased += 1;
  }

  private endHold(hold: RefHold, block: boolean | null): void {
    for (const [pool, channel, units] of hold.channelQuota) this.channelUsed[channel]![pool]! -= units;
    for (const seat of hold.seats) {
      this.seatHolder[seat] = null;
      if (block === true) this.blocked[seat] = true;
    }
    for (const [pool, quantity] of hold.pools) {
      if (hold.status === 'sold') this.poolSold[pool]! -= quantity;
      else this.poolHeld[pool]! -= quantity;
    }
    this.holds.delete(hold.holdId);
  }

  /** Orders whose hold is sold now: order id → hold id. */
  get soldOrderHolds(): ReadonlyMap<string, string> {
    return this.soldOrders;
  }

  /** Whether a hold was ever confirmed for this order (voided or not). */
  wasConfirmed(orderId: string): boolean {
    return this.everConfirmed.has(orderId);
  }

  /** seat id → order id of every sold seat. */
  soldSeats(): Map<string, string> {
    const sold = new Map<string, string>();
    for (const hold of this.holds.values()) {
      if (hold.status !== 'sold') continue;
      for (const seat of hold.seats) sold.set(this.inventory.seatId(seat), hold.orderId!);
    }
    return sold;
  }

  seatCodes(): number[] {
    return this.seatHolder.map((holder, seat) => {
      if (this.blocked[seat]) return refSeatCode.blocked;
      if (holder === null) return refSeatCode.free;
      return this.holds.get(holder)!.status === 'sold' ? refSeatCode.sold : refSeatCode.held;
    });
  }

  poolAvailable(): number[] {
    return this.inventory.pools.map((pool, index) => pool.capacity - this.poolHeld[index]! - this.poolSold[index]!);
  }

  /** Held or pinned claims whose expiry is at or before `nowMs`. */
  overdueHolds(nowMs: number): string[] {
    const overdue: string[] = [];
    for (const hold of this.holds.values()) if (hold.status !== 'sold' && hold.expiresAtMs <= nowMs) overdue.push(`${hold.holdId} (${hold.status}, expired at ${hold.expiresAtMs})`);
    return overdue;
  }

  latestExpiryMs(): number {
    let latest = 0;
    for (const hold of this.holds.values()) if (hold.status !== 'sold') latest = Math.max(latest, hold.expiresAtMs);
    return latest;
  }

  get liveHolds(): number {
    let count = 0;
    for (const hold of this.holds.values()) if (hold.status !== 'sold') count += 1;
    return count;
  }
}
