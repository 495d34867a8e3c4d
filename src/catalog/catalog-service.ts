import { z } from 'zod';
import { ShowDefinitionStore } from '../persistence/show-definitions.js';
import type { SqlDatabase } from '../persistence/database.js';
import { Inventory } from '../actors/inventory.js';
import { ApiError } from '../protocol/api-error.js';
import {
  CreateEventRequest,
  CreateShowRequest,
  CreateVenueRequest,
  ListShowsQuery,
  SearchEventsQuery,
  catalogLimits,
  resourceIdPattern,
  type CreateEventInput,
  type CreateShow,
  type CreateShowInput,
  type CreateVenueInput,
  type EventList,
  type EventView,
  type ListShowsInput,
  type SearchEventsInput,
  type SeatMapGeometry,
  type ShowList,
  type ShowView,
  type VenueView,
} from '../protocol/catalog-schemas.js';
import { systemClock, type Clock } from '../shared/clock.js';
import { randomId } from '../shared/ids.js';
import { CatalogStore, searchWords, type EventRecord, type ShowRecord, type ShowSettings, type VenueRecord } from './catalog-store.js';
import { buildShowArtifacts, checkVenue, lodgingNights, resolvePriceTiers, stayPoolIds, type ShowArtifacts, type VenueLayout } from './show-builder.js';
import { FieldErrors, parseOrThrow, validationFailed } from './validation.js';

export interface CatalogServiceOptions {
  clock?: Clock;
  /** Seat-map geometries kept in memory (a 50,000-seat one is a few MB). */
  geometryCacheEntries?: number;
}

/** Server-minted ids must satisfy (hold ids embed the show id followed by '.'). */
export function newResourceId(prefix: 'ven' | 'evt' | 'shw'): string {
  return `${prefix}-${randomId(12).toLowerCase()}`;
}

/** Options of the create calls: fixed ids are for the demo seed and tests, never for clients. */
export interface CreateOptions {
  id?: string;
}

export interface SeatMapGeometryEntry {
  etag: string;
  geometry: SeatMapGeometry;
}

interface CachedGeometry extends SeatMapGeometryEntry {
  json?: string;
}

const eventCursor = z.strictObject({ v: z.literal(1), k: z.literal('e'), a: z.number(), s: z.number().nullable(), i: z.string() });
const showCursor = z.strictObject({ v: z.literal(1), k: z.literal('s'), e: z.string(), s: z.number(), i: z.string() });

function encodeCursor(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function decodeCursor<Schema extends z.ZodType>(schema: Schema, cursor: string): z.output<Schema> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    value = undefined;
  }
  const result = schema.safeParse(value);
  if (!result.success) throw validationFailed('invalid cursor', [{ path: 'cursor', message: 'not a cursor from a previous page' }]);
  return result.data;
}

/** `YYYY-MM-DD` means 00:00 UTC. */
function instantMs(value: string): number {
  return /^\d{4}-\d{2}-\d{2}$/.test(value) ? Date.parse(`${value}T00:00:00Z`) : Date.parse(value);
}

const iso = (ms: number) => new Date(ms).toISOString();

function venueView(venue: VenueRecord): VenueView {
  return {
    id: venue.id,
    name: venue.name,
    city: venue.city,
    country: venue.country,
    timezone: venue.timezone,
    kind: venue.kind,
    seat_count: venue.summary.seat_count,
    section_count: venue.summary.section_count,
    tier_ids: venue.summary.tier_ids,
    ga_areas: venue.summary.ga_areas,
    room_types: venue.roomTypes ?? [],
    created_at: iso(venue.createdAtMs),
  };
}

function eventView(event: EventRecord): EventView {
  return {
    id: event.id,
    name: event.name,
    performer: event.performer,
    category: event.category,
    description: event.description,
    venue_id: event.venueId,
    venue_name: event.venueName,
    venue_city: event.venueCity,
    next_show_at: event.nextShowAtMs === null ? null : iso(event.nextShowAtMs),
    created_at: iso(event.createdAtMs),
  };
}

