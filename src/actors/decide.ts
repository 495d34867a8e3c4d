import { unreachable } from '../shared/assert.js';
import { pickBestAvailable, type SeatFilter } from './best-available.js';
import { limits } from './limits.js';
import { orphanRuleApplies, orphansCreatedBy } from './orphan-seats.js';
import { reject, type HoldRequest, type HoldView, type ShowCommand, type ShowEvent, type ShowReply, type WaitlistEntryView } from './messages.js';
import { isExpiryCurrent, poolAvailableTo, seatStatus, type Claim, type ShowState } from './show-state.js';

export interface Decision {
  events: ShowEvent[];
  reply: ShowReply;
}

/**
 * The pure core: given the state, a command and the time, what happens. Reads the state,
 * never changes it; no clock, no randomness, no I/O. Checks run in a fixed order and each
 * refusal is a named result code; past the last check the command must succeed.
 */
export function decide(state: ShowState, command: ShowCommand, nowMs: number): Decision {
  switch (command.type) {
    case 'place_hold':
      return decidePlaceHold(state, command, nowMs);
    case 'release_hold':
      return decideRelease(state, command, nowMs);
    case 'extend_hold':
      return decideExtend(state, command, nowMs);
    case 'pin_hold':
      return decidePin(state, command, nowMs);
    case 'confirm_hold':
      return decideConfirm(state, command, nowMs);
    case 'void_sale':
      return decideVoid(state, command);
    case 'block_seats':
      return decideBlock(state, command.seats, 'block');
    case 'unblock_seats':
      return decideBlock(state, command.seats, 'unblock');
    case 'expire_due':
      return decideExpireDue(state, nowMs);
    case 'join_waitlist':
      return decideJoinWaitlist(state, command, nowMs);
    case 'leave_waitlist':
      return decideLeaveWaitlist(state, command);
    case 'make_offers':
      return decideMakeOffers(state, nowMs);
    default:
      return unreachable(command, 'command');
  }
}

function accepted(state: ShowState, events: ShowEvent[], hold?: HoldView, seatsChanged?: number): Decision {
  const reply: ShowReply = { ok: true, version: state.version + events.length };
  if (hold !== undefined) reply.hold = hold;
  if (seatsChanged !== undefined) reply.seatsChanged = seatsChanged;
  return { events, reply };
}

function refused(code: Parameters<typeof reject>[0], detail: string, extra?: Parameters<typeof reject>[2]): Decision {
  return { events: [], reply: reject(code, detail, extra) };
}

export function holdView(state: ShowState, claim: Claim): HoldView {
  const { inventory } = state;
  return {
    holdId: claim.holdId,
    showId: inventory.showId,
    userId: claim.userId,
    status: claim.status,
    seats: claim.seats.map((seat) => inventory.seatId(seat)),
    pools: claim.pools.map(([pool, quantity]) => ({ poolId: inventory.pools[pool]!.id, quantity })),
    expiresAtMs: claim.expiresAtMs,
    totalCents: claim.totalCents,
    currency: inventory.currency,
    extensionsLeft: Math.max(0, inventory.policy.maxExtensions - claim.extensionsUsed),
    orderId: claim.orderId,
    split: claim.split,
    offer: claim.offerFor !== null,
  };
}

type ResolvedItems = { seats: number[]; pools: [number, number][]; split: boolean; channelQuota: [number, number, number][]; /** The seats' ids when the request named them. */ seatIds: string[] | null } | Decision;

/** Whether `seat` may be held now by a caller of `channel`: general seats, released channels' ones, and their own channel's. */
function seatOpenTo(state: ShowState, seat: number, channel: number | null, nowMs: number): boolean {
  const seatChannel = state.inventory.seatChannel[seat]! - 1;
  return seatChannel === -1 || seatChannel === channel || !state.inventory.channelRestricted(seatChannel, nowMs);
}

/** Seats this caller may hold now: general ones, released channels' ones, and their own channel's. */
function seatsOpenTo(state: ShowState, channel: number | null, nowMs: number): SeatFilter {
  if (state.inventory.channels.length === 0) return () => true;
  return (seat) => seatOpenTo(state, seat, channel, nowMs);
}

