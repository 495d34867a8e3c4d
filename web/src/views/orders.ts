import type { HoldfastClient, OrderView, TicketInfo } from '../../../client-sdk/src/index.js';
import type { AppContext } from '../app-context.js';
import { announce, h, replaceChildren } from '../dom.js';
import { describeError } from '../errors.js';
import { dateTime, money } from '../format.js';
import { ticketQr, ticketText } from './tickets.js';

const statusBadge: Record<OrderView['status'], string> = { confirmed: 'good', pending_payment: 'warn', processing: 'warn', expired: '', refunded: 'bad', failed: 'bad' };

/** My orders, newest first, with each ticket's QR code and a transfer form. */
export async function ordersView(ctx: AppContext): Promise<() => void> {
  const { client } = ctx.session;
  const urls: string[] = [];
  const orders = await client.listOrders({ limit: 50 });
  const names = new Map<string, Promise<string>>();
  const showName = (showId: string) => {
    let name = names.get(showId);
    if (name === undefined) {
      name = client.getShow(showId).then(async (show) => `${(await client.getEvent(show.event_id)).name}, ${dateTime(show.starts_at)}`, () => showId);
      names.set(showId, name);
    }
    return name;
  };
  replaceChildren(
    ctx.root,
    h('h1', {}, 'My orders'),
    orders.items.length === 0
      ? h('p', {}, 'No orders yet. ', h('a', { href: '#/' }, 'Find an event'), '.')
      : h(
          'ul',
          { class: 'orders' },
          orders.items.map((order) => {
            const title = h('h2', {}, order.show_id);
            void showName(order.show_id).then((name) => (title.textContent = name));
            return h(
              'li',
              { class: 'card stack', 'data-order-id': order.order_id },
              title,
              h('div', {}, h('span', { class: `badge ${statusBadge[order.status]}` }, order.status.replace(/_/g, ' ')), ` ${money(order.total_cents, order.currency)} · ordered ${dateTime(order.created_at_ms)}`),
              order.tickets.length > 0 ? h('ul', { class: 'order-tickets', 'aria-label': 'Tickets' }, order.tickets.map((ticket) => ticketRow(client, ticket, urls))) : null,
            );
          }),
        ),
  );
  return () => urls.forEach((url) => URL.revokeObjectURL(url));
}

function ticketRow(client: HoldfastClient, ticket: TicketInfo, urls: string[]): HTMLElement {
  const status = h('span', { class: 'small', role: 'status' });
  const row = h('li', { 'data-ticket-id': ticket.ticket_id }, h('strong', {}, ticketText(ticket)), h('span', { class: 'badge' }, ticket.status), status);
  if (ticket.status !== 'valid') return row;
  const qr = h('button', { type: 'button' }, 'Show QR');
  qr.addEventListener('click', () => qr.replaceWith(ticketQr(client, ticket, urls)));
  const to = h('input', { name: 'to_user_id', placeholder: 'friend user id', size: 12, 'aria-label': `Give ${ticketText(ticket)} to (user id)`, pattern: '[A-Za-z0-9_@.\\-]{3,64}', required: true });
  const give = h('button', { type: 'submit' }, 'Transfer');
  const form = h('form', { class: 'row' }, to, give);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    give.disabled = true;
    try {
      const result = await client.transferTicket(ticket.ticket_id, to.value.trim());
      status.textContent = `Given to ${result.holder_user_id}. Their ticket has a new code; this one no longer works.`;
      announce(status.textContent);
      form.remove();
      qr.remove();
    } catch (error) {
      status.textContent = describeError(error);
      give.disabled = false;
    }
  });
  row.append(qr, form);
  return row;
}