function showView(show: ShowRecord): ShowView {
  const settings = show.settings;
  return {
    id: show.id,
    event_id: show.eventId,
    venue_id: show.venueId,
    venue_kind: settings.venue_kind,
    starts_at: iso(show.startsAtMs),
    on_sale_at: iso(show.onSaleAtMs),
    currency: settings.currency,
    hold_ttl_s: settings.hold_ttl_s,
    max_items_per_hold: settings.max_items_per_hold,
    max_holds_per_user: settings.max_holds_per_user,
    price_tiers: settings.price_tiers,
    waiting_room: settings.waiting_room,
    lodging: settings.lodging,
    seat_count: settings.seat_count,
    pool_count: settings.pool_count,
    geometry_etag: show.geometryEtag,
    created_at: iso(show.createdAtMs),
  };
}

function checkFixedId(id: string | undefined, prefix: string): void {
  if (id !== undefined && (!resourceIdPattern.test(id) || !id.startsWith(`${prefix}-`))) {
    throw validationFailed('invalid id', [{ path: 'id', message: `must start with ${prefix}- and match ${resourceIdPattern.source}` }]);
  }
}

/**
 * The catalog: venues, events, shows, search and seat-map geometry. Validates input (schema
 * first, then what needs the database), mints ids, and creates each show's row and inventory
 * (ShowDefinition) in one transaction. Refusals are ApiErrors; transports render them.
 */
export class CatalogService {
  private readonly clock: Clock;
  private readonly geometryCacheEntries: number;
  private readonly geometries = new Map<string, Promise<CachedGeometry>>();

  constructor(
    private readonly db: SqlDatabase,
    options: CatalogServiceOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.geometryCacheEntries = options.geometryCacheEntries ?? 8;
  }

  private get store(): CatalogStore {
    return new CatalogStore(this.db);
  }

  async createVenue(input: CreateVenueInput, options: CreateOptions = {}): Promise<VenueView> {
    const venue = parseOrThrow(CreateVenueRequest, input, 'venue');
    const summary = checkVenue(venue);
    checkFixedId(options.id, 'ven');
    const record: VenueRecord & { seatMap: VenueLayout['seatMap'] } = {
      id: options.id ?? newResourceId('ven'),
      name: venue.name,
      city: venue.city,
      country: venue.country ?? null,
      timezone: venue.timezone ?? null,
      kind: venue.kind,
      seatMap: venue.seat_map ?? null,
      roomTypes: venue.room_types ?? null,
      summary,
      createdAtMs: this.clock.nowMs(),
    };
    await this.store.insertVenue(record);
    return venueView(record);
  }

  async getVenue(venueId: string): Promise<VenueView> {
    const venue = await this.store.venue(venueId);
    if (venue === null) throw new ApiError('not_found', `no venue ${venueId}`);
    return venueView(venue);
  }

  async createEvent(input: CreateEventInput, options: CreateOptions = {}): Promise<EventView> {
    const event = parseOrThrow(CreateEventRequest, input, 'event');
    checkFixedId(options.id, 'evt');
    const venue = await this.store.venue(event.venue_id);
    if (venue === null) throw validationFailed('invalid event', [{ path: 'venue_id', message: `no venue ${event.venue_id}` }]);
    const record: EventRecord = {
      id: options.id ?? newResourceId('evt'),
      name: event.name,
      performer: event.performer,
      category: event.category,
      description: event.description ?? null,
      venueId: venue.id,
      venueName: venue.name,
      venueCity: venue.city,
      createdAtMs: this.clock.nowMs(),
      nextShowAtMs: null,
    };
    const searchText = searchWords(`${event.name} ${event.performer} ${venue.name} ${venue.city}`, 256).join(' ');
    await this.store.insertEvent({ ...record, searchText });
    return eventView(record);
  }

