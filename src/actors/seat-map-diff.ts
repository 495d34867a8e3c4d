import type { SeatStatusCode, ShowState } from './show-state.js';
import type { HoldView } from './messages.js';
import { holdView } from './decide.js';
import { poolAvailable } from './show-state.js';

/**
 * Committed changes of one show between two versions: each touched seat's new status code
 * and each touched pool's units still available. Only committed state is ever published.
 */
export interface SeatMapDiff {
  showId: string;
  fromVersion: number;
  toVersion: number;
  /** When the commit was acknowledged (server clock); lets watchers measure delivery delay. */
  committedAtMs: number;
  seats: [seat: number, status: SeatStatusCode][];
  pools: [pool: number, available: number][];
  /** Seats and pool units still available after this change: 0 means sold out (for now). */
  itemsAvailable: number;
  /** Waitlist offers made in this change, to push to their fans. */
  offers: HoldView[];
  /** Price tiers with no seat left to hold after this change. */
  tiersSoldOut: string[];
}

export interface AvailabilitySnapshot {
  showId: string;
  version: number;
  /** One status code per seat, in inventory order. */
  seatStatus: Uint8Array;
  poolAvailable: number[];
  /** Holds alive now (held or pinned for payment): the waiting room's measure of checkout load. */
  activeHolds: number;
  /** Seats and pool units still available to hold. */
  itemsAvailable: number;
}

export function diffOf(state: ShowState, fromVersion: number, committedAtMs: number, touchedSeats: Iterable<number>, touchedPools: Iterable<number>, offerHoldIds: string[] = []): SeatMapDiff {
  const seats = [...touchedSeats].sort((a, b) => a - b).map((seat): [number, SeatStatusCode] => [seat, state.seatStatus[seat] as SeatStatusCode]);
  const pools = [...touchedPools].sort((a, b) => a - b).map((pool): [number, number] => [pool, poolAvailable(state, pool)]);
  const offers = offerHoldIds.flatMap((holdId) => {
    const claim = state.claims.get(holdId);
    return claim === undefined ? [] : [holdView(state, claim)];
  });
  return { showId: state.inventory.showId, fromVersion, toVersion: state.version, committedAtMs, seats, pools, itemsAvailable: availableItems(state), offers, tiersSoldOut: tiersSoldOut(state) };
}

export function availabilityOf(state: ShowState): AvailabilitySnapshot {
  return {
    showId: state.inventory.showId,
    version: state.version,
    seatStatus: state.seatStatus.slice(),
    poolAvailable: state.inventory.pools.map((_, pool) => poolAvailable(state, pool)),
    activeHolds: [...state.activeHoldsByUser.values()].reduce((sum, count) => sum + count, 0),
    itemsAvailable: availableItems(state),
  };
}

function availableItems(state: ShowState): number {
  let available = 0;
  for (let row = 0; row < state.inventory.rowCount; row += 1) available += state.rowFree[row]!;
  for (let pool = 0; pool < state.inventory.pools.length; pool += 1) available += poolAvailable(state, pool);
  return available;
}

/** Tiers whose rows have no free seat: the per-row free counts make this O(rows). */
function tiersSoldOut(state: ShowState): string[] {
  const { inventory } = state;
  return inventory.tierIds.filter((_, tier) => {
    const rows = inventory.tierRows[tier]!;
    if (rows.length === 0) return false;
    for (const row of rows) {
      if (state.rowFree[row] === 0) continue;
      const start = inventory.rowStart[row]!;
      for (let seat = start; seat < start + inventory.rowLength[row]!; seat += 1) {
        if (inventory.seatTier[seat] === tier && state.seatStatus[seat] === 0) return false;
      }
    }
    return true;
  });
}
