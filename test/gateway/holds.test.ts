import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HoldResponse } from '../../src/protocol/hold-schemas.js';
import type { Ack, SeatMapDiffMessage, SeatMapSnapshotMessage } from '../../src/protocol/socket-events.js';
import type { Problem } from '../../src/protocol/api-error.js';
import { ShowDefinitionStore } from '../../src/persistence/show-definitions.js';
import { buildStadiumDefinition } from '../../src/seed/stadium.js';
import { databaseKinds } from '../support/databases.js';
import { startTestServer, type TestServer, type TestSocket } from '../support/server.js';

const showId = 'shw-gateway-test';
const shortShowId = 'shw-gateway-short';

function watch(socket: TestSocket, id: string): Promise<SeatMapSnapshotMessage> {
  return new Promise((resolve, reject) => {
    socket.emit('show:watch', { show_id: id }, (ack: Ack<SeatMapSnapshotMessage>) => (ack.ok ? resolve(ack.data) : reject(new Error(ack.error.code))));
  });
}

function nextDiff(socket: TestSocket, predicate: (diff: SeatMapDiffMessage) => boolean, timeoutMs = 3_000): Promise<SeatMapDiffMessage> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no matching diff')), timeoutMs);
    const listener = (diff: SeatMapDiffMessage): void => {
      if (!predicate(diff)) return;
      clearTimeout(timer);
      socket.off('seatmap:diff', listener);
      resolve(diff);
    };
    socket.on('seatmap:diff', listener);
  });
}

