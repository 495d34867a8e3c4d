import { pack, unpack } from 'msgpackr';
import { assert } from '../shared/assert.js';
import type { Inventory } from './inventory.js';
import type { HoldStatus } from './messages.js';
import { createShowState, noItems, type Claim, type HoldEnding, type ShowState } from './show-state.js';

const formatVersion = 2;

type ClaimTuple = [
  holdId: string,
  userId: string,
  status: HoldStatus,
  seats: number[],
  pools: [number, number][],
  expiresAtMs: number,
  extensionsUsed: number,
  orderId: string | null,
  totalCents: number,
  split: boolean,
  offerFor: string | null,
  channelQuota: [number, number, number][],
];

interface SnapshotBody {
  format: number;
  showId: string;
  seatCount: number;
  poolCount: number;
  version: number;
  seatStatus: Uint8Array;
  poolHeld: number[];
  poolSold: number[];
  claims: ClaimTuple[];
  endedHolds: [string, HoldEnding][];
  waitlist: WaitlistTuple[];
}

type WaitlistTuple = [entryId: string, userId: string, partySize: number, tier: number | null, joinedAtMs: number];

/** Encodes the state compactly; derived indexes (row counts, per-user counts, expiry heap) are rebuilt on decode. */
export function encodeSnapshot(state: ShowState): Uint8Array {
  const body: SnapshotBody = {
    format: formatVersion,
    showId: state.inventory.showId,
    seatCount: state.inventory.seatCount,
    poolCount: state.inventory.pools.length,
    version: state.version,
    seatStatus: state.seatStatus,
    poolHeld: Array.from(state.poolHeld),
    poolSold: Array.from(state.poolSold),
    claims: [...state.claims.values()].map((claim): ClaimTuple => [
      claim.holdId, claim.userId, claim.status, claim.seats, claim.pools, claim.expiresAtMs,
      claim.extensionsUsed, claim.orderId, claim.totalCents, claim.split, claim.offerFor, claim.channelQuota,
    ]),
    waitlist: [...state.waitlist.values()].map((entry): WaitlistTuple => [entry.entryId, entry.userId, entry.partySize, entry.tier, entry.joinedAtMs]),
    endedHolds: [...state.endedHolds.entries()],
  };
  return pack(body);
}

export function decodeSnapshot(inventory: Inventory, data: Uint8Array): ShowState {
  const body = unpack(data) as SnapshotBody;
  assert(body.format === formatVersion, `unknown snapshot format ${body.format}`);
  assert(body.showId === inventory.showId && body.seatCount === inventory.seatCount && body.poolCount === inventory.pools.length, 'snapshot does not match the show inventory');
  const state = createShowState(inventory);
  state.version = body.version;
  state.seatStatus.set(body.seatStatus);
  state.poolHeld.set(body.poolHeld);
  state.poolSold.set(body.poolSold);
  for (let row = 0; row < inventory.rowCount; row += 1) {
    let free = 0;
    const start = inventory.rowStart[row]!;
    for (let seat = start; seat < start + inventory.rowLength[row]!; seat += 1) if (state.seatStatus[seat] === 0) free += 1;
    state.rowFree[row] = free;
  }
  for (const [holdId, userId, status, seats, pools, expiresAtMs, extensionsUsed, orderId, totalCents, split, offerFor, channelQuota] of body.claims) {
    const claim: Claim = { holdId, userId, status, seats, pools: pools.length === 0 ? noItems : pools, expiresAtMs, extensionsUsed, orderId, totalCents, split, offerFor: offerFor ?? null, channelQuota: channelQuota === undefined || channelQuota.length === 0 ? noItems : channelQuota };
    for (const [pool, channel, units] of claim.channelQuota) state.channelPoolUsed[channel]![pool]! += units;
    state.claims.set(holdId, claim);
    if (orderId !== null) state.holdIdByOrder.set(orderId, holdId);
    if (status === 'sold') {
      assert(orderId !== null, `sold hold ${holdId} has no order`);
    } else {
      state.activeHoldsByUser.set(userId, (state.activeHoldsByUser.get(userId) ?? 0) + 1);
      state.expiry.push(expiresAtMs, holdId);
    }
  }
  for (const [holdId, ending] of body.endedHolds) state.endedHolds.set(holdId, ending);
  for (const [entryId, userId, partySize, tier, joinedAtMs] of body.waitlist ?? []) {
    state.waitlist.set(entryId, { entryId, userId, partySize, tier, joinedAtMs });
    state.waitlistEntryByUser.set(userId, entryId);
  }
  return state;
}