  /** The event; next_show_at is its next show from now. */
  async getEvent(eventId: string): Promise<EventView> {
    const event = await this.store.event(eventId, this.clock.nowMs());
    if (event === null) throw new ApiError('not_found', `no event ${eventId}`);
    return eventView(event);
  }

  async createShow(eventId: string, input: CreateShowInput, options: CreateOptions = {}): Promise<ShowView> {
    const show = parseOrThrow(CreateShowRequest, input, 'show');
    checkFixedId(options.id, 'shw');
    const store = this.store;
    const event = await store.event(eventId, this.clock.nowMs());
    if (event === null) throw new ApiError('not_found', `no event ${eventId}`);
    const venue = await store.venue(event.venueId);
    if (venue === null) throw new ApiError('not_found', `no venue ${event.venueId}`);

    const errors = new FieldErrors();
    const startsAtMs = Date.parse(show.starts_at);
    const onSaleAtMs = Date.parse(show.on_sale_at);
    if (onSaleAtMs >= startsAtMs) errors.add('on_sale_at', 'must be before starts_at');
    const opensAt = show.waiting_room?.opens_at;
    if (opensAt !== undefined && Date.parse(opensAt) > onSaleAtMs) errors.add('waiting_room.opens_at', 'must be at or before on_sale_at');
    let poolCount = venue.summary.ga_areas.length;
    if (venue.kind === 'hotel') {
      if (show.lodging === undefined) errors.add('lodging', 'a show at a hotel needs lodging (first_night, nights)');
      else poolCount += (venue.roomTypes ?? []).length * show.lodging.nights;
    } else if (show.lodging !== undefined) {
      errors.add('lodging', 'only shows at hotel venues sell lodging');
    }
    if (poolCount > catalogLimits.poolsPerShowMax) errors.add(venue.kind === 'hotel' ? 'lodging.nights' : 'venue_id', `a show has at most ${catalogLimits.poolsPerShowMax} pools (room types × nights)`);
    const seatMap = venue.kind === 'arena' ? await store.venueSeatMap(venue.id) : null;
    const layout: VenueLayout = { kind: venue.kind, seatMap, roomTypes: venue.roomTypes };
    const tiers = resolvePriceTiers(layout, venue.summary, show.price_tiers, errors);
    errors.throwIfAny('invalid show');
    if (tiers === null) throw new Error('unreachable: price tier errors were reported');

    const showId = options.id ?? newResourceId('shw');
    const artifacts: ShowArtifacts = buildShowArtifacts(showId, layout, show, tiers);
    try {
      // Compiling the inventory now checks what the actor will need later (channel seats and allotments).
      new Inventory(artifacts.definition);
    } catch (error) {
      throw new ApiError('validation_failed', `invalid show: ${error instanceof Error ? error.message : String(error)}`, { errors: [{ path: 'channels', message: error instanceof Error ? error.message : String(error) }] });
    }
    const settings: ShowSettings = {
      venue_kind: venue.kind,
      currency: show.currency,
      hold_ttl_s: show.hold_ttl_s,
      max_items_per_hold: show.max_items_per_hold,
      max_holds_per_user: show.max_holds_per_user,
      price_tiers: artifacts.geometry.tiers,
      waiting_room: show.waiting_room ?? null,
      lodging: show.lodging ?? null,
      policy: artifacts.definition.policy,
      seat_count: artifacts.geometry.seat_count,
      pool_count: artifacts.definition.pools.length,
    };
    const record: ShowRecord = {
      id: showId,
      eventId: event.id,
      venueId: venue.id,
      startsAtMs,
      onSaleAtMs,
      settings,
      geometryEtag: artifacts.etag,
      createdAtMs: this.clock.nowMs(),
    };
    await this.db.transaction(async (tx) => {
      await new CatalogStore(tx).insertShow(record);
      await new ShowDefinitionStore(tx).save(artifacts.definition);
    });
    this.remember(showId, Promise.resolve({ etag: artifacts.etag, geometry: artifacts.geometry }));
    return showView(record);
  }

