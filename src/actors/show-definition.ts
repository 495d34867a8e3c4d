/**
 * What a show sells, as the organizer describes it: priced tiers, seated sections of rows
 * (best rows first — best-available walks them in this order) and fungible pools
 * (general-admission areas; for lodging, one room type on one night).
 */
export interface TierDefinition {
  id: string;
  name: string;
  priceCents: number;
}

export interface SeatDefinition {
  label: string;
  tierId: string;
  accessible?: boolean;
  obstructed?: boolean;
}

export interface RowDefinition {
  label: string;
  /** Seats in physical order: neighbours in this array are side by side. */
  seats: SeatDefinition[];
}

export interface SectionDefinition {
  id: string;
  name: string;
  rows: RowDefinition[];
}

export type PoolKind = 'ga' | 'room_night';

export interface PoolDefinition {
  id: string;
  name: string;
  kind: PoolKind;
  capacity: number;
  priceCents: number;
}

export interface ShowPolicy {
  /** Earliest time holds are accepted. */
  onSaleAtMs: number;
  holdTtlMs: number;
  maxItemsPerHold: number;
  maxActiveHoldsPerUser: number;
  maxExtensions: number;
  extensionMs: number;
  /** How long a hold pinned for payment stays reserved. */
  paymentWindowMs: number;
  /** How long a waitlist offer stays reserved for its fan. */
  offerTtlMs: number;
  /** Refuse holds that would strand a single seat (default on; false turns it off). */
  orphanSeatRule?: boolean;
}

/**
 * A presale channel (presale code, fan club, partner block): its seats and pool units may only
 * be held with its key until `releaseAtMs`, when what is unsold joins the general sale.
 */
export interface ChannelDefinition {
  id: string;
  name: string;
  /** sha256 (hex) of the channel key; the key itself is never stored. */
  keyHash: string;
  seats: string[];
  pools: { poolId: string; quantity: number }[];
  /** Null: restricted for the whole sale. */
  releaseAtMs: number | null;
}

export interface ShowDefinition {
  showId: string;
  currency: string;
  tiers: TierDefinition[];
  sections: SectionDefinition[];
  pools: PoolDefinition[];
  policy: ShowPolicy;
  channels?: ChannelDefinition[];
}

/** Seat ids are `section:row:seat`; labels never contain ':'. */
export function seatIdOf(sectionId: string, rowLabel: string, seatLabel: string): string {
  return `${sectionId}:${rowLabel}:${seatLabel}`;
}
