import { limits } from '../actors/limits.js';
import type { PoolDefinition, SectionDefinition, ShowDefinition, ShowPolicy, TierDefinition } from '../actors/show-definition.js';

export interface StadiumOptions {
  showId: string;
  sections?: number;
  rowsPerSection?: number;
  seatsPerRow?: number;
  /** General-admission floor capacity (0 for none). */
  floorCapacity?: number;
  currency?: string;
  policy?: Partial<ShowPolicy>;
}

export const defaultShowPolicy: ShowPolicy = {
  onSaleAtMs: 0,
  holdTtlMs: limits.holdTtlMsDefault,
  maxItemsPerHold: limits.itemsPerHoldDefault,
  maxActiveHoldsPerUser: limits.activeHoldsPerUserDefault,
  maxExtensions: 1,
  extensionMs: limits.holdExtensionMsDefault,
  paymentWindowMs: limits.paymentWindowMsDefault,
  offerTtlMs: limits.offerTtlMsDefault,
};

const stadiumTiers: TierDefinition[] = [
  { id: 'platinum', name: 'Platinum', priceCents: 25_000 },
  { id: 'gold', name: 'Gold', priceCents: 15_000 },
  { id: 'silver', name: 'Silver', priceCents: 9_000 },
  { id: 'bronze', name: 'Bronze', priceCents: 5_500 },
];

/**
 * A bowl of seated sections (default 50 × 40 rows × 25 seats = 50,000 seats) priced by
 * distance from the stage, plus a general-admission floor. Rows are listed front first, so
 * best-available fills from the front. Every 10th seat of a row's ends is wheelchair
 * accessible; the back rows of side sections have an obstructed view.
 */
export function buildStadiumDefinition(options: StadiumOptions): ShowDefinition {
  const sectionCount = options.sections ?? 50;
  const rowsPerSection = options.rowsPerSection ?? 40;
  const seatsPerRow = options.seatsPerRow ?? 25;
  const sections: SectionDefinition[] = [];
  for (let section = 0; section < sectionCount; section += 1) {
    const ring = section < sectionCount * 0.2 ? 0 : section < sectionCount * 0.5 ? 1 : 2;
    const sectionId = `${ring + 1}${String(section + 1).padStart(2, '0')}`;
    const sideSection = section % 5 === 4;
    sections.push({
      id: sectionId,
      name: `Section ${sectionId}`,
      rows: Array.from({ length: rowsPerSection }, (_, row) => {
        const depth = row / rowsPerSection;
        const tier = ring === 0 ? (depth < 0.5 ? 'platinum' : 'gold') : ring === 1 ? (depth < 0.5 ? 'gold' : 'silver') : depth < 0.5 ? 'silver' : 'bronze';
        return {
          label: String(row + 1),
          seats: Array.from({ length: seatsPerRow }, (_, seat) => ({
            label: String(seat + 1),
            tierId: tier,
            accessible: row === 0 && (seat === 0 || seat === seatsPerRow - 1),
            obstructed: sideSection && depth > 0.85,
          })),
        };
      }),
    });
  }
  const pools: PoolDefinition[] = [];
  const floorCapacity = options.floorCapacity ?? 5_000;
  if (floorCapacity > 0) pools.push({ id: 'floor', name: 'General admission floor', kind: 'ga', capacity: floorCapacity, priceCents: 8_000 });
  return {
    showId: options.showId,
    currency: options.currency ?? 'USD',
    tiers: stadiumTiers,
    sections,
    pools,
    policy: { ...defaultShowPolicy, ...options.policy },
  };
}
