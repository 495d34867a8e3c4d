import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Inventory } from '../../src/actors/inventory.js';
import { CatalogService } from '../../src/catalog/catalog-service.js';
import { geometryEtag } from '../../src/catalog/show-builder.js';
import type { SqlDatabase } from '../../src/persistence/database.js';
import { ShowDefinitionStore } from '../../src/persistence/show-definitions.js';
import { ApiError } from '../../src/protocol/api-error.js';
import {
  EventListResponse,
  EventResponse,
  SeatMapGeometryResponse,
  ShowListResponse,
  ShowResponse,
  VenueResponse,
  type CreateShowInput,
  type CreateVenueInput,
  type EventView,
} from '../../src/protocol/catalog-schemas.js';
import { databaseKinds } from '../support/databases.js';

const nowMs = Date.parse('2030-03-01T12:00:00Z');
const clock = { nowMs: () => nowMs };
const hour = 3_600_000;
const day = 24 * hour;
const at = (ms: number) => new Date(ms).toISOString();

/** Two sections (one with mixed tiers and flags) and a GA pit. */
function smallArena(name = 'Little Arena', city = 'Testville'): CreateVenueInput {
  return {
    name,
    city,
    country: 'FR',
    timezone: 'Europe/Paris',
    kind: 'arena',
    seat_map: {
      sections: [
        {
          id: 'A',
          name: 'Section A',
          rows: [
            { label: '1', seats: [{ label: '1', x: 0, y: 0, tier: 'front', accessible: true }, { label: '2', x: 10, y: 0, tier: 'front' }, { label: '3', x: 20, y: 0, tier: 'front', obstructed: true }] },
            { label: '2', seats: [{ label: '1', x: 0, y: 10, tier: 'back' }, { label: '2', x: 10, y: 10, tier: 'back', accessible: true, obstructed: true }] },
          ],
        },
        {
          id: 'B_2',
          name: 'Section B',
          rows: [{ label: 'AA', seats: [{ label: '10', x: 100.5, y: -3.25, tier: 'back' }, { label: '11', x: 110.5, y: -3.25, tier: 'front' }] }],
        },
      ],
      ga_areas: [{ id: 'pit', name: 'Pit', capacity: 300, tier: 'standing' }],
    },
  };
}

const arenaTiers = [
  { id: 'back', name: 'Back', price_cents: 3_000 },
  { id: 'front', name: 'Front', price_cents: 9_000 },
  { id: 'standing', name: 'Standing', price_cents: 5_000 },
];

function showAt(startsAtMs: number, overrides: Partial<CreateShowInput> = {}): CreateShowInput {
  return { starts_at: at(startsAtMs), on_sale_at: at(nowMs - hour), price_tiers: arenaTiers, ...overrides };
}

