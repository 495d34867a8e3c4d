import type { z } from 'zod';
import type { Problem } from './api-error.js';
import type { QueueStatusResponse } from './queue-schemas.js';
import type { WaitlistEntryResponse } from './waitlist-schemas.js';
import type { HoldRequestBody, HoldResponse } from './hold-schemas.js';

/** A socket ack: the REST reply's body on success, the same problem document on failure. */
export type Ack<Data> = { ok: true; data: Data } | { ok: false; error: Problem };

/** Seat status codes in snapshots and diffs: 0 available, 1 held, 2 sold, 3 blocked. */
export type SeatStatusCode = 0 | 1 | 2 | 3;

export interface SeatMapSnapshotMessage {
  show_id: string;
  version: number;
  /** One status code per seat, in the seat map's seat order. */
  seat_status: Uint8Array;
  /** Units available per pool, in the seat map's pool order. */
  pool_available: number[];
  server_time_ms: number;
}

/**
 * Committed changes from `from_version` to `to_version`, with each touched seat's status now
 * (absolute, so applying a diff twice is harmless). A client at version V applies a diff with
 * from_version <= V < to_version, ignores one with to_version <= V, and resyncs (show:watch
 * again) when from_version > V: it missed something.
 */
export interface SeatMapDiffMessage {
  show_id: string;
  from_version: number;
  to_version: number;
  /** Server time of the earliest commit merged into this diff. */
  committed_at_ms: number;
  seats: [seat: number, status: SeatStatusCode][];
  pools: [pool: number, available: number][];
}

export type HoldSocketRequest = HoldRequestBody & { show_id: string; idempotency_key: string; admission_token?: string };

/** The one broadcast of a show's waiting room: position = your number − serving. */
export interface QueueServingMessage {
  show_id: string;
  serving: number;
  rate: number;
  paused: boolean;
  /** Admission stops while the show is sold out and resumes when inventory comes back. */
  sold_out: boolean;
  server_time_ms: number;
}

/** Pushed to a queued socket once the serving counter passes its number. */
export interface QueueAdmittedMessage {
  show_id: string;
  admission_token: string;
  expires_at_ms: number;
}

export interface QueueJoinRequest {
  show_id: string;
  /** A ticket from an earlier join: rejoining keeps the same place. */
  ticket?: string;
  pow_challenge?: string;
  pow_nonce?: string;
}

/** A waitlist offer: a hold made for this fan; buy it (POST /v1/orders) before expires_at_ms. */
export interface WaitlistOfferMessage {
  hold_id: string;
  show_id: string;
  seat_ids: string[];
  total_cents: number;
  currency: string;
  expires_at_ms: number;
  server_time_ms: number;
}

/** Sent to watchers and the waiting room when a show sells out or inventory comes back. */
export interface ShowStatusMessage {
  show_id: string;
  sold_out: boolean;
  /** Price tiers with no seat left (a fan waiting for one tier hears it at once). */
  tiers_sold_out: string[];
  items_available: number;
  version: number;
}

export interface ClientToServerEvents {
  'show:watch': (payload: { show_id: string }, ack: (result: Ack<SeatMapSnapshotMessage>) => void) => void;
  'show:unwatch': (payload: { show_id: string }, ack: (result: Ack<{ show_id: string }>) => void) => void;
  hold: (payload: HoldSocketRequest, ack: (result: Ack<HoldResponse>) => void) => void;
  release: (payload: { hold_id: string; idempotency_key?: string }, ack: (result: Ack<HoldResponse>) => void) => void;
  extend: (payload: { hold_id: string; idempotency_key: string }, ack: (result: Ack<HoldResponse>) => void) => void;
  'queue:join': (payload: QueueJoinRequest, ack: (result: Ack<QueueStatusMessage>) => void) => void;
  'waitlist:join': (payload: { show_id: string; idempotency_key: string; party_size: number; tier?: string }, ack: (result: Ack<WaitlistEntryResponse>) => void) => void;
}

export interface ServerToClientEvents {
  'seatmap:diff': (diff: SeatMapDiffMessage) => void;
  'queue:serving': (message: QueueServingMessage) => void;
  'queue:admitted': (message: QueueAdmittedMessage) => void;
  'waitlist:offer': (message: WaitlistOfferMessage) => void;
  'show:status': (message: ShowStatusMessage) => void;
}

export type QueueStatusMessage = z.output<typeof QueueStatusResponse>;

export const showRoom = (showId: string): string => `show:${showId}`;
export const queueRoom = (showId: string): string => `queue:${showId}`;
/** Fans admitted from the waiting room: no more serving broadcasts, but still the show's status. */
export const admittedRoom = (showId: string): string => `admitted:${showId}`;
export const userRoom = (userId: string): string => `user:${userId}`;
