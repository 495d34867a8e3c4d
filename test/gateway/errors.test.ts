import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { pack } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Problem } from '../../src/protocol/api-error.js';
import type { HoldResponse } from '../../src/protocol/hold-schemas.js';
import { isResultCode } from '../../src/protocol/result-codes.js';
import type { Ack, ClientToServerEvents } from '../../src/protocol/socket-events.js';
import { databaseKinds } from '../support/databases.js';
import { startTestServer, type TestServer, type TestSocket } from '../support/server.js';
import {
  arenaShow, asReply, dayMs, documentedCodes, emitAck, emitNoAck, eventually, ok, organizer, problemDefect, rawHttp, routesOf, sleep, smallArena,
  watch, type JsonSchema, type OpenApiDocument, type RawReply, type Reply, type Route,
} from './gateway-helpers.js';

/**
 * Bad input everywhere. Every route of /openapi.json (so a new route is covered the day it is
 * documented) gets malformed path parameters, queries, headers and bodies; every socket event
 * gets malformed payloads, no ack, and garbage frames. Each answer must be a 4xx problem
 * document with a code of the catalog (never a 5xx, never a hang), and afterwards nothing may
 * have changed: the availability of a known show, the event list, a fan's hold.
 *
 * The tests at the end are regressions for bugs these sweeps found (and that are fixed).
 */

const bodyBytesMax = 4_096;
/** Routes whose body limit differs from HTTP_BODY_BYTES_MAX (catalogLimits.venueRequestBytesMax). */
const bodyLimits: Record<string, number> = { 'POST /v1/venues': 16 * 1024 * 1024 };

const injection = ["' OR 1=1 --", "1' UNION SELECT id, name FROM venues --", '1; DROP TABLE shows; --'];
const nasty = [
  ...injection,
  '%00', // the literal text, percent-encoded on the wire
  'x'.repeat(2_048),
  '🎟️ ünïcødé ﷽ 中文',
  '\u202Egnp.exe',
  '../../etc/passwd',
  '<script>alert(1)</script>',
  '${jndi:ldap://127.0.0.1/x}',
  'null',
  ' ',
];

/** A value of the wrong JSON type for a property of `schema`. */
function wrongTypeFor(schema: JsonSchema): unknown {
  const types = new Set([schema.type ?? [], ...(schema.anyOf ?? []).map((option) => option.type ?? [])].flat());
  if (types.has('string')) return types.has('number') || types.has('integer') ? { not: 'a scalar' } : 12_345;
  if (types.has('integer') || types.has('number')) return 'not-a-number';
  if (types.has('boolean')) return 'yes';
  if (types.has('array')) return { not: 'an array' };
  if (types.has('object')) return ['not', 'an', 'object'];
  if (schema.enum) return 'not-a-member';
  return { unexpected: { nested: true } };
}

interface Case {
  id: string;
  route: Route;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
  /** The input is invalid: the answer must be 4xx. Otherwise only "no 5xx, a problem if an error". */
  mustRefuse: boolean;
  /** A 2xx answer to this input must not list anything (an injection that "worked" would). */
  mustFindNothing?: boolean;
  /** The answer must be exactly this status (e.g. 401 for a forged token). */
  status?: number;
}

/** Cases the main sweeps leave out while src answers them wrongly (none today), keyed by case-id prefix. */
const knownBugs: Record<string, string> = {};
/** Undocumented (route → status code) answers tolerated while reported as src bugs (none today). */
const knownUndocumented = (_entry: string): boolean => false;

const knownBug = (id: string): string | undefined => Object.entries(knownBugs).find(([prefix]) => id.startsWith(prefix))?.[1];

