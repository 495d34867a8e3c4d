import type { AppContext } from '../app-context.js';
import { h, replaceChildren } from '../dom.js';
import { dateTime, money } from '../format.js';

/** An event and its shows (dates); each show links to its seat map. */
export async function eventView(ctx: AppContext, [eventId]: string[]): Promise<void> {
  const { client } = ctx.session;
  const [event, shows] = await Promise.all([client.getEvent(eventId!), client.listShows(eventId!, { limit: 100 })]);
  const now = Date.now();
  replaceChildren(
    ctx.root,
    h('p', {}, h('a', { href: '#/' }, '← All events')),
    h('h1', {}, event.name),
    h('p', {}, h('strong', {}, event.performer), ` at ${event.venue_name}, ${event.venue_city}`),
    event.description ? h('p', { class: 'muted' }, event.description) : null,
    h('h2', {}, 'Dates'),
    shows.items.length === 0
      ? h('p', {}, 'No dates yet.')
      : h(
          'ul',
          { class: 'show-list', 'aria-label': 'Dates' },
          shows.items.map((show) => {
            const onSale = Date.parse(show.on_sale_at) <= now;
            const prices = show.price_tiers.map((tier) => tier.price_cents);
            return h(
              'li',
              { class: 'card' },
              h(
                'div',
                { class: 'stack', style: 'gap:0.2rem' },
                h('strong', {}, dateTime(show.starts_at)),
                h(
                  'span',
                  { class: 'small muted' },
                  prices.length > 0 ? `From ${money(Math.min(...prices), show.currency)}` : '',
                  show.waiting_room?.enabled ? ' · waiting room' : '',
                  onSale ? '' : ` · on sale ${dateTime(show.on_sale_at)}`,
                ),
              ),
              h('a', { class: 'button primary', href: `#/show/${encodeURIComponent(show.id)}`, 'data-show-id': show.id }, onSale ? 'Find tickets' : 'See seats'),
            );
          }),
        ),
  );
}
