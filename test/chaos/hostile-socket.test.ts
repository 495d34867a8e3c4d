/**
 * A fast-check fuzzer over every socket event a client may send (src/protocol/socket-events.ts):
 * random values, valid payloads with type-confused, injection-shaped, oversized or unknown
 * fields, junk idempotency keys and another fan's hold ids. Each ack must be a refusal with a
 * 4xx code of the catalog (or a harmless ok for show:unwatch, which changes nothing); forged
 * and expired handshake tokens are refused at connect. Afterwards the database audit shows no
 * change, the server is healthy, and its log holds no token.
 */
import fc from 'fast-check';
import { randomUUID } from 'node:crypto';
import { io } from 'socket.io-client';
import * as msgpackParser from '../../src/protocol/msgpack-parser.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isResultCode } from '../../src/protocol/result-codes.js';
import type { ClientToServerEvents } from '../../src/protocol/socket-events.js';
import { emitAck } from '../gateway/gateway-helpers.js';
import { databaseKinds } from '../support/databases.js';
import type { TestSocket } from '../support/server.js';
import { FigureCounter, recordFigures } from './support/figures.js';
import { hostileString, injectionStrings, typeConfused } from './support/hostile-values.js';
import { byLevel } from './support/level.js';
import { secretsInLog, startHostileWorld, type HostileWorld } from './support/hostile-world.js';

/**
 * Connects with `token` and says how the server answered: 'connected', 'unauthorized' (a
 * connect_error with the 401 problem), or 'dropped' (closed without an answer: a handshake
 * bigger than the frame limit).
 */
function handshake(url: string, token: string): Promise<string> {
  return new Promise((resolve) => {
    const client = io(url, { transports: ['websocket'], parser: msgpackParser, auth: { token }, reconnection: false, forceNew: true, timeout: 5_000 });
    const done = (outcome: string): void => {
      client.disconnect();
      resolve(outcome);
    };
    client.once('connect', () => done('connected'));
    client.once('disconnect', () => done('dropped'));
    client.once('connect_error', (error) => {
      const data = (error as { data?: { code?: string; status?: number } }).data;
      done(data?.code === 'unauthorized' && data.status === 401 ? 'unauthorized' : data ? `refused ${JSON.stringify(data)}` : 'dropped');
    });
  });
}

const figures = new FigureCounter();
afterAll(() => recordFigures('hostile-socket', figures.snapshot()));

type EventName = keyof ClientToServerEvents;
// `satisfies` makes tsc fail here when a client event is added: add it (and a payload below).
const events = { 'show:watch': true, 'show:unwatch': true, hold: true, release: true, extend: true, 'queue:join': true, 'waitlist:join': true } satisfies Record<EventName, true>;
/** Events whose ok answer to a well-formed payload changes nothing (unwatching a show one does not watch). */
const harmlessOk = new Set<EventName>(['show:unwatch']);

