import { z } from 'zod';
import { limits } from '../actors/limits.js';

/**
 * Wire schemas of the catalog: venues (seat maps, GA areas, hotel room types), events, shows
 * and the seat-map geometry fans draw. JSON field names are snake_case; request objects are
 * strict (unknown keys are refused). These schemas are the source of the OpenAPI document and
 * the SDK types: every field carries a description.
 *
 * Size guide: a seat is `{"label":"25","x":-1234.5,"y":678.9,"tier":"gold"}` (~50 bytes), so a
 * 50,000-seat venue body is about 2.7 MB and the 200,000-seat maximum about 11 MB; the venue
 * creation endpoint needs its own body limit (see `catalogLimits.venueRequestBytesMax`).
 */
export const catalogLimits = {
  /** Same bound as the actor's inventory. */
  seatsPerVenueMax: limits.seatsPerShowMax,
  sectionsPerVenueMax: 2_000,
  rowsPerSectionMax: 500,
  seatsPerRowMax: 1_000,
  gaAreasPerVenueMax: 100,
  roomTypesPerVenueMax: 100,
  /** Distinct price tiers a venue may use (the actor stores a seat's tier in one byte). */
  tiersPerVenueMax: 64,
  poolsPerShowMax: limits.poolsPerShowMax,
  nightsPerShowMax: 366,
  priceCentsMax: 100_000_000,
  coordinateAbsMax: 1_000_000,
  /** Suggested body limit of `POST /v1/venues` (200,000 small seats fit with room to spare). */
  venueRequestBytesMax: 16 * 1024 * 1024,
  /** Default and maximum page sizes of list endpoints. */
  pageSizeDefault: 20,
  pageSizeMax: 100,
} as const;

export const idPattern = /^[A-Za-z0-9_-]{1,32}$/;
export const labelPattern = /^[A-Za-z0-9_-]{1,16}$/;
/** Ids the server mints (and fixed demo ids): lowercase, URL- and hold-id-safe. */
export const resourceIdPattern = /^[a-z0-9][a-z0-9-]{0,63}$/;

const localId = (what: string) => z.string().regex(idPattern, 'must match ^[A-Za-z0-9_-]{1,32}$').describe(what);
const label = (what: string) => z.string().regex(labelPattern, 'must match ^[A-Za-z0-9_-]{1,16}$').describe(what);
const resourceId = (what: string) => z.string().regex(resourceIdPattern, 'must match ^[a-z0-9][a-z0-9-]{0,63}$').describe(what);
const displayName = (what: string, max = 200) => z.string().trim().min(1).max(max).describe(what);
const priceCents = (what: string) => z.int().min(0).max(catalogLimits.priceCentsMax).describe(what);
const coordinate = (what: string) => z.number().min(-catalogLimits.coordinateAbsMax).max(catalogLimits.coordinateAbsMax).describe(what);
const isoDateTime = (what: string) => z.iso.datetime({ offset: true }).describe(what);

