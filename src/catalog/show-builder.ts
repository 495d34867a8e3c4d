import { createHash } from 'node:crypto';
import { seatFlag } from '../actors/inventory.js';
import { limits } from '../actors/limits.js';
import type { PoolDefinition, SectionDefinition, ShowDefinition, ShowPolicy, TierDefinition } from '../actors/show-definition.js';
import { catalogLimits } from '../protocol/catalog-schemas.js';
import type { CreateShow, CreateVenue, GaArea, GeometrySeatTuple, Lodging, PriceTier, RectValue as Rect, RoomType, SeatMap, SeatMapGeometry } from '../protocol/catalog-schemas.js';
import { FieldErrors } from './validation.js';

/** What responses need of a venue without loading its seat map. */
export interface VenueSummary {
  seat_count: number;
  section_count: number;
  /** Tiers used by seats and GA areas, in order of first use. */
  tier_ids: string[];
  ga_areas: GaArea[];
}

/** The venue as the show builder needs it. */
export interface VenueLayout {
  kind: 'arena' | 'hotel';
  seatMap: SeatMap | null;
  roomTypes: RoomType[] | null;
}

/**
 * Checks a parsed venue beyond its schema (kind-dependent parts, unique ids and labels, total
 * size) and summarises it. Throws ApiError validation_failed with field paths.
 */
export function checkVenue(venue: CreateVenue): VenueSummary {
  const errors = new FieldErrors();
  const summary: VenueSummary = { seat_count: 0, section_count: 0, tier_ids: [], ga_areas: [] };
  const tiers = new Set<string>();
  const useTier = (tier: string, path: string) => {
    if (tiers.has(tier)) return;
    if (tiers.size >= catalogLimits.tiersPerVenueMax) {
      errors.add(path, `a venue uses at most ${catalogLimits.tiersPerVenueMax} price tiers`);
      return;
    }
    tiers.add(tier);
    summary.tier_ids.push(tier);
  };
  if (venue.kind === 'arena') {
    if (venue.room_types !== undefined) errors.add('room_types', 'only hotel venues have room types');
    const seatMap = venue.seat_map;
    if (seatMap === undefined) {
      errors.add('seat_map', 'an arena needs a seat map');
    } else {
      const sectionIds = new Set<string>();
      seatMap.sections.forEach((section, sectionIndex) => {
        const sectionPath = `seat_map.sections.${sectionIndex}`;
        if (sectionIds.has(section.id)) errors.add(`${sectionPath}.id`, `duplicate section id ${section.id}`);
        sectionIds.add(section.id);
        const rowLabels = new Set<string>();
        section.rows.forEach((row, rowIndex) => {
          const rowPath = `${sectionPath}.rows.${rowIndex}`;
          if (rowLabels.has(row.label)) errors.add(`${rowPath}.label`, `duplicate row label ${row.label} in section ${section.id}`);
          rowLabels.add(row.label);
          const seatLabels = new Set<string>();
          row.seats.forEach((seat, seatIndex) => {
            if (seatLabels.has(seat.label) && !errors.full) errors.add(`${rowPath}.seats.${seatIndex}.label`, `duplicate seat label ${seat.label} in row ${section.id}:${row.label}`);
            seatLabels.add(seat.label);
            useTier(seat.tier, `${rowPath}.seats.${seatIndex}.tier`);
          });
          summary.seat_count += row.seats.length;
        });
      });
      summary.section_count = seatMap.sections.length;
      if (summary.seat_count > catalogLimits.seatsPerVenueMax) {
        errors.add('seat_map.sections', `a venue has at most ${catalogLimits.seatsPerVenueMax} seats (got ${summary.seat_count})`);
      }
      const areaIds = new Set<string>();
      seatMap.ga_areas.forEach((area, index) => {
        if (areaIds.has(area.id) || sectionIds.has(area.id)) errors.add(`seat_map.ga_areas.${index}.id`, `duplicate id ${area.id}`);
        areaIds.add(area.id);
        useTier(area.tier, `seat_map.ga_areas.${index}.tier`);
      });
      summary.ga_areas = seatMap.ga_areas;
      if (seatMap.sections.length === 0 && seatMap.ga_areas.length === 0) errors.add('seat_map', 'a seat map needs at least one section or GA area');
    }
  } else {
    if (venue.seat_map !== undefined) errors.add('seat_map', 'hotel venues sell room types, not seats');
    if (venue.room_types === undefined) {
      errors.add('room_types', 'a hotel needs room types');
    } else {
      const ids = new Set<string>();
      venue.room_types.forEach((roomType, index) => {
        if (ids.has(roomType.id)) errors.add(`room_types.${index}.id`, `duplicate room type id ${roomType.id}`);
        ids.add(roomType.id);
      });
    }
  }
  errors.throwIfAny('invalid venue');
  return summary;
}

