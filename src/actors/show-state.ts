import { assert } from '../shared/assert.js';
import { ExpiryHeap } from './expiry-heap.js';
import type { Inventory } from './inventory.js';
import type { HoldStatus } from './messages.js';

export const seatStatus = { free: 0, held: 1, sold: 2, blocked: 3 } as const;
export type SeatStatusCode = (typeof seatStatus)[keyof typeof seatStatus];
export const seatStatusNames = ['available', 'held', 'sold', 'blocked'] as const;
export type SeatStatusName = (typeof seatStatusNames)[number];

export interface Claim {
  holdId: string;
  userId: string;
  status: HoldStatus;
  seats: number[];
  pools: [poolIndex: number, quantity: number][];
  expiresAtMs: number;
  extensionsUsed: number;
  orderId: string | null;
  totalCents: number;
  split: boolean;
  /** The waitlist entry this hold was offered to, or null for a hold the fan placed. */
  offerFor: string | null;
  /** Pool units taken from presale channel allotments: [pool, channel, units]. */
  channelQuota: [number, number, number][];
}

export interface WaitlistEntry {
  entryId: string;
  userId: string;
  partySize: number;
  tier: number | null;
  joinedAtMs: number;
}

export type HoldEnding = 'expired' | 'released' | 'voided';

/** One shared empty list for the claims that have no pools or channel units (most of them): claims never mutate their lists. */
export const noItems: never[] = Object.freeze([]) as unknown as never[];

/**
 * The in-memory state of one show. Owned by exactly one actor; `evolve` updates it in place
 * (typed arrays make copying 50,000 seats per event too costly), so a failed commit means
 * rebuilding from the journal, never patching.
 */
export interface ShowState {
  readonly inventory: Inventory;
  /** Number of events applied; equals the journal sequence of the last one. */
  version: number;
  readonly seatStatus: Uint8Array;
  /** Free seats per row, so best-available skips full rows without scanning them. */
  readonly rowFree: Uint32Array;
  readonly poolHeld: Int32Array;
  readonly poolSold: Int32Array;
  readonly claims: Map<string, Claim>;
  /** The hold pinned or sold to each order: one per order, so a pin checks it in O(1). */
  readonly holdIdByOrder: Map<string, string>;
  readonly activeHoldsByUser: Map<string, number>;
  readonly expiry: ExpiryHeap;
  /** Bounded memory of how recent holds ended (insertion order is eviction order). */
  readonly endedHolds: Map<string, HoldEnding>;
  /** Fans waiting for returned seats, in join order (a Map keeps insertion order). */
  readonly waitlist: Map<string, WaitlistEntry>;
  readonly waitlistEntryByUser: Map<string, string>;
  /** Units of each channel's pool allotment held or sold: channelPoolUsed[channel][pool]. */
  readonly channelPoolUsed: Int32Array[];
}

export function createShowState(inventory: Inventory): ShowState {
  const rowFree = new Uint32Array(inventory.rowCount);
  for (let row = 0; row < inventory.rowCount; row += 1) rowFree[row] = inventory.rowLength[row]!;
  return {
    inventory,
    version: 0,
    seatStatus: new Uint8Array(inventory.seatCount),
    rowFree,
    poolHeld: new Int32Array(inventory.pools.length),
    poolSold: new Int32Array(inventory.pools.length),
    claims: new Map(),
    holdIdByOrder: new Map(),
    activeHoldsByUser: new Map(),
    expiry: new ExpiryHeap(),
    endedHolds: new Map(),
    waitlist: new Map(),
    waitlistEntryByUser: new Map(),
    channelPoolUsed: inventory.channels.map(() => new Int32Array(inventory.pools.length)),
  };
}

export function poolAvailable(state: ShowState, pool: number): number {
  return state.inventory.pools[pool]!.capacity - state.poolHeld[pool]! - state.poolSold[pool]!;
}

/** Units of a channel's allotment of `pool` still unclaimed. */
export function channelQuotaLeft(state: ShowState, channel: number, pool: number): number {
  return Math.max(0, state.inventory.channelPoolQuota[channel]![pool]! - state.channelPoolUsed[channel]![pool]!);
}

/**
 * Units of `pool` a caller may hold at `nowMs`: the free units minus what unreleased channels
 * keep aside, plus the caller's own channel's allotment. Returns [available, from own allotment].
 */
export function poolAvailableTo(state: ShowState, pool: number, channel: number | null, nowMs: number): [available: number, ownQuota: number] {
  let reserved = 0;
  let own = 0;
  state.inventory.channels.forEach((_, index) => {
    if (!state.inventory.channelRestricted(index, nowMs)) return;
    const left = channelQuotaLeft(state, index, pool);
    reserved += left;
    if (index === channel) own = left;
  });
  return [Math.max(0, poolAvailable(state, pool) - reserved + own), own];
}

