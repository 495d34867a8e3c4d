import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { SimulatedPaymentProvider } from '../../src/payments/simulated-provider.js';
import type { OrderService } from '../../src/orders/order-service.js';
import type { SqlDatabase } from '../../src/persistence/database.js';
import { ShowDefinitionStore } from '../../src/persistence/show-definitions.js';
import { buildStadiumDefinition } from '../../src/seed/stadium.js';
import { startServer, type HoldfastServer } from '../../src/server.js';
import { silentLogger } from '../../src/shared/logger.js';
import { databaseKinds } from '../support/databases.js';

const showId = 'shw-saga-test';
const card = { ok: '4242424242424242', declined: '4000000000000002', slow: '4000000000000259', lostWebhook: '4000000000000341', duplicated: '4000000000003220', lostReply: '4000000000000119' };

interface OrderBody { order_id: string; status: string; payment: { id: string }; tickets: { ticket_id: string; token: string; seat_id: string | null }[] }

for (const kind of databaseKinds) {
  describe.skipIf(!kind.available)(`order saga, exactly once (${kind.name})`, () => {
    let db: SqlDatabase;
    let server: HoldfastServer;
    let orders: OrderService;
    const offset = { ms: 0 };
    const clock = { nowMs: () => Date.now() + offset.ms };
    let deliveries: { raw: Buffer; headers: Record<string, string> }[] = [];
    const provider = new SimulatedPaymentProvider({
      clock, latencyMs: { min: 0, max: 2 }, processingDelayMs: 300, webhookSecret: 'saga-test-webhook-secret',
      webhooks: { delayMs: { min: 5, max: 30 } },
      deliver: async (raw, headers) => {
        deliveries.push({ raw, headers });
        await orders.handleWebhook(raw, headers);
      },
    });
    const config = { ...loadConfig({ NODE_ENV: 'test', RATE_LIMIT_USER_PER_S: '1000', RECONCILE_INTERVAL_MS: '3600000' }), port: 0, host: '127.0.0.1', seedDemo: false };
    const start = async (): Promise<void> => {
      server = await startServer(config, { db, clock, logger: silentLogger, paymentProvider: provider });
      orders = server.orders;
    };
    const call = async (method: string, path: string, token: string | undefined, body?: unknown, key: string | null = randomUUID()) => {
      const headers: Record<string, string> = {};
      if (token) headers['authorization'] = `Bearer ${token}`;
      if (key) headers['idempotency-key'] = key;
      if (body !== undefined) headers['content-type'] = 'application/json';
      const response = await fetch(`${server.url}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
      const text = await response.text();
      return { status: response.status, text, body: JSON.parse(text) as Record<string, unknown> };
    };
    const session = async (userId: string): Promise<string> => (await call('POST', '/v1/sessions', undefined, { user_id: userId }, null)).body['token'] as string;
    const holdAndOrder = async (token: string, seats: string[]): Promise<OrderBody> => {
      const hold = await call('POST', `/v1/shows/${showId}/holds`, token, { seat_ids: seats });
      expect(hold.status).toBe(201);
      const order = await call('POST', '/v1/orders', token, { hold_id: hold.body['hold_id'] });
      expect(order.status).toBe(201);
      return order.body as unknown as OrderBody;
    };
    const soldSeats = async (seatIds: string[]): Promise<number> =>
      Number((await db.query<{ n: number }>('select count(*)::int as n from sold_seats where show_id = $1 and seat_id = any($2)', [showId, seatIds])).rows[0]!.n);
    const ticketsOf = async (orderId: string): Promise<number> => Number((await db.query<{ n: number }>('select count(*)::int as n from tickets where order_id = $1', [orderId])).rows[0]!.n);
    const outboxCount = async (topic: string, orderId: string): Promise<number> =>
      Number((await db.query<{ n: number }>(`select count(*)::int as n from outbox where topic = $1 and payload->>'orderId' = $2`, [topic, orderId])).rows[0]!.n);

    beforeAll(async () => {
      db = await kind.open();
      await new ShowDefinitionStore(db).save(buildStadiumDefinition({ showId, sections: 2, rowsPerSection: 5, seatsPerRow: 10, floorCapacity: 50, policy: { maxActiveHoldsPerUser: 10, orphanSeatRule: false } }));
      await start();
    });
    afterAll(async () => {
      provider.close();
      await server.close();
      await db.close();
    });

    it('"Pay" mashed three times in 200 ms with one key: one charge, one order, one set of tickets, three identical replies', async () => {
      const fan = await session('masher');
      const order = await holdAndOrder(fan, ['101:1:1', '101:1:2']);
      const again = await call('POST', '/v1/orders', fan, { hold_id: (await call('GET', `/v1/orders/${order.order_id}`, fan)).body['hold_id'] });
      expect((again.body as unknown as OrderBody).order_id).toBe(order.order_id); // one order per hold, whatever the keys
      const key = randomUUID();
      const pay = () => call('POST', `/v1/payments/${order.payment.id}/confirm`, fan, { card_number: card.ok }, key);
      const replies = await Promise.all([pay(), new Promise((r) => setTimeout(r, 60)).then(pay), new Promise((r) => setTimeout(r, 150)).then(pay)]);
      expect(replies.map((reply) => reply.status)).toEqual([200, 200, 200]);
      expect(new Set(replies.map((reply) => reply.text)).size).toBe(1);
      expect(replies[0]!.body['status']).toBe('confirmed');
      expect(provider.captures(order.payment.id)).toBe(1);
      expect(await ticketsOf(order.order_id)).toBe(2);
      expect(await soldSeats(['101:1:1', '101:1:2'])).toBe(2);
      await provider.settled();
      expect(await outboxCount('OrderConfirmed', order.order_id)).toBe(1);
    });

    it('three different keys for the same payment: still one charge and one set of tickets', async () => {
      const fan = await session('three-keys');
      const order = await holdAndOrder(fan, ['101:2:1']);
      const replies = await Promise.all([1, 2, 3].map(() => call('POST', `/v1/payments/${order.payment.id}/confirm`, fan, { card_number: card.ok })));
      for (const reply of replies) expect(reply.body['status']).toBe('confirmed');
      expect(provider.captures(order.payment.id)).toBe(1);
      expect(await ticketsOf(order.order_id)).toBe(1);
    });

    it('a decline keeps the hold pinned for a retry with another card', async () => {
      const fan = await session('decliner');
      const order = await holdAndOrder(fan, ['101:3:1']);
      const declined = await call('POST', `/v1/payments/${order.payment.id}/confirm`, fan, { card_number: card.declined });
      expect(declined.body['status']).toBe('failed');
      expect(await soldSeats(['101:3:1'])).toBe(0);
      const paid = await call('POST', `/v1/payments/${order.payment.id}/confirm`, fan, { card_number: card.ok });
      expect(paid.body['status']).toBe('confirmed');
      await provider.settled();
      expect(await outboxCount('PaymentFailed', order.order_id)).toBe(1);
    });

    it('a webhook delivered five times in shuffled order changes state once', async () => {
      const fan = await session('webhooked');
      const order = await holdAndOrder(fan, ['101:4:1']);
      deliveries = [];
      const processing = await call('POST', `/v1/payments/${order.payment.id}/confirm`, fan, { card_number: card.slow });
      expect(processing.body['status']).toBe('processing');
      await provider.settled();
      const captured = deliveries.filter((delivery) => delivery.raw.toString().includes('captured'));
      expect(captured.length).toBeGreaterThanOrEqual(1);
      const replay = [...deliveries, ...captured, ...captured, ...captured, ...captured].sort(() => Math.random() - 0.5);
      const results = await Promise.all(replay.map((delivery) => orders.handleWebhook(delivery.raw, delivery.headers)));
      expect(results.every((result) => result.duplicate)).toBe(true);
      expect((await call('GET', `/v1/orders/${order.order_id}`, fan)).body['status']).toBe('confirmed');
      expect(await ticketsOf(order.order_id)).toBe(1);
      expect(await outboxCount('OrderConfirmed', order.order_id)).toBe(1);
      expect(provider.captures(order.payment.id)).toBe(1);
    });

    it('a capture arriving after the hold expired is refunded, never sold', async () => {
      const fan = await session('latecomer');
      const order = await holdAndOrder(fan, ['101:5:1']);
      const processing = await call('POST', `/v1/payments/${order.payment.id}/confirm`, fan, { card_number: card.slow });
      expect(processing.body['status']).toBe('processing');
      offset.ms = config.paymentWindowMs + 60_000; // the payment window passes before the capture lands
      try {
        await new Promise((resolve) => setTimeout(resolve, 50));
        await server.router.availability(showId); // lets the actor run its expiry
        await provider.settled();
        const final = await call('GET', `/v1/orders/${order.order_id}`, fan);
        expect(final.body['status']).toBe('refunded');
        expect(provider.captures(order.payment.id)).toBe(1);
        expect(provider.refunds(order.payment.id)).toHaveLength(1);
        const booked = await db.query<{ refund_id: string | null }>('select refund_id from payments where id = $1', [order.payment.id]);
        expect(booked.rows[0]!.refund_id).toBe(provider.refunds(order.payment.id)[0]!.refundId);
        expect(await soldSeats(['101:5:1'])).toBe(0);
        expect(await ticketsOf(order.order_id)).toBe(0);
        expect(await outboxCount('RefundIssued', order.order_id)).toBe(1);
      } finally {
        offset.ms = 0;
      }
    });

    // Found by the payments simulation (seed 266): a checkout retried after the pin was refused
    // created a payment for the expired order, the fan paid within the window, the capture's
    // settlement was cut short, and the money sat captured on an expired order.
    it('an expired order takes no payment: a retried checkout creates none and a confirm captures nothing', async () => {
      const fan = await session('expired-checkout');
      const hold = await call('POST', `/v1/shows/${showId}/holds`, fan, { seat_ids: ['101:4:6'] });
      expect(hold.status).toBe(201);
      offset.ms = 16 * 60_000; // past any hold TTL
      let orderId: string;
      try {
        await server.router.availability(showId); // lets the actor run its expiry
        const first = await call('POST', '/v1/orders', fan, { hold_id: hold.body['hold_id'] });
        const retried = await call('POST', '/v1/orders', fan, { hold_id: hold.body['hold_id'] });
        expect([first.status, first.body['code'], retried.status, retried.body['code']]).toEqual([410, 'hold_expired', 410, 'hold_expired']);
        const rows = await db.query<{ id: string; status: string; payments: number }>(
          `select o.id, o.status, (select count(*)::int from payments p where p.order_id = o.id) as payments from orders o where o.hold_id = $1`, [hold.body['hold_id']]);
        expect(rows.rows.map((row) => [row.status, row.payments])).toEqual([['expired', 0]]);
        orderId = rows.rows[0]!.id;
      } finally {
        offset.ms = 0;
      }

      // An order that had its payment when it expired (inside the window): paying now captures nothing.
      const order = await holdAndOrder(fan, ['101:4:8']);
      await db.query(`update orders set status = 'expired' where id = $1`, [order.order_id]);
      const paid = await call('POST', `/v1/payments/${order.payment.id}/confirm`, fan, { card_number: card.ok });
      expect([paid.status, paid.body['code']]).toEqual([410, 'hold_expired']);
      expect(provider.captures(order.payment.id)).toBe(0);
      expect(orderId).toMatch(/^ord_/);
    });

    it('a crash between capture and confirmation ends in sold + tickets or a refund, never both, never neither', async () => {
      const fan = await session('crashed');
      const order = await holdAndOrder(fan, ['302:1:1']);
      // The PSP captures (card with no webhook) but the server never hears back: it "crashed".
      await provider.confirmPayment({ paymentId: order.payment.id, paymentMethod: card.lostWebhook, idempotencyKey: 'crash-test' });
      await server.close();
      await start();
      const result = await orders.reconcile(0, 100);
      expect(result.settled).toBeGreaterThanOrEqual(1);
      const final = await call('GET', `/v1/orders/${order.order_id}`, fan);
      const sold = await soldSeats(['302:1:1']);
      const issued = await ticketsOf(order.order_id);
      const refunds = provider.refunds(order.payment.id).length;
      expect(final.body['status']).toBe('confirmed');
      expect([sold, issued, refunds]).toEqual([1, 1, 0]);
    });

    it('a reply lost after the capture is recovered by retrying with the same key', async () => {
      const fan = await session('lost-reply');
      const order = await holdAndOrder(fan, ['302:2:1']);
      const key = randomUUID();
      const first = await call('POST', `/v1/payments/${order.payment.id}/confirm`, fan, { card_number: card.lostReply }, key);
      expect(first.status).toBe(503);
      expect(first.body['code']).toBe('payment_provider_unavailable');
      const retry = await call('POST', `/v1/payments/${order.payment.id}/confirm`, fan, { card_number: card.lostReply }, key);
      expect(retry.body['status']).toBe('confirmed');
      expect(provider.captures(order.payment.id)).toBe(1);
    });

    it('issues tickets with QR codes; the first scan is valid, the next already used, a forged one refused', async () => {
      const fan = await session('scanner-fan');
      const order = await holdAndOrder(fan, ['302:3:1']);
      const paid = await call('POST', `/v1/payments/${order.payment.id}/confirm`, fan, { card_number: card.ok });
      const ticket = (paid.body['order'] as OrderBody).tickets[0]!;
      expect(ticket.seat_id).toBe('302:3:1');
      const png = await fetch(`${server.url}/v1/tickets/${ticket.ticket_id}/qr.png`, { headers: { authorization: `Bearer ${fan}` } });
      expect(png.headers.get('content-type')).toBe('image/png');
      expect(Buffer.from(await png.arrayBuffer()).subarray(1, 4).toString()).toBe('PNG');
      const svg = await fetch(`${server.url}/v1/tickets/${ticket.ticket_id}/qr.svg`, { headers: { authorization: `Bearer ${fan}` } });
      expect(await svg.text()).toContain('<svg');
      const other = await session('not-the-holder');
      expect((await call('GET', `/v1/tickets/${ticket.ticket_id}`, other)).status).toBe(404);
      const scan = (token: string) => call('POST', '/v1/tickets/verify', config.adminToken, { token }, null);
      expect((await scan(ticket.token)).body).toMatchObject({ result: 'valid', seat_id: '302:3:1' });
      expect((await scan(ticket.token)).body).toMatchObject({ code: 'ticket_already_used' });
      expect((await scan(`${ticket.token.slice(0, -3)}abc`)).body).toMatchObject({ code: 'ticket_invalid' });
      const history = await call('GET', '/v1/me/orders', fan);
      expect((history.body['items'] as OrderBody[]).map((item) => item.order_id)).toContain(order.order_id);
    });

    it('transfers a ticket: the new holder gets a new token, the old token stops verifying, the history keeps both', async () => {
      const giver = await session('ticket-giver');
      const order = await holdAndOrder(giver, ['302:4:1']);
      const paid = await call('POST', `/v1/payments/${order.payment.id}/confirm`, giver, { card_number: card.ok });
      const ticket = (paid.body['order'] as OrderBody).tickets[0]!;
      expect((await call('POST', `/v1/tickets/${ticket.ticket_id}/transfer`, giver, { to_user_id: 'ticket-giver' })).body).toMatchObject({ code: 'validation_failed' });
      const transferred = await call('POST', `/v1/tickets/${ticket.ticket_id}/transfer`, giver, { to_user_id: 'ticket-taker' });
      expect(transferred.body).toMatchObject({ holder_user_id: 'ticket-taker', history: [{ from_user_id: 'ticket-giver', to_user_id: 'ticket-taker' }] });
      expect((await call('GET', `/v1/tickets/${ticket.ticket_id}`, giver)).status).toBe(404);
      const taker = await session('ticket-taker');
      const theirs = (await call('GET', `/v1/tickets/${ticket.ticket_id}`, taker)).body as unknown as OrderBody['tickets'][number];
      expect(theirs.token).not.toBe(ticket.token);
      const scan = (token: string) => call('POST', '/v1/tickets/verify', config.adminToken, { token }, null);
      expect((await scan(ticket.token)).body).toMatchObject({ code: 'ticket_invalid' });
      expect((await scan(theirs.token)).body).toMatchObject({ result: 'valid' });
      expect((await call('POST', `/v1/tickets/${ticket.ticket_id}/transfer`, taker, { to_user_id: 'someone-else' })).body).toMatchObject({ code: 'ticket_invalid' });
    });
  });
}
