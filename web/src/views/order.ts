import type { AppContext } from '../app-context.js';
import { h, replaceChildren } from '../dom.js';
import { dateTime, money } from '../format.js';
import { ticketQr, ticketText } from './tickets.js';

/** Confirmation: the order and one QR ticket per seat or place. */
export async function orderView(ctx: AppContext, [orderId]: string[]): Promise<() => void> {
  const { client } = ctx.session;
  const urls: string[] = [];
  const order = await client.getOrder(orderId!);
  const show = await client.getShow(order.show_id);
  const event = await client.getEvent(show.event_id);
  const confirmed = order.status === 'confirmed';
  replaceChildren(
    ctx.root,
    h('div', { class: `notice ${confirmed ? 'good' : 'warn'}`, role: 'status', 'data-testid': 'order-status' }, confirmed ? 'You are going! Your tickets are below.' : `This order is ${order.status.replace(/_/g, ' ')}.`),
    h('h1', {}, event.name),
    h('p', { class: 'muted' }, `${dateTime(show.starts_at)} · ${event.venue_name}, ${event.venue_city}`),
    h('p', {}, `Order ${order.order_id} · ${money(order.total_cents, order.currency)}`),
    h(
      'ul',
      { class: 'tickets', 'aria-label': 'Tickets' },
      order.tickets.map((ticket) => h('li', { class: 'card ticket stack' }, h('strong', {}, ticketText(ticket)), ticketQr(client, ticket, urls), h('span', { class: 'small muted' }, 'Show this code at the door'))),
    ),
    h('p', {}, h('a', { href: '#/orders' }, 'All my orders and ticket transfers')),
  );
  return () => urls.forEach((url) => URL.revokeObjectURL(url));
}
