import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CatalogService } from '../../src/catalog/catalog-service.js';
import { ShowDefinitionStore } from '../../src/persistence/show-definitions.js';
import { buildStadiumDefinition } from '../../src/seed/stadium.js';
import type { HoldResponse } from '../../src/protocol/hold-schemas.js';
import type { Ack, QueueStatusMessage, ShowStatusMessage, WaitlistOfferMessage } from '../../src/protocol/socket-events.js';
import { databaseKinds } from '../support/databases.js';
import { startTestServer, type TestServer } from '../support/server.js';

/** A four-seat show (short holds) so a test can sell it out and watch seats come back. */
async function tinyShow(catalog: CatalogService, waitingRoom: boolean): Promise<string> {
  const venue = await catalog.createVenue({
    name: 'Tiny Room', city: 'Smallville', kind: 'arena',
    seat_map: { sections: [{ id: 'A', name: 'A', rows: [{ label: '1', seats: [1, 2, 3, 4].map((seat) => ({ label: String(seat), x: seat, y: 0, tier: 'std' })) }] }], ga_areas: [] },
  });
  const event = await catalog.createEvent({ name: 'Tiny Gig', performer: 'Duo', category: 'concert', venue_id: venue.id });
  const show = await catalog.createShow(event.id, {
    starts_at: new Date(Date.now() + 30 * 86_400_000).toISOString(), on_sale_at: new Date(Date.now() - 60_000).toISOString(),
    hold_ttl_s: 60, max_holds_per_user: 4, price_tiers: [{ id: 'std', name: 'Standard', price_cents: 2_500 }],
    ...(waitingRoom ? { waiting_room: { enabled: true, admission_rate_per_s: 100 } } : {}),
  } as never);
  return show.id;
}

for (const kind of databaseKinds) {
  describe.skipIf(!kind.available)(`waitlist and sold-out, live (${kind.name})`, () => {
    let t: TestServer;
    const showId = 'shw-waitlist-live';
    let roomShowId = '';
    const clock = { nowMs: () => Date.now() };

    beforeAll(async () => {
      t = await startTestServer(kind, { RATE_LIMIT_USER_PER_S: '1000', QUEUE_TICK_MS: '100' }, {
        clock,
        beforeListen: async (db) => {
          const catalog = new CatalogService(db, { clock });
          roomShowId = await tinyShow(catalog, true);
          // Holds of this show last half a second, so its hold timer (not a test hook) ends them.
          await new ShowDefinitionStore(db).save(buildStadiumDefinition({ showId, sections: 1, rowsPerSection: 1, seatsPerRow: 4, floorCapacity: 0, policy: { holdTtlMs: 500, maxActiveHoldsPerUser: 4 } }));
        },
      });
    });
    afterAll(async () => t.close());

    it('a waitlisted fan is offered the seats within a second of a hold expiring, and can buy them', async () => {
      const buyer = await t.session('early-buyer');
      const held = await t.request('POST', `/v1/shows/${showId}/holds`, { token: buyer, body: { seat_ids: ['101:1:1', '101:1:2', '101:1:3', '101:1:4'] }, headers: { 'idempotency-key': randomUUID() } });
      expect(held.status).toBe(201);
      const fan = await t.session('waiting-fan');
      const socket = await t.socket(fan);
      const joined = await new Promise<Ack<unknown>>((resolve) => socket.emit('waitlist:join', { show_id: showId, idempotency_key: randomUUID(), party_size: 2 }, resolve));
      expect(joined).toMatchObject({ ok: true, data: { party_size: 2, position: 1 } });
      const offered = new Promise<{ offer: WaitlistOfferMessage; atMs: number }>((resolve) => socket.once('waitlist:offer', (offer) => resolve({ offer, atMs: Date.now() })));
      // The buyer's hold expires by itself; the actor's one hold timer frees the seats and offers them.
      const expiredAtMs = (held.body as HoldResponse).expires_at_ms;
      const { offer, atMs } = await offered;
      expect(atMs - expiredAtMs).toBeLessThan(1_000);
      expect(offer.seat_ids).toHaveLength(2);
      const hold = await t.request('GET', `/v1/holds/${offer.hold_id}`, { token: fan });
      expect(hold.body).toMatchObject({ status: 'held', seat_ids: offer.seat_ids } satisfies Partial<HoldResponse>);
      const order = await t.request('POST', '/v1/orders', { token: fan, body: { hold_id: offer.hold_id }, headers: { 'idempotency-key': randomUUID() } });
      expect(order.status).toBe(201);
      const paid = await t.request('POST', `/v1/payments/${(order.body as { payment: { id: string } }).payment.id}/confirm`, { token: fan, body: { card_number: '4242424242424242' }, headers: { 'idempotency-key': randomUUID() } });
      expect(paid.body).toMatchObject({ status: 'confirmed' });
    });

    it('a queued fan learns of the sell-out within a second, and admission stops until seats come back', async () => {
      const fan = await t.session('queued-fan');
      const socket = await t.socket(fan);
      const joined = await new Promise<Ack<QueueStatusMessage>>((resolve) => socket.emit('queue:join', { show_id: roomShowId }, resolve));
      expect(joined.ok).toBe(true);
      const soldOut = new Promise<{ status: ShowStatusMessage; atMs: number }>((resolve) => socket.on('show:status', (status) => status.sold_out && resolve({ status, atMs: Date.now() })));
      // Another admitted fan buys out the show.
      const buyer = await t.session('room-buyer');
      const queue = (await t.request('POST', `/v1/shows/${roomShowId}/queue`, { token: buyer, body: {} })).body as QueueStatusMessage;
      let status = queue;
      for (let attempt = 0; attempt < 50 && status.phase !== 'admitted'; attempt += 1) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        status = (await t.request('GET', `/v1/queue/${queue.ticket}`, { token: buyer })).body as QueueStatusMessage;
      }
      const heldAtMs = Date.now();
      const held = await t.request('POST', `/v1/shows/${roomShowId}/holds`, { token: buyer, body: { seat_ids: ['A:1:1', 'A:1:2', 'A:1:3', 'A:1:4'] }, headers: { 'idempotency-key': randomUUID(), 'admission-token': status.admission_token! } });
      expect(held.status).toBe(201);
      const news = await soldOut;
      expect(news.atMs - heldAtMs).toBeLessThan(1_000);
      expect(news.status).toMatchObject({ show_id: roomShowId, sold_out: true, tiers_sold_out: ['std'], items_available: 0 });
      const stats = (await t.request('GET', `/v1/ops/shows/${roomShowId}/queue`, { token: t.adminToken })).body as { serving: number };
      await new Promise((resolve) => setTimeout(resolve, 400));
      const later = (await t.request('GET', `/v1/ops/shows/${roomShowId}/queue`, { token: t.adminToken })).body as { serving: number };
      expect(later.serving).toBe(stats.serving);
      const back = new Promise<ShowStatusMessage>((resolve) => socket.on('show:status', (message) => !message.sold_out && resolve(message)));
      await t.request('DELETE', `/v1/holds/${(held.body as HoldResponse).hold_id}`, { token: buyer });
      expect(await back).toMatchObject({ sold_out: false, items_available: 4 });
    });
  });
}