/** `YYYY-MM-DD` plus `days`, in the proleptic Gregorian calendar. */
export function addDays(date: string, days: number): string {
  const ms = Date.parse(`${date}T00:00:00Z`) + days * 86_400_000;
  return new Date(ms).toISOString().slice(0, 10);
}

/** Pool id of one room type on one night. Room type ids never contain '@'. */
export function roomNightPoolId(roomTypeId: string, night: string): string {
  return `${roomTypeId}@${night}`;
}

/** The pools of a stay: one per night from check-in, `nights` nights. */
export function stayPoolIds(roomTypeId: string, checkIn: string, nights: number): string[] {
  return Array.from({ length: nights }, (_, night) => roomNightPoolId(roomTypeId, addDays(checkIn, night)));
}

/** The nights a lodging show sells, in order. */
export function lodgingNights(lodging: Lodging): string[] {
  return Array.from({ length: lodging.nights }, (_, night) => addDays(lodging.first_night, night));
}

export function policyOf(show: CreateShow): ShowPolicy {
  return {
    onSaleAtMs: Date.parse(show.on_sale_at),
    holdTtlMs: show.hold_ttl_s * 1000,
    maxItemsPerHold: show.max_items_per_hold,
    maxActiveHoldsPerUser: show.max_holds_per_user,
    maxExtensions: 1,
    extensionMs: limits.holdExtensionMsDefault,
    paymentWindowMs: limits.paymentWindowMsDefault,
    offerTtlMs: limits.offerTtlMsDefault,
  };
}

/**
 * The effective price tiers of a show at a venue, in tier-index order. Arenas: exactly the tiers
 * the venue uses, in the order given. Hotels: one per room type (venue order), with overrides.
 * Adds field errors (paths under price_tiers) to `errors` and returns null when the tiers do not
 * fit the venue.
 */
export function resolvePriceTiers(venue: VenueLayout, summary: VenueSummary, priceTiers: PriceTier[], errors: FieldErrors): TierDefinition[] | null {
  const before = errors.total;
  const seen = new Set<string>();
  priceTiers.forEach((tier, index) => {
    if (seen.has(tier.id)) errors.add(`price_tiers.${index}.id`, `duplicate tier ${tier.id}`);
    seen.add(tier.id);
  });
  if (venue.kind === 'hotel') {
    const roomTypes = venue.roomTypes ?? [];
    const known = new Set(roomTypes.map((roomType) => roomType.id));
    priceTiers.forEach((tier, index) => {
      if (!known.has(tier.id)) errors.add(`price_tiers.${index}.id`, `the venue has no room type ${tier.id}`);
    });
    if (errors.total > before) return null;
    const overrides = new Map(priceTiers.map((tier) => [tier.id, tier]));
    return roomTypes.map((roomType) => {
      const override = overrides.get(roomType.id);
      return { id: roomType.id, name: override?.name ?? roomType.name, priceCents: override?.price_cents ?? roomType.price_cents };
    });
  }
  const used = new Set(summary.tier_ids);
  priceTiers.forEach((tier, index) => {
    if (!used.has(tier.id)) errors.add(`price_tiers.${index}.id`, `the venue uses no tier ${tier.id}`);
  });
  for (const tier of summary.tier_ids) if (!seen.has(tier)) errors.add('price_tiers', `tier ${tier} used by the venue has no price`);
  if (errors.total > before) return null;
  return priceTiers.map((tier) => ({ id: tier.id, name: tier.name, priceCents: tier.price_cents }));
}

export interface ShowArtifacts {
  definition: ShowDefinition;
  geometry: SeatMapGeometry;
  etag: string;
}

/**
 * The actor's inventory and the fans' seat-map geometry of one show, built in one walk over the
 * venue so that seat n of the geometry is seat n of the Inventory (sections → rows → seats in
 * definition order), and pool n is pool n. Deterministic: the same venue and show give the
 * same geometry and etag. `tiers` comes from resolvePriceTiers.
 */
