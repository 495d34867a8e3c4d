import { CatalogService } from '../catalog/catalog-service.js';
import { CatalogStore } from '../catalog/catalog-store.js';
import { addDays } from '../catalog/show-builder.js';
import type { SqlDatabase } from '../persistence/database.js';
import type { CreateVenueInput } from '../protocol/catalog-schemas.js';
import { systemClock } from '../shared/clock.js';
import { buildStadiumDefinition } from './stadium.js';

/** Fixed ids of the demo catalog (stable across restarts, so links and load tests can use them). */
export const demoIds = {
  stadium: 'ven-demo-stadium',
  event: 'evt-demo',
  showNow: 'shw-demo-now',
  showLater: 'shw-demo-later',
  hotel: 'ven-demo-hotel',
  hotelEvent: 'evt-demo-hotel',
  hotelShow: 'shw-demo-hotel',
} as const;

export interface DemoStadiumOptions {
  sections?: number;
  rowsPerSection?: number;
  seatsPerRow?: number;
  floorCapacity?: number;
}

const round1 = (value: number) => Math.round(value * 10) / 10;

/**
 * The stadium of src/seed/stadium.ts (same sections, rows, tiers and flags; default 50 × 40 × 25
 * = 50,000 seats plus a 5,000-place GA floor) with drawable positions: three rings of sections
 * in a 270° bowl around the floor, open towards a stage at the top (y grows downwards).
 * Front rows sit nearest the floor.
 */
export function buildDemoStadiumSeatMap(options: DemoStadiumOptions = {}): NonNullable<CreateVenueInput['seat_map']> {
  const definition = buildStadiumDefinition({
    showId: 'layout',
    sections: options.sections,
    rowsPerSection: options.rowsPerSection,
    seatsPerRow: options.seatsPerRow,
    floorCapacity: options.floorCapacity,
  });
  const sectionCount = definition.sections.length;
  const ringOf = (section: number) => (section < sectionCount * 0.2 ? 0 : section < sectionCount * 0.5 ? 1 : 2);
  const ringSizes = [0, 0, 0];
  for (let section = 0; section < sectionCount; section += 1) ringSizes[ringOf(section)]! += 1;
  const rowPitch = 8;
  const ringGap = 30;
  const innerRadius = 450;
  const span = (270 * Math.PI) / 180;
  const aisle = (1 * Math.PI) / 180;
  let ringStartRadius = innerRadius;
  let previousRing = 0;
  let positionInRing = 0;
  let ringDepth = 0;
  const sections = definition.sections.map((section, sectionIndex) => {
    const ring = ringOf(sectionIndex);
    if (ring !== previousRing) {
      ringStartRadius += ringDepth + ringGap;
      previousRing = ring;
      positionInRing = 0;
    }
    ringDepth = section.rows.length * rowPitch;
    const width = span / Math.max(1, ringSizes[ring]!);
    // Angle 0 points down (away from the stage); sections run clockwise from the stage's left.
    const start = -span / 2 + positionInRing * width + aisle / 2;
    const usable = width - aisle;
    positionInRing += 1;
    return {
      id: section.id,
      name: section.name,
      rows: section.rows.map((row, rowIndex) => {
        const radius = ringStartRadius + (rowIndex + 0.5) * rowPitch;
        return {
          label: row.label,
          seats: row.seats.map((seat, seatIndex) => {
            const angle = start + ((seatIndex + 0.5) / row.seats.length) * usable;
            return {
              label: seat.label,
              x: round1(-radius * Math.sin(angle)),
              y: round1(radius * Math.cos(angle)),
              tier: seat.tierId,
              ...(seat.accessible ? { accessible: true } : {}),
              ...(seat.obstructed ? { obstructed: true } : {}),
            };
          }),
        };
      }),
    };
  });
  const floor = definition.pools[0];
  return {
    sections,
    ga_areas:
      floor === undefined
        ? []
        : [{ id: floor.id, name: floor.name, capacity: floor.capacity, tier: 'floor', bounds: { x: -250, y: -200, width: 500, height: 500 } }],
    stage: { x: -180, y: -390, width: 360, height: 140 },
  };
}

export interface SeedDemoOptions {
  nowMs?: number;
  onProgress?: (message: string) => void;
}

export interface SeedDemoResult {
  /** Ids created by this call (empty when the demo already existed). */
  created: string[];
}

function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && (error as { code: unknown }).code === '23505';
}

/**
 * Seeds the demo catalog: a ~50,000-seat stadium with a GA floor and two shows of one tour
 * (`shw-demo-now` on sale now; `shw-demo-later` on sale in an hour behind a waiting room),
 * and a small hotel whose show sells the next 30 nights (a three-night stay is one hold over
 * three pools). Idempotent: each piece is created only if missing, and a concurrent seeder
 * creating the same piece is tolerated.
 */
