import type { SeatOperation } from './history.js';

/**
 * The sequential specification of one seat: free → held(by a hold) → sold(by that hold);
 * release and expiry return a held seat to free, a voided sale returns a sold one.
 *
 * A state is a small integer so the checker can memoize (linearized set, state) pairs cheaply:
 * 0 is free, 1 + 2k is held by hold k, 2 + 2k is sold by hold k (k indexes the hold ids of the
 * seat's history; the last index stands for "some hold outside the history").
 */
export const FREE = 0;
export const heldBy = (hold: number): number => 1 + 2 * hold;
export const soldBy = (hold: number): number => 2 + 2 * hold;

export function describeState(state: number, holdIds: readonly string[]): string {
  if (state === FREE) return 'free';
  const hold = Math.floor((state - 1) / 2);
  return `${state % 2 === 1 ? 'held' : 'sold'} by ${holdIds[hold] ?? `hold #${hold}`}`;
}

/**
 * The states an operation may lead to from `state` (empty: it cannot be linearized here).
 * An optional operation (a timeout, an expiry) may also have had no effect at all.
 */
export function nextStates(state: number, operation: SeatOperation, hold: number): number[] {
  const next: number[] = [];
  switch (operation.effect) {
    case 'acquire':
      if (state === FREE) next.push(heldBy(hold));
      break;
    case 'busy':
      if (state !== FREE) next.push(state);
      break;
    case 'release':
      if (state === heldBy(hold)) next.push(FREE);
      break;
    case 'sell':
      if (state === heldBy(hold)) next.push(soldBy(hold));
      break;
    case 'unsell':
      if (state === soldBy(hold)) next.push(FREE);
      break;
    case 'observe': {
      const actual = state === FREE ? 'free' : state % 2 === 1 ? 'held' : 'sold';
      if (actual === operation.observed) next.push(state);
      break;
    }
  }
  if (operation.optional && !next.includes(state)) next.push(state);
  return next;
}
