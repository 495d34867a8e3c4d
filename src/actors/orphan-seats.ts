import type { ShowState } from './show-state.js';
import { seatStatus } from './show-state.js';

/**
 * Seats a claim would strand: a free seat left alone between taken seats (or between a taken
 * seat and the row's end) that was not alone before. Such seats rarely sell, so by default a
 * show refuses holds that create them (`orphan_seat`) and best-available never does.
 */
export function orphansCreatedBy(state: ShowState, claimed: readonly number[]): number[] {
  if (claimed.length === 0) return [];
  const { inventory } = state;
  const taking = new Set(claimed);
  const isOpen = (seat: number): boolean => state.seatStatus[seat] === seatStatus.free && !taking.has(seat);
  const orphans = new Set<number>();
  for (const seat of claimed) {
    const row = inventory.seatRow[seat]!;
    const start = inventory.rowStart[row]!;
    const end = start + inventory.rowLength[row]!;
    for (const neighbour of [seat - 1, seat + 1]) {
      if (neighbour < start || neighbour >= end || !isOpen(neighbour)) continue;
      const leftOpen = neighbour - 1 >= start && isOpen(neighbour - 1);
      const rightOpen = neighbour + 1 < end && isOpen(neighbour + 1);
      if (!leftOpen && !rightOpen) orphans.add(neighbour);
    }
  }
  return [...orphans].sort((a, b) => a - b);
}

export function orphanRuleApplies(state: ShowState): boolean {
  return state.inventory.policy.orphanSeatRule !== false;
}
