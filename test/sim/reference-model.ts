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
}

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
  /** Voided sales that included pool units (coverage). */
  poolSalesVoided = 0;

  constructor(private readonly inventory: Inventory) {
    this.seatHolder = Array.from({ length: inventory.seatCount }, () => null);
    this.blocked = Array.from({ length: inventory.seatCount }, () => false);
    this.poolHeld = inventory.pools.map(() => 0);
    this.poolSold = inventory.pools.map(() => 0);
  }

  apply(event: ShowEvent, version: number): void {
    const where = `event v${version} ${event.type}`;
    const inv = 'no_oversell';
    switch (event.type) {
      case 'hold_placed': {
        check(!this.everPlaced.has(event.holdId), inv, () => `${where}: hold id ${event.holdId} used twice`);
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
      default:
        // Events that move no inventory (waitlist bookkeeping): nothing to check here.
        break;
    }
  }

  private endHold(hold: RefHold, block: boolean | null): void {
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
