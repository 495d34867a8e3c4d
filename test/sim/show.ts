import type { ShowDefinition, ShowPolicy } from '../../src/actors/show-definition.js';
import { buildStadiumDefinition } from '../../src/seed/stadium.js';
import type { Prng } from './prng.js';

export const simShowId = 'sim-show';

export interface SimShowOptions {
  sections?: number;
  rowsPerSection?: number;
  seatsPerRow?: number;
}

/** A small show (2 sections × 3 rows × 6 seats, or in a quarter of the seeds 1 × 2 × 4, and two GA pools) with seed-chosen policy and capacities. */
export function buildSimShow(rng: Prng, options: SimShowOptions = {}): ShowDefinition {
  const tiny = rng.chance(0.25);
  const policy: Partial<ShowPolicy> = {
    onSaleAtMs: 0,
    holdTtlMs: rng.between(60, 300) * 1_000,
    maxItemsPerHold: 4,
    maxActiveHoldsPerUser: 2,
    maxExtensions: rng.between(1, 2),
    extensionMs: rng.between(30, 120) * 1_000,
    paymentWindowMs: rng.between(60, 300) * 1_000,
  };
  const definition = buildStadiumDefinition({
    showId: simShowId,
    // Most seeds use the default 2 × 3 × 6 bowl; some a tiny one where every seat is contended.
    sections: options.sections ?? (tiny ? 1 : 2),
    rowsPerSection: options.rowsPerSection ?? (tiny ? 2 : 3),
    seatsPerRow: options.seatsPerRow ?? (tiny ? 4 : 6),
    floorCapacity: rng.between(3, 10),
    policy,
  });
  definition.pools.push({ id: 'balcony', name: 'Balcony standing', kind: 'ga', capacity: rng.between(2, 6), priceCents: 6_500 });
  return definition;
}
