import type { ResultCode } from '../protocol/result-codes.js';

/** What a fan asks to hold: specific seats, quantities from pools (both at once is allowed), or best-available seats. */
export interface HoldRequest {
  seats?: string[];
  pools?: { poolId: string; quantity: number }[];
  bestAvailable?: { quantity: number; tierId?: string };
}

export type SaleReturnPolicy = 'available' | 'blocked';

/**
 * Commands a show actor decides. Ids (`holdId`) are chosen by the shell before the command
 * enters the mailbox, so the decider stays free of randomness.
 */
export type ShowCommand =
  | { type: 'place_hold'; userId: string; holdId: string; request: HoldRequest; /** sha256 (hex) of a presale channel key the fan sent. */ channelKeyHash?: string }
  | { type: 'release_hold'; userId: string; holdId: string }
  | { type: 'extend_hold'; userId: string; holdId: string }
  | { type: 'pin_hold'; userId: string; holdId: string; orderId: string; paymentWindowMs?: number }
  | { type: 'confirm_hold'; holdId: string; orderId: string }
  | { type: 'void_sale'; orderId: string; returnTo: SaleReturnPolicy }
  | { type: 'block_seats'; seats: string[] }
  | { type: 'unblock_seats'; seats: string[] }
  | { type: 'join_waitlist'; userId: string; entryId: string; partySize: number; tierId?: string }
  | { type: 'leave_waitlist'; userId: string }
  | { type: 'expire_due' }
  /** Offers returned seats to waitlisted fans; the shell runs it after commands that freed inventory. */
  | { type: 'make_offers' };

export type ShowCommandType = ShowCommand['type'];

/** Journaled facts. Seats and pools are inventory indices; `version` rises by one per event. */
export type ShowEvent =
  | {
      type: 'hold_placed';
      holdId: string;
      userId: string;
      seats: number[];
      pools: [poolIndex: number, quantity: number][];
      expiresAtMs: number;
      totalCents: number;
      split: boolean;
      /** Set when the hold is a waitlist offer made to this entry's fan. */
      offerFor?: string;
      /** Pool units taken from presale channel allotments: [pool, channel, units]. */
      channelQuota?: [pool: number, channel: number, units: number][];
    }
  | { type: 'hold_released'; holdId: string }
  | { type: 'hold_expired'; holdId: string }
  | { type: 'hold_extended'; holdId: string; expiresAtMs: number }
  | { type: 'hold_pinned'; holdId: string; orderId: string; expiresAtMs: number }
  | { type: 'hold_confirmed'; holdId: string; orderId: string }
  | { type: 'sale_voided'; holdId: string; orderId: string; returnTo: SaleReturnPolicy }
  | { type: 'seats_blocked'; seats: number[] }
  | { type: 'seats_unblocked'; seats: number[] }
  | { type: 'waitlist_joined'; entryId: string; userId: string; partySize: number; tier: number | null; joinedAtMs: number }
  | { type: 'waitlist_left'; entryId: string }
  /** The entry leaves the waitlist because its fan got an offer (the hold_placed that follows). */
  | { type: 'waitlist_offered'; entryId: string; holdId: string };

export type ShowEventType = ShowEvent['type'];

export type HoldStatus = 'held' | 'pinned' | 'sold';

/** A hold as callers see it: ids, not indices. */
export interface HoldView {
  holdId: string;
  showId: string;
  userId: string;
  status: HoldStatus;
  seats: string[];
  pools: { poolId: string; quantity: number }[];
  expiresAtMs: number;
  totalCents: number;
  currency: string;
  extensionsLeft: number;
  orderId: string | null;
  /** Best-available could not keep the party together in one row. */
  split: boolean;
  /** A waitlist offer: made for the fan, ends at expiresAtMs unless bought. */
  offer: boolean;
}

export interface WaitlistEntryView {
  entryId: string;
  showId: string;
  userId: string;
  partySize: number;
  tierId: string | null;
  /** Fans ahead in the waitlist, plus one. */
  position: number;
}

export interface ShowOk {
  ok: true;
  version: number;
  /** Server time of the decision; part of the stored reply, so a retry gets the very same reply. */
  decidedAtMs?: number;
  hold?: HoldView;
  seatsChanged?: number;
  waitlist?: WaitlistEntryView;
}

export interface ShowRejection {
  ok: false;
  code: ResultCode;
  detail: string;
  /** Seats or pools that caused the refusal, so a client can update its map at once. */
  seats?: string[];
  pools?: string[];
}

export type ShowReply = ShowOk | ShowRejection;

export function reject(code: ResultCode, detail: string, extra?: { seats?: string[]; pools?: string[] }): ShowRejection {
  return { ok: false, code, detail, ...extra };
}
