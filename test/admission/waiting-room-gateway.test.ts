import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { solveProofOfWork } from '../../src/admission/proof-of-work.js';
import { CatalogService } from '../../src/catalog/catalog-service.js';
import type { Ack, QueueAdmittedMessage, QueueServingMessage, QueueStatusMessage } from '../../src/protocol/socket-events.js';
import type { HoldResponse } from '../../src/protocol/hold-schemas.js';
import { databaseKinds } from '../support/databases.js';
import { startTestServer, type TestServer, type TestSocket } from '../support/server.js';

const clockOffset = { ms: 0 };
const clock = { nowMs: () => Date.now() + clockOffset.ms };

async function createRoomShow(catalog: CatalogService, waitingRoom: Record<string, unknown>, onSaleAtMs: number): Promise<string> {
  const venue = await catalog.createVenue({
    name: 'Queue Hall', city: 'Lineville', kind: 'arena',
    seat_map: { sections: [{ id: 'A', name: 'A', rows: [{ label: '1', seats: Array.from({ length: 10 }, (_, seat) => ({ label: String(seat + 1), x: seat, y: 0, tier: 'std' })) }] }], ga_areas: [] },
  });
  const event = await catalog.createEvent({ name: 'Queue Night', performer: 'The Waiters', category: 'concert', venue_id: venue.id });
  const show = await catalog.createShow(event.id, {
    starts_at: new Date(onSaleAtMs + 30 * 86_400_000).toISOString(), on_sale_at: new Date(onSaleAtMs).toISOString(),
    price_tiers: [{ id: 'std', name: 'Standard', price_cents: 1_000 }], waiting_room: { enabled: true, ...waitingRoom },
  } as never);
  return show.id;
}

