import { randomUUID } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SeatMapResponse } from '../../src/gateway/routes/catalog-routes.js';
import {
  EventListResponse, EventResponse, ShowListResponse, ShowResponse, VenueResponse,
  type CreateEventInput, type EventCategoryName, type EventList, type EventView, type ShowList, type ShowView, type VenueView,
} from '../../src/protocol/catalog-schemas.js';
import type { HoldResponse } from '../../src/protocol/hold-schemas.js';
import type { Ack } from '../../src/protocol/socket-events.js';
import { databaseKinds } from '../support/databases.js';
import { startTestServer, type TestServer } from '../support/server.js';
import {
  arenaShow, dateOf, dayMs, emitAck, expectProblem, geometrySeatIds, hourMs, iso, key, ok, organizer, rawHttp, recordDiffs,
  seatStatus, smallArena, watch, eventually, type RawReply, type Reply, type SeatMap,
} from './gateway-helpers.js';

/**
 * The catalog over real HTTP: an organizer creates venues, events and shows (admin token,
 * Idempotency-Key), fans browse and search them, read seat maps (ETag, gzip) whose seat order
 * is the order holds and live diffs use, and book hotel stays as one hold over room-nights.
 */

type VenueKey = 'V1' | 'V2' | 'H';

interface FixtureEvent {
  name: string;
  performer: string;
  category: EventCategoryName;
  venue: VenueKey;
  description?: string;
  /** Show starts, in days from the fixture's base time (the hotel show is added separately). */
  showDays: number[];
}

const venueInfo: Record<VenueKey, { name: string; city: string }> = {
  V1: { name: 'Riverside Dome', city: 'Lakeview' },
  V2: { name: 'Granite Hall', city: 'Stonebridge' },
  H: { name: 'Harbor Inn', city: 'Lakeview' },
};

const fixtureEvents: Record<string, FixtureEvent> = {
  E1: { name: 'Midnight Echoes Tour', performer: 'The Lanterns', category: 'concert', venue: 'V1', description: 'Two nights only.', showDays: [10, 40] },
  E2: { name: 'Comedy Night Live', performer: 'Dana Quill', category: 'comedy', venue: 'V2', showDays: [20] },
  E3: { name: 'Derby Classic', performer: 'Stonebridge Rovers', category: 'sports', venue: 'V2', showDays: [30] },
  E4: { name: 'Lanterns Unplugged', performer: 'The Lanterns', category: 'concert', venue: 'V2', showDays: [] },
  E5: { name: 'Harbor Stay', performer: 'Harbor Inn', category: 'lodging', venue: 'H', showDays: [] },
  E6: { name: 'Spring Gala', performer: 'Ensemble Nova', category: 'theatre', venue: 'V1', showDays: [10] },
  E7: { name: 'Quiet Festival', performer: 'Various Artists', category: 'festival', venue: 'V1', showDays: [] },
  // Injection-shaped, quoted and non-ASCII text is data like any other.
  E8: { name: "Robert'); DROP TABLE events;--", performer: 'Little Bobby Tables', category: 'other', venue: 'V2', description: 'ünï©ødé 🎟️ "quoted" \\ backslash', showDays: [] },
};

const words = (text: string): string[] => text.normalize('NFKC').toLowerCase().split(/[^\p{L}\p{N}]+/u).filter((word) => word.length > 0);

