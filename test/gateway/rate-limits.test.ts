import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShowDefinitionStore } from '../../src/persistence/show-definitions.js';
import type { Problem } from '../../src/protocol/api-error.js';
import { loadConfig } from '../../src/config.js';
import { buildStadiumDefinition } from '../../src/seed/stadium.js';
import { startServer } from '../../src/server.js';
import { silentLogger } from '../../src/shared/logger.js';
import { databaseKinds } from '../support/databases.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { emitAck, expectProblem, sleep, watch, type Reply } from './gateway-helpers.js';

/**
 * Rate limits answer 429 rate_limited with Retry-After: per user on holds (RATE_LIMIT_USER_PER_S),
 * per client IP on every /v1 route (RATE_LIMIT_IP_PER_S), per connection on socket events
 * (SOCKET_EVENTS_PER_S). The server runs as if behind a proxy (TRUST_PROXY=true: the client
 * address is the last X-Forwarded-For hop), so each scenario plays its own client addresses and
 * the per-IP buckets of the scenarios do not mix.
 */

const showId = 'shw-rate-test';

for (const kind of databaseKinds) {
  describe.skipIf(!kind.available)(`rate limits (${kind.name})`, () => {
    let t: TestServer;
    const session = async (userId: string, ip: string) => (await t.request('POST', '/v1/sessions', { body: { user_id: userId }, headers: { 'x-forwarded-for': ip } })).body as { token: string };
    const hold = (token: string, seat: string, ip: string) =>
      t.request('POST', `/v1/shows/${showId}/holds`, { token, body: { seat_ids: [seat] }, headers: { 'idempotency-key': randomUUID(), 'x-forwarded-for': ip } });
    const expectRateLimited = (reply: Reply) => {
      const problem: Problem = expectProblem(reply, 429, 'rate_limited');
      expect(problem.retryable).toBe(true);
      const retryAfter = reply.headers.get('retry-after');
      expect(retryAfter).toMatch(/^\d+$/);
      expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
      expect(Number(retryAfter)).toBeLessThanOrEqual(1);
      expect(problem.retry_after_s).toBe(Number(retryAfter));
    };
    /**
     * Runs `burst` until it fits in one limiter window: a loaded machine can stretch a burst past
     * a second. Each attempt must use fresh limiter keys (users, addresses), so none waits.
     */
    const withinOneSecond = async <T>(burst: (attempt: number) => Promise<T>): Promise<{ result: T; attempt: number }> => {
      for (let attempt = 0; ; attempt += 1) {
        const startedMs = Date.now();
        const result = await burst(attempt);
        if (Date.now() - startedMs < 900 || attempt === 3) return { result, attempt };
      }
    };

    beforeAll(async () => {
      t = await startTestServer(kind, { RATE_LIMIT_USER_PER_S: '2', RATE_LIMIT_IP_PER_S: '5', SOCKET_EVENTS_PER_S: '3', TRUST_PROXY: 'true' }, {
        beforeListen: async (db) => {
          await new ShowDefinitionStore(db).save(buildStadiumDefinition({ showId, sections: 1, rowsPerSection: 4, seatsPerRow: 10, floorCapacity: 0, policy: { maxActiveHoldsPerUser: 20 } }));
        },
      });
    });
    afterAll(async () => t?.close());

    it('answers the 3rd and later holds of one user within a second with 429 rate_limited and Retry-After; nothing is held for them', async () => {
      // Attempt n: a new user holds seat column 1 + 3n of rows 1..4 (no hold strands a lone seat),
      // each hold from its own address, so only the per-user limit (2/s) can refuse them.
      const { result: { token, replies, column } } = await withinOneSecond(async (attempt) => {
        const column = 1 + 3 * attempt;
        const { token: fresh } = await session(`fan-rate-user-${attempt}`, `198.51.100.${attempt + 1}`);
        const answers: Reply[] = [];
        for (const row of [1, 2, 3, 4]) answers.push(await hold(fresh, `101:${row}:${column}`, `198.51.100.${10 * (attempt + 1) + row}`));
        return { token: fresh, replies: answers, column };
      });
      expect(replies.map((reply) => reply.status)).toEqual([201, 201, 429, 429]);
      for (const reply of replies.slice(2)) expectRateLimited(reply);
      const availability = (await t.request('GET', `/v1/shows/${showId}/availability`, { headers: { 'x-forwarded-for': '198.51.100.99' } })).body as { seat_status: string };
      const status = Array.from(Buffer.from(availability.seat_status, 'base64'));
      expect([0, 10, 20, 30].map((row) => status[row + column - 1])).toEqual([1, 1, 0, 0]);
      // Another user is not limited by the first one's bucket.
      const other = await session('fan-rate-other', '198.51.100.5');
      expect((await hold(other.token, '101:4:5', '198.51.100.50')).status).toBe(201);
      // A second later the user's bucket is full again.
      await sleep(1_100);
      expect((await hold(token, `101:3:${column}`, '198.51.100.51')).status).toBe(201);
    });

    it('answers the 6th and later /v1 requests (reads or writes) of one IP within a second with 429 and Retry-After; system routes and other IPs are not limited', async () => {
      const { result: replies, attempt } = await withinOneSecond(async (attempt) => {
        const answers: Reply[] = [];
        for (let index = 0; index < 7; index += 1) answers.push(await t.request('GET', '/v1/events', { headers: { 'x-forwarded-for': `203.0.113.${attempt + 1}` } }));
        // Any /v1 route counts, writes included.
        answers.push(await t.request('POST', '/v1/sessions', { body: {}, headers: { 'x-forwarded-for': `203.0.113.${attempt + 1}` } }));
        return answers;
      });
      const ip = `203.0.113.${attempt + 1}`;
      expect(replies.map((reply) => reply.status)).toEqual([200, 200, 200, 200, 200, 429, 429, 429]);
      for (const reply of replies.slice(5)) expectRateLimited(reply);
      for (let index = 0; index < 10; index += 1) expect((await t.request('GET', '/healthz', { headers: { 'x-forwarded-for': ip } })).status).toBe(200);
      expect((await t.request('GET', '/v1/events', { headers: { 'x-forwarded-for': '203.0.113.99' } })).status).toBe(200);
      await sleep(1_100);
      expect((await t.request('GET', '/v1/events', { headers: { 'x-forwarded-for': ip } })).status).toBe(200);
    });

    it('keys the per-IP limit on the hop the proxy appended: entries a client prepends to X-Forwarded-For do not pick its bucket', async () => {
      const { result: replies } = await withinOneSecond(async (attempt) => {
        const answers: Reply[] = [];
        for (let index = 0; index < 7; index += 1) answers.push(await t.request('GET', '/v1/events', { headers: { 'x-forwarded-for': `192.0.2.${index + 1}, 198.18.0.${attempt + 1}` } }));
        return answers;
      });
      expect(replies.map((reply) => reply.status)).toEqual([200, 200, 200, 200, 200, 429, 429]);
    });

    it('ignores X-Forwarded-For without TRUST_PROXY: a client cannot pick its bucket by sending one', async () => {
      const config = { ...loadConfig({ NODE_ENV: 'test', RATE_LIMIT_IP_PER_S: '5' }), port: 0, host: '127.0.0.1', seedDemo: false };
      const direct = await startServer(config, { db: t.server.db, logger: silentLogger });
      try {
        const { result: replies } = await withinOneSecond(async (attempt) => {
          const answers: Response[] = [];
          for (let index = 0; index < 7; index += 1) answers.push(await fetch(`${direct.url}/v1/events`, { headers: { 'x-forwarded-for': `192.0.${attempt + 2}.${index + 1}` } }));
          return answers;
        });
        expect(replies.map((reply) => reply.status)).toEqual([200, 200, 200, 200, 200, 429, 429]);
      } finally {
        await direct.close();
      }
    });

    it('acks the 4th and later socket events of one connection within a second with rate_limited', async () => {
      const socket = await t.socket();
      const acks = await Promise.all(Array.from({ length: 6 }, () => emitAck(socket, 'show:unwatch', { show_id: showId })));
      expect(acks.map((ack) => ack.ok)).toEqual([true, true, true, false, false, false]);
      for (const ack of acks.slice(3)) expect(ack).toMatchObject({ ok: false, error: { status: 429, code: 'rate_limited', retryable: true } });
      // Another connection has its own budget; this one gets a new one a second later.
      const other = await t.socket();
      expect((await watch(other, showId)).show_id).toBe(showId);
      await sleep(1_100);
      expect((await emitAck(socket, 'show:unwatch', { show_id: showId })).ok).toBe(true);
      socket.disconnect();
      other.disconnect();
    });
  });
}