const noChannelQuota: [number, number, number][] = [];

function decidePlaceHold(state: ShowState, command: Extract<ShowCommand, { type: 'place_hold' }>, nowMs: number): Decision {
  const { inventory } = state;
  const { policy } = inventory;
  if (nowMs < policy.onSaleAtMs) return refused('show_not_on_sale', `on sale from ${new Date(policy.onSaleAtMs).toISOString()}`);
  const shapeProblem = holdRequestShapeProblem(command.request);
  if (shapeProblem !== null) return refused('validation_failed', shapeProblem);
  const itemCount = countRequestedItems(command.request);
  if (itemCount > policy.maxItemsPerHold) return refused('hold_too_large', `at most ${policy.maxItemsPerHold} items per hold, asked for ${itemCount}`);
  const activeHolds = state.activeHoldsByUser.get(command.userId) ?? 0;
  if (activeHolds >= policy.maxActiveHoldsPerUser) return refused('too_many_holds', `at most ${policy.maxActiveHoldsPerUser} active holds per user`);
  if (state.claims.has(command.holdId) || state.endedHolds.has(command.holdId)) return refused('internal_error', 'hold id already used');

  let channel: number | null = null;
  if (command.channelKeyHash !== undefined) {
    channel = inventory.channelIndexOfKeyHash(command.channelKeyHash);
    if (channel === -1) return refused('channel_key_invalid', 'this presale code is not valid for this show');
  }
  const resolved = resolveRequestedItems(state, command.request, channel, nowMs);
  if ('reply' in resolved) return resolved;

  const { seats, pools, split, channelQuota } = resolved;
  let totalCents = 0;
  for (let index = 0; index < seats.length; index += 1) totalCents += inventory.seatPriceCents(seats[index]!);
  for (let index = 0; index < pools.length; index += 1) totalCents += inventory.pools[pools[index]![0]]!.priceCents * pools[index]![1];
  const expiresAtMs = nowMs + policy.holdTtlMs;
  const event: Extract<ShowEvent, { type: 'hold_placed' }> = { type: 'hold_placed', holdId: command.holdId, userId: command.userId, seats, pools, expiresAtMs, totalCents, split };
  if (channelQuota.length > 0) event.channelQuota = channelQuota;
  // The view of the new claim (as holdView would show it), built directly: this is the hot path of a sale.
  const seatIds = resolved.seatIds === null ? seats.map((seat) => inventory.seatId(seat)) : resolved.seatIds.slice();
  const hold: HoldView = {
    holdId: command.holdId,
    showId: inventory.showId,
    userId: command.userId,
    status: 'held',
    seats: seatIds,
    pools: pools.length === 0 ? [] : pools.map(([pool, quantity]) => ({ poolId: inventory.pools[pool]!.id, quantity })),
    expiresAtMs,
    totalCents,
    currency: inventory.currency,
    extensionsLeft: Math.max(0, policy.maxExtensions),
    orderId: null,
    split,
    offer: false,
  };
  return { events: [event], reply: { ok: true, version: state.version + 1, hold } };
}

function holdRequestShapeProblem(request: HoldRequest): string | null {
  const { seats, pools, bestAvailable } = request;
  const hasItems = (seats?.length ?? 0) + (pools?.length ?? 0) > 0;
  if (bestAvailable !== undefined && hasItems) return 'ask for best_available or for specific items, not both';
  if (bestAvailable === undefined && !hasItems) return 'a hold needs seats, pool quantities or best_available';
  if (pools !== undefined) {
    for (const pool of pools) if (!isPositiveInteger(pool.quantity)) return 'quantities must be positive integers';
  }
  if (bestAvailable !== undefined && !isPositiveInteger(bestAvailable.quantity)) return 'quantities must be positive integers';
  if (seats !== undefined && hasDuplicate(seats)) return 'a seat is listed twice';
  if (pools !== undefined && pools.length > 1 && hasDuplicate(pools.map((pool) => pool.poolId))) return 'a pool is listed twice';
  return null;
}

function isPositiveInteger(value: number): boolean {
  return Number.isInteger(value) && value >= 1;
}

