import { gzipSync } from 'node:zlib';
import { z } from 'zod';
import type { ShowRouter } from '../../actors/show-router.js';
import type { CatalogService } from '../../catalog/catalog-service.js';
import {
  CreateEventRequest, CreateShowRequest, CreateVenueRequest, EventListResponse, EventResponse, ListShowsQuery,
  SearchEventsQuery, SeatMapGeometryResponse, ShowListResponse, ShowResponse, VenueResponse, catalogLimits,
} from '../../protocol/catalog-schemas.js';
import { ApiError } from '../../protocol/api-error.js';
import { requireAdmin, type Sessions } from '../auth/sessions.js';
import type { Api } from '../http/api.js';
import type { HttpRequest, HttpResponse } from '../http/uws-http.js';
import type { HttpIdempotency } from '../http/http-idempotency.js';

export const SeatMapResponse = z.object({
  show_id: z.string(),
  geometry_etag: z.string().describe('Changes only when the venue layout or prices change: cache the geometry by it'),
  geometry: SeatMapGeometryResponse,
  availability: z.object({
    version: z.number().int().describe('Seat-map version; live diffs continue from it'),
    seat_status: z.string().describe('Base64 of one byte per seat in geometry order: 0 available, 1 held, 2 sold, 3 blocked'),
    pool_available: z.array(z.number().int()).describe('Units left per pool, in geometry pool order'),
  }),
});

export const AvailabilityResponse = SeatMapResponse.shape.availability.extend({ show_id: z.string() });

export interface CatalogRouteDeps {
  catalog: CatalogService;
  router: ShowRouter;
  sessions: Sessions;
  idempotency: HttpIdempotency;
}

function queryObject(request: HttpRequest): Record<string, string> {
  return Object.fromEntries(request.query.entries());
}

export function registerCatalogRoutes(api: Api, deps: CatalogRouteDeps): void {
  const { catalog, router, sessions, idempotency } = deps;
  const admin = (request: HttpRequest): void => requireAdmin(sessions.authenticate(request.headers['authorization']));
  const organizerErrors = ['unauthorized', 'forbidden', 'idempotency_key_missing', 'idempotency_key_reused', 'payload_too_large'] as const;

  api.route(
    {
      method: 'post', path: '/v1/venues', tag: 'organizer', auth: 'admin', idempotencyKey: 'required', status: 201, summary: 'Create a venue with its seat map, general-admission areas or room types',
      body: CreateVenueRequest, response: VenueResponse, errors: [...organizerErrors], bodyBytesMax: catalogLimits.venueRequestBytesMax,
    },
    async (request) => {
      admin(request);
      return idempotency.run('admin', 'create_venue', request, async () => ({ status: 201, body: await catalog.createVenue(request.body as never) }));
    },
  );
  api.route(
    { method: 'post', path: '/v1/events', tag: 'organizer', auth: 'admin', idempotencyKey: 'required', status: 201, summary: 'Create an event at a venue', body: CreateEventRequest, response: EventResponse, errors: [...organizerErrors] },
    async (request) => {
      admin(request);
      return idempotency.run('admin', 'create_event', request, async () => ({ status: 201, body: await catalog.createEvent(request.body as never) }));
    },
  );
  api.route(
    {
      method: 'post', path: '/v1/events/{id}/shows', tag: 'organizer', auth: 'admin', idempotencyKey: 'required', status: 201, summary: 'Create a show (a performance that is sold) of an event',
      body: CreateShowRequest, response: ShowResponse, errors: [...organizerErrors, 'not_found'],
    },
    async (request) => {
      admin(request);
      return idempotency.run('admin', 'create_show', request, async () => ({ status: 201, body: await catalog.createShow(request.params['id']!, request.body as never) }));
    },
  );

  api.route(
    { method: 'get', path: '/v1/events', tag: 'browse', auth: 'none', status: 200, summary: 'Search events by keyword, city, category, performer, venue and dates (cursor pagination)', query: SearchEventsQuery, response: EventListResponse, errors: [] },
    async (request) => ({ status: 200, body: await catalog.searchEvents(queryObject(request) as never) }),
  );
  api.route(
    { method: 'get', path: '/v1/events/{id}', tag: 'browse', auth: 'none', status: 200, summary: 'One event', response: EventResponse, errors: ['not_found'] },
    async (request) => ({ status: 200, body: await catalog.getEvent(request.params['id']!) }),
  );
  api.route(
    { method: 'get', path: '/v1/events/{id}/shows', tag: 'browse', auth: 'none', status: 200, summary: 'The shows of an event, by start time', query: ListShowsQuery, response: ShowListResponse, errors: ['not_found'] },
    async (request) => ({ status: 200, body: await catalog.listShowsOfEvent(request.params['id']!, queryObject(request) as never) }),
  );
  api.route(
    { method: 'get', path: '/v1/shows/{id}', tag: 'browse', auth: 'none', status: 200, summary: 'One show', response: ShowResponse, errors: ['not_found'] },
    async (request) => ({ status: 200, body: await catalog.getShow(request.params['id']!) }),
  );
  api.route(
    {
      method: 'get', path: '/v1/shows/{id}/seat-map', tag: 'browse', auth: 'none', status: 200,
      summary: 'Seat-map geometry and an availability snapshot with its version (ETag; gzip when accepted)', response: SeatMapResponse, errors: ['not_found'],
    },
    async (request) => {
      const showId = request.params['id']!;
      const { etag, json } = await catalog.getSeatMapGeometryJson(showId);
      const availability = await router.availability(showId);
      if (availability === null) throw new ApiError('not_found', `no show ${showId}`);
      const responseEtag = `"${etag}-v${availability.version}"`;
      if (request.headers['if-none-match'] === responseEtag) return { status: 304, headers: { etag: responseEtag } };
      const availabilityJson = JSON.stringify({ version: availability.version, seat_status: Buffer.from(availability.seatStatus).toString('base64'), pool_available: availability.poolAvailable });
      const body = `{"show_id":${JSON.stringify(showId)},"geometry_etag":${JSON.stringify(etag)},"geometry":${json},"availability":${availabilityJson}}`;
      return compressible(request, body, { etag: responseEtag, 'cache-control': 'no-cache' });
    },
  );
  api.route(
    { method: 'get', path: '/v1/shows/{id}/availability', tag: 'browse', auth: 'none', status: 200, summary: 'Just the availability snapshot (cheap resync)', response: AvailabilityResponse, errors: ['not_found'] },
    async (request) => {
      const showId = request.params['id']!;
      const availability = await router.availability(showId);
      if (availability === null) throw new ApiError('not_found', `no show ${showId}`);
      return { status: 200, headers: { 'cache-control': 'no-cache' }, body: { show_id: showId, version: availability.version, seat_status: Buffer.from(availability.seatStatus).toString('base64'), pool_available: availability.poolAvailable } };
    },
  );
}

function compressible(request: HttpRequest, body: string, headers: Record<string, string>): HttpResponse {
  const common = { 'content-type': 'application/json', vary: 'accept-encoding', ...headers };
  if (!(request.headers['accept-encoding'] ?? '').includes('gzip')) return { status: 200, headers: common, body };
  return { status: 200, headers: { ...common, 'content-encoding': 'gzip' }, body: gzipSync(body, { level: 1 }) };
}
