/**
 * Another fan's things and stolen or stale credentials. Mallory, signed in, names alice's hold,
 * order, payment and ticket in every call that takes them (REST and socket); alice's expired,
 * re-signed and truncated tokens, the admin token where a fan is expected and a fan's where the
 * admin is. Each is refused with the documented 4xx; alice's hold, order and ticket are intact.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HoldResponse } from '../../src/protocol/hold-schemas.js';
import { emitAck } from '../gateway/gateway-helpers.js';
import { databaseKinds } from '../support/databases.js';
import { FigureCounter, recordFigures } from './support/figures.js';
import { secretsInLog, startHostileWorld, type HostileWorld } from './support/hostile-world.js';

const figures = new FigureCounter();
afterAll(() => recordFigures('hostile-identity', figures.snapshot()));

interface Attempt {
  name: string;
  method: string;
  path: string;
  token?: string;
  body?: unknown;
  status: number;
  code: string;
}

for (const kind of databaseKinds) {
  describe.skipIf(!kind.available)(`another fan's ids and stale tokens are refused (${kind.name})`, () => {
    let world: HostileWorld;
    let baseline: Record<string, unknown> = {};

    beforeAll(async () => {
      world = await startHostileWorld(kind);
      baseline = await world.audit();
    });
    afterAll(async () => world?.t.close());

    const attempt = async ({ method, path, token, body }: Attempt) => {
      const reply = await world.t.request(method, path, { ...(token ? { token } : {}), ...(body !== undefined ? { body } : {}), headers: { 'idempotency-key': randomUUID() } });
      figures.add('identity_bad_inputs_tried');
      if (reply.status >= 400 && reply.status < 500) figures.add('identity_4xx_answered');
      if (reply.status >= 500) figures.add('identity_5xx_answered');
      return { status: reply.status, code: (reply.body as { code?: string }).code, detail: (reply.body as { detail?: string }).detail, type: reply.headers.get("content-type") };
    };

    it("refuses mallory every use of alice's hold, order, payment and ticket over REST", async () => {
      const { alice, mallory } = world;
      const as = mallory.token;
      const attempts: Attempt[] = [
        { name: 'read hold', method: 'GET', path: `/v1/holds/${alice.holdId}`, token: as, status: 404, code: 'hold_not_found' },
        { name: 'release hold', method: 'DELETE', path: `/v1/holds/${alice.holdId}`, token: as, status: 403, code: 'forbidden' },
        { name: 'extend hold', method: 'POST', path: `/v1/holds/${alice.holdId}/extend`, token: as, body: {}, status: 403, code: 'forbidden' },
        { name: 'order on her hold', method: 'POST', path: '/v1/orders', token: as, body: { hold_id: alice.holdId }, status: 403, code: 'forbidden' },
        { name: 'order on her sold hold', method: 'POST', path: '/v1/orders', token: as, body: { hold_id: alice.soldHoldId }, status: 403, code: 'forbidden' },
        { name: 'read order', method: 'GET', path: `/v1/orders/${alice.orderId}`, token: as, status: 404, code: 'not_found' },
        { name: 'pay her payment', method: 'POST', path: `/v1/payments/${alice.paymentId}/confirm`, token: as, body: { card_number: '4242424242424242' }, status: 403, code: 'forbidden' },
        { name: 'read ticket', method: 'GET', path: `/v1/tickets/${alice.ticketId}`, token: as, status: 404, code: 'not_found' },
        { name: 'ticket QR png', method: 'GET', path: `/v1/tickets/${alice.ticketId}/qr.png`, token: as, status: 404, code: 'not_found' },
        { name: 'ticket QR svg', method: 'GET', path: `/v1/tickets/${alice.ticketId}/qr.svg`, token: as, status: 404, code: 'not_found' },
        { name: 'transfer her ticket to a friend', method: 'POST', path: `/v1/tickets/${alice.ticketId}/transfer`, token: as, body: { to_user_id: 'eve-chaos' }, status: 404, code: 'not_found' },
        // Ownership is checked before the "not to yourself" rule: the same answer as an unknown ticket.
        { name: 'transfer her ticket to herself', method: 'POST', path: `/v1/tickets/${alice.ticketId}/transfer`, token: as, body: { to_user_id: mallory.userId }, status: 404, code: 'not_found' },
        { name: 'check in her ticket (fan token)', method: 'POST', path: '/v1/tickets/verify', token: as, body: { token: alice.ticketToken }, status: 403, code: 'forbidden' },
        { name: 'leave a waitlist she is not on', method: 'DELETE', path: `/v1/shows/${world.showId}/waitlist`, token: as, status: 404, code: 'not_found' },
      ];
      const tokenAttempts: Attempt[] = Object.entries(world.badTokens).flatMap(([name, token]): Attempt[] => [
        { name: `${name} token reads her hold`, method: 'GET', path: `/v1/holds/${alice.holdId}`, token, status: 401, code: 'unauthorized' },
        { name: `${name} token releases her hold`, method: 'DELETE', path: `/v1/holds/${alice.holdId}`, token, status: 401, code: 'unauthorized' },
        { name: `${name} token reads her order`, method: 'GET', path: `/v1/orders/${alice.orderId}`, token, status: 401, code: 'unauthorized' },
        { name: `${name} token transfers her ticket`, method: 'POST', path: `/v1/tickets/${alice.ticketId}/transfer`, token, body: { to_user_id: mallory.userId }, status: 401, code: 'unauthorized' },
        { name: `${name} token as admin`, method: 'POST', path: '/v1/tickets/verify', token, body: { token: alice.ticketToken }, status: 401, code: 'unauthorized' },
      ]);
      const roleAttempts: Attempt[] = [
        { name: 'admin token holds seats', method: 'POST', path: `/v1/shows/${world.showId}/holds`, token: world.adminToken, body: { seat_ids: ['A:1:3'] }, status: 403, code: 'forbidden' },
        { name: 'admin token releases her hold', method: 'DELETE', path: `/v1/holds/${alice.holdId}`, token: world.adminToken, status: 403, code: 'forbidden' },
        { name: 'fan token creates a venue', method: 'POST', path: '/v1/venues', token: as, body: {}, status: 403, code: 'forbidden' },
        { name: 'no token releases her hold', method: 'DELETE', path: `/v1/holds/${alice.holdId}`, status: 401, code: 'unauthorized' },
      ];
      const failures: string[] = [];
      for (const entry of [...attempts, ...tokenAttempts, ...roleAttempts]) {
        const answer = await attempt(entry);
        if (answer.status !== entry.status || answer.code !== entry.code || answer.type !== 'application/problem+json') failures.push(`${entry.name}: ${answer.status} ${answer.code} (${answer.type}) ${answer.detail}, expected ${entry.status} ${entry.code}`);
      }
      expect(failures).toEqual([]);
    });

    it("refuses mallory alice's hold over the socket", async () => {
      const socket = await world.t.socket(world.mallory.token);
      const failures: string[] = [];
      for (const [event, payload, code] of [
        ['release', { hold_id: world.alice.holdId, idempotency_key: randomUUID() }, 'forbidden'],
        ['release', { hold_id: world.alice.holdId }, 'forbidden'],
        ['extend', { hold_id: world.alice.holdId, idempotency_key: randomUUID() }, 'forbidden'],
        ['hold', { show_id: world.showId, idempotency_key: randomUUID(), seat_ids: ['A:1:1'] }, 'seat_unavailable'],
        ['hold', { show_id: world.showId, idempotency_key: randomUUID(), seat_ids: ['A:2:1'] }, 'seat_unavailable'],
      ] as const) {
        const ack = await emitAck<HoldResponse>(socket, event, payload);
        figures.add('identity_bad_inputs_tried');
        if (!ack.ok && ack.error.status < 500) figures.add('identity_4xx_answered');
        if (ack.ok || ack.error.code !== code) failures.push(`${event} ${JSON.stringify(payload)}: ${ack.ok ? 'accepted' : ack.error.code}`);
      }
      socket.disconnect();
      expect(failures).toEqual([]);
    });

    it("afterwards: alice's hold, order and ticket are intact, nothing else changed, no token in the log", async () => {
      const after = await world.audit();
      const changed = Object.keys(baseline).filter((key) => baseline[key] !== after[key]);
      figures.add('identity_state_changes_by_refused_requests', changed.length);
      expect(changed.map((key) => `${key}: ${String(baseline[key]).slice(0, 200)} → ${String(after[key]).slice(0, 200)}`)).toEqual([]);
      const hold = await world.t.request('GET', `/v1/holds/${world.alice.holdId}`, { token: world.alice.token });
      expect(hold.body).toMatchObject({ status: 'held', user_id: world.alice.userId });
      const ticket = await world.t.request('GET', `/v1/tickets/${world.alice.ticketId}`, { token: world.alice.token });
      expect(ticket.body).toMatchObject({ ticket_id: world.alice.ticketId, status: 'valid', token: world.alice.ticketToken });
      const order = await world.t.request('GET', `/v1/orders/${world.alice.orderId}`, { token: world.alice.token });
      expect(order.body).toMatchObject({ status: 'confirmed' });
      const leaked = secretsInLog(world);
      figures.add('secrets_found_in_logs', leaked.length);
      expect(leaked).toEqual([]);
    });
  });
}