for (const kind of databaseKinds) {
  describe.skipIf(!kind.available)(`catalog browse and booking over HTTP (${kind.name})`, () => {
    let t: TestServer;
    const fans: Record<string, string> = {};
    const baseMs = Math.floor(Date.now() / 60_000) * 60_000;
    const dayAt = (days: number) => baseMs + days * dayMs;
    const venues = {} as Record<VenueKey, VenueView>;
    const events: Record<string, EventView> = {};
    /** Show starts per fixture event key (ms). */
    const showStarts: Record<string, number[]> = {};
    const shows: ShowView[] = [];
    let arenaShowId = '';
    let hotelShow: ShowView;
    const firstNight = dateOf(dayAt(5));
    const night = (offset: number) => dateOf(Date.parse(`${firstNight}T00:00:00Z`) + offset * dayMs);

    /** The reference answer of a search: every documented filter applied to the fixture. */
    const expected = (filter: { q?: string; city?: string; category?: string; performer?: string; venue?: VenueKey; fromMs?: number; toMs?: number }): string[] => {
      const fromMs = filter.fromMs ?? Date.now();
      const requireShow = filter.fromMs !== undefined || filter.toMs !== undefined;
      const rows = Object.entries(fixtureEvents).flatMap(([eventKey, event]) => {
        const venue = venueInfo[event.venue];
        const documentWords = words(`${event.name} ${event.performer} ${venue.name} ${venue.city}`);
        if (filter.q !== undefined && !words(filter.q).every((word) => documentWords.some((candidate) => candidate.startsWith(word)))) return [];
        if (filter.city !== undefined && venue.city.toLowerCase() !== filter.city.toLowerCase()) return [];
        if (filter.category !== undefined && event.category !== filter.category) return [];
        if (filter.performer !== undefined && event.performer.toLowerCase() !== filter.performer.toLowerCase()) return [];
        if (filter.venue !== undefined && event.venue !== filter.venue) return [];
        const inWindow = (showStarts[eventKey] ?? []).filter((start) => start >= fromMs && (filter.toMs === undefined || start < filter.toMs));
        const next = inWindow.length > 0 ? Math.min(...inWindow) : null;
        if (requireShow && next === null) return [];
        return [{ id: events[eventKey]!.id, next }];
      });
      rows.sort((a, b) => (a.next ?? Infinity) - (b.next ?? Infinity) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      return rows.map((row) => row.id);
    };
    const search = async (query: Record<string, string>): Promise<EventList> => ok<EventList>(await t.request('GET', `/v1/events?${new URLSearchParams(query).toString()}`));
    const allPages = async (query: Record<string, string>, limit: number): Promise<string[]> => {
      const ids: string[] = [];
      let cursor: string | null = null;
      for (let page = 0; page < 100; page += 1) {
        const list: EventList = await search({ ...query, limit: String(limit), ...(cursor === null ? {} : { cursor }) });
        expect(list.items.length).toBeLessThanOrEqual(limit);
        ids.push(...list.items.map((item) => item.id));
        cursor = list.next_cursor;
        if (cursor === null) return ids;
      }
      throw new Error('pagination did not end');
    };
    const seatMapOf = async (showId: string, headers: Record<string, string> = {}): Promise<{ reply: Reply; seatMap: SeatMap }> => {
      const reply = await t.request('GET', `/v1/shows/${showId}/seat-map`, { headers });
      return { reply, seatMap: SeatMapResponse.parse(ok(reply)) };
    };
    const hold = (fan: string, showId: string, body: unknown) => t.request('POST', `/v1/shows/${showId}/holds`, { token: fans[fan]!, body, headers: key() });

    beforeAll(async () => {
      t = await startTestServer(kind, { RATE_LIMIT_USER_PER_S: '10000', RATE_LIMIT_IP_PER_S: '100000', DIFF_TICK_MS: '20' });
      const org = organizer(t);
      venues.V1 = await org.venue(smallArena(venueInfo.V1.name, venueInfo.V1.city));
      venues.V2 = await org.venue({ ...smallArena(venueInfo.V2.name, venueInfo.V2.city), country: 'GB', timezone: 'Europe/London' });
      venues.H = await org.venue({ name: venueInfo.H.name, city: venueInfo.H.city, kind: 'hotel', room_types: [{ id: 'double', name: 'Double room', rooms: 2, price_cents: 12_000 }] });
      for (const [eventKey, event] of Object.entries(fixtureEvents)) {
        const body: CreateEventInput = { name: event.name, performer: event.performer, category: event.category, venue_id: venues[event.venue].id, ...(event.description ? { description: event.description } : {}) };
        events[eventKey] = await org.event(body);
        showStarts[eventKey] = [];
        for (const days of event.showDays) {
          const show = await org.show(events[eventKey]!.id, arenaShow(dayAt(days), { max_holds_per_user: 20 }));
          shows.push(show);
          showStarts[eventKey]!.push(dayAt(days));
        }
      }
      arenaShowId = shows[0]!.id;
      hotelShow = await org.show(events['E5']!.id, { starts_at: `${firstNight}T15:00:00.000Z`, on_sale_at: iso(Date.now() - hourMs), lodging: { first_night: firstNight, nights: 5 } });
      showStarts['E5'] = [Date.parse(hotelShow.starts_at)];
      for (const fan of ['ann', 'ben', 'cat', 'dan']) fans[fan] = await t.session(`fan-${fan}`);
    });
    afterAll(async () => t?.close());

    it('answers the organizer calls with documented bodies', () => {
      expect(VenueResponse.parse(venues.V1)).toMatchObject({ kind: 'arena', seat_count: 8, section_count: 2, tier_ids: ['front', 'back', 'standing'], room_types: [], city: 'Lakeview', country: 'US' });
      expect(venues.V1.ga_areas).toMatchObject([{ id: 'pit', capacity: 5, tier: 'standing' }]);
      expect(VenueResponse.parse(venues.H)).toMatchObject({ kind: 'hotel', seat_count: 0, room_types: [{ id: 'double', rooms: 2, price_cents: 12_000 }] });
      for (const [eventKey, event] of Object.entries(events)) {
        expect(EventResponse.parse(event)).toMatchObject({ name: fixtureEvents[eventKey]!.name, performer: fixtureEvents[eventKey]!.performer, venue_id: venues[fixtureEvents[eventKey]!.venue].id, venue_name: venueInfo[fixtureEvents[eventKey]!.venue].name, next_show_at: null });
      }
      const show = ShowResponse.parse(shows[0]);
      expect(show).toMatchObject({ event_id: events['E1']!.id, venue_id: venues.V1.id, venue_kind: 'arena', currency: 'USD', seat_count: 8, pool_count: 1, max_items_per_hold: 10, max_holds_per_user: 20, lodging: null, waiting_room: null });
      expect(show.starts_at).toBe(iso(dayAt(10)));
      expect(show.price_tiers.map((tier) => tier.id)).toEqual(['front', 'back', 'standing']);
      expect(ShowResponse.parse(hotelShow)).toMatchObject({ venue_kind: 'hotel', pool_count: 5, seat_count: 0, lodging: { first_night: firstNight, nights: 5 } });
    });

    it('reads an event, its shows by start (paged) and one show', async () => {
      const e1 = events['E1']!;
      const event = EventResponse.parse(ok(await t.request('GET', `/v1/events/${e1.id}`)));
      expect(event).toMatchObject({ id: e1.id, name: 'Midnight Echoes Tour', description: 'Two nights only.', next_show_at: iso(dayAt(10)), venue_city: 'Lakeview' });
      const e8 = EventResponse.parse(ok(await t.request('GET', `/v1/events/${events['E8']!.id}`)));
      expect({ name: e8.name, description: e8.description }).toEqual({ name: fixtureEvents['E8']!.name, description: fixtureEvents['E8']!.description });

      const list = ShowListResponse.parse(ok(await t.request('GET', `/v1/events/${e1.id}/shows`)));
      expect(list.items.map((show) => show.starts_at)).toEqual([iso(dayAt(10)), iso(dayAt(40))]);
      expect(list.next_cursor).toBeNull();
      const first = ShowListResponse.parse(ok(await t.request('GET', `/v1/events/${e1.id}/shows?limit=1`)));
      expect(first.items).toHaveLength(1);
      expect(first.next_cursor).not.toBeNull();
      const second = ok<ShowList>(await t.request('GET', `/v1/events/${e1.id}/shows?limit=1&cursor=${encodeURIComponent(first.next_cursor!)}`));
      expect([...first.items, ...second.items].map((show) => show.id)).toEqual(list.items.map((show) => show.id));
      expect(second.next_cursor).toBeNull();
      expectProblem(await t.request('GET', `/v1/events/${events['E2']!.id}/shows?cursor=${encodeURIComponent(first.next_cursor!)}`), 400, 'validation_failed');
      expect(ok<ShowList>(await t.request('GET', `/v1/events/${events['E4']!.id}/shows`))).toEqual({ items: [], next_cursor: null });

      expect(ok(await t.request('GET', `/v1/shows/${arenaShowId}`))).toEqual(shows[0]);
      for (const path of ['/v1/events/evt-missing', '/v1/events/evt-missing/shows', '/v1/shows/shw-missing', '/v1/shows/shw-missing/seat-map', '/v1/shows/shw-missing/availability']) {
        expectProblem(await t.request('GET', path), 404, 'not_found');
      }
    });

    it('searches by keyword (name, performer, venue name, city), city, category, performer and venue', async () => {
      const cases: [Record<string, string>, Parameters<typeof expected>[0]][] = [
        [{}, {}],
        [{ q: 'midnight' }, { q: 'midnight' }],
        [{ q: 'MIDNIGHT echoes' }, { q: 'MIDNIGHT echoes' }],
        [{ q: 'lant' }, { q: 'lant' }],
        [{ q: 'granite' }, { q: 'granite' }],
        [{ q: 'riverside dome' }, { q: 'riverside dome' }],
        [{ q: 'lakeview' }, { q: 'lakeview' }],
        [{ q: 'bobby tables' }, { q: 'bobby tables' }],
        [{ q: 'nothing-matches-this' }, { q: 'nothing-matches-this' }],
        [{ city: 'LAKEVIEW' }, { city: 'LAKEVIEW' }],
        [{ city: 'stonebridge' }, { city: 'stonebridge' }],
        [{ category: 'concert' }, { category: 'concert' }],
        [{ category: 'comedy' }, { category: 'comedy' }],
        [{ performer: 'the lanterns' }, { performer: 'the lanterns' }],
        [{ performer: 'lanterns' }, { performer: 'lanterns' }],
        [{ venue_id: venues.V2.id }, { venue: 'V2' }],
        [{ q: 'lanterns', venue_id: venues.V2.id }, { q: 'lanterns', venue: 'V2' }],
        [{ q: 'lakeview', category: 'theatre' }, { q: 'lakeview', category: 'theatre' }],
      ];
      for (const [query, filter] of cases) {
        const list = EventListResponse.parse(await search({ ...query, limit: '100' }));
        expect({ query, ids: list.items.map((item) => item.id) }).toEqual({ query, ids: expected(filter) });
      }
      // Sanity of the reference itself: the interesting cases are not empty.
      expect(expected({ q: 'lant' })).toEqual([events['E1']!.id, events['E4']!.id]);
      expect(expected({ q: 'granite' })).toHaveLength(4);
    });

    it('filters by show dates (from/to, instants or dates) and reports the next show in the window', async () => {
      const cases: [Record<string, string>, Parameters<typeof expected>[0]][] = [
        [{ from: iso(dayAt(15)) }, { fromMs: dayAt(15) }],
        [{ to: iso(dayAt(15)) }, { toMs: dayAt(15) }],
        [{ from: iso(dayAt(15)), to: iso(dayAt(35)) }, { fromMs: dayAt(15), toMs: dayAt(35) }],
        [{ from: dateOf(dayAt(15)) }, { fromMs: Date.parse(`${dateOf(dayAt(15))}T00:00:00Z`) }],
        [{ from: dateOf(dayAt(50)) }, { fromMs: Date.parse(`${dateOf(dayAt(50))}T00:00:00Z`) }],
        [{ from: iso(dayAt(15)), category: 'concert' }, { fromMs: dayAt(15), category: 'concert' }],
      ];
      for (const [query, filter] of cases) {
        const list = EventListResponse.parse(await search({ ...query, limit: '100' }));
        expect({ query, ids: list.items.map((item) => item.id) }).toEqual({ query, ids: expected(filter) });
      }
      const later = await search({ from: iso(dayAt(15)) });
      expect(later.items.find((item) => item.id === events['E1']!.id)?.next_show_at).toBe(iso(dayAt(40)));
      expectProblem(await t.request('GET', `/v1/events?from=${iso(dayAt(20))}&to=${iso(dayAt(10))}`), 400, 'validation_failed');
      expectProblem(await t.request('GET', `/v1/events?to=${iso(Date.now() - dayMs)}`), 400, 'validation_failed');
      expectProblem(await t.request('GET', '/v1/events?from=2030-02-30'), 400, 'validation_failed');
    });

    it('pages through every event exactly once, in the order of one big page', async () => {
      for (const [query, filter] of [[{}, {}], [{ city: 'lakeview' }, { city: 'lakeview' }], [{ from: iso(dayAt(1)) }, { fromMs: dayAt(1) }]] as const) {
        const all = expected(filter);
        for (const limit of [1, 2, 3, 100]) {
          const ids = await allPages(query, limit);
          expect({ query, limit, ids }).toEqual({ query, limit, ids: all });
        }
      }
      expectProblem(await t.request('GET', '/v1/events?cursor=not-a-cursor'), 400, 'validation_failed');
      expectProblem(await t.request('GET', '/v1/events?limit=0'), 400, 'validation_failed');
      expectProblem(await t.request('GET', '/v1/events?limit=101'), 400, 'validation_failed');
    });

    it('serves seat-map geometry in the seat order of holds, availability snapshots and live diffs', async () => {
      const { seatMap } = await seatMapOf(arenaShowId);
      const geometry = seatMap.geometry;
      expect(geometry).toMatchObject({ show_id: arenaShowId, currency: 'USD', seat_count: 8, stage: { x: -20, y: -100, width: 60, height: 25 } });
      expect(geometry.tiers).toEqual([
        { id: 'front', name: 'Front', price_cents: 9_000 },
        { id: 'back', name: 'Back', price_cents: 4_000 },
        { id: 'standing', name: 'Standing', price_cents: 5_000 },
      ]);
      expect(geometry.pools).toEqual([{ id: 'pit', name: 'The Pit', kind: 'ga', capacity: 5, price_cents: 5_000, bounds: { x: -10, y: -60, width: 40, height: 20 } }]);
      const ids = geometrySeatIds(seatMap);
      expect(ids).toEqual(['A:1:1', 'A:1:2', 'A:1:3', 'A:2:1', 'A:2:2', 'A:2:3', 'B:AA:7', 'B:AA:8']);
      // [label, x, y, tier index, flags (1 accessible, 2 obstructed)], as the venue said.
      expect(geometry.sections[0]!.rows[0]!.seats[0]).toEqual(['1', 0, 0, 0, 1]);
      expect(geometry.sections[0]!.rows[1]!.seats[1]).toEqual(['2', 10, 12.5, 1, 3]);
      expect(geometry.sections[1]!.rows[0]!.seats[0]).toEqual(['7', -40.25, 30, 1, 0]);
      expect(seatStatus(seatMap.availability.seat_status)).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
      expect(seatMap.availability.pool_available).toEqual([5]);

      const watcher = await t.socket();
      await watch(watcher, arenaShowId);
      const diffs = recordDiffs(watcher);
      const prices = geometry.sections.flatMap((section) => section.rows.flatMap((row) => row.seats.map((seat) => geometry.tiers[seat[3]]!.price_cents)));
      const availabilityNow = async () => ok<{ version: number; seat_status: string }>(await t.request('GET', `/v1/shows/${arenaShowId}/availability`));
      // Seat by seat from a free map: hold seat n (with the seats the orphan-seat rule says it
      // would strand, if any), see exactly those bytes of the snapshot and of the live diff turn
      // to held, release. Seat n of the geometry is byte n everywhere.
      for (const index of [5, 0, 7, 2, 4, 6, 1, 3]) {
        const before = await availabilityNow();
        let held = [ids[index]!];
        let reply = await hold('ann', arenaShowId, { seat_ids: held });
        if (reply.status === 409 && (reply.body as { code?: string }).code === 'orphan_seat') {
          held = [...held, ...expectProblem(reply, 409, 'orphan_seat').seats!];
          expect(await availabilityNow()).toEqual(before);
          reply = await hold('ann', arenaShowId, { seat_ids: held });
        }
        const placed = ok<HoldResponse>(reply, 201);
        expect(placed.seat_ids.slice().sort()).toEqual(held.slice().sort());
        const indices = held.map((id) => ids.indexOf(id)).sort();
        expect(placed.total_cents).toBe(indices.reduce((sum, seat) => sum + prices[seat]!, 0));
        const availability = await availabilityNow();
        expect({ index, status: seatStatus(availability.seat_status) }).toEqual({ index, status: ids.map((_, seat) => (indices.includes(seat) ? 1 : 0)) });
        expect(availability.version).toBe(placed.version);
        await eventually(() => diffs.some((diff) => diff.to_version >= placed.version), 3_000, `the diff of version ${placed.version}`);
        const diffSeats = diffs.filter((diff) => diff.to_version > before.version && diff.from_version < placed.version).flatMap((diff) => diff.seats);
        expect({ index, seats: diffSeats.filter(([, status]) => status === 1).map(([seat]) => seat).sort() }).toEqual({ index, seats: indices });
        ok(await t.request('DELETE', `/v1/holds/${placed.hold_id}`, { token: fans['ann']! }));
      }
      const after = await seatMapOf(arenaShowId);
      expect(seatStatus(after.seatMap.availability.seat_status)).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
      expect(after.seatMap.geometry).toEqual(geometry);
      watcher.disconnect();
    });

    it('answers If-None-Match with 304 until the availability version moves; the geometry ETag stays', async () => {
      const first = await seatMapOf(arenaShowId);
      const etag = first.reply.headers.get('etag');
      expect(etag).toBe(`"${shows[0]!.geometry_etag}-v${first.seatMap.availability.version}"`);
      expect(first.seatMap.geometry_etag).toBe(shows[0]!.geometry_etag);
      expect(first.reply.headers.get('cache-control')).toBe('no-cache');
      const notModified = await t.request('GET', `/v1/shows/${arenaShowId}/seat-map`, { headers: { 'if-none-match': etag! } });
      expect(notModified.status).toBe(304);
      expect(notModified.text).toBe('');
      expect(notModified.headers.get('etag')).toBe(etag);
      expect((await t.request('GET', `/v1/shows/${arenaShowId}/seat-map`, { headers: { 'if-none-match': '"g1-stale-v0"' } })).status).toBe(200);

      const placed = ok<HoldResponse>(await hold('ben', arenaShowId, { ga: [{ section_id: 'pit', quantity: 2 }] }), 201);
      const changed = await seatMapOf(arenaShowId, { 'if-none-match': etag! });
      expect(changed.reply.status).toBe(200);
      expect(changed.reply.headers.get('etag')).toBe(`"${shows[0]!.geometry_etag}-v${placed.version}"`);
      expect(changed.seatMap.geometry_etag).toBe(first.seatMap.geometry_etag);
      expect(changed.seatMap.availability.pool_available).toEqual([first.seatMap.availability.pool_available[0]! - 2]);
      const availability = ok<Record<string, unknown>>(await t.request('GET', `/v1/shows/${arenaShowId}/availability`));
      expect(availability).toEqual({ show_id: arenaShowId, ...changed.seatMap.availability });
    });

    it('gzips the seat map when the client accepts gzip, and only then', async () => {
      const path = `/v1/shows/${arenaShowId}/seat-map`;
      const plain = (await rawHttp(t.url, 'GET', path)) as RawReply;
      expect(plain.status).toBe(200);
      expect(plain.headers['content-encoding']).toBeUndefined();
      expect(plain.headers['content-type']).toBe('application/json');
      const zipped = (await rawHttp(t.url, 'GET', path, { headers: { 'accept-encoding': 'gzip, deflate' } })) as RawReply;
      expect(zipped.status).toBe(200);
      expect(zipped.headers['content-encoding']).toBe('gzip');
      expect(zipped.headers['vary']).toBe('accept-encoding');
      expect(zipped.headers['etag']).toBe(plain.headers['etag']);
      expect(JSON.parse(gunzipSync(zipped.body).toString('utf8'))).toEqual(JSON.parse(plain.body.toString('utf8')));
      const brotliOnly = (await rawHttp(t.url, 'GET', path, { headers: { 'accept-encoding': 'br' } })) as RawReply;
      expect(brotliOnly.headers['content-encoding']).toBeUndefined();
      expect(JSON.parse(brotliOnly.body.toString('utf8'))).toEqual(JSON.parse(plain.body.toString('utf8')));
      const notModified = (await rawHttp(t.url, 'GET', path, { headers: { 'accept-encoding': 'gzip', 'if-none-match': String(plain.headers['etag']) } })) as RawReply;
      expect({ status: notModified.status, length: notModified.body.length }).toEqual({ status: 304, length: 0 });
    });

    it('books a three-night hotel stay as one hold over three room-nights, all or nothing', async () => {
      const pool = (offset: number) => `double@${night(offset)}`;
      const stay = (from: number, nights: number) => ({ pools: Array.from({ length: nights }, (_, index) => ({ pool_id: pool(from + index), quantity: 1 })) });
      const { seatMap } = await seatMapOf(hotelShow.id);
      expect(seatMap.geometry.seat_count).toBe(0);
      expect(seatMap.geometry.sections).toEqual([]);
      expect(seatMap.geometry.pools.map((entry) => ({ id: entry.id, kind: entry.kind, capacity: entry.capacity, price_cents: entry.price_cents }))).toEqual(
        [0, 1, 2, 3, 4].map((offset) => ({ id: pool(offset), kind: 'room_night', capacity: 2, price_cents: 12_000 })),
      );
      const availability = async () => ok<{ version: number; pool_available: number[] }>(await t.request('GET', `/v1/shows/${hotelShow.id}/availability`));
      expect((await availability()).pool_available).toEqual([2, 2, 2, 2, 2]);

      const annStay = ok<HoldResponse>(await hold('ann', hotelShow.id, stay(0, 3)), 201);
      expect(annStay.ga).toEqual([0, 1, 2].map((offset) => ({ section_id: pool(offset), quantity: 1 })));
      expect(annStay.total_cents).toBe(3 * 12_000);
      expect((await availability()).pool_available).toEqual([1, 1, 1, 2, 2]);
      const mine = ok<HoldResponse>(await t.request('GET', `/v1/holds/${annStay.hold_id}`, { token: fans['ann']! }));
      expect(mine.ga).toEqual(annStay.ga);

      ok(await hold('ben', hotelShow.id, stay(1, 1)), 201);
      const before = await availability();
      expect(before.pool_available).toEqual([1, 0, 1, 2, 2]);
      const refused = expectProblem(await hold('cat', hotelShow.id, stay(0, 3)), 409, 'pool_unavailable');
      expect(refused.pools).toEqual([pool(1)]);
      expect(await availability()).toEqual(before);
      expectProblem(await hold('cat', hotelShow.id, { pools: [{ pool_id: pool(2), quantity: 1 }, { pool_id: `double@${night(9)}`, quantity: 1 }] }), 422, 'unknown_pool');
      expect(await availability()).toEqual(before);

      ok(await hold('cat', hotelShow.id, stay(2, 3)), 201);
      expect((await availability()).pool_available).toEqual([1, 0, 0, 1, 1]);
    });

    it('sends the hold of one fan to another fan watching, with seat indices of the geometry', async () => {
      const { seatMap } = await seatMapOf(arenaShowId);
      const ids = geometrySeatIds(seatMap);
      const watcher = await t.socket();
      const snapshot = await watch(watcher, arenaShowId);
      expect(Array.from(snapshot.seat_status)).toEqual(seatStatus(seatMap.availability.seat_status));
      const diffs = recordDiffs(watcher);
      const fan = await t.socket(fans['dan']);
      const ack = await emitAck<HoldResponse>(fan, 'hold', { show_id: arenaShowId, idempotency_key: randomUUID(), seat_ids: [ids[7]!, ids[0]!, ids[6]!] });
      expect(ack).toMatchObject({ ok: true });
      await eventually(() => diffs.some((diff) => diff.seats.length > 0), 3_000, 'a diff');
      const seats = diffs.flatMap((diff) => diff.seats).filter(([, status]) => status === 1).map(([seat]) => seat).sort();
      expect(seats).toEqual([0, 6, 7]);
      const released = await emitAck<HoldResponse>(fan, 'release', { hold_id: (ack as Extract<Ack<HoldResponse>, { ok: true }>).data.hold_id });
      expect(released.ok).toBe(true);
      watcher.disconnect();
      fan.disconnect();
    });

    // Organizer writes come last: they add events the searches above do not expect.
    const post = (path: string, body: unknown, headers: Record<string, string>, token: string | null = t.adminToken) => t.request('POST', path, { ...(token === null ? {} : { token }), body, headers });
    const eventList = async () => (await t.request('GET', '/v1/events?limit=100')).text;
    const writes = { venueId: '', eventId: '' };

    const routes = () => [
      { name: 'venue', path: '/v1/venues', body: smallArena('Second Arena', 'Retryville'), other: smallArena('Third Arena', 'Retryville') },
      { name: 'event', path: '/v1/events', body: { name: 'Retry Event', performer: 'The Retries', category: 'concert', venue_id: writes.venueId }, other: { name: 'Other Event', performer: 'The Retries', category: 'concert', venue_id: writes.venueId } },
      { name: 'show', path: `/v1/events/${writes.eventId}/shows`, body: arenaShow(Date.now() + 5 * dayMs), other: arenaShow(Date.now() + 6 * dayMs) },
    ];

    it('needs the admin token: none is 401 unauthorized, a fan session 403 forbidden; nothing is created', async () => {
      const org = organizer(t);
      writes.venueId = (await org.venue(smallArena('Idem Arena', 'Retryville'))).id;
      writes.eventId = (await org.event({ name: 'Base Event', performer: 'Base', category: 'other', venue_id: writes.venueId })).id;
      const fan = fans['ann']!;
      const before = await eventList();
      const showsBefore = (await t.request('GET', `/v1/events/${writes.eventId}/shows`)).text;
      for (const route of routes()) {
        expectProblem(await post(route.path, route.body, key(), null), 401, 'unauthorized');
        expectProblem(await post(route.path, route.body, key(), fan), 403, 'forbidden');
        expectProblem(await post(route.path, route.body, key(), 'not-a-token'), 401, 'unauthorized');
        expectProblem(await post(route.path, route.body, {}, null), 401, 'unauthorized');
      }
      expect(await eventList()).toBe(before);
      expect((await t.request('GET', `/v1/events/${writes.eventId}/shows`)).text).toBe(showsBefore);
    });

    it('replays the same key and body, refuses the key with another body (422) or no key (400)', async () => {
      for (const route of routes()) {
        const idempotency = key();
        const first = await post(route.path, route.body, idempotency);
        expect(first.status, first.text).toBe(201);
        const [again, concurrent] = await Promise.all([post(route.path, route.body, idempotency), post(route.path, route.body, idempotency)]);
        for (const retry of [again, concurrent]) expect({ route: route.name, status: retry.status, text: retry.text }).toEqual({ route: route.name, status: 201, text: first.text });
        expectProblem(await post(route.path, route.other, idempotency), 422, 'idempotency_key_reused');
        expectProblem(await post(route.path, route.body, {}), 400, 'idempotency_key_missing');
        expectProblem(await post(route.path, route.body, { 'idempotency-key': 'short' }), 400, 'validation_failed');
      }
      const created = ok<EventList>(await t.request('GET', `/v1/events?venue_id=${writes.venueId}&limit=100`)).items.map((event) => event.name).sort();
      expect(created).toEqual(['Base Event', 'Retry Event']);
      expect(ok<ShowList>(await t.request('GET', `/v1/events/${writes.eventId}/shows`)).items).toHaveLength(1);
    });

    it('replays a refusal too, and a key belongs to one operation', async () => {
      const idempotency = key();
      const refused = await post('/v1/events', { name: 'Nowhere', performer: 'Nobody', category: 'other', venue_id: 'ven-missing' }, idempotency);
      expectProblem(refused, 400, 'validation_failed');
      const replay = await post('/v1/events', { name: 'Nowhere', performer: 'Nobody', category: 'other', venue_id: 'ven-missing' }, idempotency);
      expect({ status: replay.status, text: replay.text }).toEqual({ status: refused.status, text: refused.text });
      const venueKey = key();
      ok(await post('/v1/venues', smallArena('Keyed Arena', 'Retryville'), venueKey), 201);
      expectProblem(await post('/v1/events', { name: 'Keyed', performer: 'Keyed', category: 'other', venue_id: writes.venueId }, venueKey), 422, 'idempotency_key_reused');
      expectProblem(await post('/v1/events/evt-missing/shows', arenaShow(Date.now() + dayMs), key()), 404, 'not_found');
    });
  });
}
