/**
 * The catalog: venues (seat maps, room types), events (searchable) and shows (settings and
 * the seat-map geometry's entity tag). A show's sellable inventory lives in show_definitions.
 */
export const catalogSchema = `
create table venues (
  id text primary key,
  name text not null,
  city text not null,
  country text,
  timezone text,
  kind text not null check (kind in ('arena', 'hotel')),
  seat_map jsonb,
  room_types jsonb,
  -- seat_count, section_count, tier_ids, ga_areas: what responses need without the seat map.
  summary jsonb not null,
  created_at timestamptz not null default now()
);
create index venues_city on venues (lower(city));

create table events (
  id text primary key,
  name text not null,
  performer text not null,
  category text not null,
  venue_id text not null references venues (id),
  description text,
  -- Normalised words of name, performer, venue name and city (venues never change).
  search_text text not null,
  search tsvector generated always as (to_tsvector('simple', search_text)) stored,
  created_at timestamptz not null default now()
);
create index events_search on events using gin (search);
create index events_venue on events (venue_id, id);
create index events_category on events (category, id);
create index events_performer on events (lower(performer), id);

create table shows (
  id text primary key,
  event_id text not null references events (id),
  venue_id text not null references venues (id),
  starts_at timestamptz not null,
  on_sale_at timestamptz not null,
  settings jsonb not null,
  geometry_etag text not null,
  created_at timestamptz not null default now()
);
create index shows_event_start on shows (event_id, starts_at, id);
create index shows_start on shows (starts_at, id);
`;
