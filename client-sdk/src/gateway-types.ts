/**
 * Three reply shapes whose zod schemas live in the server's gateway (src/gateway/routes/…) rather
 * than in src/protocol, so the SDK cannot import them without pulling the whole server into its
 * type declarations. They are written here from protocol types where possible, and
 * test/sdk/wire-types.test.ts makes the compiler prove them identical to the gateway's schemas
 * (`SessionResponse`, `SeatMapResponse`, `AvailabilityResponse`): any drift fails typecheck.
 * Once those schemas move to src/protocol, import them instead and delete this file.
 */
import type { SeatMapGeometry } from '../../src/protocol/catalog-schemas.js';

/** `POST /v1/sessions` (SessionResponse). */
export interface SessionView {
  token: string;
  user_id: string;
  expires_at_ms: number;
}

/** `GET /v1/shows/{id}/availability` (AvailabilityResponse); `seat_status` is base64. */
export interface AvailabilityView {
  show_id: string;
  version: number;
  seat_status: string;
  pool_available: number[];
}

/** `GET /v1/shows/{id}/seat-map` (SeatMapResponse). */
export interface SeatMapView {
  show_id: string;
  geometry_etag: string;
  geometry: SeatMapGeometry;
  availability: Omit<AvailabilityView, 'show_id'>;
}