export async function seedDemo(db: SqlDatabase, options: SeedDemoOptions = {}): Promise<SeedDemoResult> {
  const nowMs = options.nowMs ?? systemClock.nowMs();
  const progress = options.onProgress ?? (() => undefined);
  const store = new CatalogStore(db);
  const catalog = new CatalogService(db, { clock: { nowMs: () => nowMs }, geometryCacheEntries: 0 });
  const created: string[] = [];

  const ensure = async (id: string, exists: () => Promise<boolean>, create: () => Promise<string>): Promise<void> => {
    if (await exists()) return;
    try {
      progress(`demo: ${await create()}`);
      created.push(id);
    } catch (error) {
      if (!(isUniqueViolation(error) && (await exists()))) throw error;
    }
  };
  const venueExists = (id: string) => async () => (await store.venue(id)) !== null;
  const eventExists = (id: string) => () => store.eventExists(id);
  const showExists = (id: string) => async () => (await store.show(id)) !== null;

  if ((await eventExists(demoIds.event)()) && (await showExists(demoIds.hotelShow)())) {
    progress('demo: catalog already seeded');
    return { created };
  }

  const dayMs = 86_400_000;
  const today = new Date(nowMs).toISOString().slice(0, 10);
  const startOfDayMs = Date.parse(`${today}T00:00:00Z`);
  const iso = (ms: number) => new Date(ms).toISOString();

  await ensure(demoIds.stadium, venueExists(demoIds.stadium), async () => {
    const venue = await catalog.createVenue(
      { name: 'Holdfast Arena', city: 'Springfield', country: 'US', timezone: 'America/Chicago', kind: 'arena', seat_map: buildDemoStadiumSeatMap() },
      { id: demoIds.stadium },
    );
    return `venue ${venue.id} (${venue.seat_count.toLocaleString('en-US')} seats, ${venue.section_count} sections)`;
  });
  await ensure(demoIds.event, eventExists(demoIds.event), async () => {
    const event = await catalog.createEvent(
      {
        name: 'Holdfast Live: The Demo Tour',
        performer: 'The Holdfast Orchestra',
        category: 'concert',
        venue_id: demoIds.stadium,
        description: 'Fifty thousand seats, one stage, zero oversells.',
      },
      { id: demoIds.event },
    );
    return `event ${event.id}`;
  });
  const stadiumTiers = [
    { id: 'platinum', name: 'Platinum', price_cents: 25_000 },
    { id: 'gold', name: 'Gold', price_cents: 15_000 },
    { id: 'silver', name: 'Silver', price_cents: 9_000 },
    { id: 'bronze', name: 'Bronze', price_cents: 5_500 },
    { id: 'floor', name: 'Floor (standing)', price_cents: 8_000 },
  ];
  await ensure(demoIds.showNow, showExists(demoIds.showNow), async () => {
    const show = await catalog.createShow(
      demoIds.event,
      { starts_at: iso(startOfDayMs + 30 * dayMs + 20 * 3_600_000), on_sale_at: iso(nowMs - 60_000), price_tiers: stadiumTiers },
      { id: demoIds.showNow },
    );
    return `show ${show.id} (on sale now, ${show.seat_count} seats, ${show.pool_count} pool)`;
  });
  await ensure(demoIds.showLater, showExists(demoIds.showLater), async () => {
    const onSaleAtMs = nowMs + 3_600_000;
    const show = await catalog.createShow(
      demoIds.event,
      {
        starts_at: iso(startOfDayMs + 31 * dayMs + 20 * 3_600_000),
        on_sale_at: iso(onSaleAtMs),
        price_tiers: stadiumTiers,
        waiting_room: {
          enabled: true,
          opens_at: iso(onSaleAtMs - 30 * 60_000),
          mode: 'adaptive',
          admission_rate_per_s: 50,
          active_cap: 2_000,
          admission_ttl_s: 600,
          max_tickets_per_user: 8,
          pow_difficulty: 0,
        },
      },
      { id: demoIds.showLater },
    );
    return `show ${show.id} (on sale ${show.on_sale_at}, waiting room)`;
  });

  await ensure(demoIds.hotel, venueExists(demoIds.hotel), async () => {
    const venue = await catalog.createVenue(
      {
        name: 'Hotel Holdfast',
        city: 'Springfield',
        country: 'US',
        timezone: 'America/Chicago',
        kind: 'hotel',
        room_types: [
          { id: 'queen', name: 'Queen room', rooms: 10, price_cents: 14_900 },
          { id: 'double', name: 'Double room', rooms: 20, price_cents: 18_900 },
          { id: 'suite', name: 'Suite', rooms: 5, price_cents: 39_900 },
        ],
      },
      { id: demoIds.hotel },
    );
    return `venue ${venue.id} (${venue.room_types.length} room types)`;
  });
  await ensure(demoIds.hotelEvent, eventExists(demoIds.hotelEvent), async () => {
    const event = await catalog.createEvent(
      { name: 'Stay at Hotel Holdfast', performer: 'Hotel Holdfast', category: 'lodging', venue_id: demoIds.hotel, description: 'Rooms by the night, near the arena.' },
      { id: demoIds.hotelEvent },
    );
    return `event ${event.id}`;
  });
  await ensure(demoIds.hotelShow, showExists(demoIds.hotelShow), async () => {
    const firstNight = addDays(today, 1);
    const show = await catalog.createShow(
      demoIds.hotelEvent,
      {
        starts_at: `${firstNight}T15:00:00.000Z`,
        on_sale_at: iso(nowMs - 60_000),
        max_items_per_hold: 14,
        lodging: { first_night: firstNight, nights: 30 },
      },
      { id: demoIds.hotelShow },
    );
    return `show ${show.id} (${show.lodging?.nights ?? 0} nights from ${firstNight}, ${show.pool_count} room-night pools)`;
  });
  return { created };
}