function hasDuplicate(values: readonly string[]): boolean {
  if (values.length > 16) return new Set(values).size !== values.length;
  for (let index = 1; index < values.length; index += 1) {
    for (let other = 0; other < index; other += 1) if (values[index] === values[other]) return true;
  }
  return false;
}

function countRequestedItems(request: HoldRequest): number {
  if (request.bestAvailable !== undefined) return request.bestAvailable.quantity;
  let count = request.seats?.length ?? 0;
  if (request.pools !== undefined) for (const pool of request.pools) count += pool.quantity;
  return count;
}

function resolveRequestedItems(state: ShowState, request: HoldRequest, channel: number | null, nowMs: number): ResolvedItems {
  const { inventory } = state;
  if (request.bestAvailable !== undefined) {
    const { quantity, tierId } = request.bestAvailable;
    const tierIndex = tierId === undefined ? null : inventory.tierIndexOf(tierId);
    if (tierIndex === -1) return refused('validation_failed', `unknown tier ${tierId}`);
    const pick = pickBestAvailable(state, quantity, tierIndex, seatsOpenTo(state, channel, nowMs));
    if (pick === null) return refused('sold_out', `fewer than ${quantity} seats left${tierId ? ` in tier ${tierId}` : ''}`);
    return { seats: pick.seats, pools: [], split: pick.split, channelQuota: noChannelQuota, seatIds: null };
  }
  const seatIds = request.seats ?? [];
  // Lists kept in a reply (it is cached and stored) are built exactly sized, on the refusal path only.
  const seats = new Array<number>(seatIds.length);
  let unknown = false;
  for (let index = 0; index < seatIds.length; index += 1) {
    const seat = inventory.seatIndexOf(seatIds[index]!);
    seats[index] = seat;
    if (seat === -1) unknown = true;
  }
  if (unknown) {
    const unknownSeats = seatIds.filter((_, index) => seats[index] === -1);
    return refused('unknown_seat', `unknown seats: ${unknownSeats.join(', ')}`, { seats: unknownSeats });
  }
  if (inventory.channels.length > 0) {
    const restrictedSeats = seats.filter((seat) => !seatOpenTo(state, seat, channel, nowMs)).map((seat) => inventory.seatId(seat));
    if (restrictedSeats.length > 0) return refused('channel_restricted', `reserved for a presale: ${restrictedSeats.join(', ')}`, { seats: restrictedSeats });
  }
  let taken = false;
  for (let index = 0; index < seats.length && !taken; index += 1) taken = state.seatStatus[seats[index]!] !== seatStatus.free;
  if (taken) {
    const takenSeats = seats.filter((seat) => state.seatStatus[seat] !== seatStatus.free).map((seat) => inventory.seatId(seat));
    return refused('seat_unavailable', `no longer available: ${takenSeats.join(', ')}`, { seats: takenSeats });
  }
  if (seats.length > 0 && orphanRuleApplies(state)) {
    const orphans = orphansCreatedBy(state, seats);
    if (orphans.length > 0) {
      const stranded = orphans.map((seat) => inventory.seatId(seat));
      return refused('orphan_seat', `this would leave a single seat alone: ${stranded.join(', ')}; include it or choose other seats`, { seats: stranded });
    }
  }

  const poolRequests = request.pools;
  if (poolRequests === undefined || poolRequests.length === 0) return { seats, pools: [], split: false, channelQuota: noChannelQuota, seatIds };
  const pools = poolRequests.map(({ poolId, quantity }): [number, number] => [inventory.poolIndexOf(poolId), quantity]);
  const unknownPools = poolRequests.filter((_, index) => pools[index]![0] === -1).map((pool) => pool.poolId);
  if (unknownPools.length > 0) return refused('unknown_pool', `unknown pools: ${unknownPools.join(', ')}`, { pools: unknownPools });
  const channelQuota: [number, number, number][] = [];
  const shortPools: string[] = [];
  for (const [pool, quantity] of pools) {
    const [available, own] = poolAvailableTo(state, pool, channel, nowMs);
    if (available < quantity) shortPools.push(inventory.pools[pool]!.id);
    else if (channel !== null && own > 0) channelQuota.push([pool, channel, Math.min(own, quantity)]);
  }
  if (shortPools.length > 0) return refused('pool_unavailable', `not enough left in: ${shortPools.join(', ')}`, { pools: shortPools });
  return { seats, pools, split: false, channelQuota, seatIds };
}

