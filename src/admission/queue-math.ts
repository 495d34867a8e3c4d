/**
 * The serving-counter arithmetic, pure. Every ticket has a number; the show publishes one
 * serving counter; a ticket whose number is below the counter is admitted, and
 * position = number − serving. One broadcast of the counter updates every fan's position.
 */

/** A ticket as stored: a lottery draw (arrived before on-sale) or an arrival sequence number. */
export type QueuePlace = { kind: 'lottery'; lottery: number } | { kind: 'seq'; seq: number };

/**
 * Pre-sale arrivals fill numbers 0..preCount-1 in the order of their uniform lottery draws
 * (so the order among them is a uniformly random permutation); later arrivals follow in
 * arrival order. `preCount` is final once on-sale has started.
 */
export function ticketNumber(place: QueuePlace, preCount: number): number {
  if (place.kind === 'seq') return preCount + place.seq;
  return Math.min(preCount - 1, Math.floor(place.lottery * preCount));
}

export function queuePosition(number: number, serving: number): number {
  return Math.max(0, Math.floor(number - serving) + 1);
}

export function isAdmitted(number: number, serving: number): boolean {
  return number < Math.floor(serving);
}

export interface AdvanceInput {
  serving: number;
  /** Highest ticket number issued + 1: serving never runs ahead of the queue. */
  issued: number;
  elapsedMs: number;
  mode: 'fixed' | 'adaptive';
  ratePerS: number;
  /** Adaptive: holds active now, and fans admitted recently who have not held yet. */
  activeHolds: number;
  admittedRecently: number;
  activeCap: number;
}

/** The next serving counter: fixed mode admits `ratePerS`; adaptive mode admits while checkout has room, at most `ratePerS`. */
export function advanceServing(input: AdvanceInput): number {
  const byRate = (input.ratePerS * input.elapsedMs) / 1000;
  const step = input.mode === 'fixed' ? byRate : Math.min(byRate, Math.max(0, input.activeCap - input.activeHolds - input.admittedRecently));
  return Math.min(input.issued, input.serving + step);
}

/** Estimated seconds until admission at the current rate. */
export function etaSeconds(position: number, ratePerS: number): number | null {
  if (position <= 0) return 0;
  if (ratePerS <= 0) return null;
  return Math.ceil(position / ratePerS);
}