function isTimeZone(value: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

export const VenueKind = z.enum(['arena', 'hotel']).describe('arena: seated sections and/or general-admission areas; hotel: room types sold per night');

export const Rect = z
  .strictObject({
    x: coordinate('Left edge, in seat-map units.'),
    y: coordinate('Top edge, in seat-map units.'),
    width: z.number().min(0).max(catalogLimits.coordinateAbsMax).describe('Width, in seat-map units.'),
    height: z.number().min(0).max(catalogLimits.coordinateAbsMax).describe('Height, in seat-map units.'),
  })
  .describe('An axis-aligned rectangle in seat-map units.');

export const SeatInput = z
  .strictObject({
    label: label('Seat label, unique within its row (the seat id is `section:row:seat`).'),
    x: coordinate('Horizontal position of the seat centre in seat-map units (any consistent unit; the client scales to fit).'),
    y: coordinate('Vertical position of the seat centre in seat-map units (y grows downwards, as on a canvas).'),
    tier: localId('Price tier id of the seat; every show at the venue prices each tier the venue uses.'),
    accessible: z.boolean().optional().describe('Wheelchair-accessible place (default false).'),
    obstructed: z.boolean().optional().describe('Restricted view (default false).'),
  })
  .describe('One seat. Keep these small: a venue body carries one per seat.');

export const RowInput = z
  .strictObject({
    label: label('Row label, unique within its section.'),
    seats: z.array(SeatInput).min(1).max(catalogLimits.seatsPerRowMax).describe('Seats in physical order: neighbours in this array sit side by side.'),
  })
  .describe('One row of seats.');

export const SectionInput = z
  .strictObject({
    id: localId('Section id, unique within the venue.'),
    name: displayName('Display name of the section.', 64),
    rows: z.array(RowInput).min(1).max(catalogLimits.rowsPerSectionMax).describe('Rows, best first: best-available fills them in this order.'),
  })
  .describe('A seated section.');

export const GaAreaInput = z
  .strictObject({
    id: localId('Area id, unique within the venue (also among section ids); becomes the pool id of every show.'),
    name: displayName('Display name of the area.', 64),
    capacity: z.int().min(1).max(limits.poolCapacityMax).describe('Places in the area.'),
    tier: localId('Price tier id of the area.'),
    bounds: Rect.optional().describe('Where to draw the area on the seat map (optional).'),
  })
  .describe('A general-admission (standing) area sold by quantity.');

export const SeatMapInput = z
  .strictObject({
    sections: z.array(SectionInput).max(catalogLimits.sectionsPerVenueMax).default([]).describe(`Seated sections (at most ${catalogLimits.seatsPerVenueMax} seats in total).`),
    ga_areas: z.array(GaAreaInput).max(catalogLimits.gaAreasPerVenueMax).default([]).describe('General-admission areas.'),
    stage: Rect.optional().describe('Where to draw the stage or field on the seat map (optional).'),
  })
  .describe('Layout of an arena: seats with positions and tiers, plus general-admission areas.');

export const RoomTypeInput = z
  .strictObject({
    id: localId('Room type id, unique within the venue.'),
    name: displayName('Display name of the room type.', 100),
    rooms: z.int().min(1).max(limits.poolCapacityMax).describe('Rooms of this type available each night.'),
    price_cents: priceCents('Price of one room for one night, in the show currency minor units (a show may override it).'),
  })
  .describe('A hotel room type.');

export const CreateVenueRequest = z
  .strictObject({
    name: displayName('Venue name.'),
    city: displayName('City of the venue.', 100),
    country: z.string().regex(/^[A-Z]{2}$/, 'must be an ISO 3166-1 alpha-2 code').optional().describe('ISO 3166-1 alpha-2 country code, e.g. "US".'),
    timezone: z.string().max(64).refine(isTimeZone, 'must be an IANA time zone, e.g. "Europe/Paris"').optional().describe('IANA time zone of the venue, e.g. "America/New_York".'),
    kind: VenueKind,
    seat_map: SeatMapInput.optional().describe('Required for arenas, refused for hotels.'),
    room_types: z.array(RoomTypeInput).min(1).max(catalogLimits.roomTypesPerVenueMax).optional().describe('Required for hotels, refused for arenas.'),
  })
  .describe(`Creates a venue. Body size: about 55 bytes per seat (50,000 seats ≈ 2.7 MB).`);

export const EventCategory = z.enum(['concert', 'sports', 'theatre', 'comedy', 'festival', 'lodging', 'other']).describe('Kind of event.');

export const CreateEventRequest = z
  .strictObject({
    name: displayName('Event name, e.g. the tour name.'),
    performer: displayName('Performer, team or headliner.'),
    category: EventCategory,
    venue_id: resourceId('Venue where the event takes place.'),
    description: z.string().trim().max(5_000).optional().describe('Free text shown on the event page.'),
  })
  .describe('Creates an event at a venue; its dates are its shows.');

export const PriceTierInput = z
  .strictObject({
    id: localId('Tier id used by the venue (for hotels: a room type id whose price it overrides).'),
    name: displayName('Display name of the tier.', 64),
    price_cents: priceCents('Price of one seat or place of this tier, in minor units of the show currency.'),
  })
  .describe('Price of one tier for one show.');

export const WaitingRoomSettings = z
  .strictObject({
    enabled: z.boolean().describe('Whether fans queue in a virtual waiting room before holding.'),
    opens_at: isoDateTime('When the room opens (at or before on_sale_at); arrivals before on-sale are randomised.').optional(),
    admission_rate_per_s: z.int().min(1).max(100_000).optional().describe('Fans admitted per second (fixed mode) or the initial rate (adaptive mode).'),
    mode: z.enum(['fixed', 'adaptive']).optional().describe('fixed: constant admission rate; adaptive: follows checkout capacity.'),
    active_cap: z.int().min(1).max(1_000_000).optional().describe('Adaptive mode: target number of concurrently active holds.'),
    admission_ttl_s: z.int().min(30).max(3_600).optional().describe('Lifetime of an admission token, in seconds.'),
    max_tickets_per_user: z.int().min(1).max(limits.itemsPerHoldMax).optional().describe('Tickets one admitted fan may buy.'),
    pow_difficulty: z.int().min(0).max(32).optional().describe('Leading zero bits of the proof-of-work challenge (0 = none).'),
  })
  .describe('Virtual waiting-room settings, stored as given for the admission service.');

export const LodgingSettings = z
  .strictObject({
    first_night: z.iso.date().describe('First night on sale (YYYY-MM-DD, the check-in date).'),
    nights: z.int().min(1).max(catalogLimits.nightsPerShowMax).describe('Consecutive nights on sale from first_night.'),
  })
  .describe('Nights sold by a hotel show: one pool per room type per night.');

export const ChannelInput = z
  .strictObject({
    id: z.string().regex(idPattern).describe('Channel id'),
    name: z.string().min(1).max(100).describe('Presale code, fan club or partner block name'),
    key: z.string().min(6).max(128).describe('The code fans enter; stored only as a hash'),
    seat_ids: z.array(z.string().min(5).max(80)).max(200_000).default([]).describe('Seats set aside (section:row:seat)'),
    pools: z.array(z.strictObject({ pool_id: z.string().min(1).max(80), quantity: z.int().min(1).max(1_000_000) })).max(10_000).default([]).describe('Pool units set aside'),
    release_at: isoDateTime('When unsold channel inventory joins the general sale; omitted: never').optional(),
  })
  .describe('A presale channel');

export const CreateShowRequest = z
  .strictObject({
    starts_at: isoDateTime('When the show starts (for hotels: the first check-in).'),
    on_sale_at: isoDateTime('When holds open; must be before starts_at.'),
    hold_ttl_s: z
      .int()
      .min(limits.holdTtlMsMin / 1000)
      .max(limits.holdTtlMsMax / 1000)
      .default(limits.holdTtlMsDefault / 1000)
      .describe('Seconds a hold lasts before its items return to sale.'),
    max_items_per_hold: z.int().min(1).max(limits.itemsPerHoldMax).default(limits.itemsPerHoldDefault).describe('Seats or places one hold may contain.'),
    max_holds_per_user: z.int().min(1).max(limits.activeHoldsPerUserMax).default(limits.activeHoldsPerUserDefault).describe('Active holds one fan may have at once.'),
    currency: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code').default('USD').describe('ISO 4217 currency code of every price of the show.'),
    price_tiers: z
      .array(PriceTierInput)
      .max(catalogLimits.tiersPerVenueMax)
      .default([])
      .describe('Price of every tier the venue uses (exactly those tiers). Hotels: optional overrides of room type prices, by room type id.'),
    waiting_room: WaitingRoomSettings.optional(),
    lodging: LodgingSettings.optional().describe('Required for hotel venues, refused otherwise.'),
    channels: z
      .array(ChannelInput)
      .max(50)
      .default([])
      .describe('Presale channels: seats or pool units only holdable with the channel key until release_at.'),
  })
  .describe('Creates a show (one date) of an event; its inventory is built from the venue.');

/** Query string of `GET /v1/events`: every field arrives as a string. */
export const SearchEventsQuery = z
  .strictObject({
    q: z.string().trim().max(200).optional().describe('Keywords matched (by word prefix) against event name, performer, venue name and city.'),
    city: z.string().trim().min(1).max(100).optional().describe('Venue city (case-insensitive exact match).'),
    category: EventCategory.optional(),
    performer: z.string().trim().min(1).max(200).optional().describe('Performer (case-insensitive exact match).'),
    venue_id: resourceId('Only events at this venue.').optional(),
    from: z.union([z.iso.datetime({ offset: true }), z.iso.date()]).optional().describe('Only events with a show starting at or after this instant (a date means 00:00 UTC).'),
    to: z.union([z.iso.datetime({ offset: true }), z.iso.date()]).optional().describe('Only events with a show starting before this instant (a date means 00:00 UTC).'),
    cursor: z.string().max(512).optional().describe('Opaque cursor from a previous page (next_cursor).'),
    limit: z.coerce.number().int().min(1).max(catalogLimits.pageSizeMax).default(catalogLimits.pageSizeDefault).describe('Page size.'),
  })
  .describe('Event search. Results are ordered by next upcoming show start, then id; events without upcoming shows come last.');

export const ListShowsQuery = z
  .strictObject({
    cursor: z.string().max(512).optional().describe('Opaque cursor from a previous page (next_cursor).'),
    limit: z.coerce.number().int().min(1).max(catalogLimits.pageSizeMax).default(catalogLimits.pageSizeDefault).describe('Page size.'),
  })
  .describe('Paging of the shows of one event, ordered by start then id.');

// ---------------------------------------------------------------------------------------------
// Responses

const timestamp = (what: string) => z.string().describe(`${what} (ISO 8601, UTC).`);

export const VenueResponse = z
  .strictObject({
    id: resourceId('Venue id.'),
    name: z.string().describe('Venue name.'),
    city: z.string().describe('City.'),
    country: z.string().nullable().describe('ISO 3166-1 alpha-2 country code, if known.'),
    timezone: z.string().nullable().describe('IANA time zone, if known.'),
    kind: VenueKind,
    seat_count: z.int().describe('Seats over all sections.'),
    section_count: z.int().describe('Seated sections.'),
    tier_ids: z.array(z.string()).describe('Price tiers used by seats and GA areas: each show must price exactly these.'),
    ga_areas: z.array(GaAreaInput).describe('General-admission areas.'),
    room_types: z.array(RoomTypeInput).describe('Hotel room types (empty for arenas).'),
    created_at: timestamp('Creation time'),
  })
  .describe('A venue, without its seat positions (see the show seat map).');

export const EventResponse = z
  .strictObject({
    id: resourceId('Event id.'),
    name: z.string().describe('Event name.'),
    performer: z.string().describe('Performer.'),
    category: EventCategory,
    description: z.string().nullable().describe('Free text, if any.'),
    venue_id: resourceId('Venue id.'),
    venue_name: z.string().describe('Venue name.'),
    venue_city: z.string().describe('Venue city.'),
    next_show_at: z.string().nullable().describe('Start of the next upcoming show (within the search date range, if one was given), or null.'),
    created_at: timestamp('Creation time'),
  })
  .describe('An event with its venue name and city.');

export const PriceTierResponse = z
  .strictObject({
    id: z.string().describe('Tier id.'),
    name: z.string().describe('Display name.'),
    price_cents: z.int().describe('Price in minor units of the show currency.'),
  })
  .describe('A priced tier.');

export const ShowResponse = z
  .strictObject({
    id: resourceId('Show id.'),
    event_id: resourceId('Event id.'),
    venue_id: resourceId('Venue id.'),
    venue_kind: VenueKind,
    starts_at: timestamp('Show start'),
    on_sale_at: timestamp('When holds open'),
    currency: z.string().describe('ISO 4217 currency code.'),
    hold_ttl_s: z.int().describe('Hold lifetime in seconds.'),
    max_items_per_hold: z.int().describe('Items one hold may contain.'),
    max_holds_per_user: z.int().describe('Active holds one fan may have.'),
    price_tiers: z.array(PriceTierResponse).describe('Tiers and prices, in seat-map tier_index order.'),
    waiting_room: WaitingRoomSettings.nullable().describe('Waiting-room settings, or null.'),
    lodging: LodgingSettings.nullable().describe('Nights on sale (hotels), or null.'),
    seat_count: z.int().describe('Seats on sale.'),
    pool_count: z.int().describe('Pools on sale (GA areas; room-type nights).'),
    geometry_etag: z.string().describe('Entity tag of the seat-map geometry (changes whenever it would).'),
    created_at: timestamp('Creation time'),
  })
  .describe('A show: one date of an event, with its sale policy.');

export const EventListResponse = z
  .strictObject({
    items: z.array(EventResponse).describe('This page of events.'),
    next_cursor: z.string().nullable().describe('Cursor of the next page, or null on the last page.'),
  })
  .describe('A page of events.');

export const ShowListResponse = z
  .strictObject({
    items: z.array(ShowResponse).describe('This page of shows.'),
    next_cursor: z.string().nullable().describe('Cursor of the next page, or null on the last page.'),
  })
  .describe('A page of shows.');

export const GeometrySeat = z
  .tuple([
    z.string().describe('Seat label'),
    z.number().describe('x'),
    z.number().describe('y'),
    z.int().describe('Index into tiers'),
    z.int().describe('Flags: 1 accessible, 2 obstructed'),
  ])
  .describe('[label, x, y, tier_index, flags]; flags bit 1 = accessible, bit 2 = obstructed.');

export const SeatMapGeometryResponse = z
  .strictObject({
    show_id: resourceId('Show id.'),
    currency: z.string().describe('ISO 4217 currency code of the prices.'),
    tiers: z.array(PriceTierResponse).describe('Priced tiers; seats refer to them by index.'),
    sections: z
      .array(
        z.strictObject({
          id: z.string().describe('Section id.'),
          name: z.string().describe('Section name.'),
          rows: z
            .array(
              z.strictObject({
                label: z.string().describe('Row label.'),
                seats: z.array(GeometrySeat).describe('Seats in physical order.'),
              }),
            )
            .describe('Rows, best first.'),
        }),
      )
      .describe('Sections. Seat index n (used by live diffs and availability snapshots) is the n-th seat in sections → rows → seats order.'),
    pools: z
      .array(
        z.strictObject({
          id: z.string().describe('Pool id: a GA area id, or `room_type_id@YYYY-MM-DD` for a hotel room-night.'),
          name: z.string().describe('Display name.'),
          kind: z.enum(['ga', 'room_night']).describe('ga: general admission; room_night: one room type on one night.'),
          capacity: z.int().describe('Units in the pool.'),
          price_cents: z.int().describe('Price of one unit.'),
          bounds: Rect.nullable().describe('Where to draw a GA area, if the venue says; null otherwise.'),
        }),
      )
      .describe('Pools, in pool-index order (used by live diffs).'),
    stage: Rect.nullable().describe('Where to draw the stage, if the venue says; null otherwise.'),
    seat_count: z.int().describe('Total seats (length of the flattened seat list).'),
  })
  .describe('Static seat-map geometry of a show; cacheable by its ETag. Live availability comes separately, by seat and pool index.');

/** Every named catalog schema, for the OpenAPI document's components. */
export const catalogSchemas = {
  CreateVenueRequest,
  CreateEventRequest,
  CreateShowRequest,
  SearchEventsQuery,
  ListShowsQuery,
  Venue: VenueResponse,
  Event: EventResponse,
  Show: ShowResponse,
  EventList: EventListResponse,
  ShowList: ShowListResponse,
  SeatMapGeometry: SeatMapGeometryResponse,
  WaitingRoomSettings,
  LodgingSettings,
  PriceTier: PriceTierInput,
  Rect,
} as const;

export type CreateVenueInput = z.input<typeof CreateVenueRequest>;
export type CreateVenue = z.output<typeof CreateVenueRequest>;
export type SeatMap = z.output<typeof SeatMapInput>;
export type RoomType = z.output<typeof RoomTypeInput>;
export type GaArea = z.output<typeof GaAreaInput>;
export type CreateEventInput = z.input<typeof CreateEventRequest>;
export type CreateEvent = z.output<typeof CreateEventRequest>;
export type EventCategoryName = z.output<typeof EventCategory>;
export type CreateShowInput = z.input<typeof CreateShowRequest>;
export type CreateShow = z.output<typeof CreateShowRequest>;
export type PriceTier = z.output<typeof PriceTierInput>;
export type WaitingRoom = z.output<typeof WaitingRoomSettings>;
export type Lodging = z.output<typeof LodgingSettings>;
export type SearchEventsInput = z.input<typeof SearchEventsQuery>;
export type ListShowsInput = z.input<typeof ListShowsQuery>;
export type VenueView = z.output<typeof VenueResponse>;
export type EventView = z.output<typeof EventResponse>;
export type ShowView = z.output<typeof ShowResponse>;
export type EventList = z.output<typeof EventListResponse>;
export type ShowList = z.output<typeof ShowListResponse>;
export type SeatMapGeometry = z.output<typeof SeatMapGeometryResponse>;
export type GeometrySeatTuple = z.output<typeof GeometrySeat>;
export type RectValue = z.output<typeof Rect>;
