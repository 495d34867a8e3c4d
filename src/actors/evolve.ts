import { assert, unreachable } from '../shared/assert.js';
import { limits } from './limits.js';
import type { ShowEvent } from './messages.js';
import { isExpiryCurrent, noItems, poolAvailable, seatStatus, type Claim, type HoldEnding, type SeatStatusCode, type ShowState } from './show-state.js';

/**
 * Applies one journaled event to the state, in place, and returns it. Events were validated
 * by `decide`; here a violated precondition is a bug and stops the actor (it then recovers
 * from the journal) rather than selling a seat twice.
 */
export function evolve(state: ShowState, event: ShowEvent): ShowState {
  switch (event.type) {
    case 'hold_placed': {
      assert(!state.claims.has(event.holdId), `hold ${event.holdId} placed twice`);
      for (const seat of event.seats) setSeat(state, seat, seatStatus.free, seatStatus.held);
      for (const [pool, quantity] of event.pools) {
        assert(poolAvailable(state, pool) >= quantity, `pool ${pool} oversold by hold ${event.holdId}`);
        state.poolHeld[pool]! += quantity;
      }
      const claim: Claim = {
        holdId: event.holdId,
        userId: event.userId,
        status: 'held',
        seats: event.seats,
        pools: event.pools.length === 0 ? noItems : event.pools,
        expiresAtMs: event.expiresAtMs,
        extensionsUsed: 0,
        orderId: null,
        totalCents: event.totalCents,
        split: event.split,
        offerFor: event.offerFor ?? null,
        channelQuota: event.channelQuota ?? noItems,
      };
      for (const [pool, channel, units] of claim.channelQuota) state.channelPoolUsed[channel]![pool]! += units;
      state.claims.set(event.holdId, claim);
      state.activeHoldsByUser.set(event.userId, (state.activeHoldsByUser.get(event.userId) ?? 0) + 1);
      state.expiry.push(event.expiresAtMs, event.holdId);
      break;
    }
    case 'hold_released':
    case 'hold_expired':
      endActiveClaim(state, event.holdId, event.type === 'hold_released' ? 'released' : 'expired');
      break;
    case 'hold_extended': {
      const claim = activeClaim(state, event.holdId);
      assert(event.expiresAtMs > claim.expiresAtMs, `hold ${event.holdId} extension must move expiry forward`);
      claim.expiresAtMs = event.expiresAtMs;
      claim.extensionsUsed += 1;
      state.expiry.push(event.expiresAtMs, event.holdId);
      break;
    }
    case 'hold_pinned': {
      const claim = activeClaim(state, event.holdId);
      claim.status = 'pinned';
      claim.orderId = event.orderId;
      claim.expiresAtMs = event.expiresAtMs;
      state.holdIdByOrder.set(event.orderId, event.holdId);
      state.expiry.push(event.expiresAtMs, event.holdId);
      break;
    }
    case 'hold_confirmed': {
      const claim = activeClaim(state, event.holdId);
      assert(claim.status === 'pinned' && claim.orderId === event.orderId, `hold ${event.holdId} confirmed without its pin`);
      for (const seat of claim.seats) setSeat(state, seat, seatStatus.held, seatStatus.sold);
      for (const [pool, quantity] of claim.pools) {
        state.poolHeld[pool]! -= quantity;
        state.poolSold[pool]! += quantity;
      }
      claim.status = 'sold';
      state.holdIdByOrder.set(event.orderId, event.holdId);
      decrementActiveHolds(state, claim.userId);
      break;
    }
    case 'sale_voided': {
      const claim = state.claims.get(event.holdId);
      assert(claim !== undefined && claim.status === 'sold' && claim.orderId === event.orderId, `sale ${event.orderId} voided but not sold`);
      const returnTo = event.returnTo === 'blocked' ? seatStatus.blocked : seatStatus.free;
      for (const seat of claim.seats) setSeat(state, seat, seatStatus.sold, returnTo);
      for (const [pool, quantity] of claim.pools) state.poolSold[pool]! -= quantity;
      for (const [pool, channel, units] of claim.channelQuota) state.channelPoolUsed[channel]![pool]! -= units;
      state.claims.delete(event.holdId);
      state.holdIdByOrder.delete(event.orderId);
      rememberEnding(state, event.holdId, 'voided');
      break;
    }
    case 'seats_blocked':
      for (const seat of event.seats) setSeat(state, seat, seatStatus.free, seatStatus.blocked);
      break;
    case 'seats_unblocked':
      for (const seat of event.seats) setSeat(state, seat, seatStatus.blocked, seatStatus.free);
      break;
    case 'waitlist_joined':
      assert(!state.waitlistEntryByUser.has(event.userId), `user ${event.userId} is on the waitlist twice`);
      state.waitlist.set(event.entryId, { entryId: event.entryId, userId: event.userId, partySize: event.partySize, tier: event.tier, joinedAtMs: event.joinedAtMs });
      state.waitlistEntryByUser.set(event.userId, event.entryId);
      break;
    case 'waitlist_left':
    case 'waitlist_offered': {
      const entry = state.waitlist.get(event.entryId);
      assert(entry !== undefined, `waitlist entry ${event.entryId} is not waiting`);
      state.waitlist.delete(event.entryId);
      state.waitlistEntryByUser.delete(entry.userId);
      break;
    }
    default:
      unreachable(event, 'event');
  }
  state.version += 1;
  const { expiry } = state;
  // Most events leave the earliest expiry current: check it before building the pruning callback.
  if (expiry.size > 0 && !isExpiryCurrent(state, expiry.peekHoldId()!, expiry.peekMs()!)) {
    expiry.pruneStale((holdId, expiresAtMs) => isExpiryCurrent(state, holdId, expiresAtMs));
  }
  return state;
}

