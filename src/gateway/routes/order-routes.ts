import { z } from 'zod';
import type { OrderService } from '../../orders/order-service.js';
import type { OrderRecord, TicketRecord } from '../../orders/order-store.js';
import type { TicketService } from '../../orders/ticket-service.js';
import { ApiError } from '../../protocol/api-error.js';
import { ConfirmPaymentRequest, ConfirmPaymentResponse, CreateOrderRequest, OrderListResponse, OrderResponse, TicketView, TransferTicketRequest, TransferTicketResponse, VerifyTicketRequest, VerifyTicketResponse } from '../../protocol/order-schemas.js';
import { parseInput } from '../../protocol/validate.js';
import type { Clock } from '../../shared/clock.js';
import { requireAdmin, requireUser, type Sessions } from '../auth/sessions.js';
import type { Api } from '../http/api.js';
import type { HttpIdempotency } from '../http/http-idempotency.js';
import type { RateLimits } from '../rate-limits.js';

export interface OrderRouteDeps {
  orders: OrderService;
  tickets: TicketService;
  sessions: Sessions;
  idempotency: HttpIdempotency;
  rateLimits: RateLimits;
  clock: Clock;
}

const IdParam = z.string().min(3).max(128).regex(/^[A-Za-z0-9_-]+$/, 'not an id');

