/**
 * Shared fixtures for tests of the pure show core (src/actors/). Small, deterministic shows:
 *
 * - sections `A`, `B`, … each with rows `1`…`rowsPerSection` of seats `1`…`seatsPerRow`
 *   (seat ids `A:1:1`, `A:1:2`, …; rows are listed best first, section by section);
 * - three price tiers; by default row 1 of every section is `gold`, row 2 `silver`, the rest
 *   `bronze` (tiers are listed dearest first so `tiersByPrice` really reorders them);
 * - by default the first seat of each section's last row is accessible and the last seat of
 *   each section's last row is obstructed;
 * - two GA pools (`ga-floor`, `ga-balcony`) and three room-night pools (`room-n1`…`room-n3`,
 *   one room type over three consecutive nights).
 *
 * Every size, capacity, price and policy field can be overridden.
 */
import { Inventory } from '../../src/actors/inventory.js';
import { seatIdOf, type PoolDefinition, type SectionDefinition, type ShowDefinition, type ShowPolicy, type TierDefinition } from '../../src/actors/show-definition.js';
import { createShowState, type ShowState } from '../../src/actors/show-state.js';

/** Where a seat sits: indices into the generated sections / rows / seats (all 0-based). */
export interface SeatPosition {
  section: number;
  row: number;
  seat: number;
}

export interface PoolSpec {
  id: string;
  capacity: number;
  priceCents?: number;
  name?: string;
}

export interface DefinitionOptions {
  showId?: string;
  currency?: string;
  /** Section ids, in the organizer's order. Default `['A', 'B']`. */
  sections?: string[];
  /** Rows per section. Default 3. */
  rowsPerSection?: number;
  /** Seats per row. Default 6. */
  seatsPerRow?: number;
  /** Price tiers. Default gold 12_000, silver 8_000, bronze 5_000 (cents). */
  tiers?: TierDefinition[];
  /** Tier id of a seat. Default: row 0 gold, row 1 silver, others bronze (by tier list position). */
  tierOf?: (position: SeatPosition) => string;
  accessible?: (position: SeatPosition) => boolean;
  obstructed?: (position: SeatPosition) => boolean;
  /** Capacities of the two default GA pools (`ga-floor`, `ga-balcony`), or a full list of specs. */
  gaPools?: number[] | PoolSpec[];
  /** Capacities of the default room-night pools (`room-n1`, `room-n2`, …), or a full list of specs. */
  roomNightPools?: number[] | PoolSpec[];
  policy?: Partial<ShowPolicy>;
}

export const defaultTiers: TierDefinition[] = [
  { id: 'gold', name: 'Gold', priceCents: 12_000 },
  { id: 'silver', name: 'Silver', priceCents: 8_000 },
  { id: 'bronze', name: 'Bronze', priceCents: 5_000 },
];

export const defaultPolicy: ShowPolicy = {
  onSaleAtMs: 0,
  holdTtlMs: 60_000,
  maxItemsPerHold: 8,
  maxActiveHoldsPerUser: 2,
  maxExtensions: 2,
  extensionMs: 120_000,
  paymentWindowMs: 300_000,
  offerTtlMs: 60_000,
  // The core tests exercise every other rule on small rows; orphan-seat tests switch it on.
  orphanSeatRule: false,
};

export const gaPoolIds = ['ga-floor', 'ga-balcony'] as const;
export const roomNightPoolIds = ['room-n1', 'room-n2', 'room-n3'] as const;
const defaultGaCapacities = [20, 5];
const defaultRoomNightCapacities = [2, 2, 2];
const gaPriceCents = 6_000;
const roomNightPriceCents = 15_000;

function poolSpecs(specs: number[] | PoolSpec[], ids: readonly string[], prefix: string, priceCents: number): PoolSpec[] {
  return specs.map((spec, index): PoolSpec => {
    if (typeof spec !== 'number') return spec;
    return { id: ids[index] ?? `${prefix}${index + 1}`, capacity: spec, priceCents };
  });
}