for (const kind of databaseKinds) {
  describe.skipIf(!kind.available)(`waiting room over HTTP and sockets (${kind.name})`, () => {
    let t: TestServer;
    let showId = '';
    let powShowId = '';
    let alice = '';
    let bob = '';
    const hold = (token: string, admission?: string) =>
      t.request('POST', `/v1/shows/${showId}/holds`, { token, body: { best_available: { quantity: 1 } }, headers: { 'idempotency-key': randomUUID(), ...(admission ? { 'admission-token': admission } : {}) } });

    beforeAll(async () => {
      t = await startTestServer(kind, { QUEUE_TICK_MS: '100', RATE_LIMIT_USER_PER_S: '1000' }, {
        clock,
        beforeListen: async (db) => {
          const catalog = new CatalogService(db, { clock });
          showId = await createRoomShow(catalog, { admission_rate_per_s: 5, admission_ttl_s: 60 }, Date.now() - 60_000);
          powShowId = await createRoomShow(catalog, { admission_rate_per_s: 5, pow_difficulty: 8 }, Date.now() - 60_000);
        },
      });
      alice = await t.session('alice');
      bob = await t.session('bob');
    });
    afterAll(async () => t.close());

    it('refuses holds without a valid admission token of the same fan, accepts them with one', async () => {
      expect((await hold(alice)).body).toMatchObject({ status: 403, code: 'admission_required' });
      expect((await hold(alice, 'adm.forged.token')).body).toMatchObject({ code: 'admission_required' });
      const joined = (await t.request('POST', `/v1/shows/${showId}/queue`, { token: alice, body: {} })).body as QueueStatusMessage;
      expect(joined.phase).not.toBe('pre_queue');
      let status = joined;
      for (let attempt = 0; attempt < 50 && status.phase !== 'admitted'; attempt += 1) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        status = (await t.request('GET', `/v1/queue/${joined.ticket}`, { token: alice })).body as QueueStatusMessage;
      }
      expect(status.phase).toBe('admitted');
      const token = status.admission_token!;
      expect((await hold(bob, token)).body).toMatchObject({ code: 'admission_required' }); // another fan's token
      expect((await t.request('GET', `/v1/queue/${joined.ticket}`, { token: bob })).body).toMatchObject({ code: 'forbidden' });
      const held = await hold(alice, token);
      expect(held.status).toBe(201);
      expect((await hold(alice, token)).status).toBe(201); // reusable by its owner within its TTL
      clockOffset.ms = 61_000;
      try {
        expect((await hold(alice, token)).body).toMatchObject({ code: 'admission_required' }); // expired
      } finally {
        clockOffset.ms = 0;
      }
      const rejoin = (await t.request('POST', `/v1/shows/${showId}/queue`, { token: alice, body: {} })).body as QueueStatusMessage;
      expect(rejoin.number).toBe(joined.number);
    });

    it('pushes serving counters that move positions down, then the admission token, over the socket', async () => {
      const fans = await Promise.all(['fan-q1', 'fan-q2', 'fan-q3', 'fan-q4', 'fan-q5', 'fan-q6'].map((user) => t.session(user)));
      // Pause admission first so the queue builds up.
      await t.request('POST', `/v1/ops/shows/${showId}/queue`, { token: t.adminToken, body: { paused: true } });
      const sockets: TestSocket[] = await Promise.all(fans.map((token) => t.socket(token)));
      const joins = await Promise.all(sockets.map((socket) => new Promise<Ack<QueueStatusMessage>>((resolve) => socket.emit('queue:join', { show_id: showId }, resolve))));
      const last = joins.at(-1)!;
      expect(last, JSON.stringify(last)).toMatchObject({ ok: true });
      if (!last.ok) return;
      const servingSeen: number[] = [];
      sockets.at(-1)!.on('queue:serving', (message: QueueServingMessage) => servingSeen.push(message.serving));
      await new Promise((resolve) => setTimeout(resolve, 400));
      expect(new Set(servingSeen).size).toBe(1); // paused: the counter does not move
      const stats = (await t.request('GET', `/v1/ops/shows/${showId}/queue`, { token: t.adminToken })).body as { paused: boolean; queue_length: number };
      expect(stats).toMatchObject({ paused: true });
      expect(stats.queue_length).toBeGreaterThanOrEqual(6);
      const admitted = new Promise<QueueAdmittedMessage>((resolve) => sockets.at(-1)!.once('queue:admitted', resolve));
      await t.request('POST', `/v1/ops/shows/${showId}/queue`, { token: t.adminToken, body: { paused: false, rate_per_s: 20 } });
      const message = await admitted;
      expect(message.show_id).toBe(showId);
      const positions = servingSeen.map((serving) => Math.max(0, last.data.number! - serving + 1));
      for (let index = 1; index < positions.length; index += 1) expect(positions[index]!).toBeLessThanOrEqual(positions[index - 1]!);
      expect(positions.at(-1)!).toBeLessThan(positions[0]!);
      const heldOverSocket = await new Promise<Ack<HoldResponse>>((resolve) =>
        sockets.at(-1)!.emit('hold', { show_id: showId, idempotency_key: randomUUID(), best_available: { quantity: 1 }, admission_token: message.admission_token }, resolve));
      expect(heldOverSocket.ok).toBe(true);
      // Admitted, the socket has left the waiting room: the serving broadcasts (every 100 ms here) stop.
      const seenWhenAdmitted = servingSeen.length;
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(servingSeen.length).toBe(seenWhenAdmitted);
    });

    it('asks for proof of work when the show sets a difficulty', async () => {
      const refused = await t.request('POST', `/v1/shows/${powShowId}/queue`, { token: alice, body: {} });
      expect(refused.body).toMatchObject({ code: 'proof_of_work_required' });
      const { challenge, difficulty } = (await t.request('GET', `/v1/shows/${powShowId}/queue/challenge`, { token: alice })).body as { challenge: string; difficulty: number };
      expect(difficulty).toBe(8);
      expect((await t.request('POST', `/v1/shows/${powShowId}/queue`, { token: bob, body: { pow_challenge: challenge, pow_nonce: solveProofOfWork(challenge, 8)! } })).body).toMatchObject({ code: 'proof_of_work_required' });
      const joined = await t.request('POST', `/v1/shows/${powShowId}/queue`, { token: alice, body: { pow_challenge: challenge, pow_nonce: solveProofOfWork(challenge, 8)! } });
      expect(joined.status).toBe(201);
    });
  });
}
