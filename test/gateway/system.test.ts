import { randomUUID } from 'node:crypto';
import { Agent } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../src/config.js';
import type { SqlDatabase } from '../../src/persistence/database.js';
import { ShowDefinitionStore } from '../../src/persistence/show-definitions.js';
import type { HoldResponse } from '../../src/protocol/hold-schemas.js';
import { resultCodes } from '../../src/protocol/result-codes.js';
import { buildStadiumDefinition } from '../../src/seed/stadium.js';
import { startServer, type HoldfastServer } from '../../src/server.js';
import { silentLogger } from '../../src/shared/logger.js';
import { databaseKinds } from '../support/databases.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { ok, problemDefect, rawHttp, routesOf, seatStatus, successStatus, type OpenApiDocument, type RawReply } from './gateway-helpers.js';

/**
 * The system routes (/healthz, /readyz, /metrics, /openapi.json) and graceful shutdown: holds
 * in flight when close() is called are either acknowledged and durable (a new server on the
 * same database has them) or refused or cut off, never acknowledged and lost.
 */

const showId = 'shw-system-test';
const shutdownShowId = 'shw-shutdown-test';

/** The routes of the committed API: the document must list at least these. */
const knownRoutes = [
  'GET /healthz', 'GET /readyz', 'GET /metrics', 'GET /openapi.json',
  'POST /v1/sessions',
  'POST /v1/shows/{id}/holds', 'GET /v1/holds/{id}', 'DELETE /v1/holds/{id}', 'POST /v1/holds/{id}/extend',
  'POST /v1/venues', 'POST /v1/events', 'GET /v1/events', 'GET /v1/events/{id}', 'GET /v1/events/{id}/shows', 'POST /v1/events/{id}/shows',
  'GET /v1/shows/{id}', 'GET /v1/shows/{id}/seat-map', 'GET /v1/shows/{id}/availability',
  'GET /v1/shows/{id}/queue/challenge', 'POST /v1/shows/{id}/queue', 'GET /v1/queue/{ticket}', 'GET /v1/ops/shows/{id}/queue', 'POST /v1/ops/shows/{id}/queue',
];

/** `name{labels} value` lines of a Prometheus text exposition. */
function metricValue(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((entry) => [entry[1], entry[2]]));
    if (Object.entries(labels).every(([label, value]) => found[label] === value)) return Number(match[3]);
  }
  return undefined;
}

