/**
 * A fast-check fuzzer over every REST route of /openapi.json. Each request carries one to three
 * defects drawn at random (junk, injection-shaped, oversized or unicode path parameters; bodies
 * of the wrong type, with type-confused or unknown fields, too deep or too big; junk
 * Idempotency-Keys; Content-Type lies; forged, expired, foreign-secret or truncated tokens;
 * unknown query parameters), so every one must be refused: a 4xx problem+json with a code of
 * the catalog, never a 5xx, never a hang. Afterwards the database audit shows nothing changed,
 * the server is healthy, and its log holds no token or secret.
 *
 * test/gateway/errors.test.ts sweeps fixed lists of bad inputs route by route; this file adds
 * random combinations of them, the credentials cases and the database-level audit.
 */
import fc from 'fast-check';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routesOf, problemDefect, type OpenApiDocument, type Route } from '../gateway/gateway-helpers.js';
import { databaseKinds } from '../support/databases.js';
import { FigureCounter, recordFigures } from './support/figures.js';
import { hostileString, injectionStrings, typeConfused } from './support/hostile-values.js';
import { byLevel } from './support/level.js';
import { bodyBytesMax, secretsInLog, startHostileWorld, type HostileWorld } from './support/hostile-world.js';

const figures = new FigureCounter();
afterAll(() => recordFigures('hostile-rest', figures.snapshot()));

type Defect =
  | { kind: 'path'; value: string }
  | { kind: 'body'; value: string }
  | { kind: 'idempotency-key'; value: string }
  | { kind: 'content-type'; value: string }
  | { kind: 'authorization'; value: string }
  | { kind: 'oversized' }
  | { kind: 'query'; value: string };

/** Routes whose body limit is larger than HTTP_BODY_BYTES_MAX (whole venue uploads). */
const largeBodyRoutes = new Set(['POST /v1/venues']);
const idempotencyKeyPattern = /^[A-Za-z0-9_:.-]{8,128}$/;

// Header values must be visible ASCII to be sent at all; within that, anything the key pattern refuses.
const junkKey = fc.oneof(fc.string({ maxLength: 7 }), fc.string({ minLength: 129, maxLength: 300 }), fc.constantFrom(...injectionStrings), fc.string({ minLength: 8, maxLength: 40 }).map((text) => `${text} ~`))
  .filter((value) => !idempotencyKeyPattern.test(value) && value.trim() !== '' && /^[\x21-\x7e][\x20-\x7e]*[\x21-\x7e]$|^[\x21-\x7e]$/.test(value));
const lyingContentType = fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'text/json', 'application/jsonp', 'application/json-seq', 'image/png', '*/*');
const junkBody = fc.oneof(
  fc.jsonValue().filter((value) => typeof value !== 'object' || value === null || Array.isArray(value)).map((value) => JSON.stringify(value)),
  fc.dictionary(fc.string({ maxLength: 12 }).map((name) => `zz_${name}`), fc.jsonValue(), { minKeys: 1, maxKeys: 4 }).map((value) => JSON.stringify(value)),
  // Not JSON (and not empty: no body at all is a valid request for some routes, e.g. an anonymous session).
  fc.string({ minLength: 1, maxLength: 200 }).filter((text) => { try { JSON.parse(text); return false; } catch { return true; } }),
  fc.integer({ min: 100, max: 3_000 }).map((depth) => `${'['.repeat(depth)}${']'.repeat(depth)}`),
  fc.integer({ min: 1, max: 30 }).map((depth) => JSON.stringify(Array.from({ length: depth }).reduce<unknown>((inner) => ({ next: inner, zz: true }), { zz: 1 }))),
);