  async getShow(showId: string): Promise<ShowView> {
    return showView(await this.showRecord(showId));
  }

  async isHotelShow(showId: string): Promise<boolean> {
    return (await this.showRecord(showId)).settings.venue_kind === 'hotel';
  }

  /**
   * The pool ids of a hotel stay (one per night, claimed together in one hold), after checking
   * the room type and that every night is on sale. Refusals: not_found, validation_failed.
   */
  async stayPools(showId: string, stay: { room_type_id: string; check_in: string; nights: number }): Promise<string[]> {
    const show = await this.showRecord(showId);
    const lodging = show.settings.lodging;
    if (show.settings.venue_kind !== 'hotel' || lodging === null) throw validationFailed('not a hotel show', [{ path: 'show_id', message: 'the show sells no lodging' }]);
    const errors = new FieldErrors();
    if (!show.settings.price_tiers.some((tier) => tier.id === stay.room_type_id)) errors.add('room_type_id', `no room type ${stay.room_type_id}`);
    const nights = lodgingNights(lodging);
    if (!Number.isInteger(stay.nights) || stay.nights < 1) errors.add('nights', 'must be a positive integer');
    const first = nights.indexOf(stay.check_in);
    if (first < 0) errors.add('check_in', `must be a night on sale (${lodging.first_night} .. ${nights[nights.length - 1]})`);
    else if (first + stay.nights > nights.length) errors.add('nights', 'the stay runs past the last night on sale');
    errors.throwIfAny('invalid stay');
    return stayPoolIds(stay.room_type_id, stay.check_in, stay.nights);
  }