for (const kind of databaseKinds) {
  describe.skipIf(!kind.available)(`bad input is refused with a problem and changes nothing (${kind.name})`, () => {
    let t: TestServer;
    let document: OpenApiDocument;
    let routes: Route[] = [];
    let fan = '';
    let fanUserId = '';
    let venueId = '';
    let eventId = '';
    let showId = '';
    let holdId = '';
    let baseline = '';
    const tokens = new Map<string, string | undefined>();
    const undocumented = new Set<string>();

    /** Everything a bad request must not change. */
    const state = async (): Promise<string> => {
      const hold = ok<HoldResponse>(await t.request('GET', `/v1/holds/${holdId}`, { token: fan }));
      return JSON.stringify({
        availability: ok(await t.request('GET', `/v1/shows/${showId}/availability`)),
        events: ok(await t.request('GET', '/v1/events?limit=100')),
        shows: ok(await t.request('GET', `/v1/events/${eventId}/shows?limit=100`)),
        hold: { status: hold.status, seats: hold.seat_ids, expires: hold.expires_at_ms, extensions: hold.extensions_left },
      });
    };
    /** A valid value for a path parameter, by the collection it follows (`/v1/shows/{id}` → a show). */
    const validParam = (route: Route, name: string): string => {
      const segments = route.path.split('/');
      const collection = segments[segments.indexOf(`{${name}}`) - 1];
      return { events: eventId, shows: showId, holds: holdId }[collection ?? ''] ?? 'sweep-missing-1';
    };
    const pathWith = (route: Route, values: Record<string, string> = {}): string =>
      route.path.replace(/\{(\w+)\}/g, (_, name: string) => values[name] ?? encodeURIComponent(validParam(route, name)));
    /** A valid body for the routes we know (others start from `{}`). */
    const example = (route: Route): Record<string, unknown> => {
      const examples: Record<string, Record<string, unknown>> = {
        'POST /v1/sessions': { user_id: 'sweep-user' },
        'POST /v1/venues': { ...smallArena('Sweep Arena', 'Sweepville') },
        'POST /v1/events': { name: 'Sweep Event', performer: 'The Sweepers', category: 'other', venue_id: venueId },
        'POST /v1/events/{id}/shows': { ...arenaShow(Date.now() + 7 * dayMs) },
        'POST /v1/shows/{id}/holds': { seat_ids: ['A:1:3'] },
      };
      return examples[route.name] ?? {};
    };
    const baseHeaders = (route: Route): Record<string, string> => {
      const headers: Record<string, string> = {};
      const token = tokens.get(route.name);
      if (token) headers['authorization'] = `Bearer ${token}`;
      if (route.op.parameters.some((parameter) => parameter.in === 'header' && parameter.name.toLowerCase() === 'idempotency-key')) headers['idempotency-key'] = randomUUID();
      return headers;
    };
    const jsonCase = (route: Route, id: string, body: string, extra: Partial<Case> = {}): Case => ({
      id: `${route.name} ${id}`, route, method: route.method, path: pathWith(route), headers: { ...baseHeaders(route), 'content-type': 'application/json' }, body, mustRefuse: true, ...extra,
    });

    const send = async (testCase: Case): Promise<Reply> =>
      t.request(testCase.method, testCase.path, { headers: { ...testCase.headers, ...(testCase.headers['idempotency-key'] ? { 'idempotency-key': randomUUID() } : {}) }, ...(testCase.body !== undefined ? { rawBody: testCase.body } : {}) });
    /** What is wrong with the answer to `testCase`, or null. */
    const judge = (testCase: Case, reply: Pick<Reply, 'status' | 'headers' | 'body'>): string | null => {
      const code = (reply.body as Partial<Problem> | null)?.code;
      if (reply.status >= 500) return `${reply.status} ${String(code)}`;
      if (testCase.status !== undefined && reply.status !== testCase.status) return `${reply.status} ${String(code)}, expected ${testCase.status}`;
      if (testCase.mustRefuse && (reply.status < 400 || reply.status >= 500)) return `${reply.status}, expected a 4xx refusal`;
      if (reply.status >= 400) {
        const defect = problemDefect(reply);
        if (defect) return `${reply.status}: ${defect}`;
        if (!documentedCodes(testCase.route).has(code!)) undocumented.add(`${testCase.route.name} → ${reply.status} ${code}`);
      }
      if (testCase.mustFindNothing && reply.status < 300) {
        const items = (reply.body as { items?: unknown[] }).items;
        if (Array.isArray(items) && items.length > 0) return `${reply.status} with ${items.length} items`;
      }
      return null;
    };
    const sweep = async (cases: Case[]): Promise<string[]> => {
      const failures: string[] = [];
      for (const testCase of cases) {
        if (knownBug(testCase.id)) continue;
        const reply = await send(testCase);
        const failure = judge(testCase, reply);
        if (failure) failures.push(`${testCase.id}: ${failure}`);
      }
      return failures;
    };

    beforeAll(async () => {
      t = await startTestServer(kind, {
        HTTP_BODY_BYTES_MAX: String(bodyBytesMax), RATE_LIMIT_USER_PER_S: '1000000', RATE_LIMIT_IP_PER_S: '1000000', SOCKET_EVENTS_PER_S: '100000', DIFF_TICK_MS: '20',
      });
      const org = organizer(t);
      venueId = (await org.venue(smallArena('Error Arena', 'Faultline'))).id;
      eventId = (await org.event({ name: 'Error Night', performer: 'The Exceptions', category: 'concert', venue_id: venueId })).id;
      showId = (await org.show(eventId, arenaShow(Date.now() + 9 * dayMs, { max_holds_per_user: 20 }))).id;
      fanUserId = 'fan-errors';
      fan = await t.session(fanUserId);
      holdId = ok<HoldResponse>(await t.request('POST', `/v1/shows/${showId}/holds`, { token: fan, body: { seat_ids: ['A:1:1'] }, headers: { 'idempotency-key': randomUUID() } }), 201).hold_id;
      document = ok<OpenApiDocument>(await t.request('GET', '/openapi.json'));
      routes = routesOf(document);
      // Which token gets past authentication: a fan's, or the admin's where a fan is forbidden.
      for (const route of routes) {
        if (!route.op.security) continue;
        const probe = await t.request(route.method, pathWith(route, Object.fromEntries([...route.path.matchAll(/\{(\w+)\}/g)].map((match) => [match[1]!, 'sweep-probe']))), {
          token: fan, headers: { 'idempotency-key': randomUUID() }, ...(route.method === 'GET' ? {} : { body: {} }),
        });
        tokens.set(route.name, probe.status === 403 && (probe.body as Problem).code === 'forbidden' ? t.adminToken : fan);
      }
      baseline = await state();
    });
    afterAll(async () => t?.close());

    it('sweeps every documented route (the document lists the known ones)', () => {
      const names = routes.map((route) => route.name);
      for (const name of ['POST /v1/sessions', 'POST /v1/shows/{id}/holds', 'GET /v1/holds/{id}', 'DELETE /v1/holds/{id}', 'POST /v1/holds/{id}/extend', 'POST /v1/venues', 'POST /v1/events', 'GET /v1/events', 'GET /v1/events/{id}', 'GET /v1/events/{id}/shows', 'POST /v1/events/{id}/shows', 'GET /v1/shows/{id}', 'GET /v1/shows/{id}/seat-map', 'GET /v1/shows/{id}/availability']) {
        expect(names).toContain(name);
      }
      expect(tokens.get('POST /v1/venues')).toBe(t.adminToken);
      expect(tokens.get('POST /v1/shows/{id}/holds')).toBe(fan);
    });

    it('refuses malformed path parameters (injection-shaped, very long, unicode) with 4xx problems', async () => {
      const cases: Case[] = routes.flatMap((route) =>
        [...route.path.matchAll(/\{(\w+)\}/g)].flatMap((match) =>
          nasty.map((value, index): Case => ({
            id: `${route.name} path:${match[1]}#${index}`, route, method: route.method, path: pathWith(route, { [match[1]!]: encodeURIComponent(value) }),
            headers: { ...baseHeaders(route), ...(route.method === 'GET' ? {} : { 'content-type': 'application/json' }) },
            ...(route.method === 'GET' || route.method === 'DELETE' ? {} : { body: JSON.stringify(example(route)) }),
            mustRefuse: true,
          })),
        ),
      );
      expect(cases.length).toBeGreaterThan(100);
      expect(await sweep(cases)).toEqual([]);
      expect(await state()).toBe(baseline);
    });

    it('refuses or safely answers malformed query strings; never finds anything by injection', async () => {
      const cases: Case[] = [];
      for (const route of routes) {
        const queryParameters = route.op.parameters.filter((parameter) => parameter.in === 'query');
        // Non-GET routes get an unparseable body: whatever the query, nothing may happen.
        const base = { route, method: route.method, headers: { ...baseHeaders(route), ...(route.method === 'GET' ? {} : { 'content-type': 'application/json' }) }, ...(route.method === 'GET' ? {} : { body: '{' }) };
        for (const parameter of queryParameters) {
          const url = (value: string) => `${pathWith(route)}?${parameter.name}=${encodeURIComponent(value)}`;
          cases.push({ ...base, id: `${route.name} query:${parameter.name}=long`, path: url('x'.repeat(5_000)), mustRefuse: true });
          for (const [index, value] of injection.entries()) cases.push({ ...base, id: `${route.name} query:${parameter.name}=injection#${index}`, path: url(value), mustRefuse: false, mustFindNothing: true });
          for (const value of ['🎟️ ünïcødé', '-1', '1e309', 'NaN', 'Infinity', '{}', '[]', '%00', '0x10']) cases.push({ ...base, id: `${route.name} query:${parameter.name}=${value}`, path: url(value), mustRefuse: false });
          cases.push({ ...base, id: `${route.name} query:${parameter.name} twice`, path: `${url('1')}&${parameter.name}=2`, mustRefuse: false });
        }
        cases.push({ ...base, id: `${route.name} query:unknown`, path: `${pathWith(route)}?zz_unknown_parameter=1`, mustRefuse: queryParameters.length > 0 });
        cases.push({ ...base, id: `${route.name} query:garbage`, path: `${pathWith(route)}?&&==&%3D%3D=%26`, mustRefuse: false });
      }
      expect(cases.filter((testCase) => testCase.mustRefuse).length).toBeGreaterThan(10);
      expect(await sweep(cases)).toEqual([]);
      expect(await state()).toBe(baseline);
    });

    it('refuses bad Idempotency-Keys and forged or foreign Authorization headers', async () => {
      const cases: Case[] = [];
      for (const route of routes) {
        const body = route.method === 'GET' ? {} : { body: JSON.stringify(example(route)) };
        const contentType: Record<string, string> = route.method === 'GET' ? {} : { 'content-type': 'application/json' };
        if (route.op.parameters.some((parameter) => parameter.in === 'header' && parameter.name.toLowerCase() === 'idempotency-key')) {
          for (const [index, value] of [...injection, 'short', 'k'.repeat(129), 'ünïcødé-key-0123', 'key with spaces 12345'].entries()) {
            cases.push({ id: `${route.name} header:idempotency-key#${index}`, route, method: route.method, path: pathWith(route), headers: { ...baseHeaders(route), ...contentType, 'idempotency-key': value }, ...body, mustRefuse: true });
          }
        }
        if (route.op.security) {
          for (const [index, value] of [`Bearer ${injection[0]}`, 'Basic YWRtaW46YWRtaW4=', `Bearer ${'x'.repeat(3_000)}`, 'Bearer ses.e30.AAAA', `Bearer ${t.adminToken}x`, 'Bearer', `Bearer ${fan.slice(0, -2)}`].entries()) {
            cases.push({ id: `${route.name} header:authorization#${index}`, route, method: route.method, path: pathWith(route), headers: { ...baseHeaders(route), ...contentType, authorization: value }, ...body, mustRefuse: true, status: 401 });
          }
        }
      }
      // The sweep gives each case a fresh Idempotency-Key: keep the bad ones.
      const failures: string[] = [];
      for (const testCase of cases) {
        const reply = await t.request(testCase.method, testCase.path, { headers: testCase.headers, ...(testCase.body !== undefined ? { rawBody: testCase.body } : {}) });
        const failure = judge(testCase, reply);
        if (failure) failures.push(`${testCase.id}: ${failure}`);
      }
      expect(failures).toEqual([]);
      expect(await state()).toBe(baseline);
    });

    it('refuses invalid JSON, wrong content types and oversized bodies on every route that reads one', async () => {
      const cases: Case[] = [];
      for (const route of routes.filter((candidate) => candidate.method !== 'GET')) {
        for (const [index, body] of ['{"a": ', '{', "{'single': 'quotes'}", 'NaN', '{"a": 1}}', '\u00ff\u00fe', '{"a": undefined}', '[1, 2,]'].entries()) {
          cases.push(jsonCase(route, `layer:invalid-json#${index}`, body));
        }
        for (const contentType of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=sweep', 'application/xml', 'text/json']) {
          cases.push({ ...jsonCase(route, `layer:content-type ${contentType}`, JSON.stringify(example(route))), headers: { ...baseHeaders(route), 'content-type': contentType } });
        }
        const limit = bodyLimits[route.name] ?? bodyBytesMax;
        const oversized = `{"pad":"${'x'.repeat(limit + 1)}"}`;
        cases.push({ ...jsonCase(route, 'layer:oversized', oversized), status: 413 });
      }
      expect(await sweep(cases)).toEqual([]);
      // Without Content-Length (chunked), the limit holds while reading.
      const failures: string[] = [];
      for (const route of routes.filter((candidate) => candidate.method !== 'GET' && !bodyLimits[candidate.name])) {
        const raw = await rawHttp(t.url, route.method, pathWith(route), { headers: { ...baseHeaders(route), 'content-type': 'application/json', 'transfer-encoding': 'chunked' }, chunks: Array.from({ length: 5 }, () => Buffer.alloc(1_024, 0x20)) });
        if ('error' in raw) failures.push(`${route.name} chunked: ${raw.error}`);
        else if (raw.status !== 413 || problemDefect(asReply(raw))) failures.push(`${route.name} chunked: ${raw.status}`);
      }
      expect(failures).toEqual([]);
      expect(await state()).toBe(baseline);
    });

    it('refuses bodies of the wrong shape: wrong types, unknown fields, missing required fields, bad patterns', async () => {
      const cases: Case[] = [];
      for (const route of routes.filter((candidate) => candidate.op.requestBody)) {
        const schema = route.op.requestBody!.content['application/json']!.schema;
        const valid = example(route);
        for (const body of ['[]', '42', '"text"', 'true', '[{}]']) cases.push(jsonCase(route, `body:top-level ${body}`, body));
        cases.push(jsonCase(route, 'body:unknown field', JSON.stringify({ ...valid, zz_unknown_field: 1 })));
        cases.push(jsonCase(route, 'body:prototype pollution', `{"__proto__": {"admin": true}, ${JSON.stringify(valid).slice(1, -1) || '"zz": 1'}}`));
        for (const name of schema.required ?? []) {
          const rest = { ...valid };
          delete rest[name];
          cases.push(jsonCase(route, `body:missing ${name}`, JSON.stringify(rest)));
        }
        for (const [name, property] of Object.entries(schema.properties ?? {})) {
          cases.push(jsonCase(route, `body:wrong type ${name}`, JSON.stringify({ ...valid, [name]: wrongTypeFor(property) })));
          const stringSchema = property.type === 'array' ? property.items : property;
          const wrap = (value: string) => (property.type === 'array' ? [value] : value);
          if (stringSchema?.pattern) {
            const pattern = new RegExp(stringSchema.pattern, 'u');
            for (const [index, value] of [...injection, '🎟️', 'a\nb'].entries()) {
              if (!pattern.test(value)) cases.push(jsonCase(route, `body:pattern ${name}#${index}`, JSON.stringify({ ...valid, [name]: wrap(value) })));
            }
          }
          if (stringSchema?.maxLength !== undefined) cases.push(jsonCase(route, `body:too long ${name}`, JSON.stringify({ ...valid, [name]: wrap('x'.repeat(stringSchema.maxLength + 1)) })));
        }
      }
      expect(cases.length).toBeGreaterThan(50);
      expect(await sweep(cases)).toEqual([]);
      expect(await state()).toBe(baseline);
    });

    it('answers every refusal with a code the route documents', () => {
      // Filled by the sweeps above; a code outside the route's documented errors is a doc or code bug.
      expect([...undocumented].filter((entry) => !knownUndocumented(entry))).toEqual([]);
    });

    describe('socket events', () => {
      type EventName = keyof ClientToServerEvents;
      // `satisfies` makes tsc fail here when a client event is added to ClientToServerEvents:
      // add it to this list (and a valid payload below) so the sweep covers it.
      const events = { 'show:watch': true, 'show:unwatch': true, hold: true, release: true, extend: true, 'queue:join': true, 'waitlist:join': true } satisfies Record<EventName, true>;
      const eventNames = Object.keys(events) as EventName[];
      const connected = async (socket: TestSocket) => {
        if (socket.connected) return;
        await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
      };
      const disconnected = (socket: TestSocket, timeoutMs = 3_000) =>
        new Promise<string>((resolve, reject) => {
          if (socket.disconnected) return resolve('already');
          const timer = setTimeout(() => reject(new Error('the server kept a connection that sent garbage')), timeoutMs);
          socket.once('disconnect', (reason) => {
            clearTimeout(timer);
            resolve(reason);
          });
        });
      const healthy = async () => {
        expect((await t.request('GET', '/healthz')).status).toBe(200);
        const probe = await t.socket(fan);
        expect((await watch(probe, showId)).show_id).toBe(showId);
        probe.disconnect();
      };

      it('acks malformed payloads of every event with a problem and changes nothing', async () => {
        const socket = await t.socket(fan);
        const deep: Record<string, unknown> = {};
        let cursor = deep;
        for (let depth = 0; depth < 200; depth += 1) cursor = (cursor['next'] = {}) as Record<string, unknown>;
        const payloads: [string, unknown][] = [
          ['undefined', undefined], ['null', null], ['number', 42], ['string', 'x'], ['boolean', true], ['array', []], ['empty', {}],
          ['binary', new Uint8Array([1, 2, 3])], ['deep', deep], ['prototype', JSON.parse('{"__proto__": {"admin": true}}')],
          ...[...injection, 'x'.repeat(1_000), '🎟️ ünï', '\u0000', '../x'].flatMap((value, index): [string, unknown][] => [
            [`show_id#${index}`, { show_id: value, idempotency_key: randomUUID(), seat_ids: ['A:1:3'] }],
            [`hold_id#${index}`, { hold_id: value, idempotency_key: randomUUID() }],
          ]),
          ['show_id object', { show_id: { $ne: null }, idempotency_key: randomUUID(), seat_ids: ['A:1:3'] }],
          ['hold_id array', { hold_id: [holdId], idempotency_key: randomUUID() }],
          ['key wrong type', { show_id: showId, hold_id: holdId, idempotency_key: 12_345, seat_ids: ['A:1:3'] }],
          ['key injection', { show_id: showId, hold_id: holdId, idempotency_key: injection[0], seat_ids: ['A:1:3'] }],
          ['seats wrong type', { show_id: showId, idempotency_key: randomUUID(), seat_ids: 'A:1:3' }],
          ['seats injection', { show_id: showId, idempotency_key: randomUUID(), seat_ids: [injection[0]] }],
          ['unknown field', { show_id: showId, hold_id: holdId, idempotency_key: randomUUID(), seat_ids: ['A:1:3'], zz_unknown_field: 1 }],
        ];
        const failures: string[] = [];
        for (const event of eventNames) {
          for (const [name, payload] of payloads) {
            await connected(socket);
            let ack: Ack<unknown>;
            try {
              ack = await emitAck(socket, event, payload, 3_000);
            } catch (error) {
              failures.push(`${event} ${name}: ${String(error)}`);
              continue;
            }
            if (ack.ok) failures.push(`${event} ${name}: accepted`);
            else if (!(ack.error.status >= 400 && ack.error.status < 500) || !isResultCode(ack.error.code) || typeof ack.error.detail !== 'string') failures.push(`${event} ${name}: ${ack.error.status} ${ack.error.code}`);
          }
        }
        expect(failures).toEqual([]);
        expect(socket.connected).toBe(true);
        socket.disconnect();
        expect(await state()).toBe(baseline);
      });

      it('ignores events without an ack function: no reply, no change, no crash', async () => {
        const socket = await t.socket(fan);
        const valid: Record<EventName, unknown> = {
          'show:watch': { show_id: showId },
          'show:unwatch': { show_id: showId },
          hold: { show_id: showId, idempotency_key: randomUUID(), seat_ids: ['A:1:3'] },
          release: { hold_id: holdId, idempotency_key: randomUUID() },
          extend: { hold_id: holdId, idempotency_key: randomUUID() },
          'queue:join': { show_id: showId },
          'waitlist:join': { show_id: showId, idempotency_key: randomUUID(), party_size: 2 },
        };
        for (const event of eventNames) {
          emitNoAck(socket, event, valid[event]);
          emitNoAck(socket, event);
          emitNoAck(socket, event, valid[event], 'not-a-function');
        }
        (socket as unknown as { emit(event: string, ...args: unknown[]): void }).emit('no-such-event', { show_id: showId }, () => undefined);
        await sleep(300);
        expect(socket.connected).toBe(true);
        // The same connection still works, and the ack-less hold, release and extend did nothing.
        expect((await watch(socket, showId)).show_id).toBe(showId);
        socket.disconnect();
        expect(await state()).toBe(baseline);
        await healthy();
      });

      it('drops a connection that sends garbage frames, and stays up for everyone else', async () => {
        const frames: [string, (socket: TestSocket) => void][] = [
          ['invalid msgpack', (socket) => socket.io.engine.write(Buffer.from([0xc1, 0xff, 0x00, 0x13]))],
          ['text frame', (socket) => socket.io.engine.write('this is not msgpack')],
          ['not a packet', (socket) => socket.io.engine.write(pack({ type: 2, nsp: '/', data: 'not-an-array' }))],
          ['unknown packet type', (socket) => socket.io.engine.write(pack({ type: 99, nsp: '/' }))],
          ['raw engine.io garbage', (socket) => (socket.io.engine.transport as unknown as { ws: { send(data: string | Uint8Array): void } }).ws.send('zz\u0000garbage')],
          ['raw random bytes', (socket) => (socket.io.engine.transport as unknown as { ws: { send(data: string | Uint8Array): void } }).ws.send(Uint8Array.from({ length: 64 }, (_, index) => (index * 37 + 11) % 256))],
          ['oversized frame', (socket) => socket.io.engine.write(Buffer.alloc(bodyBytesMax * 4, 0x91))],
        ];
        for (const [name, send] of frames) {
          const socket = await t.socket(fan);
          const bystander = await t.socket();
          await watch(bystander, showId);
          const gone = disconnected(socket);
          send(socket);
          expect({ name, dropped: Boolean(await gone.catch((error: unknown) => { throw new Error(`${name}: ${String(error)}`); })) }).toEqual({ name, dropped: true });
          expect({ name, bystander: bystander.connected }).toEqual({ name, bystander: true });
          bystander.disconnect();
        }
        // A well-formed packet for an unknown namespace or event is refused or ignored, not fatal.
        const socket = await t.socket(fan);
        socket.io.engine.write(pack({ type: 0, nsp: '/admin' }));
        socket.io.engine.write(pack({ type: 2, nsp: '/', data: ['no-such-event', 1], id: 7 }));
        await sleep(200);
        socket.disconnect();
        await healthy();
        expect(await state()).toBe(baseline);
      });
    });

    // ---------------------------------------------------------------------------------------
    // Regressions for bugs these sweeps found; they run last because, when broken, they change state.

    it('regression: a NUL byte (%00) in a path parameter is answered 500 — fixed: a 4xx', async () => {
      const cases: Case[] = routes.flatMap((route) =>
        [...route.path.matchAll(/\{(\w+)\}/g)].map((match): Case => ({
          id: `${route.name} path:${match[1]}=a%00b`, route, method: route.method, path: pathWith(route, { [match[1]!]: 'shw-a%00b' }),
          headers: { ...baseHeaders(route), 'content-type': 'application/json' }, ...(route.method === 'GET' || route.method === 'DELETE' ? {} : { body: JSON.stringify(example(route)) }), mustRefuse: true,
        })),
      );
      expect(await sweep(cases)).toEqual([]);
    });

    it('regression: a NUL byte in a query value (city, performer) is answered 500 — fixed: a 4xx or an empty result', async () => {
      const cases: Case[] = routes.flatMap((route) =>
        route.op.parameters.filter((parameter) => parameter.in === 'query').map((parameter): Case => ({
          id: `${route.name} query:${parameter.name}=a%00b`, route, method: route.method, path: `${pathWith(route)}?${parameter.name}=a%00b`, headers: baseHeaders(route), mustRefuse: false,
        })),
      );
      expect(await sweep(cases)).toEqual([]);
    });

    it('regression: a NUL character in a JSON string field (venue name, room type name, …) is answered 500 — fixed: 400', async () => {
      const cases: Case[] = [];
      for (const route of routes.filter((candidate) => candidate.op.requestBody)) {
        const schema = route.op.requestBody!.content['application/json']!.schema;
        for (const [name, property] of Object.entries(schema.properties ?? {})) {
          if (property.type === 'string') cases.push(jsonCase(route, `body:NUL in ${name}`, JSON.stringify({ ...example(route), [name]: 'a\u0000b' }), { mustRefuse: false }));
        }
      }
      cases.push(jsonCase(routes.find((route) => route.name === 'POST /v1/venues')!, 'body:NUL in room type name', JSON.stringify({ name: 'Nul Inn', city: 'Nulltown', kind: 'hotel', room_types: [{ id: 'r', name: 'R\u0000', rooms: 1, price_cents: 1 }] }), { mustRefuse: false }));
      expect(await sweep(cases)).toEqual([]);
    });

    it('POST /v1/holds/{id}/extend accepts any body (documented strictObject({})) and extends the hold', async () => {
      const extend = routes.find((route) => route.name === 'POST /v1/holds/{id}/extend')!;
      const cases = ['{"zz_unknown_field": 1}', '[]', '42'].map((body) => jsonCase(extend, `body:${body}`, body));
      const failures: string[] = [];
      for (const testCase of cases) {
        const failure = judge(testCase, await send(testCase));
        if (failure) failures.push(`${testCase.id}: ${failure}`);
      }
      expect(failures).toEqual([]);
    });

    it('/openapi.json does not document 413 payload_too_large on routes that read a body (only the organizer routes list it)', () => {
      const missing = routes.filter((route) => route.method !== 'GET' && !documentedCodes(route).has('payload_too_large')).map((route) => route.name);
      expect(missing).toEqual([]);
    });

    it('a JSON null body is taken for "no body" by POST /v1/sessions (and other `body ?? {}` routes) instead of refused', async () => {
      const failures: string[] = [];
      for (const route of routes.filter((candidate) => candidate.op.requestBody)) {
        const testCase = jsonCase(route, 'body:null', 'null');
        const failure = judge(testCase, await send(testCase));
        if (failure) failures.push(`${testCase.id}: ${failure}`);
      }
      expect(failures).toEqual([]);
    });

    it('regression: a request to an unknown path or with an unsupported method gets no answer (connection closed) — fixed: 404/405 problem+json', async () => {
      const failures: string[] = [];
      for (const [method, path] of [['GET', '/v1/no-such-route'], ['GET', '/no-such-page'], ['DELETE', '/'], ['PUT', '/v1/sessions'], ['PATCH', `/v1/shows/${showId}`], ['POST', '/healthz']] as const) {
        const raw = await rawHttp(t.url, method, path, { headers: { 'content-type': 'application/json' }, body: '{}' });
        if ('error' in raw) failures.push(`${method} ${path}: ${raw.error}`);
        else if (![404, 405].includes(raw.status) || problemDefect(asReply(raw))) failures.push(`${method} ${path}: ${raw.status}`);
      }
      expect(failures).toEqual([]);
    });

    it('keeps serving after all of the above', async () => {
      expect((await t.request('GET', '/healthz')).status).toBe(200);
      await eventually(async () => (await t.request('GET', '/readyz')).status === 200, 2_000, 'readyz');
    });
  });
}

