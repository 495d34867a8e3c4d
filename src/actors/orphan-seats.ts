import type { ShowState } from './show-state.js';
import { seatStatus } from './show-state.js';

/**
 * Seats a claim would strand: a free seat left alone between taken seats (or between a taken
 * seat and the row's end) that was not alone before. Such seats rarely sell, so by default a
 * show refuses holds that create them (`orphan_seat`) and best-available never does.
 */
export function orphansCreatedBy(state: ShowState, claimed: readonly number[]): number[] {
  const orphans: number[] = [];
  if (claimed.length === 0) return orphans;
  const { inventory, seatStatus: status } = state;
  // Claims are a handful of seats: a linear scan of `claimed` beats building a set per claim.
  const isOpen = (seat: number): boolean => status[seat] === seatStatus.free && !claimed.includes(seat);
  for (const seat of claimed) {
    const row = inventory.seatRow[seat]!;
    const start = inventory.rowStart[row]!;
    const end = start + inventory.rowLength[row]!;
    for (let neighbour = seat - 1; neighbour <= seat + 1; neighbour += 2) {
      if (neighbour < start || neighbour >= end || !isOpen(neighbour)) continue;
      const leftOpen = neighbour - 1 >= start && isOpen(neighbour - 1);
      const rightOpen = neighbour + 1 < end && isOpen(neighbour + 1);
      if (!leftOpen && !rightOpen && !orphans.includes(neighbour)) orphans.push(neighbour);
    }
  }
  return orphans.length > 1 ? orphans.sort((a, b) => a - b) : orphans;
}

export function orphanRuleApplies(state: ShowState): boolean {
  return state.inventory.policy.orphanSeatRule !== false;
}
