import type { ShowState } from './show-state.js';
import { seatStatus } from './show-state.js';

export interface BestAvailablePick {
  seats: number[];
  /** True when no single row had the whole party side by side. */
  split: boolean;
}

/**
 * Chooses `quantity` free seats: within `tierIndex`, or else in the cheapest tier that has
 * enough. Rows are tried in the organizer's order (best first); the first row with `quantity`
 * adjacent free seats of the tier wins; failing that, the party is split over the best rows.
 */
export function pickBestAvailable(state: ShowState, quantity: number, tierIndex: number | null): BestAvailablePick | null {
  const tiers = tierIndex === null ? state.inventory.tiersByPrice : [tierIndex];
  for (const tier of tiers) {
    const adjacent = findAdjacentRun(state, quantity, tier);
    if (adjacent !== null) return { seats: adjacent, split: false };
    const scattered = collectFreeSeats(state, quantity, tier);
    if (scattered !== null) return { seats: scattered, split: true };
  }
  return null;
}

function findAdjacentRun(state: ShowState, quantity: number, tier: number): number[] | null {
  const { inventory } = state;
  for (const row of inventory.tierRows[tier]!) {
    if (state.rowFree[row]! < quantity) continue;
    const start = inventory.rowStart[row]!;
    const end = start + inventory.rowLength[row]!;
    let runStart = start;
    for (let seat = start; seat < end; seat += 1) {
      if (state.seatStatus[seat] !== seatStatus.free || inventory.seatTier[seat] !== tier) {
        runStart = seat + 1;
        continue;
      }
      if (seat - runStart + 1 === quantity) {
        return Array.from({ length: quantity }, (_, offset) => runStart + offset);
      }
    }
  }
  return null;
}

function collectFreeSeats(state: ShowState, quantity: number, tier: number): number[] | null {
  const { inventory } = state;
  const seats: number[] = [];
  for (const row of inventory.tierRows[tier]!) {
    if (seats.length >= quantity) break;
    if (state.rowFree[row] === 0) continue;
    const start = inventory.rowStart[row]!;
    const end = start + inventory.rowLength[row]!;
    for (let seat = start; seat < end && seats.length < quantity; seat += 1) {
      if (state.seatStatus[seat] === seatStatus.free && inventory.seatTier[seat] === tier) seats.push(seat);
    }
  }
  return seats.length === quantity ? seats : null;
}
