/**
 * Creates a run's venue, event and show through the organizer REST API (admin bearer token,
 * one Idempotency-Key per call), as an organizer would: nothing is written behind the server's back.
 */
import { randomUUID } from 'node:crypto';
import type { CreateShowInput, CreateVenueInput, ShowView, VenueView } from '../../src/protocol/catalog-schemas.js';
import { buildDemoStadiumSeatMap } from '../../src/seed/demo.js';

export interface Organizer {
  url: string;
  adminToken: string;
}

async function adminPost<T>(organizer: Organizer, path: string, body: unknown): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    const response = await fetch(`${organizer.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${organizer.adminToken}`, 'content-type': 'application/json', 'idempotency-key': randomUUID() },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    if (response.ok) return JSON.parse(text) as T;
    // A busy server (503/429) is retried; anything else is a harness bug worth stopping for.
    if ((response.status === 503 || response.status === 429) && attempt < 10) {
      await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
      continue;
    }
    throw new Error(`POST ${path}: HTTP ${response.status}: ${text.slice(0, 500)}`);
  }
}

/** Seat layout for about `seats` seats: rows of 25, 40 rows per section, as many sections as needed. */
export function stadiumLayout(seats: number): { sections: number; rowsPerSection: number; seatsPerRow: number } {
  const seatsPerRow = 25;
  const rowsPerSection = Math.max(1, Math.min(40, Math.ceil(seats / seatsPerRow)));
  const sections = Math.max(1, Math.ceil(seats / (rowsPerSection * seatsPerRow)));
  return { sections, rowsPerSection, seatsPerRow };
}

const tierPrices: Record<string, number> = { platinum: 25_000, gold: 15_000, silver: 9_000, bronze: 5_500, floor: 8_000, ga: 6_000 };

function priceTiers(venue: VenueView): { id: string; name: string; price_cents: number }[] {
  return venue.tier_ids.map((id) => ({ id, name: id, price_cents: tierPrices[id] ?? 5_000 }));
}

export async function createArenaShow(
  organizer: Organizer,
  options: { name: string; seats: number; gaCapacity: number; show: Omit<CreateShowInput, 'price_tiers'> },
): Promise<ShowView> {
  const layout = options.seats > 0 ? stadiumLayout(options.seats) : null;
  const seatMap: NonNullable<CreateVenueInput['seat_map']> =
    layout === null
      ? { sections: [], ga_areas: [{ id: 'floor', name: 'General admission floor', capacity: options.gaCapacity, tier: 'ga' }] }
      : buildDemoStadiumSeatMap({ ...layout, floorCapacity: options.gaCapacity });
  const venue = await adminPost<VenueView>(organizer, '/v1/venues', { name: `${options.name} arena`, city: 'Loadville', kind: 'arena', seat_map: seatMap } satisfies CreateVenueInput);
  const event = await adminPost<{ id: string }>(organizer, '/v1/events', { name: options.name, performer: 'The Load Testers', category: 'concert', venue_id: venue.id });
  return adminPost<ShowView>(organizer, `/v1/events/${event.id}/shows`, { ...options.show, price_tiers: priceTiers(venue) } satisfies CreateShowInput);
}

export async function createHotelShow(
  organizer: Organizer,
  options: { name: string; roomTypes: { id: string; rooms: number; priceCents: number }[]; show: Omit<CreateShowInput, 'price_tiers'> },
): Promise<ShowView> {
  const venue = await adminPost<VenueView>(organizer, '/v1/venues', {
    name: `${options.name} hotel`, city: 'Loadville', kind: 'hotel',
    room_types: options.roomTypes.map((type) => ({ id: type.id, name: type.id, rooms: type.rooms, price_cents: type.priceCents })),
  } satisfies CreateVenueInput);
  const event = await adminPost<{ id: string }>(organizer, '/v1/events', { name: options.name, performer: 'Hotel Load', category: 'lodging', venue_id: venue.id });
  return adminPost<ShowView>(organizer, `/v1/events/${event.id}/shows`, options.show satisfies CreateShowInput);
}
