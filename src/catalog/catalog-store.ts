import type { SqlExecutor } from '../persistence/database.js';
import type { EventCategoryName, Lodging, RoomType, SeatMap, WaitingRoom } from '../protocol/catalog-schemas.js';
import type { ShowPolicy } from '../actors/show-definition.js';
import type { VenueSummary } from './show-builder.js';

export interface VenueRecord {
  id: string;
  name: string;
  city: string;
  country: string | null;
  timezone: string | null;
  kind: 'arena' | 'hotel';
  roomTypes: RoomType[] | null;
  summary: VenueSummary;
  createdAtMs: number;
}

export interface EventRecord {
  id: string;
  name: string;
  performer: string;
  category: EventCategoryName;
  description: string | null;
  venueId: string;
  venueName: string;
  venueCity: string;
  createdAtMs: number;
  /** Start of the next show in the window the query asked about, if any. */
  nextShowAtMs: number | null;
}

/** What a show row keeps besides its columns (snake_case as on the wire). */
export interface ShowSettings {
  venue_kind: 'arena' | 'hotel';
  currency: string;
  hold_ttl_s: number;
  max_items_per_hold: number;
  max_holds_per_user: number;
  /** Effective tiers in tier-index order (for hotels: the room types with their prices). */
  price_tiers: { id: string; name: string; price_cents: number }[];
  waiting_room: WaitingRoom | null;
  lodging: Lodging | null;
  policy: ShowPolicy;
  seat_count: number;
  pool_count: number;
}

export interface ShowRecord {
  id: string;
  eventId: string;
  venueId: string;
  startsAtMs: number;
  onSaleAtMs: number;
  settings: ShowSettings;
  geometryEtag: string;
  createdAtMs: number;
}

export interface EventFilter {
  /** Normalised search words, each matched as a word prefix. */
  words: string[];
  city?: string;
  category?: EventCategoryName;
  performer?: string;
  venueId?: string;
  /** Window of show starts considered: [fromMs, toMs). */
  fromMs: number;
  toMs?: number;
  /** Only events with a show in the window (a date range was asked for). */
  requireShow: boolean;
}

export interface EventPosition {
  nextShowAtMs: number | null;
  id: string;
}

const iso = (ms: number) => new Date(ms).toISOString();

export function msOf(value: unknown): number {
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'number') return value;
  if (typeof value === 'string') return Date.parse(value);
  throw new TypeError(`not a timestamp: ${String(value)}`);
}

function json<T>(value: unknown): T {
  return (typeof value === 'string' ? JSON.parse(value) : value) as T;
}

/**
 * Words of free text as search indexes them: lowercase letters and digits (NFKC), so both the
 * stored document and the query split "AC/DC" or "Jay-Z" the same way.
 */
export function searchWords(text: string, max = 64): string[] {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((word) => word.length > 0)
    .slice(0, max);
}

interface VenueRow {
  id: string;
  name: string;
  city: string;
  country: string | null;
  timezone: string | null;
  kind: 'arena' | 'hotel';
  room_types: unknown;
  summary: unknown;
  created_at: unknown;
}

interface EventRow {
  id: string;
  name: string;
  performer: string;
  category: EventCategoryName;
  description: string | null;
  venue_id: string;
  venue_name: string;
  venue_city: string;
  created_at: unknown;
  next_start: unknown;
}

interface ShowRow {
  id: string;
  event_id: string;
  venue_id: string;
  starts_at: unknown;
  on_sale_at: unknown;
  settings: unknown;
  geometry_etag: string;
  created_at: unknown;
}

const venueColumns = 'id, name, city, country, timezone, kind, room_types, summary, created_at';
const showColumns = 'id, event_id, venue_id, starts_at, on_sale_at, settings, geometry_etag, created_at';

function venueOf(row: VenueRow): VenueRecord {
  return {
    id: row.id,
    name: row.name,
    city: row.city,
    country: row.country,
    timezone: row.timezone,
    kind: row.kind,
    roomTypes: row.room_types === null ? null : json<RoomType[]>(row.room_types),
    summary: json<VenueSummary>(row.summary),
    createdAtMs: msOf(row.created_at),
  };
}

