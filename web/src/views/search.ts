import type { EventView } from '../../../client-sdk/src/index.js';
import type { AppContext } from '../app-context.js';
import { h, replaceChildren } from '../dom.js';
import { describeError } from '../errors.js';
import { dateTime } from '../format.js';

const categories = ['concert', 'sports', 'theatre', 'comedy', 'festival', 'lodging', 'other'];

/** Event search: keywords, city and category; results link to the event's shows. */
export async function searchView(ctx: AppContext): Promise<void> {
  const params = new URLSearchParams(location.hash.split('?')[1] ?? '');
  const q = h('input', { type: 'search', name: 'q', 'aria-label': 'Search events', placeholder: 'Artist, event, venue or city', value: params.get('q') ?? '', size: 32 });
  const city = h('input', { name: 'city', placeholder: 'Any city', value: params.get('city') ?? '', size: 14 });
  const category = h('select', { name: 'category' }, h('option', { value: '' }, 'Any'), categories.map((name) => h('option', { value: name }, name)));
  const results = h('div', { 'aria-live': 'polite' });
  const form = h(
    'form',
    { class: 'row search-form', role: 'search' },
    h('label', {}, 'Search', q),
    h('label', {}, 'City', city),
    h('label', {}, 'Category', category),
    h('button', { type: 'submit', class: 'primary' }, 'Search'),
  );
  const search = async () => {
    replaceChildren(results, h('p', { class: 'muted' }, 'Searching…'));
    try {
      const page = await ctx.session.client.searchEvents({
        ...(q.value.trim() ? { q: q.value.trim() } : {}),
        ...(city.value.trim() ? { city: city.value.trim() } : {}),
        ...(category.value ? { category: category.value as EventView['category'] } : {}),
        limit: 50,
      });
      replaceChildren(
        results,
        page.items.length === 0
          ? h('p', {}, 'No events match. Try fewer words.')
          : h('ul', { class: 'results', 'aria-label': 'Events' }, page.items.map((event) => h('li', {}, eventCard(event)))),
      );
    } catch (error) {
      replaceChildren(results, h('p', { class: 'error', role: 'alert' }, describeError(error)));
    }
  };
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void search();
  });
  replaceChildren(ctx.root, h('h1', {}, 'Find tickets'), form, results);
  await search();
}

function eventCard(event: EventView): HTMLElement {
  return h(
    'a',
    { href: `#/event/${encodeURIComponent(event.id)}`, 'data-event-id': event.id },
    h(
      'div',
      { class: 'card stack' },
      h('h2', {}, event.name),
      h('div', {}, event.performer, ' · ', h('span', { class: 'badge' }, event.category)),
      h('div', { class: 'muted small' }, `${event.venue_name}, ${event.venue_city}`),
      h('div', { class: 'small' }, event.next_show_at ? `Next show ${dateTime(event.next_show_at)}` : 'No upcoming shows'),
    ),
  );
}
