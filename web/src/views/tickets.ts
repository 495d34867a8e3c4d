import type { HoldfastClient, TicketInfo } from '../../../client-sdk/src/index.js';
import { h } from '../dom.js';
import { seatIdText } from './items.js';

/** A ticket's QR code as an <img> (the SVG needs the bearer token, so it is fetched, then shown from a blob URL). */
export function ticketQr(client: HoldfastClient, ticket: TicketInfo, urls: string[]): HTMLImageElement {
  const image = h('img', { alt: `QR code of the ticket for ${ticketText(ticket)}`, 'data-testid': 'ticket-qr', 'data-ticket-id': ticket.ticket_id });
  client.getTicketQrSvg(ticket.ticket_id).then(
    (svg) => {
      const url = URL.createObjectURL(new Blob([svg], { type: 'image/svg+xml' }));
      urls.push(url);
      image.src = url;
    },
    () => {
      image.alt = 'The QR code could not be loaded; reload the page.';
    },
  );
  return image;
}

export function ticketText(ticket: TicketInfo): string {
  return ticket.seat_id ? seatIdText(ticket.seat_id) : `${ticket.pool_id ?? 'general admission'}`;
}