/** The live claim a fan or the order saga names, or the refusal that explains why there is none. */
function findActiveClaim(state: ShowState, holdId: string, nowMs: number, userId: string | null): Claim | Decision {
  const claim = state.claims.get(holdId);
  if (claim === undefined) {
    const ending = state.endedHolds.get(holdId);
    if (ending === 'expired') return refused('hold_expired', `hold ${holdId} expired`);
    if (ending !== undefined) return refused('hold_not_active', `hold ${holdId} was ${ending}`);
    return refused('hold_not_found', `no hold ${holdId}`);
  }
  if (userId !== null && claim.userId !== userId) return refused('forbidden', `hold ${holdId} belongs to another user`);
  if (claim.status !== 'sold' && claim.expiresAtMs <= nowMs) return refused('hold_expired', `hold ${holdId} expired`);
  return claim;
}

function decideRelease(state: ShowState, command: Extract<ShowCommand, { type: 'release_hold' }>, nowMs: number): Decision {
  const claim = findActiveClaim(state, command.holdId, nowMs, command.userId);
  if ('reply' in claim) return claim;
  if (claim.status === 'sold') return refused('hold_not_active', `hold ${command.holdId} is sold; void the sale instead`);
  return accepted(state, [{ type: 'hold_released', holdId: claim.holdId }], { ...holdView(state, claim), expiresAtMs: nowMs });
}

function decideExtend(state: ShowState, command: Extract<ShowCommand, { type: 'extend_hold' }>, nowMs: number): Decision {
  const claim = findActiveClaim(state, command.holdId, nowMs, command.userId);
  if ('reply' in claim) return claim;
  if (claim.status !== 'held') return refused('hold_not_active', `hold ${command.holdId} is ${claim.status}`);
  const { policy } = state.inventory;
  if (claim.extensionsUsed >= policy.maxExtensions) return refused('extension_limit_reached', `a hold can be extended ${policy.maxExtensions} times`);
  const expiresAtMs = claim.expiresAtMs + policy.extensionMs;
  const view = holdView(state, { ...claim, expiresAtMs, extensionsUsed: claim.extensionsUsed + 1 });
  return accepted(state, [{ type: 'hold_extended', holdId: claim.holdId, expiresAtMs }], view);
}

function decidePin(state: ShowState, command: Extract<ShowCommand, { type: 'pin_hold' }>, nowMs: number): Decision {
  const claim = findActiveClaim(state, command.holdId, nowMs, command.userId);
  if ('reply' in claim) return claim;
  if (claim.status !== 'held') {
    if (claim.orderId === command.orderId) return accepted(state, [], holdView(state, claim));
    return refused('hold_not_active', `hold ${command.holdId} is ${claim.status} for another order`);
  }
  const windowMs = command.paymentWindowMs ?? state.inventory.policy.paymentWindowMs;
  if (!Number.isInteger(windowMs) || windowMs < limits.paymentWindowMsMin || windowMs > limits.paymentWindowMsMax) {
    return refused('validation_failed', `payment window must be ${limits.paymentWindowMsMin}..${limits.paymentWindowMsMax} ms`);
  }
  const otherHoldId = state.holdIdByOrder.get(command.orderId);
  if (otherHoldId !== undefined) return refused('hold_not_active', `order ${command.orderId} already has hold ${otherHoldId}`);
  const expiresAtMs = nowMs + windowMs;
  const view = holdView(state, { ...claim, status: 'pinned', orderId: command.orderId, expiresAtMs });
  return accepted(state, [{ type: 'hold_pinned', holdId: claim.holdId, orderId: command.orderId, expiresAtMs }], view);
}

