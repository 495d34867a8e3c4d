import type { Stop, WaitlistOfferMessage } from '../../../client-sdk/src/index.js';
import type { AppContext } from '../app-context.js';
import { announce, h, replaceChildren } from '../dom.js';
import { money, remaining } from '../format.js';
import { itemLines } from './items.js';

/**
 * Waitlist offers arrive live on any page: seats were held for this fan, with their own
 * countdown (server clock). "Buy now" goes to checkout for that hold.
 */
export function startOfferBanner(ctx: AppContext): void {
  const banner = document.getElementById('offer')!;
  let stop: Stop = () => undefined;
  ctx.session.client.onWaitlistOffer((offer: WaitlistOfferMessage) => {
    stop();
    const timer = h('strong', { class: 'countdown', role: 'timer', 'data-testid': 'offer-countdown' }, '');
    const dismiss = h('button', { type: 'button' }, 'Not now');
    replaceChildren(
      banner,
      h('span', {}, h('strong', {}, 'Seats came back for you! '), itemLines({ seat_ids: offer.seat_ids, ga: [] }).join('; '), ` · ${money(offer.total_cents, offer.currency)} · yours for `),
      timer,
      h('a', { class: 'button primary', href: `#/checkout/${encodeURIComponent(offer.hold_id)}`, 'data-testid': 'offer-buy', onclick: () => hide() }, 'Buy now'),
      dismiss,
    );
    const hide = () => {
      stop();
      banner.hidden = true;
    };
    dismiss.addEventListener('click', hide);
    banner.hidden = false;
    announce(`Seats came back for you: ${offer.seat_ids.length} seats. Buy them before the timer ends.`);
    stop = ctx.session.client.clock.countdown(offer.expires_at_ms, (ms) => {
      timer.textContent = remaining(ms);
      if (ms <= 0) {
        replaceChildren(banner, h('span', {}, 'The waitlist offer expired.'));
        setTimeout(hide, 5_000);
      }
    }, { intervalMs: 500 });
  });
}