for (const kind of databaseKinds) {
  describe.skipIf(!kind.available)(`hostile REST input is refused and changes nothing (${kind.name})`, () => {
    let world: HostileWorld;
    let routes: Route[] = [];
    let baseline: Record<string, unknown> = {};
    /** A valid-looking body per route, so a defect is the only thing wrong (when it is). */
    const examples = (): Record<string, unknown> => ({
      'POST /v1/sessions': { user_id: 'fuzz-user' },
      'POST /v1/shows/{id}/holds': { seat_ids: ['A:1:2'] },
      'POST /v1/orders': { hold_id: world.alice.holdId },
      'POST /v1/payments/{id}/confirm': { card_number: '4242424242424242' },
      'POST /v1/tickets/{id}/transfer': { to_user_id: 'mallory-chaos' },
      'POST /v1/tickets/verify': { token: world.alice.ticketToken },
      'POST /v1/shows/{id}/waitlist': { party_size: 2 },
      'POST /v1/events': { name: 'Fuzz Event', performer: 'Fuzz', category: 'other', venue_id: 'ven-missing' },
    });

    beforeAll(async () => {
      world = await startHostileWorld(kind);
      routes = routesOf((await world.t.request('GET', '/openapi.json')).body as OpenApiDocument);
      baseline = await world.audit();
    });
    afterAll(async () => world?.t.close());

    const defectsFor = (route: Route): fc.Arbitrary<Defect>[] => {
      const options: fc.Arbitrary<Defect>[] = [];
      if (route.path.includes('{')) options.push(hostileString.map((value) => ({ kind: 'path' as const, value })));
      if (route.method !== 'GET') {
        options.push(junkBody.map((value) => ({ kind: 'body' as const, value })));
        if (route.op.requestBody) options.push(lyingContentType.map((value) => ({ kind: 'content-type' as const, value })));
        if (!largeBodyRoutes.has(route.name)) options.push(fc.constant({ kind: 'oversized' as const }));
      }
      if (route.op.parameters.some((parameter) => parameter.in === 'header' && parameter.name.toLowerCase() === 'idempotency-key')) {
        options.push(junkKey.map((value) => ({ kind: 'idempotency-key' as const, value })));
      }
      if (route.op.security) {
        options.push(fc.oneof(
          fc.constantFrom(...Object.keys(world.badTokens)).map((name) => world.badTokens[name as keyof HostileWorld['badTokens']]),
          fc.string({ minLength: 1, maxLength: 200 }).filter((value) => value.trim() !== '' && value.trim() !== world.adminToken && !/[\r\n]/.test(value)),
          fc.constantFrom(...injectionStrings),
        ).filter((value) => /^[\x20-\x7e]+$/.test(value)).map((value) => ({ kind: 'authorization' as const, value: `Bearer ${value}` })));
      }
      if (route.op.parameters.some((parameter) => parameter.in === 'query')) options.push(fc.string({ minLength: 1, maxLength: 20 }).map((name) => ({ kind: 'query' as const, value: `zz_${encodeURIComponent(name)}=1` })));
      return options;
    };

    const send = async (route: Route, defects: Defect[]): Promise<{ status: number; problem: string | null; code: string }> => {
      const pathDefect = defects.find((defect) => defect.kind === 'path');
      let path = route.path.replace(/\{(\w+)\}/g, (_, name: string) => {
        if (pathDefect?.kind === 'path') return encodeURIComponent(pathDefect.value);
        const collection = route.path.split('/')[route.path.split('/').indexOf(`{${name}}`) - 1];
        return encodeURIComponent({ shows: world.showId, events: world.eventId, holds: world.alice.holdId, tickets: world.alice.ticketId, payments: world.alice.paymentId, orders: world.alice.orderId }[collection ?? ''] ?? 'fuzz-missing');
      });
      const queryDefect = defects.find((defect) => defect.kind === 'query');
      if (queryDefect?.kind === 'query') path += `?${queryDefect.value}`;
      // Mallory attacks alice's things with her own valid token unless a defect replaces it.
      const headers: Record<string, string> = route.op.security ? { authorization: `Bearer ${world.mallory.token}` } : {};
      let body: string | undefined = route.method === 'GET' ? undefined : JSON.stringify(examples()[route.name] ?? {});
      if (route.method !== 'GET') headers['content-type'] = 'application/json';
      headers['idempotency-key'] = randomUUID();
      for (const defect of defects) {
        if (defect.kind === 'body') body = defect.value;
        if (defect.kind === 'content-type') headers['content-type'] = defect.value;
        if (defect.kind === 'idempotency-key') headers['idempotency-key'] = defect.value;
        if (defect.kind === 'authorization') headers['authorization'] = defect.value;
        if (defect.kind === 'oversized') body = `{"pad":"${'x'.repeat(bodyBytesMax + 1)}"}`;
      }
      const reply = await world.t.request(route.method, path, { headers, ...(body !== undefined ? { rawBody: body } : {}) });
      return { status: reply.status, problem: reply.status >= 400 ? problemDefect(reply) : 'not a refusal', code: String((reply.body as { code?: unknown } | null)?.code) };
    };

    it('refuses every defective request to every documented route with a 4xx problem of the catalog', async () => {
      expect(routes.length).toBeGreaterThan(30);
      const failures: string[] = [];
      const statusCounts = new Map<number, number>();
      for (const route of routes) {
        const defectOptions = defectsFor(route);
        if (defectOptions.length === 0) continue; // GET /healthz and the like: nothing to get wrong
        await fc.assert(
          fc.asyncProperty(fc.array(fc.oneof(...defectOptions), { minLength: 1, maxLength: 3 }), async (defects) => {
            const answer = await send(route, defects);
            figures.add('rest_bad_inputs_tried');
            for (const defect of defects) figures.add(`rest_defect_${defect.kind.replace('-', '_')}`);
            statusCounts.set(answer.status, (statusCounts.get(answer.status) ?? 0) + 1);
            if (answer.status >= 400 && answer.status < 500) figures.add('rest_4xx_answered');
            if (answer.status >= 500) figures.add('rest_5xx_answered');
            const wrong = answer.status < 400 || answer.status >= 500 || answer.problem !== null;
            if (wrong && failures.length < 20) failures.push(`${route.name} ${defects.map((defect) => ('value' in defect ? `${defect.kind}=${JSON.stringify(defect.value.slice(0, 80))}…(${defect.value.length})` : defect.kind)).join(' + ')} → ${answer.status} ${answer.code} ${answer.problem ?? ''}`);
            return !wrong;
          }),
          { numRuns: byLevel(25, 250), seed: 4_242, endOnFailure: true },
        ).catch((error: unknown) => failures.push(`${route.name}: ${String(error).slice(0, 500)}`));
      }
      expect(failures).toEqual([]);
      expect([...statusCounts.keys()].every((status) => status >= 400 && status < 500)).toBe(true);
    });

    it('finds nothing by injection in search queries, and never answers 5xx', async () => {
      const failures: string[] = [];
      for (const route of routes.filter((candidate) => candidate.method === 'GET' && candidate.op.parameters.some((parameter) => parameter.in === 'query'))) {
        for (const parameter of route.op.parameters.filter((candidate) => candidate.in === 'query')) {
          for (const value of [...injectionStrings, ...fc.sample(hostileString, { numRuns: byLevel(5, 40), seed: 7 })]) {
            const path = route.path.replace(/\{(\w+)\}/g, world.eventId);
            const reply = await world.t.request('GET', `${path}?${parameter.name}=${encodeURIComponent(value)}`, { token: world.mallory.token });
            figures.add('rest_search_injections_tried');
            if (reply.status >= 500) figures.add('rest_5xx_answered');
            const items = (reply.body as { items?: unknown[] }).items;
            if (reply.status >= 500 || (reply.status >= 400 && problemDefect(reply))) failures.push(`${route.name} ${parameter.name}=${value.slice(0, 40)} → ${reply.status}`);
            if (reply.status < 300 && Array.isArray(items) && items.length > 0 && injectionStrings.includes(value)) failures.push(`${route.name} ${parameter.name}=${value} found ${items.length}`);
          }
        }
      }
      expect(failures).toEqual([]);
    });

    it('type-confused bodies of every route that reads one are refused', async () => {
      const failures: string[] = [];
      for (const route of routes.filter((candidate) => candidate.op.requestBody)) {
        const example = (examples()[route.name] ?? { zz_placeholder: 1 }) as Record<string, unknown>;
        await fc.assert(
          fc.asyncProperty(typeConfused(example), async (body) => {
            const answer = await send(route, [{ kind: 'body', value: JSON.stringify(body) }]);
            figures.add('rest_bad_inputs_tried');
            figures.add('rest_defect_type_confused');
            if (answer.status >= 500) figures.add('rest_5xx_answered');
            else if (answer.status >= 400) figures.add('rest_4xx_answered');
            // Mallory's token: a body alice could use must still not let mallory act (4xx either way).
            const wrong = answer.status < 400 || answer.status >= 500 || answer.problem !== null;
            if (wrong && failures.length < 20) failures.push(`${route.name} ${JSON.stringify(body).slice(0, 200)} → ${answer.status} ${answer.code}`);
            return !wrong;
          }),
          { numRuns: byLevel(20, 200), seed: 99, endOnFailure: true },
        ).catch((error: unknown) => failures.push(`${route.name}: ${String(error).slice(0, 500)}`));
      }
      expect(failures).toEqual([]);
    });

    it('regression: a body sent as application/jsonp (any type starting with "application/json") was parsed as JSON — fixed: refused', async () => {
      const answers: string[] = [];
      for (const contentType of ['application/jsonp', 'application/json-seq', 'application/jsonx; charset=utf-8', 'Application/JSON', 'application/json; charset=utf-8']) {
        const reply = await world.t.request('POST', '/v1/sessions', { rawBody: JSON.stringify({ user_id: 'content-type-probe' }), headers: { 'content-type': contentType } });
        answers.push(`${contentType} → ${reply.status}`);
      }
      // The media type is compared whole and without regard to case; parameters are allowed.
      expect(answers).toEqual([
        'application/jsonp → 400', 'application/json-seq → 400', 'application/jsonx; charset=utf-8 → 400', 'Application/JSON → 201', 'application/json; charset=utf-8 → 201',
      ]);
    });

    it('afterwards: the database shows no change, the server is healthy, the log holds no token or secret', async () => {
      const after = await world.audit();
      const changed = Object.keys(baseline).filter((key) => baseline[key] !== after[key]);
      figures.add('rest_state_changes_by_refused_requests', changed.length);
      expect(changed.map((key) => `${key}: ${String(baseline[key]).slice(0, 200)} → ${String(after[key]).slice(0, 200)}`)).toEqual([]);
      expect((await world.t.request('GET', '/healthz')).status).toBe(200);
      expect(world.logText().length).toBeGreaterThan(0);
      const leaked = secretsInLog(world);
      figures.add('secrets_found_in_logs', leaked.length);
      expect(leaked).toEqual([]);
    });
  });
}