/**
 * Input that may kill the process is sent to a server in a child process (the database does not
 * matter here: the request never reaches it).
 */
/**
 * Starts the child server at once, so its start (a process, tsx, an embedded database) overlaps
 * the sweeps above instead of following them.
 */
function startChildServer(): { child: ChildProcess; url: Promise<string> } {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./fixtures/child-server.ts', import.meta.url))], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env } });
  const url = new Promise<string>((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`child server did not start: ${output}`)), 60_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const line = output.split('\n').find((candidate) => candidate.startsWith('{'));
      if (line) {
        clearTimeout(timer);
        resolve((JSON.parse(line) as { url: string }).url);
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`child server exited with ${String(code)}: ${output}`));
    });
  });
  url.catch(() => undefined);
  return { child, url };
}

const childServer = startChildServer();

describe('a malformed percent-encoding in a path (child process server)', () => {
  const { child } = childServer;
  let url = '';

  beforeAll(async () => {
    url = await childServer.url;
  }, 60_000);
  afterAll(async () => {
    child.stdin?.end();
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  });

  it('answers a well-formed request (the child server works)', async () => {
    const raw = await rawHttp(url, 'GET', '/v1/events/evt-missing');
    expect('error' in raw ? raw.error : raw.status).toBe(404);
  });

  it('GET /v1/events/%E0%A4%A (any route with a path parameter) throws URIError in the uWS handler and kills the process', async () => {
    const raw = await rawHttp(url, 'GET', '/v1/events/%E0%A4%A');
    await sleep(300);
    expect({ exited: child.exitCode !== null || child.signalCode !== null }).toEqual({ exited: false });
    expect('error' in raw ? raw.error : raw.status).toBe(400);
    expect(problemDefect(asReply(raw as RawReply))).toBeNull();
    expect((await rawHttp(url, 'GET', '/healthz')) as RawReply).toMatchObject({ status: 200 });
  });
});