export function registerOrderRoutes(api: Api, deps: OrderRouteDeps): void {
  const { orders, tickets, sessions, idempotency, rateLimits } = deps;
  const render = async (order: OrderRecord, clientSecret: string | null = null): Promise<z.output<typeof OrderResponse>> => {
    const issued = order.status === 'confirmed' ? await orders.orders.tickets(order.id) : [];
    return {
      order_id: order.id, status: order.status, hold_id: order.holdId, show_id: order.showId, total_cents: order.totalCents, currency: order.currency,
      pay_by_ms: order.payByMs, payment: { id: order.paymentId, provider: order.provider, client_secret: clientSecret },
      items: { seat_ids: order.items.seats, ga: order.items.pools.map((pool) => ({ section_id: pool.poolId, quantity: pool.quantity })) },
      tickets: issued.map((ticket) => renderTicket(ticket, tickets)), last_error: order.lastError, created_at_ms: order.createdAtMs, confirmed_at_ms: order.confirmedAtMs,
    };
  };

  api.route(
    {
      method: 'post', path: '/v1/orders', tag: 'orders', auth: 'user', idempotencyKey: 'required', status: 201,
      summary: 'Create the order for a hold: pins the hold for the payment window and opens a payment', body: CreateOrderRequest, response: OrderResponse,
      errors: ['unauthorized', 'forbidden', 'idempotency_key_missing', 'idempotency_key_reused', 'hold_not_found', 'hold_expired', 'hold_not_active', 'payment_provider_unavailable'],
    },
    async (request) => {
      const userId = requireUser(sessions.authenticate(request.headers['authorization']));
      const body = parseInput(CreateOrderRequest, request.body, 'order request');
      await rateLimits.checkUser(userId);
      return idempotency.run(userId, 'create_order', request, async () => {
        const { order, payment } = await orders.createOrder(userId, body.hold_id);
        return { status: 201, body: await render(order, payment.clientSecret) };
      });
    },
  );
  api.route(
    {
      method: 'post', path: '/v1/payments/{id}/confirm', tag: 'orders', auth: 'user', idempotencyKey: 'required', status: 200,
      summary: 'Pay: confirm the payment; mashing it with one key charges once and answers identically', body: ConfirmPaymentRequest, response: ConfirmPaymentResponse,
      errors: ['unauthorized', 'forbidden', 'not_found', 'idempotency_key_missing', 'idempotency_key_reused', 'hold_expired', 'payment_provider_unavailable', 'request_in_progress'],
    },
    async (request) => {
      const userId = requireUser(sessions.authenticate(request.headers['authorization']));
      const paymentId = parseInput(IdParam, request.params['id'], 'payment id');
      const body = parseInput(ConfirmPaymentRequest, request.body === undefined ? {} : request.body, 'payment confirmation');
      const method = body.payment_method ?? body.card_number;
      if (method === undefined) throw new ApiError('validation_failed', 'send card_number (simulated provider) or payment_method (Stripe)');
      await rateLimits.checkUser(userId);
      return idempotency.run(userId, 'confirm_payment', request, async () => {
        const key = request.headers['idempotency-key']!;
        const { order, outcome } = await orders.confirmPayment(userId, paymentId, method, key);
        return { status: 200, body: { order_id: order.id, status: outcome, order: await render(order) } };
      });
    },
  );
  api.route(
    { method: 'get', path: '/v1/orders/{id}', tag: 'orders', auth: 'user', status: 200, summary: 'One of your orders, with its items and tickets', response: OrderResponse, errors: ['unauthorized', 'not_found'] },
    async (request) => {
      const userId = requireUser(sessions.authenticate(request.headers['authorization']));
      const order = await orders.orders.byId(parseInput(IdParam, request.params['id'], 'order id'));
      if (order === null || order.userId !== userId) throw new ApiError('not_found', 'no such order of yours');
      return { status: 200, body: await render(order) };
    },
  );
  api.route(
    {
      method: 'get', path: '/v1/me/orders', tag: 'orders', auth: 'user', status: 200, summary: 'Your order history, newest first', response: OrderListResponse,
      query: z.strictObject({ before_ms: z.coerce.number().int().optional(), limit: z.coerce.number().int().min(1).max(100).optional() }), errors: ['unauthorized'],
    },
    async (request) => {
      const userId = requireUser(sessions.authenticate(request.headers['authorization']));
      const query = parseInput(z.strictObject({ before_ms: z.coerce.number().int().optional(), limit: z.coerce.number().int().min(1).max(100).optional() }), Object.fromEntries(request.query.entries()), 'query');
      const limit = query.limit ?? 20;
      const list = await orders.orders.ofUser(userId, limit, query.before_ms ?? null);
      return { status: 200, body: { items: await Promise.all(list.map((order) => render(order))), next_before_ms: list.length === limit ? list.at(-1)!.createdAtMs : null } };
    },
  );
  api.route(
    { method: 'post', path: '/v1/webhooks/stripe', tag: 'payments', auth: 'none', status: 200, summary: 'Stripe webhooks (signature verified; deduplicated by event id)', response: z.object({ received: z.boolean(), duplicate: z.boolean() }), errors: ['forbidden'] },
    async (request) => {
      const result = await orders.handleWebhook(request.rawBody, request.headers);
      return { status: 200, body: { received: true, duplicate: result.duplicate } };
    },
  );

  const ownTicket = async (request: { headers: Record<string, string>; params: Record<string, string> }): Promise<TicketRecord> => {
    const userId = requireUser(sessions.authenticate(request.headers['authorization']));
    const ticket = await tickets.byId(parseInput(IdParam, request.params['id'], 'ticket id'));
    if (ticket === null || ticket.holderUserId !== userId) throw new ApiError('not_found', 'no such ticket of yours');
    return ticket;
  };
  api.route(
    { method: 'get', path: '/v1/tickets/{id}', tag: 'tickets', auth: 'user', status: 200, summary: 'One of your tickets, with its signed token', response: TicketView, errors: ['unauthorized', 'not_found'] },
    async (request) => ({ status: 200, body: renderTicket(await ownTicket(request), tickets) }),
  );
  api.route(
    { method: 'get', path: '/v1/tickets/{id}/qr.png', tag: 'tickets', auth: 'user', status: 200, summary: 'The ticket QR code as PNG', contentType: 'image/png', errors: ['unauthorized', 'not_found'] },
    async (request) => ({ status: 200, headers: { 'content-type': 'image/png', 'cache-control': 'private, no-store' }, body: await tickets.qrPng(await ownTicket(request)) }),
  );
  api.route(
    { method: 'get', path: '/v1/tickets/{id}/qr.svg', tag: 'tickets', auth: 'user', status: 200, summary: 'The ticket QR code as SVG', contentType: 'image/svg+xml', errors: ['unauthorized', 'not_found'] },
    async (request) => ({ status: 200, headers: { 'content-type': 'image/svg+xml', 'cache-control': 'private, no-store' }, body: await tickets.qrSvg(await ownTicket(request)) }),
  );
  api.route(
    {
      method: 'post', path: '/v1/tickets/{id}/transfer', tag: 'tickets', auth: 'user', idempotencyKey: 'required', status: 200,
      summary: 'Give a ticket to another fan: a new token is issued and the old one stops verifying', body: TransferTicketRequest,
      response: TransferTicketResponse, errors: ['unauthorized', 'not_found', 'ticket_invalid', 'idempotency_key_missing', 'idempotency_key_reused'],
    },
    async (request) => {
      const userId = requireUser(sessions.authenticate(request.headers['authorization']));
      const ticketId = parseInput(IdParam, request.params['id'], 'ticket id');
      const body = parseInput(TransferTicketRequest, request.body, 'transfer');
      await rateLimits.checkUser(userId);
      return idempotency.run(userId, 'transfer_ticket', request, async () => {
        const ticket = await tickets.transfer(ticketId, userId, body.to_user_id);
        const history = await tickets.history(ticketId);
        return { status: 200, body: { ticket_id: ticket.id, holder_user_id: ticket.holderUserId, history: history.map((entry) => ({ from_user_id: entry.fromUserId, to_user_id: entry.toUserId, at_ms: entry.atMs })) } };
      });
    },
  );
  api.route(
    {
      method: 'post', path: '/v1/tickets/verify', tag: 'tickets', auth: 'admin', status: 200, summary: 'Check-in scan: the first scan is valid, later ones ticket_already_used, forged tokens ticket_invalid',
      body: VerifyTicketRequest, response: VerifyTicketResponse, errors: ['unauthorized', 'forbidden', 'ticket_invalid', 'ticket_already_used'],
    },
    async (request) => {
      requireAdmin(sessions.authenticate(request.headers['authorization']));
      const { token } = parseInput(VerifyTicketRequest, request.body, 'scan');
      const { ticket } = await tickets.scan(token, deps.clock.nowMs());
      return { status: 200, body: { result: 'valid', ticket_id: ticket.id, show_id: ticket.showId, seat_id: ticket.seatId, pool_id: ticket.poolId } };
    },
  );
}

function renderTicket(ticket: TicketRecord, tickets: TicketService): z.output<typeof TicketView> {
  return {
    ticket_id: ticket.id, show_id: ticket.showId, seat_id: ticket.seatId, pool_id: ticket.poolId, status: ticket.status,
    token: tickets.tokenOf(ticket), qr_png_url: `/v1/tickets/${ticket.id}/qr.png`, qr_svg_url: `/v1/tickets/${ticket.id}/qr.svg`,
  };
}
