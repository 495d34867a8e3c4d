import type { ChannelDefinition, ShowDefinition, ShowPolicy } from '../../src/actors/show-definition.js';
import { channelKeyHash } from '../../src/catalog/show-builder.js';
import { buildStadiumDefinition } from '../../src/seed/stadium.js';
import type { Prng } from './prng.js';

export const simShowId = 'sim-show';

export interface SimShowOptions {
  sections?: number;
  rowsPerSection?: number;
  seatsPerRow?: number;
  /** Presale channels: on (1–2 channels), off, or (default) chosen by the seed. */
  channels?: boolean;
}

/** The key of a presale channel of the simulated show, as a fan types it; `wrongChannelKey` matches none. */
export function simChannelKey(channelId: string): string {
  return `KEY-${channelId.toUpperCase()}`;
}

export const wrongChannelKey = 'KEY-GUESSED';

/**
 * A small show (2 sections × 3 rows × 6 seats, or in a quarter of the seeds 1 × 2 × 4, and two GA pools) with seed-chosen policy and capacities.
 * `extras` (a generator of its own, so the draws above stay as they were) adds, in most seeds,
 * presale channels — a run of seats and perhaps pool allotments behind a key, released at a time
 * `startMs` plus a few minutes, or never — and a seed-chosen waitlist offer TTL.
 */
export function buildSimShow(rng: Prng, options: SimShowOptions = {}, extras?: { rng: Prng; startMs: number }): ShowDefinition {
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
  if (extras !== undefined) {
    const { rng: more, startMs } = extras;
    definition.policy.offerTtlMs = more.between(30, 180) * 1_000;
    if (options.channels ?? more.chance(0.6)) definition.channels = buildChannels(more, definition, startMs);
  }
  return definition;
}

/** One or two channels on disjoint runs of seats (never a whole row), with pool allotments within capacity. */
function buildChannels(rng: Prng, definition: ShowDefinition, startMs: number): ChannelDefinition[] {
  const rows = definition.sections.flatMap((section) => section.rows.map((row) => ({ sectionId: section.id, row })));
  const count = rows.length > 2 && rng.chance(0.5) ? 2 : 1;
  const rowPicks = rng.sample(rows, count);
  const allotted = new Map<string, number>();
  return rowPicks.map(({ sectionId, row }, index): ChannelDefinition => {
    const id = index === 0 ? 'fanclub' : 'partner';
    const length = rng.between(2, Math.max(2, row.seats.length - 2));
    const start = rng.int(row.seats.length - length + 1);
    const seats = row.seats.slice(start, start + length).map((seat) => `${sectionId}:${row.label}:${seat.label}`);
    const pools: ChannelDefinition['pools'] = [];
    for (const pool of definition.pools) {
      const left = pool.capacity - (allotted.get(pool.id) ?? 0);
      if (left < 2 || !rng.chance(0.6)) continue;
      const quantity = rng.between(1, Math.min(3, left - 1));
      allotted.set(pool.id, (allotted.get(pool.id) ?? 0) + quantity);
      pools.push({ poolId: pool.id, quantity });
    }
    // Released a few minutes into the run (so seeds see both sides of the release), or never.
    const releaseAtMs = rng.chance(0.25) ? null : startMs + rng.between(20, 1_800) * 1_000;
    return { id, name: `Presale ${id}`, keyHash: channelKeyHash(simChannelKey(id)), seats, pools, releaseAtMs };
  });
}