function decideConfirm(state: ShowState, command: Extract<ShowCommand, { type: 'confirm_hold' }>, nowMs: number): Decision {
  const claim = findActiveClaim(state, command.holdId, nowMs, null);
  if ('reply' in claim) return claim;
  if (claim.orderId !== command.orderId) return refused('hold_not_active', `hold ${command.holdId} is not pinned to order ${command.orderId}`);
  if (claim.status === 'sold') return accepted(state, [], holdView(state, claim));
  if (claim.status !== 'pinned') return refused('hold_not_active', `hold ${command.holdId} is not pinned for payment`);
  const view = holdView(state, { ...claim, status: 'sold' });
  return accepted(state, [{ type: 'hold_confirmed', holdId: claim.holdId, orderId: command.orderId }], view);
}

function decideVoid(state: ShowState, command: Extract<ShowCommand, { type: 'void_sale' }>): Decision {
  const holdId = state.holdIdByOrder.get(command.orderId);
  const claim = holdId === undefined ? undefined : state.claims.get(holdId);
  if (claim === undefined || claim.status !== 'sold') return refused('sale_not_found', `no sale for order ${command.orderId}`);
  const event: ShowEvent = { type: 'sale_voided', holdId: claim.holdId, orderId: command.orderId, returnTo: command.returnTo };
  return accepted(state, [event], undefined, claim.seats.length);
}

function decideBlock(state: ShowState, seatIds: string[], action: 'block' | 'unblock'): Decision {
  const { inventory } = state;
  if (seatIds.length === 0) return refused('validation_failed', 'no seats given');
  const seats = [...new Set(seatIds)].map((seatId) => inventory.seatIndexOf(seatId));
  const unknown = seatIds.filter((seatId) => inventory.seatIndexOf(seatId) === -1);
  if (unknown.length > 0) return refused('unknown_seat', `unknown seats: ${unknown.join(', ')}`, { seats: unknown });
  if (action === 'block') {
    const claimed = seats.filter((seat) => state.seatStatus[seat] === seatStatus.held || state.seatStatus[seat] === seatStatus.sold);
    if (claimed.length > 0) {
      const ids = claimed.map((seat) => inventory.seatId(seat));
      return refused('seat_not_blockable', `held or sold: ${ids.join(', ')}`, { seats: ids });
    }
    const toBlock = seats.filter((seat) => state.seatStatus[seat] === seatStatus.free).sort((a, b) => a - b);
    return accepted(state, toBlock.length > 0 ? [{ type: 'seats_blocked', seats: toBlock }] : [], undefined, toBlock.length);
  }
  const toUnblock = seats.filter((seat) => state.seatStatus[seat] === seatStatus.blocked).sort((a, b) => a - b);
  return accepted(state, toUnblock.length > 0 ? [{ type: 'seats_unblocked', seats: toUnblock }] : [], undefined, toUnblock.length);
}

function decideExpireDue(state: ShowState, nowMs: number): Decision {
  const due = state.expiry.collectDue(nowMs, (holdId, expiresAtMs) => isExpiryCurrent(state, holdId, expiresAtMs));
  return accepted(state, due.map((holdId): ShowEvent => ({ type: 'hold_expired', holdId })));
}

function waitlistView(state: ShowState, entryId: string): WaitlistEntryView {
  const entry = state.waitlist.get(entryId)!;
  let position = 1;
  for (const other of state.waitlist.keys()) {
    if (other === entryId) break;
    position += 1;
  }
  return {
    entryId, showId: state.inventory.showId, userId: entry.userId, partySize: entry.partySize,
    tierId: entry.tier === null ? null : state.inventory.tierIds[entry.tier]!, position,
  };
}