async function refusal(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

function paths(error: ApiError): string[] {
  return (error.extra?.errors ?? []).map((entry) => entry.path);
}

for (const kind of databaseKinds) {
  describe.skipIf(!kind.available)(`catalog service: ${kind.name}`, () => {
    let db: SqlDatabase;
    let catalog: CatalogService;
    beforeAll(async () => {
      db = await kind.open();
      catalog = new CatalogService(db, { clock });
    });
    afterAll(async () => db.close());

    it('creates a venue, an event and a show and reads them back', async () => {
      const venue = await catalog.createVenue(smallArena());
      expect(venue.id).toMatch(/^ven-[a-z0-9]{12}$/);
      expect(VenueResponse.parse(venue)).toEqual(venue);
      expect(venue).toMatchObject({ kind: 'arena', seat_count: 7, section_count: 2, tier_ids: ['front', 'back', 'standing'], room_types: [], country: 'FR' });
      expect(await catalog.getVenue(venue.id)).toEqual(venue);

      const event = await catalog.createEvent({ name: 'Round Trip', performer: 'The Testers', category: 'concert', venue_id: venue.id, description: 'hello' });
      expect(event.id).toMatch(/^evt-[a-z0-9]{12}$/);
      expect(EventResponse.parse(event)).toEqual(event);
      expect(event).toMatchObject({ venue_name: 'Little Arena', venue_city: 'Testville', next_show_at: null });

      const show = await catalog.createShow(event.id, showAt(nowMs + 10 * day, { hold_ttl_s: 300, max_items_per_hold: 4, currency: 'EUR' }));
      expect(show.id).toMatch(/^shw-[a-z0-9]{12}$/);
      expect(show.id).toMatch(/^[a-z0-9][a-z0-9-]{0,63}$/);
      expect(ShowResponse.parse(show)).toEqual(show);
      expect(show).toMatchObject({
        event_id: event.id,
        venue_id: venue.id,
        venue_kind: 'arena',
        currency: 'EUR',
        hold_ttl_s: 300,
        max_items_per_hold: 4,
        max_holds_per_user: 2,
        seat_count: 7,
        pool_count: 1,
        waiting_room: null,
        lodging: null,
      });
      expect(await catalog.getShow(show.id)).toEqual(show);
      expect((await catalog.getEvent(event.id)).next_show_at).toBe(show.starts_at);
      const list = await catalog.listShowsOfEvent(event.id);
      expect(ShowListResponse.parse(list)).toEqual(list);
      expect(list).toEqual({ items: [show], next_cursor: null });

      const definition = await new ShowDefinitionStore(db).load(show.id);
      expect(definition?.policy).toEqual({
        onSaleAtMs: nowMs - hour,
        holdTtlMs: 300_000,
        maxItemsPerHold: 4,
        maxActiveHoldsPerUser: 2,
        maxExtensions: 1,
        extensionMs: 120_000,
        paymentWindowMs: 600_000,
        offerTtlMs: 120_000,
      });
      expect(definition?.pools).toEqual([{ id: 'pit', name: 'Pit', kind: 'ga', capacity: 300, priceCents: 5_000 }]);
    });

    it('builds a ShowDefinition whose Inventory seat order is the geometry seat order', async () => {
      const venue = await catalog.createVenue(smallArena());
      const event = await catalog.createEvent({ name: 'Order', performer: 'Indexers', category: 'theatre', venue_id: venue.id });
      const show = await catalog.createShow(event.id, showAt(nowMs + day));
      const definition = await new ShowDefinitionStore(db).load(show.id);
      expect(definition).not.toBeNull();
      const inventory = new Inventory(definition!);

      // A fresh service builds the geometry from the database, not from its cache.
      const { etag, geometry } = await new CatalogService(db, { clock }).getSeatMapGeometry(show.id);
      expect(SeatMapGeometryResponse.parse(geometry)).toEqual(geometry);
      expect(etag).toBe(show.geometry_etag);
      expect(geometryEtag(geometry)).toBe(etag);
      expect(geometry.seat_count).toBe(inventory.seatCount);
      const flattened = geometry.sections.flatMap((section) => section.rows.flatMap((row) => row.seats.map((seat) => ({ section: section.id, row: row.label, seat }))));
      expect(flattened).toHaveLength(inventory.seatCount);
      flattened.forEach(({ section, row, seat }, index) => {
        expect(inventory.seatId(index)).toBe(`${section}:${row}:${seat[0]}`);
        expect(inventory.seatTier[index]).toBe(seat[3]);
        expect(inventory.seatFlags[index]).toBe(seat[4]);
        expect(inventory.seatPriceCents(index)).toBe(geometry.tiers[seat[3]]!.price_cents);
      });
      expect(flattened[0]!.seat).toEqual(['1', 0, 0, 1, 1]);
      expect(flattened[2]!.seat).toEqual(['3', 20, 0, 1, 2]);
      expect(flattened[4]!.seat).toEqual(['2', 10, 10, 0, 3]);
      expect(flattened[5]!.seat).toEqual(['10', 100.5, -3.25, 0, 0]);
      expect(geometry.pools.map((pool) => pool.id)).toEqual(inventory.pools.map((pool) => pool.id));
      expect(geometry.pools[0]).toMatchObject({ id: 'pit', kind: 'ga', capacity: 300, price_cents: 5_000 });
      expect(inventory.tierIds).toEqual(geometry.tiers.map((tier) => tier.id));

      const json = await catalog.getSeatMapGeometryJson(show.id);
      expect(JSON.parse(json.json)).toEqual(geometry);
      expect(json.etag).toBe(etag);
      // Different prices, different etag.
      const dearer = await catalog.createShow(event.id, showAt(nowMs + 2 * day, { price_tiers: arenaTiers.map((tier) => ({ ...tier, price_cents: tier.price_cents + 1 })) }));
      expect(dearer.geometry_etag).not.toBe(show.geometry_etag);
    });

    it('builds hotel shows with one pool per room type per night', async () => {
      const hotel = await catalog.createVenue({
        name: 'Grand Test Hotel',
        city: 'Nice',
        kind: 'hotel',
        room_types: [
          { id: 'std', name: 'Standard', rooms: 10, price_cents: 10_000 },
          { id: 'suite', name: 'Suite', rooms: 2, price_cents: 50_000 },
        ],
      });
      const event = await catalog.createEvent({ name: 'Summer stays', performer: 'Grand Test Hotel', category: 'lodging', venue_id: hotel.id });
      const show = await catalog.createShow(event.id, {
        starts_at: '2030-07-01T15:00:00Z',
        on_sale_at: at(nowMs),
        price_tiers: [{ id: 'suite', name: 'Suite (summer)', price_cents: 60_000 }],
        lodging: { first_night: '2030-06-30', nights: 3 },
      });
      expect(show).toMatchObject({ venue_kind: 'hotel', seat_count: 0, pool_count: 6, lodging: { first_night: '2030-06-30', nights: 3 } });
      const definition = (await new ShowDefinitionStore(db).load(show.id))!;
      const inventory = new Inventory(definition);
      expect(inventory.seatCount).toBe(0);
      expect(definition.pools).toEqual([
        { id: 'std@2030-06-30', name: 'Standard, night of 2030-06-30', kind: 'room_night', capacity: 10, priceCents: 10_000 },
        { id: 'std@2030-07-01', name: 'Standard, night of 2030-07-01', kind: 'room_night', capacity: 10, priceCents: 10_000 },
        { id: 'std@2030-07-02', name: 'Standard, night of 2030-07-02', kind: 'room_night', capacity: 10, priceCents: 10_000 },
        { id: 'suite@2030-06-30', name: 'Suite, night of 2030-06-30', kind: 'room_night', capacity: 2, priceCents: 60_000 },
        { id: 'suite@2030-07-01', name: 'Suite, night of 2030-07-01', kind: 'room_night', capacity: 2, priceCents: 60_000 },
        { id: 'suite@2030-07-02', name: 'Suite, night of 2030-07-02', kind: 'room_night', capacity: 2, priceCents: 60_000 },
      ]);
      const { geometry } = await new CatalogService(db, { clock }).getSeatMapGeometry(show.id);
      expect(geometry.pools.map((pool) => pool.id)).toEqual(definition.pools.map((pool) => pool.id));
      expect(geometry.tiers).toEqual([
        { id: 'std', name: 'Standard', price_cents: 10_000 },
        { id: 'suite', name: 'Suite (summer)', price_cents: 60_000 },
      ]);
      expect(await catalog.isHotelShow(show.id)).toBe(true);
      expect(await catalog.stayPools(show.id, { room_type_id: 'suite', check_in: '2030-07-01', nights: 2 })).toEqual(['suite@2030-07-01', 'suite@2030-07-02']);
      expect(paths(await refusal(catalog.stayPools(show.id, { room_type_id: 'suite', check_in: '2030-07-01', nights: 3 })))).toEqual(['nights']);
      expect(paths(await refusal(catalog.stayPools(show.id, { room_type_id: 'loft', check_in: '2030-06-29', nights: 1 })))).toEqual(['room_type_id', 'check_in']);

      // Hotel shows need lodging; arenas refuse it; overrides must name room types.
      expect(paths(await refusal(catalog.createShow(event.id, { starts_at: '2030-07-01T15:00:00Z', on_sale_at: at(nowMs) })))).toEqual(['lodging']);
      const arenaEvent = await catalog.createEvent({ name: 'x', performer: 'y', category: 'other', venue_id: (await catalog.createVenue(smallArena())).id });
      expect(paths(await refusal(catalog.createShow(arenaEvent.id, showAt(nowMs + day, { lodging: { first_night: '2030-07-01', nights: 1 } }))))).toEqual(['lodging']);
      const override = await refusal(
        catalog.createShow(event.id, { starts_at: '2030-07-01T15:00:00Z', on_sale_at: at(nowMs), lodging: { first_night: '2030-06-30', nights: 1 }, price_tiers: [{ id: 'loft', name: 'Loft', price_cents: 1 }] }),
      );
      expect(paths(override)).toEqual(['price_tiers.0.id']);
      expect(await catalog.isHotelShow((await catalog.listShowsOfEvent(event.id)).items[0]!.id)).toBe(true);
    });

    it('refuses invalid input with validation_failed and field paths', async () => {
      const venue = await catalog.createVenue(smallArena());
      const event = await catalog.createEvent({ name: 'Refusals', performer: 'Nobody', category: 'comedy', venue_id: venue.id });

      const unknownTier = await refusal(catalog.createShow(event.id, showAt(nowMs + day, { price_tiers: [...arenaTiers, { id: 'vip', name: 'VIP', price_cents: 1 }] })));
      expect(unknownTier.code).toBe('validation_failed');
      expect(paths(unknownTier)).toEqual(['price_tiers.3.id']);
      const missingTier = await refusal(catalog.createShow(event.id, showAt(nowMs + day, { price_tiers: arenaTiers.slice(1) })));
      expect(missingTier.extra?.errors).toEqual([{ path: 'price_tiers', message: 'tier back used by the venue has no price' }]);
      const duplicateTier = await refusal(catalog.createShow(event.id, showAt(nowMs + day, { price_tiers: [...arenaTiers, arenaTiers[0]!] })));
      expect(paths(duplicateTier)).toEqual(['price_tiers.3.id']);

      for (const holdTtl of [59, 901, 1.5]) {
        const error = await refusal(catalog.createShow(event.id, showAt(nowMs + day, { hold_ttl_s: holdTtl })));
        expect(error.code).toBe('validation_failed');
        expect(paths(error)).toEqual(['hold_ttl_s']);
      }
      expect(paths(await refusal(catalog.createShow(event.id, showAt(nowMs + day, { max_items_per_hold: 51, max_holds_per_user: 0 }))))).toEqual(['max_items_per_hold', 'max_holds_per_user']);
      expect(paths(await refusal(catalog.createShow(event.id, showAt(nowMs + day, { on_sale_at: at(nowMs + 2 * day) }))))).toEqual(['on_sale_at']);
      expect(paths(await refusal(catalog.createShow(event.id, showAt(nowMs + day, { currency: 'usd' }))))).toEqual(['currency']);
      expect(paths(await refusal(catalog.createShow(event.id, showAt(nowMs + day, { starts_at: 'tomorrow' }))))).toEqual(['starts_at']);
      expect(paths(await refusal(catalog.createShow(event.id, showAt(nowMs + day, { waiting_room: { enabled: true, opens_at: at(nowMs) } }))))).toEqual(['waiting_room.opens_at']);
      expect(paths(await refusal(catalog.createShow(event.id, { ...showAt(nowMs + day), extra: 1 } as CreateShowInput)))).toEqual(['extra']);
      expect((await refusal(catalog.createShow('evt-missing', showAt(nowMs + day)))).code).toBe('not_found');

      // Ids and labels.
      const badIds = smallArena();
      badIds.seat_map!.sections![0]!.id = 'A:1';
      badIds.seat_map!.sections![1]!.rows[0]!.seats[0]!.label = 'x:y';
      badIds.seat_map!.ga_areas![0]!.id = 'pit area';
      expect(paths(await refusal(catalog.createVenue(badIds)))).toEqual(['seat_map.sections.0.id', 'seat_map.sections.1.rows.0.seats.0.label', 'seat_map.ga_areas.0.id']);
      const duplicates = smallArena();
      duplicates.seat_map!.sections![1]!.id = 'A';
      duplicates.seat_map!.sections![0]!.rows[1]!.seats[1]!.label = '1';
      duplicates.seat_map!.ga_areas![0]!.id = 'A';
      expect(paths(await refusal(catalog.createVenue(duplicates)))).toEqual(['seat_map.sections.0.rows.1.seats.1.label', 'seat_map.sections.1.id', 'seat_map.ga_areas.0.id']);
      expect(paths(await refusal(catalog.createVenue({ name: 'H', city: 'C', kind: 'hotel', seat_map: { sections: [], ga_areas: [] } })))).toEqual(['seat_map', 'room_types']);
      expect(paths(await refusal(catalog.createVenue({ name: 'A', city: 'C', kind: 'arena' })))).toEqual(['seat_map']);
      expect(paths(await refusal(catalog.createVenue({ ...smallArena(), timezone: 'Mars/Olympus', country: 'France' })))).toEqual(['country', 'timezone']);
      expect(paths(await refusal(catalog.createEvent({ name: 'E', performer: 'P', category: 'concert', venue_id: 'BAD ID' })))).toEqual(['venue_id']);
      expect(paths(await refusal(catalog.createEvent({ name: 'E', performer: 'P', category: 'concert', venue_id: 'ven-missing' })))).toEqual(['venue_id']);
      expect(paths(await refusal(catalog.createEvent({ name: ' ', performer: 'P', category: 'opera' as 'other', venue_id: venue.id })))).toEqual(['name', 'category']);
      expect(paths(await refusal(catalog.createVenue(smallArena(), { id: 'shw-wrong-prefix' })))).toEqual(['id']);
      expect((await refusal(catalog.getShow('shw-nope'))).code).toBe('not_found');
      expect((await refusal(catalog.getEvent('evt-nope'))).code).toBe('not_found');
      expect((await refusal(catalog.getSeatMapGeometry('shw-nope'))).code).toBe('not_found');
      expect((await refusal(catalog.listShowsOfEvent('evt-nope'))).code).toBe('not_found');
      expect(paths(await refusal(catalog.searchEvents({ cursor: 'garbage' })))).toEqual(['cursor']);
      expect(paths(await refusal(catalog.searchEvents({ limit: 1000 })))).toEqual(['limit']);
    });

    describe('search', () => {
      let lyon: string;
      let berlin: string;
      const ids: Record<string, string> = {};
      beforeAll(async () => {
        const search = new CatalogService(db, { clock });
        lyon = (await search.createVenue(smallArena('Halle Tony Garnier', 'Lyon'))).id;
        berlin = (await search.createVenue(smallArena('Waldbühne Arena', 'Berlin'))).id;
        const make = async (key: string, name: string, performer: string, category: 'concert' | 'sports' | 'comedy', venueId: string, starts: number[]) => {
          const event = await search.createEvent({ name, performer, category, venue_id: venueId });
          for (const start of starts) await search.createShow(event.id, showAt(start, { on_sale_at: at(start - 30 * day) }));
          ids[key] = event.id;
        };
        await make('acdc', 'Power Up Tour', 'AC/DC', 'concert', lyon, [nowMs + 5 * day, nowMs + 40 * day]);
        await make('jayz', 'Blueprint Night', 'Jay-Z', 'concert', berlin, [nowMs + 12 * day]);
        await make('derby', 'Zephyr Derby', 'Zephyr FC', 'sports', berlin, [nowMs + 2 * day]);
        await make('standup', 'Zephyr Laughs', 'Zephyr Comics', 'comedy', lyon, [nowMs - 3 * day]);
      });

      const idsOf = (list: { items: EventView[] }) => list.items.map((item) => item.id);

      it('finds events by keyword prefix in name, performer, venue name and city', async () => {
        expect(idsOf(await catalog.searchEvents({ q: 'power tour' }))).toEqual([ids['acdc']]);
        expect(idsOf(await catalog.searchEvents({ q: 'ac/dc' }))).toEqual([ids['acdc']]);
        expect(idsOf(await catalog.searchEvents({ q: 'JAY' }))).toEqual([ids['jayz']]);
        expect(idsOf(await catalog.searchEvents({ q: 'Waldbüh' }))).toEqual([ids['derby'], ids['jayz']]);
        expect(idsOf(await catalog.searchEvents({ q: 'zephyr tony' }))).toEqual([ids['standup']]);
        expect(idsOf(await catalog.searchEvents({ q: 'zeph' }))).toEqual([ids['derby'], ids['standup']]);
        expect(idsOf(await catalog.searchEvents({ q: 'nothing-like-this' }))).toEqual([]);
        expect(idsOf(await catalog.searchEvents({ q: "'&|!:*()" }))).toEqual(idsOf(await catalog.searchEvents({ limit: 100 })));
        const result = await catalog.searchEvents({ q: 'garnier power' });
        expect(EventListResponse.parse(result)).toEqual(result);
        expect(result.items[0]).toMatchObject({ venue_name: 'Halle Tony Garnier', venue_city: 'Lyon', performer: 'AC/DC', next_show_at: at(nowMs + 5 * day) });
      });

      it('filters by city, category, performer, venue and date range', async () => {
        expect(idsOf(await catalog.searchEvents({ city: 'berlin' }))).toEqual([ids['derby'], ids['jayz']]);
        expect(idsOf(await catalog.searchEvents({ category: 'sports' }))).toEqual([ids['derby']]);
        expect(idsOf(await catalog.searchEvents({ performer: 'jay-z' }))).toEqual([ids['jayz']]);
        expect(idsOf(await catalog.searchEvents({ venue_id: lyon }))).toEqual([ids['acdc'], ids['standup']]);
        expect(idsOf(await catalog.searchEvents({ venue_id: lyon, category: 'concert', q: 'tour' }))).toEqual([ids['acdc']]);
        expect(idsOf(await catalog.searchEvents({ from: at(nowMs + 10 * day), to: at(nowMs + 20 * day), city: 'Berlin' }))).toEqual([ids['jayz']]);
        expect(idsOf(await catalog.searchEvents({ from: at(nowMs + 10 * day), to: at(nowMs + 20 * day), city: 'Lyon' }))).toEqual([]);
        const later = await catalog.searchEvents({ from: at(nowMs + 30 * day), venue_id: lyon });
        expect(idsOf(later)).toEqual([ids['acdc']]);
        expect(later.items[0]!.next_show_at).toBe(at(nowMs + 40 * day));
        expect(idsOf(await catalog.searchEvents({ from: at(nowMs - 4 * day), to: at(nowMs), venue_id: lyon }))).toEqual([ids['standup']]);
        expect(idsOf(await catalog.searchEvents({ to: '2030-03-04', city: 'Berlin' }))).toEqual([ids['derby']]);
        expect(paths(await refusal(catalog.searchEvents({ from: at(nowMs + day), to: at(nowMs) })))).toEqual(['to']);
      });
    });

    it('pages through every event exactly once, in next-show order', async () => {
      const paging = new CatalogService(db, { clock });
      const venue = await paging.createVenue(smallArena('Paging Hall', 'Pagetown'));
      const expected: { id: string; next: number | null }[] = [];
      for (let index = 0; index < 23; index += 1) {
        const event = await paging.createEvent({ name: `Page ${index}`, performer: 'Pager', category: 'concert', venue_id: venue.id });
        let next: number | null = null;
        if (index % 4 !== 3) {
          // Ties on purpose: several events share a start, so id breaks them.
          next = nowMs + (1 + (index % 5)) * day;
          await paging.createShow(event.id, showAt(next));
          await paging.createShow(event.id, showAt(next + 7 * day));
        } else if (index % 8 === 3) {
          await paging.createShow(event.id, showAt(nowMs - day, { on_sale_at: at(nowMs - 2 * day) }));
        }
        expected.push({ id: event.id, next });
      }
      expected.sort((a, b) => (a.next ?? Infinity) - (b.next ?? Infinity) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      for (const limit of [1, 4, 7, 23, 50]) {
        const seen: string[] = [];
        let cursor: string | undefined;
        let pages = 0;
        do {
          const page = await paging.searchEvents({ city: 'pagetown', limit, cursor });
          seen.push(...page.items.map((item) => item.id));
          cursor = page.next_cursor ?? undefined;
          pages += 1;
          expect(pages).toBeLessThan(30);
        } while (cursor !== undefined);
        expect(seen).toEqual(expected.map((entry) => entry.id));
        expect(pages).toBe(Math.max(1, Math.ceil(23 / limit)));
      }
      // The cursor pins "now": a later page computed after time moved on still continues the same order.
      const first = await paging.searchEvents({ city: 'pagetown', limit: 10 });
      const later = new CatalogService(db, { clock: { nowMs: () => nowMs + 3 * day } });
      const rest = await later.searchEvents({ city: 'pagetown', limit: 100, cursor: first.next_cursor ?? undefined });
      expect([...idsOfPage(first), ...idsOfPage(rest)]).toEqual(expected.map((entry) => entry.id));

      // Shows of one event page by start then id.
      const busy = await paging.createEvent({ name: 'Residency', performer: 'Pager', category: 'concert', venue_id: venue.id });
      for (let index = 0; index < 5; index += 1) await paging.createShow(busy.id, showAt(nowMs + (index % 2) * day + day));
      const shows: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await paging.listShowsOfEvent(busy.id, { limit: 2, cursor });
        shows.push(...page.items.map((item) => item.id));
        cursor = page.next_cursor ?? undefined;
      } while (cursor !== undefined);
      const all = await paging.listShowsOfEvent(busy.id, { limit: 100 });
      expect(shows).toEqual(all.items.map((item) => item.id));
      expect(new Set(shows).size).toBe(5);
    });
  });
}

function idsOfPage(page: { items: { id: string }[] }): string[] {
  return page.items.map((item) => item.id);
}