function setSeat(state: ShowState, seat: number, from: SeatStatusCode, to: SeatStatusCode): void {
  const current = state.seatStatus[seat];
  assert(current === from, `seat ${state.inventory.seatId(seat)} is ${current}, expected ${from}`);
  state.seatStatus[seat] = to;
  const row = state.inventory.seatRow[seat]!;
  if (from === seatStatus.free) state.rowFree[row]! -= 1;
  if (to === seatStatus.free) state.rowFree[row]! += 1;
}

function activeClaim(state: ShowState, holdId: string): Claim {
  const claim = state.claims.get(holdId);
  assert(claim !== undefined && claim.status !== 'sold', `hold ${holdId} is not active`);
  return claim;
}

function endActiveClaim(state: ShowState, holdId: string, ending: HoldEnding): void {
  const claim = activeClaim(state, holdId);
  for (const seat of claim.seats) setSeat(state, seat, seatStatus.held, seatStatus.free);
  for (const [pool, quantity] of claim.pools) state.poolHeld[pool]! -= quantity;
  for (const [pool, channel, units] of claim.channelQuota) state.channelPoolUsed[channel]![pool]! -= units;
  state.claims.delete(holdId);
  if (claim.orderId !== null) state.holdIdByOrder.delete(claim.orderId);
  decrementActiveHolds(state, claim.userId);
  rememberEnding(state, holdId, ending);
}

function decrementActiveHolds(state: ShowState, userId: string): void {
  const count = state.activeHoldsByUser.get(userId) ?? 0;
  assert(count > 0, `user ${userId} has no active hold to end`);
  if (count === 1) state.activeHoldsByUser.delete(userId);
  else state.activeHoldsByUser.set(userId, count - 1);
}

function rememberEnding(state: ShowState, holdId: string, ending: HoldEnding): void {
  state.endedHolds.set(holdId, ending);
  if (state.endedHolds.size > limits.endedHoldsRememberedMax) {
    const oldest = state.endedHolds.keys().next().value;
    if (oldest !== undefined) state.endedHolds.delete(oldest);
  }
}