export function buildShowArtifacts(showId: string, venue: VenueLayout, show: CreateShow, tiers: TierDefinition[]): ShowArtifacts {
  const tierIndex = new Map(tiers.map((tier, index) => [tier.id, index]));
  const sections: SectionDefinition[] = [];
  const geometrySections: SeatMapGeometry['sections'] = [];
  const pools: PoolDefinition[] = [];
  const poolBounds: (Rect | null)[] = [];
  let seatCount = 0;
  if (venue.seatMap !== null) {
    for (const section of venue.seatMap.sections) {
      const rows: SectionDefinition['rows'] = [];
      const geometryRows: SeatMapGeometry['sections'][number]['rows'] = [];
      for (const row of section.rows) {
        const seats: SectionDefinition['rows'][number]['seats'] = [];
        const geometrySeats: GeometrySeatTuple[] = [];
        for (const seat of row.seats) {
          const index = tierIndex.get(seat.tier);
          if (index === undefined) throw new Error(`seat ${section.id}:${row.label}:${seat.label} has unpriced tier ${seat.tier}`);
          const definition: SectionDefinition['rows'][number]['seats'][number] = { label: seat.label, tierId: seat.tier };
          if (seat.accessible) definition.accessible = true;
          if (seat.obstructed) definition.obstructed = true;
          seats.push(definition);
          const flags = (seat.accessible ? seatFlag.accessible : 0) | (seat.obstructed ? seatFlag.obstructed : 0);
          geometrySeats.push([seat.label, seat.x, seat.y, index, flags]);
        }
        seatCount += seats.length;
        rows.push({ label: row.label, seats });
        geometryRows.push({ label: row.label, seats: geometrySeats });
      }
      sections.push({ id: section.id, name: section.name, rows });
      geometrySections.push({ id: section.id, name: section.name, rows: geometryRows });
    }
    for (const area of venue.seatMap.ga_areas) {
      const index = tierIndex.get(area.tier);
      if (index === undefined) throw new Error(`GA area ${area.id} has unpriced tier ${area.tier}`);
      pools.push({ id: area.id, name: area.name, kind: 'ga', capacity: area.capacity, priceCents: tiers[index]!.priceCents });
      poolBounds.push(area.bounds ?? null);
    }
  }
  if (venue.kind === 'hotel' && show.lodging !== undefined) {
    const nights = lodgingNights(show.lodging);
    for (const roomType of venue.roomTypes ?? []) {
      const priceCents = tiers[tierIndex.get(roomType.id) ?? -1]?.priceCents ?? roomType.price_cents;
      for (const night of nights) {
        pools.push({ id: roomNightPoolId(roomType.id, night), name: `${roomType.name}, night of ${night}`, kind: 'room_night', capacity: roomType.rooms, priceCents });
        poolBounds.push(null);
      }
    }
  }
  const definition: ShowDefinition = { showId, currency: show.currency, tiers, sections, pools, policy: policyOf(show) };
  if (show.channels.length > 0) {
    definition.channels = show.channels.map((channel) => ({
      id: channel.id,
      name: channel.name,
      keyHash: channelKeyHash(channel.key),
      seats: channel.seat_ids,
      pools: channel.pools.map((pool) => ({ poolId: pool.pool_id, quantity: pool.quantity })),
      releaseAtMs: channel.release_at === undefined ? null : Date.parse(channel.release_at),
    }));
  }
  const geometry: SeatMapGeometry = {
    show_id: showId,
    currency: show.currency,
    tiers: tiers.map((tier) => ({ id: tier.id, name: tier.name, price_cents: tier.priceCents })),
    sections: geometrySections,
    pools: pools.map((pool, index) => ({ id: pool.id, name: pool.name, kind: pool.kind, capacity: pool.capacity, price_cents: pool.priceCents, bounds: poolBounds[index] ?? null })),
    stage: venue.seatMap?.stage ?? null,
    seat_count: seatCount,
  };
  return { definition, geometry, etag: geometryEtag(geometry) };
}

/** Entity tag of a geometry: a hash of its JSON (layout, tiers and prices). Quote it for HTTP. */
export function geometryEtag(geometry: SeatMapGeometry): string {
  return `g1-${createHash('sha256').update(JSON.stringify(geometry)).digest('base64url').slice(0, 27)}`;
}

/** Channel keys are kept only as sha256 hashes; the hold path hashes what the fan sends. */
export function channelKeyHash(key: string): string {
  return createHash('sha256').update(key.trim()).digest('hex');
}