export function makeDefinition(opts: DefinitionOptions = {}): ShowDefinition {
  const sectionIds = opts.sections ?? ['A', 'B'];
  const rowsPerSection = opts.rowsPerSection ?? 3;
  const seatsPerRow = opts.seatsPerRow ?? 6;
  const tiers = opts.tiers ?? defaultTiers;
  const tierOf =
    opts.tierOf ?? ((position: SeatPosition): string => tiers[Math.min(position.row, tiers.length - 1)]!.id);
  const accessible = opts.accessible ?? ((position: SeatPosition): boolean => position.row === rowsPerSection - 1 && position.seat === 0);
  const obstructed =
    opts.obstructed ?? ((position: SeatPosition): boolean => position.row === rowsPerSection - 1 && position.seat === seatsPerRow - 1);

  const sections: SectionDefinition[] = sectionIds.map((id, section) => ({
    id,
    name: `Section ${id}`,
    rows: Array.from({ length: rowsPerSection }, (_, row) => ({
      label: String(row + 1),
      seats: Array.from({ length: seatsPerRow }, (_, seat) => {
        const position = { section, row, seat };
        return {
          label: String(seat + 1),
          tierId: tierOf(position),
          ...(accessible(position) ? { accessible: true } : {}),
          ...(obstructed(position) ? { obstructed: true } : {}),
        };
      }),
    })),
  }));

  const ga = poolSpecs(opts.gaPools ?? defaultGaCapacities, gaPoolIds, 'ga-', gaPriceCents);
  const nights = poolSpecs(opts.roomNightPools ?? defaultRoomNightCapacities, roomNightPoolIds, 'room-n', roomNightPriceCents);
  const pools: PoolDefinition[] = [
    ...ga.map((spec): PoolDefinition => ({ id: spec.id, name: spec.name ?? spec.id, kind: 'ga', capacity: spec.capacity, priceCents: spec.priceCents ?? gaPriceCents })),
    ...nights.map((spec): PoolDefinition => ({
      id: spec.id,
      name: spec.name ?? spec.id,
      kind: 'room_night',
      capacity: spec.capacity,
      priceCents: spec.priceCents ?? roomNightPriceCents,
    })),
  ];

  return {
    showId: opts.showId ?? 'show-1',
    currency: opts.currency ?? 'EUR',
    tiers,
    sections,
    pools,
    policy: { ...defaultPolicy, ...opts.policy },
  };
}

export function makeState(def: ShowDefinition = makeDefinition()): ShowState {
  return createShowState(new Inventory(def));
}

/** Seat id of a position in a definition made by `makeDefinition` (1-based labels). */
export function seatAt(def: ShowDefinition, section: number, row: number, seat: number): string {
  const sectionDef = def.sections[section]!;
  const rowDef = sectionDef.rows[row]!;
  return seatIdOf(sectionDef.id, rowDef.label, rowDef.seats[seat]!.label);
}

/** Every seat id of a definition, in inventory order (section, row, seat). */
export function allSeatIds(def: ShowDefinition): string[] {
  return def.sections.flatMap((section) => section.rows.flatMap((row) => row.seats.map((seat) => seatIdOf(section.id, row.label, seat.label))));
}

/** Seat ids of one row, in physical order. */
export function rowSeatIds(def: ShowDefinition, section: number, row: number): string[] {
  const sectionDef = def.sections[section]!;
  const rowDef = sectionDef.rows[row]!;
  return rowDef.seats.map((seat) => seatIdOf(sectionDef.id, rowDef.label, seat.label));
}

/** Plain-data copy of any value: Maps become entry lists (insertion order kept), typed arrays become arrays. */
export function toPlain(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Map) return { $map: [...value.entries()].map(([key, entry]) => [toPlain(key), toPlain(entry)]) };
  if (value instanceof Set) return { $set: [...value.values()].map(toPlain) };
  if (ArrayBuffer.isView(value)) return { $typed: Array.from(value as unknown as ArrayLike<number>) };
  if (Array.isArray(value)) return value.map(toPlain);
  const out: Record<string, unknown> = {};
  for (const [key, entry] of Object.entries(value)) out[key] = toPlain(entry);
  return out;
}

/**
 * A structural snapshot of everything in a ShowState, including the expiry heap's internals
 * and the (immutable) inventory: equal snapshots mean nothing observable changed.
 */
export function snapshotState(state: ShowState): unknown {
  return toPlain(state);
}

/**
 * The replayable part of a state: what two states built from the same events must agree on.
 * (The expiry heap may hold different stale entries, so it is compared through `claims`.)
 */
export function comparableState(state: ShowState): unknown {
  return toPlain({
    version: state.version,
    seatStatus: state.seatStatus,
    rowFree: state.rowFree,
    poolHeld: state.poolHeld,
    poolSold: state.poolSold,
    claims: new Map([...state.claims.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
    holdIdByOrder: new Map([...state.holdIdByOrder.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
    activeHoldsByUser: new Map([...state.activeHoldsByUser.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
    endedHolds: state.endedHolds,
  });
}
