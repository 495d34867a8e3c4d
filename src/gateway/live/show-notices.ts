import type { HoldView } from '../../actors/messages.js';
import type { SeatMapDiff } from '../../actors/seat-map-diff.js';
import type { ShowStatusMessage, WaitlistOfferMessage } from '../../protocol/socket-events.js';

/**
 * News from every committed change that is not a seat-map diff: waitlist offers go to the fan
 * they were made for, wherever that fan is connected; a show selling out (or coming back) goes
 * to its watchers and its waiting room at once.
 */
export class ShowNotices {
  private readonly soldOut = new Map<string, string>();

  constructor(
    private readonly toUser: (userId: string, offer: WaitlistOfferMessage) => void,
    private readonly toShow: (showId: string, status: ShowStatusMessage) => void,
  ) {}

  onCommitted(diff: SeatMapDiff): void {
    for (const offer of diff.offers) this.toUser(offer.userId, renderOffer(offer));
    const soldOut = diff.itemsAvailable === 0;
    const key = `${soldOut}|${diff.tiersSoldOut.join(',')}`;
    if (this.soldOut.get(diff.showId) !== key) {
      this.soldOut.set(diff.showId, key);
      this.toShow(diff.showId, { show_id: diff.showId, sold_out: soldOut, tiers_sold_out: diff.tiersSoldOut, items_available: diff.itemsAvailable, version: diff.toVersion });
    }
  }
}

function renderOffer(hold: HoldView): WaitlistOfferMessage {
  return {
    hold_id: hold.holdId, show_id: hold.showId, seat_ids: hold.seats, total_cents: hold.totalCents, currency: hold.currency,
    expires_at_ms: hold.expiresAtMs, server_time_ms: Date.now(),
  };
}