function decideJoinWaitlist(state: ShowState, command: Extract<ShowCommand, { type: 'join_waitlist' }>, nowMs: number): Decision {
  const { policy, tierIds } = state.inventory;
  const existing = state.waitlistEntryByUser.get(command.userId);
  if (existing !== undefined) return { events: [], reply: { ok: true, version: state.version, waitlist: waitlistView(state, existing) } };
  if (!Number.isInteger(command.partySize) || command.partySize < 1 || command.partySize > policy.maxItemsPerHold) {
    return refused('validation_failed', `party size must be 1..${policy.maxItemsPerHold}`);
  }
  const tier = command.tierId === undefined ? null : state.inventory.tierIndexOf(command.tierId);
  if (tier === -1) return refused('validation_failed', `unknown tier ${command.tierId}`);
  if (state.waitlist.size >= limits.waitlistEntriesMax) return refused('overloaded', 'the waitlist is full');
  if (pickAdjacentForParty(state, command.partySize, tier, nowMs) !== null) {
    return refused('seats_available', `seats for ${command.partySize} are on sale${tier === null ? '' : ` in tier ${tierIds[tier]}`}: hold them instead`);
  }
  const event: ShowEvent = { type: 'waitlist_joined', entryId: command.entryId, userId: command.userId, partySize: command.partySize, tier, joinedAtMs: nowMs };
  const view: WaitlistEntryView = { entryId: command.entryId, showId: state.inventory.showId, userId: command.userId, partySize: command.partySize, tierId: command.tierId ?? null, position: state.waitlist.size + 1 };
  return { events: [event], reply: { ok: true, version: state.version + 1, waitlist: view } };
}

function decideLeaveWaitlist(state: ShowState, command: Extract<ShowCommand, { type: 'leave_waitlist' }>): Decision {
  const entryId = state.waitlistEntryByUser.get(command.userId);
  if (entryId === undefined) return refused('not_found', 'you are not on the waitlist');
  return accepted(state, [{ type: 'waitlist_left', entryId }]);
}

/** Seats side by side for a whole waitlisted party, or null: a party is never offered a split. */
function pickAdjacentForParty(state: ShowState, partySize: number, tier: number | null, nowMs: number): number[] | null {
  const pick = pickBestAvailable(state, partySize, tier, seatsOpenTo(state, null, nowMs));
  return pick !== null && !pick.split ? pick.seats : null;
}

/**
 * Offers returned seats to waitlisted fans in join order: each fan whose party fits side by side
 * gets a hold made for them, with the show's offer TTL; a party that does not fit waits while
 * later, smaller parties may be served. Offers see the seats already offered in this pass.
 */
function decideMakeOffers(state: ShowState, nowMs: number): Decision {
  const events: ShowEvent[] = [];
  const offered = new Set<number>();
  let scanned = 0;
  for (const entry of state.waitlist.values()) {
    if (scanned >= limits.waitlistScanPerBatchMax || events.length / 2 >= limits.offersPerBatchMax) break;
    scanned += 1;
    if ((state.activeHoldsByUser.get(entry.userId) ?? 0) >= state.inventory.policy.maxActiveHoldsPerUser) continue;
    const seats = pickAdjacentExcluding(state, entry.partySize, entry.tier, offered, nowMs);
    if (seats === null) continue;
    for (const seat of seats) offered.add(seat);
    const holdId = offerHoldId(state.inventory.showId, entry.entryId);
    let totalCents = 0;
    for (const seat of seats) totalCents += state.inventory.seatPriceCents(seat);
    events.push(
      { type: 'waitlist_offered', entryId: entry.entryId, holdId },
      { type: 'hold_placed', holdId, userId: entry.userId, seats, pools: [], expiresAtMs: nowMs + state.inventory.policy.offerTtlMs, totalCents, split: false, offerFor: entry.entryId },
    );
  }
  return accepted(state, events);
}

/** Entry ids are `w<random>`; the offer's hold id reuses the random part, so it is unique and pure. */
export function offerHoldId(showId: string, entryId: string): string {
  return `${showId}.h${entryId.slice(1)}`;
}

function pickAdjacentExcluding(state: ShowState, partySize: number, tier: number | null, excluded: Set<number>, nowMs: number): number[] | null {
  if (excluded.size === 0) return pickAdjacentForParty(state, partySize, tier, nowMs);
  // Pretend the seats offered earlier in this pass are taken (restored right after).
  const saved = [...excluded].map((seat) => [seat, state.seatStatus[seat]!] as const);
  for (const seat of excluded) {
    state.seatStatus[seat] = seatStatus.held;
    state.rowFree[state.inventory.seatRow[seat]!]! -= 1;
  }
  try {
    return pickAdjacentForParty(state, partySize, tier, nowMs);
  } finally {
    for (const [seat, status] of saved) {
      state.seatStatus[seat] = status;
      state.rowFree[state.inventory.seatRow[seat]!]! += 1;
    }
  }
}