function eventOf(row: EventRow): EventRecord {
  return {
    id: row.id,
    name: row.name,
    performer: row.performer,
    category: row.category,
    description: row.description,
    venueId: row.venue_id,
    venueName: row.venue_name,
    venueCity: row.venue_city,
    createdAtMs: msOf(row.created_at),
    nextShowAtMs: row.next_start === null || row.next_start === undefined ? null : msOf(row.next_start),
  };
}

function showOf(row: ShowRow): ShowRecord {
  return {
    id: row.id,
    eventId: row.event_id,
    venueId: row.venue_id,
    startsAtMs: msOf(row.starts_at),
    onSaleAtMs: msOf(row.on_sale_at),
    settings: json<ShowSettings>(row.settings),
    geometryEtag: row.geometry_etag,
    createdAtMs: msOf(row.created_at),
  };
}

/** SQL of the catalog tables; works on PostgreSQL and PGlite, inside or outside a transaction. */
export class CatalogStore {
  constructor(private readonly db: SqlExecutor) {}

  async insertVenue(venue: Omit<VenueRecord, 'createdAtMs'> & { seatMap: SeatMap | null; createdAtMs: number }): Promise<void> {
    await this.db.query(
      `insert into venues (id, name, city, country, timezone, kind, seat_map, room_types, summary, created_at)
       values ($1, $2, $3, $4, $5, $6, $7::jsonb, $8::jsonb, $9::jsonb, $10::timestamptz)`,
      [
        venue.id,
        venue.name,
        venue.city,
        venue.country,
        venue.timezone,
        venue.kind,
        venue.seatMap === null ? null : JSON.stringify(venue.seatMap),
        venue.roomTypes === null ? null : JSON.stringify(venue.roomTypes),
        JSON.stringify(venue.summary),
        iso(venue.createdAtMs),
      ],
    );
  }

  async venue(id: string): Promise<VenueRecord | null> {
    const { rows } = await this.db.query<VenueRow>(`select ${venueColumns} from venues where id = $1`, [id]);
    return rows[0] === undefined ? null : venueOf(rows[0]);
  }

  /** The seat map alone (large: about 50 bytes per seat). */
  async venueSeatMap(id: string): Promise<SeatMap | null> {
    const { rows } = await this.db.query<{ seat_map: unknown }>('select seat_map from venues where id = $1', [id]);
    const value = rows[0]?.seat_map;
    return value === undefined || value === null ? null : json<SeatMap>(value);
  }

  async insertEvent(event: Omit<EventRecord, 'nextShowAtMs' | 'venueName' | 'venueCity'> & { searchText: string }): Promise<void> {
    await this.db.query(
      `insert into events (id, name, performer, category, venue_id, description, search_text, created_at)
       values ($1, $2, $3, $4, $5, $6, $7, $8::timestamptz)`,
      [event.id, event.name, event.performer, event.category, event.venueId, event.description, event.searchText, iso(event.createdAtMs)],
    );
  }

  /** One event; nextShowAtMs is its first show starting at or after `upcomingFromMs`. */
  async event(id: string, upcomingFromMs: number): Promise<EventRecord | null> {
    const { rows } = await this.db.query<EventRow>(
      `select e.id, e.name, e.performer, e.category, e.description, e.venue_id, e.created_at,
              v.name as venue_name, v.city as venue_city,
              (select min(s.starts_at) from shows s where s.event_id = e.id and s.starts_at >= $2::timestamptz) as next_start
         from events e join venues v on v.id = e.venue_id
        where e.id = $1`,
      [id, iso(upcomingFromMs)],
    );
    return rows[0] === undefined ? null : eventOf(rows[0]);
  }

  async eventExists(id: string): Promise<boolean> {
    const { rows } = await this.db.query('select 1 from events where id = $1', [id]);
    return rows.length > 0;
  }