  async listShowsOfEvent(eventId: string, query: ListShowsInput = {}): Promise<ShowList> {
    const { cursor, limit } = parseOrThrow(ListShowsQuery, query, 'query');
    const store = this.store;
    const after = cursor === undefined ? null : decodeCursor(showCursor, cursor);
    if (after !== null && after.e !== eventId) throw validationFailed('invalid cursor', [{ path: 'cursor', message: 'the cursor belongs to another event' }]);
    if (after === null && !(await store.eventExists(eventId))) throw new ApiError('not_found', `no event ${eventId}`);
    const rows = await store.showsOfEvent(eventId, after === null ? null : { startsAtMs: after.s, id: after.i }, limit + 1);
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: page.map(showView),
      next_cursor: rows.length > limit && last !== undefined ? encodeCursor({ v: 1, k: 's', e: eventId, s: last.startsAtMs, i: last.id }) : null,
    };
  }

  /**
   * Events by keywords and filters, ordered by next show start (within [from, to) when given,
   * else from now; events without one come last when no date range is given), then id. The
   * cursor pins "now" of the first page, so paging sees a stable order.
   */
  async searchEvents(query: SearchEventsInput = {}): Promise<EventList> {
    const parsed = parseOrThrow(SearchEventsQuery, query, 'query');
    const after = parsed.cursor === undefined ? null : decodeCursor(eventCursor, parsed.cursor);
    const asOfMs = after?.a ?? this.clock.nowMs();
    const fromMs = parsed.from === undefined ? asOfMs : instantMs(parsed.from);
    const toMs = parsed.to === undefined ? undefined : instantMs(parsed.to);
    if (toMs !== undefined && toMs <= fromMs) throw validationFailed('invalid query', [{ path: 'to', message: 'must be after from (or after now)' }]);
    const words = parsed.q === undefined ? [] : searchWords(parsed.q, 8);
    const rows = await this.store.searchEvents(
      {
        words,
        city: parsed.city,
        category: parsed.category,
        performer: parsed.performer,
        venueId: parsed.venue_id,
        fromMs,
        toMs,
        requireShow: parsed.from !== undefined || parsed.to !== undefined,
      },
      after === null ? null : { nextShowAtMs: after.s, id: after.i },
      parsed.limit + 1,
    );
    const page = rows.slice(0, parsed.limit);
    const last = page[page.length - 1];
    return {
      items: page.map(eventView),
      next_cursor: rows.length > parsed.limit && last !== undefined ? encodeCursor({ v: 1, k: 'e', a: asOfMs, s: last.nextShowAtMs, i: last.id }) : null,
    };
  }

  /**
   * The static seat map of a show with its entity tag (stored at creation). Built from the venue
   * and the show's tiers, so seat n is the actor's seat n. Cached in memory; concurrent callers
   * share one build.
   */
  async getSeatMapGeometry(showId: string): Promise<SeatMapGeometryEntry> {
    const { etag, geometry } = await this.cachedGeometry(showId);
    return { etag, geometry };
  }

  /** The geometry already serialised (serialising 50,000 seats per request would be wasteful). */
  async getSeatMapGeometryJson(showId: string): Promise<{ etag: string; json: string }> {
    const entry = await this.cachedGeometry(showId);
    entry.json ??= JSON.stringify(entry.geometry);
    return { etag: entry.etag, json: entry.json };
  }

  private async showRecord(showId: string): Promise<ShowRecord> {
    const show = await this.store.show(showId);
    if (show === null) throw new ApiError('not_found', `no show ${showId}`);
    return show;
  }

  private cachedGeometry(showId: string): Promise<CachedGeometry> {
    const cached = this.geometries.get(showId);
    if (cached !== undefined) {
      this.geometries.delete(showId);
      this.geometries.set(showId, cached);
      return cached;
    }
    const loading = this.buildGeometry(showId);
    this.remember(showId, loading);
    loading.catch(() => {
      if (this.geometries.get(showId) === loading) this.geometries.delete(showId);
    });
    return loading;
  }

  private remember(showId: string, entry: Promise<CachedGeometry>): void {
    if (this.geometryCacheEntries <= 0) return;
    this.geometries.delete(showId);
    this.geometries.set(showId, entry);
    while (this.geometries.size > this.geometryCacheEntries) {
      const oldest = this.geometries.keys().next().value;
      if (oldest === undefined) break;
      this.geometries.delete(oldest);
    }
  }

  private async buildGeometry(showId: string): Promise<CachedGeometry> {
    const store = this.store;
    const show = await this.showRecord(showId);
    const venue = await store.venue(show.venueId);
    if (venue === null) throw new ApiError('not_found', `no venue ${show.venueId}`);
    const seatMap = venue.kind === 'arena' ? await store.venueSeatMap(venue.id) : null;
    const settings = show.settings;
    const tiers = settings.price_tiers.map((tier) => ({ id: tier.id, name: tier.name, priceCents: tier.price_cents }));
    // The show as created (defaults applied); not re-validated, so later limit changes cannot
    // make a stored show unreadable.
    const request: CreateShow = {
      starts_at: iso(show.startsAtMs),
      on_sale_at: iso(show.onSaleAtMs),
      currency: settings.currency,
      hold_ttl_s: settings.hold_ttl_s,
      max_items_per_hold: settings.max_items_per_hold,
      max_holds_per_user: settings.max_holds_per_user,
      price_tiers: settings.price_tiers,
      // Geometry does not depend on channels; the show's definition keeps them (hashed).
      channels: [],
      ...(settings.waiting_room === null ? {} : { waiting_room: settings.waiting_room }),
      ...(settings.lodging === null ? {} : { lodging: settings.lodging }),
    };
    const { geometry } = buildShowArtifacts(show.id, { kind: venue.kind, seatMap, roomTypes: venue.roomTypes }, request, tiers);
    return { etag: show.geometryEtag, geometry };
  }
}