for (const kind of databaseKinds) {
  describe.skipIf(!kind.available)(`hostile socket events are refused and change nothing (${kind.name})`, () => {
    let world: HostileWorld;
    let baseline: Record<string, unknown> = {};
    let socket: TestSocket;

    beforeAll(async () => {
      world = await startHostileWorld(kind);
      baseline = await world.audit();
    });
    afterAll(async () => world?.t.close());

    /** Payloads that must be refused: mallory's, built around alice's things. */
    const payloadFor = (event: EventName): fc.Arbitrary<unknown> => {
      const { showId, alice } = world;
      const valid: Record<EventName, Record<string, unknown>> = {
        'show:watch': { show_id: showId },
        'show:unwatch': { show_id: showId },
        hold: { show_id: showId, idempotency_key: randomUUID(), seat_ids: ['A:1:1'] }, // alice holds A:1:1
        release: { hold_id: alice.holdId, idempotency_key: randomUUID() },
        extend: { hold_id: alice.holdId, idempotency_key: randomUUID() },
        'queue:join': { show_id: showId },
        'waitlist:join': { show_id: showId, idempotency_key: randomUUID(), party_size: 2 },
      };
      const field = fc.constantFrom(...Object.keys(valid[event]));
      // Within the frame limit: a bigger frame only drops the connection (test/gateway/errors.test.ts).
      const hostileField = hostileString.filter((value) => value.length < 1_500);
      return fc.oneof(
        fc.anything(),
        typeConfused(valid[event]),
        fc.tuple(field, hostileField).map(([name, value]) => ({ ...valid[event], [name]: value })),
        fc.tuple(field, fc.constantFrom(...injectionStrings)).map(([name, value]) => ({ ...valid[event], [name]: value })),
        fc.string({ minLength: 1, maxLength: 10 }).map((name) => ({ ...valid[event], [`zz_${name}`]: 1 })),
        fc.integer({ min: 200, max: 1_800 }).map((length) => ({ ...valid[event], show_id: 'x'.repeat(length), hold_id: 'y'.repeat(length) })),
      );
    };

    it('acks every malformed or foreign payload of every event with a 4xx refusal of the catalog', async () => {
      socket = await world.t.socket(world.mallory.token);
      const failures: string[] = [];
      for (const event of Object.keys(events) as EventName[]) {
        await fc.assert(
          fc.asyncProperty(payloadFor(event), async (payload) => {
            if (!socket.connected) socket = await world.t.socket(world.mallory.token);
            figures.add('socket_bad_inputs_tried');
            let ack;
            try {
              ack = await emitAck<unknown>(socket, event, payload, 5_000);
            } catch (error) {
              failures.push(`${event} ${JSON.stringify(payload)?.slice(0, 200)}: ${String(error)}`);
              return false;
            }
            if (ack.ok) {
              if (harmlessOk.has(event)) {
                figures.add('socket_harmless_ok');
                return true;
              }
              failures.push(`${event} ${JSON.stringify(payload)?.slice(0, 200)}: accepted`);
              return false;
            }
            const { status, code } = ack.error;
            if (status >= 400 && status < 500 && isResultCode(code)) {
              figures.add('socket_4xx_answered');
              return true;
            }
            if (status >= 500) figures.add('socket_5xx_answered');
            failures.push(`${event} ${JSON.stringify(payload)?.slice(0, 200)}: ${status} ${code}`);
            return false;
          }),
          { numRuns: byLevel(60, 600), seed: 5_151, endOnFailure: true },
        ).catch((error: unknown) => failures.push(`${event}: ${String(error).slice(0, 300)}`));
      }
      expect(failures).toEqual([]);
      expect(socket.connected).toBe(true);
      socket.disconnect();
    });

    it('refuses connections with forged, expired, foreign-secret and truncated tokens', async () => {
      const failures: string[] = [];
      const tokens = [...Object.values(world.badTokens), ...fc.sample(hostileString.filter((token) => token.trim() !== ''), { numRuns: byLevel(10, 100), seed: 3 })];
      for (const token of tokens) {
        figures.add('socket_bad_inputs_tried');
        const outcome = await handshake(world.t.url, token);
        if (outcome === 'unauthorized' || (outcome === 'dropped' && token.length > 4_000)) figures.add('socket_4xx_answered');
        else failures.push(`${token.slice(0, 40)} (${token.length} chars): ${outcome}`);
      }
      expect(failures).toEqual([]);
    });

    it('afterwards: the database shows no change, the server is healthy, the log holds no token or secret', async () => {
      const after = await world.audit();
      const changed = Object.keys(baseline).filter((key) => baseline[key] !== after[key]);
      figures.add('socket_state_changes_by_refused_requests', changed.length);
      expect(changed.map((key) => `${key}: ${String(baseline[key]).slice(0, 200)} → ${String(after[key]).slice(0, 200)}`)).toEqual([]);
      expect((await world.t.request('GET', '/healthz')).status).toBe(200);
      const leaked = secretsInLog(world);
      figures.add('secrets_found_in_logs', leaked.length);
      expect(leaked).toEqual([]);
    });
  });
}