for (const kind of databaseKinds) {
  describe.skipIf(!kind.available)(`system (${kind.name})`, () => {
    let t: TestServer;

    beforeAll(async () => {
      t = await startTestServer(kind, { RATE_LIMIT_USER_PER_S: '1000', WORKER_ID: 'worker-system-test' }, {
        beforeListen: async (db) => {
          await new ShowDefinitionStore(db).save(buildStadiumDefinition({ showId, sections: 1, rowsPerSection: 2, seatsPerRow: 10, floorCapacity: 100, policy: { maxActiveHoldsPerUser: 10 } }));
        },
      });
    });
    afterAll(async () => t?.close());

    describe('system routes', () => {

      it('answers /healthz 200 ok and /readyz 200 ready with the database kind', async () => {
        expect(ok(await t.request('GET', '/healthz'))).toEqual({ status: 'ok', worker_id: 'worker-system-test' });
        expect(ok(await t.request('GET', '/readyz'))).toEqual({ status: 'ready', database: kind.name });
      });

      it('exposes request counts and group-commit sizes on /metrics after some holds', async () => {
        const fan = await t.session('fan-metrics');
        const placed = await Promise.all(
          [1, 2, 3].map(() => t.request('POST', `/v1/shows/${showId}/holds`, { token: fan, body: { ga: [{ section_id: 'floor', quantity: 1 }] }, headers: { 'idempotency-key': randomUUID() } })),
        );
        expect(placed.map((reply) => reply.status)).toEqual([201, 201, 201]);
        await t.request('GET', '/v1/shows/shw-missing/availability');
        const metrics = await t.request('GET', '/metrics');
        expect(metrics.status).toBe(200);
        expect(metrics.headers.get('content-type')).toMatch(/^text\/plain/);
        const text = metrics.text;
        expect(text).toContain('# TYPE holdfast_http_requests_total counter');
        expect(text).toContain('# TYPE holdfast_actor_batch_commands histogram');
        expect(metricValue(text, 'holdfast_http_requests_total', { method: 'post', route: '/v1/shows/:id/holds', status: '201' })).toBeGreaterThanOrEqual(3);
        expect(metricValue(text, 'holdfast_http_requests_total', { method: 'get', route: '/v1/shows/:id/availability', status: '404' })).toBeGreaterThanOrEqual(1);
        expect(metricValue(text, 'holdfast_actor_batch_commands_count')).toBeGreaterThanOrEqual(1);
        expect(metricValue(text, 'holdfast_actor_batch_commands_sum')).toBeGreaterThanOrEqual(3);
        expect(metricValue(text, 'holdfast_actor_batch_commands_bucket', { le: '+Inf' })).toBe(metricValue(text, 'holdfast_actor_batch_commands_count'));
        expect(metricValue(text, 'holdfast_http_request_duration_seconds_count', { method: 'post', route: '/v1/shows/:id/holds' })).toBeGreaterThanOrEqual(3);
      });

      it('serves /openapi.json: OpenAPI 3.1 with every route, documented parameters and a Problem schema', async () => {
        const reply = await t.request('GET', '/openapi.json');
        const document = ok<OpenApiDocument>(reply);
        expect(reply.headers.get('content-type')).toMatch(/^application\/json/);
        expect(document.openapi).toBe('3.1.0');
        expect(document.info).toMatchObject({ title: 'Holdfast', version: expect.any(String) });
        const routes = routesOf(document);
        const names = routes.map((route) => route.name);
        for (const name of knownRoutes) expect(names).toContain(name);
        expect(new Set(names).size).toBe(names.length);

        const problem = document.components.schemas['Problem']!;
        expect(problem.required).toEqual(expect.arrayContaining(['type', 'title', 'status', 'detail', 'code']));
        expect((problem.properties!['code']!.enum as string[]).slice().sort()).toEqual(Object.keys(resultCodes).sort());
        expect(document.components.securitySchemes['bearer']).toMatchObject({ type: 'http', scheme: 'bearer' });

        for (const route of routes) {
          const where = route.name;
          expect({ where, summary: typeof route.op.summary }).toEqual({ where, summary: 'string' });
          expect({ where, tags: route.op.tags.length > 0 }).toEqual({ where, tags: true });
          const success = successStatus(route);
          expect({ where, success: success >= 200 && success < 300 }).toEqual({ where, success: true });
          const pathParameters = [...route.path.matchAll(/\{(\w+)\}/g)].map((match) => match[1]).sort();
          expect({ where, pathParameters: route.op.parameters.filter((parameter) => parameter.in === 'path').map((parameter) => parameter.name).sort() }).toEqual({ where, pathParameters });
          for (const [status, response] of Object.entries(route.op.responses)) {
            if (Number(status) < 400) continue;
            expect({ where, status, schema: response.content?.['application/problem+json']?.schema }).toEqual({ where, status, schema: { $ref: '#/components/schemas/Problem' } });
            for (const code of response.description.split(',').map((entry) => entry.trim())) {
              expect({ where, code, status: resultCodes[code as keyof typeof resultCodes]?.status }).toEqual({ where, code, status: Number(status) });
            }
          }
          for (const scheme of route.op.security ?? []) for (const name of Object.keys(scheme)) expect(document.components.securitySchemes).toHaveProperty(name);
          if (route.op.requestBody) expect({ where, body: typeof route.op.requestBody.content['application/json']?.schema }).toEqual({ where, body: 'object' });
        }
        // The security marks match what the routes do: the holds route needs a token.
        expect(routes.find((route) => route.name === 'POST /v1/shows/{id}/holds')!.op.security).toEqual([{ bearer: [] }]);
        expect(routes.find((route) => route.name === 'GET /v1/events')!.op.security).toBeUndefined();
      });
    });

    // Graceful shutdown runs servers of its own on the database of the server above (with a show
    // of their own): a second embedded database would cost seconds.
    describe('graceful shutdown', () => {
      let config: Config;
      const rows = 20;
      const seatsPerRow = 20;
      const db = (): SqlDatabase => t.server.db;

      beforeAll(async () => {
        config = { ...loadConfig({ NODE_ENV: 'test', RATE_LIMIT_USER_PER_S: '1000000', RATE_LIMIT_IP_PER_S: '1000000' }), port: 0, host: '127.0.0.1', seedDemo: false };
        await new ShowDefinitionStore(db()).save(buildStadiumDefinition({ showId: shutdownShowId, sections: 1, rowsPerSection: rows, seatsPerRow, floorCapacity: 0, policy: { maxActiveHoldsPerUser: 20 } }));
      });

      const start = () => startServer(config, { db: db(), logger: silentLogger });
      const tokensOf = async (server: HoldfastServer, count: number) => {
        const tokens: string[] = [];
        for (let user = 0; user < count; user += 1) {
          const reply = await fetch(`${server.url}/v1/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user_id: `fan-shutdown-${user}` }) });
          tokens.push(((await reply.json()) as { token: string }).token);
        }
        return tokens;
      };

      it('never loses an acknowledged hold: 200 holds in flight at close(), then a new server on the same database', async () => {
        const first = await start();
        const tokens = await tokensOf(first, 10);
        // Two adjacent seats per hold, pair-aligned, so no commit order strands a lone seat.
        const pairs = Array.from({ length: rows * (seatsPerRow / 2) }, (_, pair) => {
          const row = Math.floor(pair / (seatsPerRow / 2)) + 1;
          const seat = (pair % (seatsPerRow / 2)) * 2 + 1;
          return { seats: [`101:${row}:${seat}`, `101:${row}:${seat + 1}`], indices: [(row - 1) * seatsPerRow + seat - 1, (row - 1) * seatsPerRow + seat], token: tokens[pair % tokens.length]! };
        });
        type Outcome = { status: number; body: unknown; contentType: string | null } | { error: string };
        let answered = 0;
        // One connection per request (no keep-alive): requests that come after close() has
        // closed the listen socket are cut off rather than served on an open connection.
        const send = async (pair: (typeof pairs)[number]): Promise<Outcome> => {
          try {
            const raw = await rawHttp(first.url, 'POST', `/v1/shows/${shutdownShowId}/holds`, {
              headers: { 'content-type': 'application/json', authorization: `Bearer ${pair.token}`, 'idempotency-key': randomUUID() },
              body: JSON.stringify({ seat_ids: pair.seats }),
              timeoutMs: 15_000,
            });
            if ('error' in raw) return raw;
            const text = raw.body.toString('utf8');
            return { status: raw.status, body: text ? (JSON.parse(text) as unknown) : null, contentType: typeof raw.headers['content-type'] === 'string' ? raw.headers['content-type'] : null };
          } finally {
            answered += 1;
          }
        };
        const until = async (condition: () => boolean, timeoutMs: number) => {
          const deadline = Date.now() + timeoutMs;
          while (!condition() && Date.now() < deadline) await new Promise((resolve) => setImmediate(resolve));
        };
        const mailboxDepth = () => (first.router.activeShowCount > 0 ? first.router.actorOf(shutdownShowId).mailboxDepth : 0);
        // Two waves: the first is (mostly) acknowledged; close() comes while the second waits in the
        // show's mailbox or is still arriving, so acknowledged, refused and cut-off holds all occur.
        const firstWave = pairs.slice(0, pairs.length / 2).map(send);
        await until(() => answered > 0, 10_000);
        const secondWave = pairs.slice(pairs.length / 2).map(send);
        await until(() => mailboxDepth() > 0 || answered > pairs.length / 2, 5_000);
        const inFlight = [...firstWave, ...secondWave];
        await first.close();
        const outcomes = await Promise.all(inFlight);
        // Whatever the first server still did after close() is done by now; stop it for good.
        await first.router.stopAll();

        const second = await start();
        try {
          const availability = (await (await fetch(`${second.url}/v1/shows/${shutdownShowId}/availability`)).json()) as { seat_status: string };
          const status = seatStatus(availability.seat_status);
          const failures: string[] = [];
          let acknowledged = 0;
          for (const [index, outcome] of outcomes.entries()) {
            const pair = pairs[index]!;
            const held = pair.indices.map((seat) => status[seat]);
            if ('error' in outcome) {
              if (held[0] !== held[1]) failures.push(`${pair.seats.join(',')}: cut off, half held ${held.join(',')}`);
              continue;
            }
            if (outcome.status === 201) {
              acknowledged += 1;
              const hold = outcome.body as HoldResponse;
              if (held.some((seat) => seat !== 1)) failures.push(`${pair.seats.join(',')}: acknowledged as ${hold.hold_id} but not held after restart (${held.join(',')})`);
              const again = await fetch(`${second.url}/v1/holds/${hold.hold_id}`, { headers: { authorization: `Bearer ${pair.token}` } });
              if (again.status !== 200) failures.push(`${hold.hold_id}: GET after restart answered ${again.status}`);
              else if (((await again.json()) as HoldResponse).seat_ids.slice().sort().join() !== pair.seats.slice().sort().join()) failures.push(`${hold.hold_id}: other seats after restart`);
              continue;
            }
            const defect = problemDefect({ status: outcome.status, headers: new Headers(outcome.contentType ? { 'content-type': outcome.contentType } : {}), body: outcome.body });
            if (defect) failures.push(`${pair.seats.join(',')}: ${outcome.status} ${defect}`);
            const code = (outcome.body as { code?: string }).code;
            if (outcome.status >= 500 && !['not_owner', 'overloaded', 'commit_failed'].includes(code ?? '')) failures.push(`${pair.seats.join(',')}: ${outcome.status} ${code}`);
            if (held.some((seat) => seat !== 0)) failures.push(`${pair.seats.join(',')}: refused (${outcome.status} ${code}) but held after restart`);
          }
          expect(failures).toEqual([]);
          expect(acknowledged).toBeGreaterThanOrEqual(1);
          // Every seat held after the restart belongs to an acknowledged or cut-off request.
          expect(status.filter((seat) => seat === 1).length).toBeLessThanOrEqual(2 * outcomes.filter((outcome) => 'error' in outcome || outcome.status === 201).length);
        } finally {
          await second.close();
        }
      });

      // BUG (src/server.ts close): close() stops the listen socket and the actors, but HTTP
      // connections that are already open (keep-alive) keep being served. A request that arrives on
      // one after close() re-activates the show in a new actor (LocalShowRouter.actorOf) that
      // outlives close(): it takes the lease, commits holds and keeps its timers, after the server
      // said it had stopped (with its own database, close() has closed it under that actor).
      // Expected: after close() resolves, no request is served (or every one is refused 503) and
      // no show actor is left.
      it('after close(), a request on a kept-alive connection is still served and re-activates a show actor', async () => {
        const server = await start();
        const agent = new Agent({ keepAlive: true, maxSockets: 1 });
        try {
          const [token] = await tokensOf(server, 1);
          expect(((await rawHttp(server.url, 'GET', '/healthz', { agent })) as RawReply).status).toBe(200);
          await server.close();
          const late = await rawHttp(server.url, 'POST', `/v1/shows/${shutdownShowId}/holds`, {
            agent, headers: { 'content-type': 'application/json', authorization: `Bearer ${token!}`, 'idempotency-key': randomUUID() }, body: JSON.stringify({ seat_ids: ['101:20:19', '101:20:20'] }),
          });
          const activeAfterClose = server.router.activeShowCount;
          await server.router.stopAll();
          // Any answer but 503 means the request was processed after close().
          expect({ late: 'error' in late ? 'cut off' : late.status === 503 ? 'refused' : `served ${late.status}`, activeAfterClose }).toEqual({ late: expect.not.stringMatching(/^served/), activeAfterClose: 0 });
        } finally {
          agent.destroy();
        }
      });
    });
  });
}