/** A live (held or pinned) claim whose expiry has not passed; sold claims never expire. */
export function isClaimLive(claim: Claim, nowMs: number): boolean {
  return claim.status === 'sold' || claim.expiresAtMs > nowMs;
}

/** Full consistency check, O(seats + claims): used by tests, replay and the simulator. */
export function checkStateInvariants(state: ShowState): void {
  const { inventory } = state;
  const expectedSeat = new Uint8Array(inventory.seatCount);
  const poolHeld = new Int32Array(inventory.pools.length);
  const poolSold = new Int32Array(inventory.pools.length);
  const activeByUser = new Map<string, number>();
  for (let seat = 0; seat < inventory.seatCount; seat += 1) {
    if (state.seatStatus[seat] === seatStatus.blocked) expectedSeat[seat] = seatStatus.blocked;
  }
  for (const claim of state.claims.values()) {
    const status = claim.status === 'sold' ? seatStatus.sold : seatStatus.held;
    for (const seat of claim.seats) {
      assert(expectedSeat[seat] === seatStatus.free, `seat ${inventory.seatId(seat)} is in two claims or blocked and claimed`);
      expectedSeat[seat] = status;
    }
    for (const [pool, quantity] of claim.pools) {
      if (claim.status === 'sold') poolSold[pool]! += quantity;
      else poolHeld[pool]! += quantity;
    }
    if (claim.status !== 'sold') activeByUser.set(claim.userId, (activeByUser.get(claim.userId) ?? 0) + 1);
    if (claim.orderId !== null) {
      assert(state.holdIdByOrder.get(claim.orderId) === claim.holdId, `order ${claim.orderId} not indexed`);
    }
  }
  for (const [orderId, holdId] of state.holdIdByOrder) {
    assert(state.claims.get(holdId)?.orderId === orderId, `order ${orderId} indexed to hold ${holdId}, which is not its claim`);
  }
  for (let seat = 0; seat < inventory.seatCount; seat += 1) {
    assert(state.seatStatus[seat] === expectedSeat[seat], `seat ${inventory.seatId(seat)} status disagrees with claims`);
  }
  for (let row = 0; row < inventory.rowCount; row += 1) {
    let free = 0;
    const start = inventory.rowStart[row]!;
    for (let seat = start; seat < start + inventory.rowLength[row]!; seat += 1) if (state.seatStatus[seat] === seatStatus.free) free += 1;
    assert(state.rowFree[row] === free, `row ${row} free count is ${state.rowFree[row]} but ${free} seats are free`);
  }
  inventory.pools.forEach((pool, index) => {
    assert(state.poolHeld[index] === poolHeld[index], `pool ${pool.id} held count disagrees with claims`);
    assert(state.poolSold[index] === poolSold[index], `pool ${pool.id} sold count disagrees with claims`);
    assert(poolHeld[index]! + poolSold[index]! <= pool.capacity, `pool ${pool.id} over capacity`);
  });
  for (const [userId, count] of activeByUser) {
    assert(state.activeHoldsByUser.get(userId) === count, `user ${userId} active hold count disagrees`);
  }
  for (const [userId, count] of state.activeHoldsByUser) {
    assert(count > 0 && activeByUser.get(userId) === count, `user ${userId} has a stale active hold count`);
  }
  const channelUsed = inventory.channels.map(() => new Int32Array(inventory.pools.length));
  for (const claim of state.claims.values()) for (const [pool, channel, units] of claim.channelQuota) channelUsed[channel]![pool]! += units;
  channelUsed.forEach((used, channel) => used.forEach((units, pool) => {
    assert(state.channelPoolUsed[channel]![pool] === units, `channel ${channel} pool ${pool} usage disagrees with claims`);
    assert(units <= inventory.channelPoolQuota[channel]![pool]!, `channel ${channel} used more of pool ${pool} than allotted`);
  }));
  assert(state.waitlist.size === state.waitlistEntryByUser.size, 'waitlist index out of step');
  for (const [entryId, entry] of state.waitlist) {
    assert(state.waitlistEntryByUser.get(entry.userId) === entryId, `waitlist entry ${entryId} not indexed by its fan`);
  }
}

/** Whether a heap entry still names a live expiry (the hold exists, is unsold and has not moved). */
export function isExpiryCurrent(state: ShowState, holdId: string, expiresAtMs: number): boolean {
  const claim = state.claims.get(holdId);
  return claim !== undefined && claim.status !== 'sold' && claim.expiresAtMs === expiresAtMs;
}
