import { unreachable } from '../shared/assert.js';
import type { ShowEvent } from './messages.js';
import type { ShowState } from './show-state.js';
import type { OutboxMessage, SaleRows } from '../persistence/journal.js';

/** What one batch changed, gathered while its events are applied (before each one, since an ended hold's seats are gone after). */
export interface BatchEffects extends SaleRows {
  touchedSeats: Set<number>;
  touchedPools: Set<number>;
  outbox: OutboxMessage[];
  /** Waitlist offers made in the batch (their holds follow as hold_placed). */
  offers: { entryId: string; holdId: string }[];
  /** Inventory came back (expiry, release, void, unblock): waitlisted fans may get offers. */
  freedInventory: boolean;
}

export function emptyBatchEffects(): BatchEffects {
  return { touchedSeats: new Set(), touchedPools: new Set(), seatsSold: [], seatsUnsold: [], poolSoldDeltas: [], outbox: [], offers: [], freedInventory: false };
}

/** Records the effects of `event`; call it before the event is applied to `state`. */
export function collectEffects(effects: BatchEffects, state: ShowState, event: ShowEvent): void {
  const { inventory } = state;
  if (event.type === 'hold_placed' && event.offerFor === undefined) {
    touchItems(effects, event.seats, event.pools); // the hot path of a sale: no closures
    return;
  }
  const touch = (seats: number[], pools: [number, number][]): void => touchItems(effects, seats, pools);
  const poolDeltas = (pools: [number, number][], sign: 1 | -1): void => {
    for (const [pool, quantity] of pools) {
      const definition = inventory.pools[pool]!;
      effects.poolSoldDeltas.push({ poolId: definition.id, delta: sign * quantity, capacity: definition.capacity });
    }
  };
  switch (event.type) {
    case 'hold_placed':
      touchItems(effects, event.seats, event.pools);
      if (event.offerFor !== undefined) {
        effects.outbox.push({
          topic: 'WaitlistOffer',
          payload: { showId: inventory.showId, holdId: event.holdId, userId: event.userId, seats: event.seats.map((seat) => inventory.seatId(seat)), expiresAtMs: event.expiresAtMs },
        });
      }
      break;
    case 'hold_released':
    case 'hold_expired': {
      const claim = state.claims.get(event.holdId);
      if (claim === undefined) return;
      effects.freedInventory = true;
      touch(claim.seats, claim.pools);
      effects.outbox.push({
        topic: event.type === 'hold_expired' ? 'HoldExpired' : 'SeatsReleased',
        payload: { showId: inventory.showId, holdId: claim.holdId, userId: claim.userId, orderId: claim.orderId, seats: claim.seats.map((seat) => inventory.seatId(seat)), pools: claim.pools.map(([pool, quantity]) => ({ poolId: inventory.pools[pool]!.id, quantity })) },
      });
      break;
    }
    case 'hold_confirmed': {
      const claim = state.claims.get(event.holdId);
      if (claim === undefined) return;
      touch(claim.seats, claim.pools);
      for (const seat of claim.seats) effects.seatsSold.push({ seatId: inventory.seatId(seat), orderId: event.orderId });
      poolDeltas(claim.pools, 1);
      break;
    }
    case 'sale_voided': {
      const claim = state.claims.get(event.holdId);
      if (claim === undefined) return;
      effects.freedInventory = true;
      touch(claim.seats, claim.pools);
      for (const seat of claim.seats) effects.seatsUnsold.push(inventory.seatId(seat));
      poolDeltas(claim.pools, -1);
      effects.outbox.push({
        topic: 'SeatsReleased',
        payload: { showId: inventory.showId, holdId: claim.holdId, orderId: event.orderId, reason: 'sale_voided', seats: claim.seats.map((seat) => inventory.seatId(seat)) },
      });
      break;
    }
    case 'seats_unblocked':
      effects.freedInventory = true;
      touch(event.seats, []);
      break;
    case 'seats_blocked':
      touch(event.seats, []);
      break;
    case 'waitlist_offered':
      effects.offers.push({ entryId: event.entryId, holdId: event.holdId });
      break;
    case 'hold_extended':
    case 'hold_pinned':
    case 'waitlist_joined':
    case 'waitlist_left':
      break;
    default:
      unreachable(event, 'event');
  }
}

function touchItems(effects: BatchEffects, seats: number[], pools: [number, number][]): void {
  for (let index = 0; index < seats.length; index += 1) effects.touchedSeats.add(seats[index]!);
  for (let index = 0; index < pools.length; index += 1) effects.touchedPools.add(pools[index]![0]);
}
