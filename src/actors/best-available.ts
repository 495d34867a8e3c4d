import { orphanRuleApplies, orphansCreatedBy } from './orphan-seats.js';
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
 * Under the orphan-seat rule no pick ever strands a single seat.
 */
export function pickBestAvailable(state: ShowState, quantity: number, tierIndex: number | null, eligible: SeatFilter = anySeat): BestAvailablePick | null {
  const tiers = tierIndex === null ? state.inventory.tiersByPrice : [tierIndex];
  for (const tier of tiers) {
    const adjacent = findAdjacentRun(state, quantity, tier, eligible);
    if (adjacent !== null) return { seats: adjacent, split: false };
    const scattered = collectFreeSeats(state, quantity, tier, eligible);
    if (scattered !== null) return { seats: scattered, split: true };
  }
  return null;
}

/** Which seats this caller may hold (presale channels restrict some). */
export type SeatFilter = (seat: number) => boolean;
const anySeat: SeatFilter = () => true;

/** Maximal runs of free seats of `tier` in `row` that the caller may hold, as [first, last] seat indices. */
function freeRunsOfTier(state: ShowState, row: number, tier: number, eligible: SeatFilter): [number, number][] {
  const { inventory } = state;
  const runs: [number, number][] = [];
  const start = inventory.rowStart[row]!;
  const end = start + inventory.rowLength[row]!;
  let runStart = -1;
  for (let seat = start; seat <= end; seat += 1) {
    const usable = seat < end && state.seatStatus[seat] === seatStatus.free && inventory.seatTier[seat] === tier && eligible(seat);
    if (usable && runStart === -1) runStart = seat;
    if (!usable && runStart !== -1) {
      runs.push([runStart, seat - 1]);
      runStart = -1;
    }
  }
  return runs;
}

const range = (first: number, count: number): number[] => Array.from({ length: count }, (_, offset) => first + offset);

/** `count` adjacent seats inside [first, last] that strand no seat: flush left, flush right, then anywhere. */
function placeInRun(state: ShowState, first: number, last: number, count: number, ruleOn: boolean): number[] | null {
  const length = last - first + 1;
  if (length < count) return null;
  const starts = [first, last - count + 1, ...range(first + 1, Math.max(0, length - count - 1))];
  for (const start of starts) {
    const seats = range(start, count);
    if (!ruleOn || orphansCreatedBy(state, seats).length === 0) return seats;
  }
  return null;
}

function findAdjacentRun(state: ShowState, quantity: number, tier: number, eligible: SeatFilter): number[] | null {
  const ruleOn = orphanRuleApplies(state);
  for (const row of state.inventory.tierRows[tier]!) {
    if (state.rowFree[row]! < quantity) continue;
    for (const [first, last] of freeRunsOfTier(state, row, tier, eligible)) {
      const seats = placeInRun(state, first, last, quantity, ruleOn);
      if (seats !== null) return seats;
    }
  }
  return null;
}

/** The party split over the best rows, in the largest pieces each run allows without stranding a seat. */
function collectFreeSeats(state: ShowState, quantity: number, tier: number, eligible: SeatFilter): number[] | null {
  const ruleOn = orphanRuleApplies(state);
  const seats: number[] = [];
  for (const row of state.inventory.tierRows[tier]!) {
    if (seats.length >= quantity) break;
    if (state.rowFree[row] === 0) continue;
    for (const [first, last] of freeRunsOfTier(state, row, tier, eligible)) {
      for (let take = Math.min(quantity - seats.length, last - first + 1); take >= 1; take -= 1) {
        const piece = placeInRun(state, first, last, take, ruleOn);
        if (piece === null) continue;
        const combined = [...seats, ...piece];
        if (ruleOn && orphansCreatedBy(state, combined).length > 0) continue;
        seats.push(...piece);
        break;
      }
      if (seats.length >= quantity) break;
    }
  }
  return seats.length === quantity ? seats : null;
}
