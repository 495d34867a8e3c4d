import type { AppContext } from '../app-context.js';
import { announce, h, replaceChildren } from '../dom.js';
import { describeError } from '../errors.js';

/**
 * Shown the moment a show is sold out: says so and offers the waitlist. When seats come back the
 * server holds them for the first fans who fit and pushes the offer live (see offer-banner.ts).
 */
export function waitlistPanel(ctx: AppContext, showId: string, tiers: { id: string; name: string }[], maxParty: number): HTMLElement {
  const party = h('select', { name: 'party_size' }, Array.from({ length: Math.min(8, maxParty) }, (_, index) => h('option', { value: String(index + 1) }, String(index + 1))));
  const tier = h('select', { name: 'tier' }, h('option', { value: '' }, 'Any price'), tiers.map((entry) => h('option', { value: entry.id }, entry.name)));
  const status = h('p', { role: 'status', 'data-testid': 'waitlist-status' });
  const join = h('button', { type: 'submit', class: 'primary' }, 'Join the waitlist');
  const form = h('form', { class: 'row' }, h('label', {}, 'Seats together', party), h('label', {}, 'Price', tier), join);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    join.disabled = true;
    try {
      const entry = await ctx.session.client.joinWaitlist(showId, { party_size: Number(party.value), ...(tier.value ? { tier: tier.value } : {}) });
      replaceChildren(status, `You are number ${entry.position} on the waitlist. If seats come back we hold them for you and tell you here at once.`);
      announce(status.textContent ?? '');
      form.hidden = true;
    } catch (error) {
      status.textContent = describeError(error);
      join.disabled = false;
    }
  });
  return h(
    'section',
    { class: 'notice bad stack', role: 'alert', 'data-testid': 'sold-out' },
    h('h2', {}, 'Sold out'),
    h('p', {}, 'Every seat is taken or held right now. Held seats that are not bought come back: join the waitlist to get the next ones.'),
    form,
    status,
  );
}