for (const kind of databaseKinds) {
  describe.skipIf(!kind.available)(`gateway holds over HTTP and sockets (${kind.name})`, () => {
    let t: TestServer;
    let alice: string;
    let bob: string;
    const hold = (token: string, body: unknown, key: string | null = randomUUID(), id = showId) =>
      t.request('POST', `/v1/shows/${id}/holds`, { token, body, headers: key === null ? {} : { 'idempotency-key': key } });
    const seatStatusNow = async (id = showId): Promise<number[]> => {
      const socket = await t.socket();
      const snapshot = await watch(socket, id);
      socket.disconnect();
      return Array.from(snapshot.seat_status);
    };

    beforeAll(async () => {
      t = await startTestServer(kind, { RATE_LIMIT_USER_PER_S: '1000', DIFF_TICK_MS: '20' }, {
        beforeListen: async (db) => {
          const store = new ShowDefinitionStore(db);
          await store.save(buildStadiumDefinition({ showId, sections: 2, rowsPerSection: 4, seatsPerRow: 10, floorCapacity: 30, policy: { maxActiveHoldsPerUser: 10, orphanSeatRule: false } }));
          await store.save(buildStadiumDefinition({ showId: shortShowId, sections: 1, rowsPerSection: 2, seatsPerRow: 5, floorCapacity: 0, policy: { holdTtlMs: 400 } }));
        },
      });
      alice = await t.session('alice');
      bob = await t.session('bob');
    });
    afterAll(async () => t.close());

    it('places a hold and answers a retry with the same status and body', async () => {
      const key = randomUUID();
      const first = await hold(alice, { seat_ids: ['101:1:1', '101:1:2'] }, key);
      expect(first.status).toBe(201);
      const body = first.body as HoldResponse;
      expect(body).toMatchObject({ show_id: showId, user_id: 'alice', status: 'held', seat_ids: ['101:1:1', '101:1:2'], currency: 'USD', total_cents: 50_000 });
      expect(body.hold_id.startsWith(`${showId}.h`)).toBe(true);
      expect(body.expires_at_ms).toBeGreaterThan(body.server_time_ms);
      const retries = await Promise.all([hold(alice, { seat_ids: ['101:1:1', '101:1:2'] }, key), hold(alice, { seat_ids: ['101:1:1', '101:1:2'] }, key)]);
      for (const retry of retries) {
        expect(retry.status).toBe(201);
        expect(retry.text).toBe(first.text);
      }
      const reused = await hold(alice, { seat_ids: ['101:1:3'] }, key);
      expect(reused.status).toBe(422);
      expect(reused.headers.get('content-type')).toBe('application/problem+json');
      expect(reused.body).toMatchObject({ code: 'idempotency_key_reused', status: 422 });
      const seats = await seatStatusNow();
      expect(seats.slice(0, 3)).toEqual([1, 1, 0]);
    });

    it('names the seats lost in a 409 seat_unavailable, and holds all or nothing', async () => {
      const taken = await hold(alice, { seat_ids: ['101:2:1'] });
      expect(taken.status).toBe(201);
      const lost = await hold(bob, { seat_ids: ['101:2:2', '101:2:1'] });
      expect(lost.status).toBe(409);
      expect(lost.body).toMatchObject({ code: 'seat_unavailable', seats: ['101:2:1'] });
      expect((await seatStatusNow())[11]).toBe(0);
    });

    it('answers every error code with a problem document', async () => {
      const cases: [Promise<{ status: number; body: unknown }>, number, string][] = [
        [hold(alice, { seat_ids: ['101:1:9'] }, null), 400, 'idempotency_key_missing'],
        [t.request('POST', `/v1/shows/${showId}/holds`, { body: { seat_ids: ['101:1:9'] }, headers: { 'idempotency-key': randomUUID() } }), 401, 'unauthorized'],
        [t.request('POST', `/v1/shows/${showId}/holds`, { token: 'ses.forged.token', body: { seat_ids: ['101:1:9'] }, headers: { 'idempotency-key': randomUUID() } }), 401, 'unauthorized'],
        [hold(t.adminToken, { seat_ids: ['101:1:9'] }), 403, 'forbidden'],
        [hold(alice, { seat_ids: ['101:1:9'] }, randomUUID(), 'shw-missing'), 404, 'not_found'],
        [hold(alice, { seat_ids: ['999:1:1'] }), 422, 'unknown_seat'],
        [hold(alice, { ga: [{ section_id: 'nope', quantity: 1 }] }), 422, 'unknown_pool'],
        [hold(alice, { ga: [{ section_id: 'floor', quantity: 51 }] }), 400, 'validation_failed'],
        [hold(alice, { best_available: { quantity: 9 } }), 422, 'hold_too_large'],
        [hold(alice, { seat_ids: [] }), 400, 'validation_failed'],
        [hold(alice, { seat_ids: ['101:1:9'], extra: true }), 400, 'validation_failed'],
        [hold(alice, { seat_ids: 'not-a-list' }), 400, 'validation_failed'],
        [t.request('POST', `/v1/shows/${showId}/holds`, { token: alice, rawBody: '{"seat_ids": [', headers: { 'content-type': 'application/json', 'idempotency-key': randomUUID() } }), 400, 'validation_failed'],
        [t.request('POST', `/v1/shows/${showId}/holds`, { token: alice, rawBody: 'x'.repeat(70_000), headers: { 'content-type': 'application/json', 'idempotency-key': randomUUID() } }), 413, 'payload_too_large'],
        [t.request('GET', `/v1/holds/not-a-hold`, { token: alice }), 400, 'validation_failed'],
        [t.request('GET', `/v1/holds/${showId}.hAAAAAAAAAAAAAAAAAAAA`, { token: alice }), 404, 'hold_not_found'],
      ];
      const before = await seatStatusNow();
      for (const [pending, status, code] of cases) {
        const response = await pending;
        expect({ status: response.status, code: (response.body as Problem).code }).toEqual({ status, code });
        expect(response.body).toMatchObject({ type: expect.stringContaining(code), title: expect.any(String), detail: expect.any(String) });
      }
      expect(await seatStatusNow()).toEqual(before);
    });

    it('lets a fan read, extend and release only their own holds', async () => {
      const placed = (await hold(alice, { ga: [{ section_id: 'floor', quantity: 2 }] })).body as HoldResponse;
      expect((await t.request('GET', `/v1/holds/${placed.hold_id}`, { token: bob })).status).toBe(404);
      expect((await t.request('DELETE', `/v1/holds/${placed.hold_id}`, { token: bob })).body).toMatchObject({ code: 'forbidden' });
      const mine = await t.request('GET', `/v1/holds/${placed.hold_id}`, { token: alice });
      expect(mine.body).toMatchObject({ hold_id: placed.hold_id, ga: [{ section_id: 'floor', quantity: 2 }] });
      const extended = await t.request('POST', `/v1/holds/${placed.hold_id}/extend`, { token: alice, headers: { 'idempotency-key': randomUUID() } });
      expect(extended.status).toBe(200);
      expect((extended.body as HoldResponse).expires_at_ms).toBeGreaterThan(placed.expires_at_ms);
      const again = await t.request('POST', `/v1/holds/${placed.hold_id}/extend`, { token: alice, headers: { 'idempotency-key': randomUUID() } });
      expect(again.body).toMatchObject({ code: 'extension_limit_reached' });
      const released = await t.request('DELETE', `/v1/holds/${placed.hold_id}`, { token: alice });
      expect(released.status).toBe(200);
      const releasedAgain = await t.request('DELETE', `/v1/holds/${placed.hold_id}`, { token: alice });
      expect(releasedAgain.text).toBe(released.text);
    });

    it('shows a hold to a second watcher as a diff, and its expiry as another', async () => {
      const watcher = await t.socket();
      const snapshot = await watch(watcher, shortShowId);
      expect(snapshot.seat_status).toHaveLength(10);
      const heldDiff = nextDiff(watcher, (diff) => diff.seats.some(([seat, status]) => seat === 0 && status === 1));
      const fan = await t.socket(bob);
      const ack = await new Promise<Ack<HoldResponse>>((resolve) => fan.emit('hold', { show_id: shortShowId, idempotency_key: randomUUID(), seat_ids: ['101:1:1'] }, resolve));
      expect(ack).toMatchObject({ ok: true, data: { seat_ids: ['101:1:1'], status: 'held' } });
      const held = await heldDiff;
      expect(held.from_version).toBeGreaterThanOrEqual(snapshot.version);
      const expired = await nextDiff(watcher, (diff) => diff.seats.some(([seat, status]) => seat === 0 && status === 0));
      expect(expired.from_version).toBe(held.to_version);
    });

    it('acks bad socket input with a problem and changes nothing', async () => {
      const fan = await t.socket(bob);
      const before = await seatStatusNow();
      const bad: unknown[] = [undefined, null, 42, 'x', [], { show_id: showId }, { show_id: showId, idempotency_key: 'short', seat_ids: ['101:3:1'] }, { show_id: '../etc', idempotency_key: randomUUID(), seat_ids: ['101:3:1'] }, { show_id: showId, idempotency_key: randomUUID(), seat_ids: [{ $ne: 1 }] }];
      for (const payload of bad) {
        const ack = await new Promise<Ack<HoldResponse>>((resolve) => fan.emit('hold', payload as never, resolve));
        expect(ack.ok).toBe(false);
        if (!ack.ok) expect(ack.error.status).toBeGreaterThanOrEqual(400);
      }
      const anonymous = await t.socket();
      const refused = await new Promise<Ack<HoldResponse>>((resolve) => anonymous.emit('hold', { show_id: showId, idempotency_key: randomUUID(), seat_ids: ['101:3:1'] }, resolve));
      expect(refused).toMatchObject({ ok: false, error: { code: 'unauthorized' } });
      expect(await seatStatusNow()).toEqual(before);
    });
  });
}