  /**
   * A page of events matching `filter`, ordered by next show start in the window (events
   * without one last), then id; strictly after `after` when given. Returns up to `limit` rows.
   */
  async searchEvents(filter: EventFilter, after: EventPosition | null, limit: number): Promise<EventRecord[]> {
    const params: unknown[] = [];
    const param = (value: unknown) => {
      params.push(value);
      return `$${params.length}`;
    };
    const window = [`s.starts_at >= ${param(iso(filter.fromMs))}::timestamptz`];
    if (filter.toMs !== undefined) window.push(`s.starts_at < ${param(iso(filter.toMs))}::timestamptz`);
    const where: string[] = [];
    if (filter.words.length > 0) {
      // Words are letters and digits only, so they are safe tsquery operands.
      const query = filter.words.map((word) => `${word}:*`).join(' & ');
      where.push(`e.search @@ to_tsquery('simple', ${param(query)})`);
    }
    if (filter.city !== undefined) where.push(`lower(v.city) = lower(${param(filter.city)})`);
    if (filter.category !== undefined) where.push(`e.category = ${param(filter.category)}`);
    if (filter.performer !== undefined) where.push(`lower(e.performer) = lower(${param(filter.performer)})`);
    if (filter.venueId !== undefined) where.push(`e.venue_id = ${param(filter.venueId)}`);
    if (filter.requireShow) where.push('n.next_start is not null');
    if (after !== null) {
      const id = param(after.id);
      if (after.nextShowAtMs === null) {
        where.push(`(n.next_start is null and e.id > ${id})`);
      } else {
        const start = param(iso(after.nextShowAtMs));
        where.push(`(n.next_start > ${start}::timestamptz or (n.next_start = ${start}::timestamptz and e.id > ${id}) or n.next_start is null)`);
      }
    }
    const { rows } = await this.db.query<EventRow>(
      `select e.id, e.name, e.performer, e.category, e.description, e.venue_id, e.created_at,
              v.name as venue_name, v.city as venue_city, n.next_start
         from events e
         join venues v on v.id = e.venue_id
         left join lateral (select min(s.starts_at) as next_start from shows s where s.event_id = e.id and ${window.join(' and ')}) n on true
        ${where.length > 0 ? `where ${where.join(' and ')}` : ''}
        order by n.next_start asc nulls last, e.id asc
        limit ${param(limit)}`,
      params,
    );
    return rows.map(eventOf);
  }

  async insertShow(show: ShowRecord): Promise<void> {
    await this.db.query(
      `insert into shows (id, event_id, venue_id, starts_at, on_sale_at, settings, geometry_etag, created_at)
       values ($1, $2, $3, $4::timestamptz, $5::timestamptz, $6::jsonb, $7, $8::timestamptz)`,
      [show.id, show.eventId, show.venueId, iso(show.startsAtMs), iso(show.onSaleAtMs), JSON.stringify(show.settings), show.geometryEtag, iso(show.createdAtMs)],
    );
  }

  async show(id: string): Promise<ShowRecord | null> {
    const { rows } = await this.db.query<ShowRow>(`select ${showColumns} from shows where id = $1`, [id]);
    return rows[0] === undefined ? null : showOf(rows[0]);
  }

  /** Shows of an event by start then id, strictly after `after` when given. */
  async showsOfEvent(eventId: string, after: { startsAtMs: number; id: string } | null, limit: number): Promise<ShowRecord[]> {
    const { rows } =
      after === null
        ? await this.db.query<ShowRow>(`select ${showColumns} from shows where event_id = $1 order by starts_at, id limit $2`, [eventId, limit])
        : await this.db.query<ShowRow>(
            `select ${showColumns} from shows
              where event_id = $1 and (starts_at, id) > ($2::timestamptz, $3)
              order by starts_at, id limit $4`,
            [eventId, iso(after.startsAtMs), after.id, limit],
          );
    return rows.map(showOf);
  }
}
