/**
 * Slow clients and connection floods (127.0.0.1, bounded). Slowloris connections — a request
 * line and headers dripped a line at a time, a body dripped a byte at a time, a connection
 * that never says anything — are cut off by the server (uWebSockets.js closes HTTP connections
 * idle ~10 s; a drip does not keep them alive), while everyone else is served meanwhile. A
 * flood of raw TCP connections and socket.io clients does not stop the server answering.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseKinds } from '../support/databases.js';
import type { TestSocket } from '../support/server.js';
import { FigureCounter, recordFigures } from './support/figures.js';
import { byLevel } from './support/level.js';
import { startHostileWorld, type HostileWorld } from './support/hostile-world.js';

const figures = new FigureCounter();
afterAll(() => recordFigures('hostile-slow-clients', figures.snapshot()));

/** uWS's fixed HTTP idle timeout is 10 s, checked every few seconds: allow for that, never forever. */
const cutOffWithinMs = 16_000;

/** Opens a connection, runs `drip` on it every `everyMs`, and resolves with how long until the server closed it. */
function slowClient(port: number, opening: string, drip: string | null, everyMs: number): Promise<{ closedAfterMs: number; answer: string }> {
  return new Promise((resolve) => {
    const startedMs = performance.now();
    const socket = net.connect(port, '127.0.0.1');
    let answer = '';
    let timer: NodeJS.Timeout | undefined;
    socket.on('connect', () => {
      if (opening) socket.write(opening);
      if (drip !== null) timer = setInterval(() => socket.writable && socket.write(drip), everyMs);
    });
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('utf8')));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ closedAfterMs: performance.now() - startedMs, answer });
    });
    // The test's own bound: a connection still open by then is a failure, and is closed here.
    setTimeout(() => socket.destroy(), cutOffWithinMs + 4_000).unref();
  });
}

const [pglite] = databaseKinds;

describe('slow clients are cut off and floods do not stop the server', () => {
  let world: HostileWorld;
  let port = 0;
  let baseline: Record<string, unknown> = {};

  beforeAll(async () => {
    world = await startHostileWorld(pglite!);
    port = Number(new URL(world.t.url).port);
    baseline = await world.audit();
  });
  afterAll(async () => world?.t.close());

  it('closes slowloris connections (dripped headers, dripped body, silence) while serving others', async () => {
    const slow = [
      slowClient(port, 'GET /healthz HTTP/1.1\r\nHost: x\r\n', 'X-Drip: 1\r\n', 1_000),
      slowClient(port, 'GET /v1/events HTTP/1.1\r\n', 'X-Drip: 2\r\n', 2_000),
      slowClient(port, `POST /v1/sessions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 60000\r\n\r\n{"user_id":"`, 'a', 500),
      slowClient(port, `POST /v1/shows/${world.showId}/holds HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${world.mallory.token}\r\nContent-Type: application/json\r\nIdempotency-Key: slow-key-12345678\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n{\r\n`, '1\r\n \r\n', 1_000),
      slowClient(port, '', null, 0),
      slowClient(port, 'G', 'E', 1_500),
    ];
    figures.add('slow_clients_opened', slow.length);
    // Meanwhile the server answers everyone else at once.
    for (let index = 0; index < 5; index += 1) {
      expect((await world.t.request('GET', '/healthz')).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const results = await Promise.all(slow);
    figures.add('slow_clients_cut_off', results.filter((result) => result.closedAfterMs < cutOffWithinMs).length);
    expect(results.map((result) => result.closedAfterMs < cutOffWithinMs)).toEqual(results.map(() => true));
    // None of them got a success: at most a refusal before the cut.
    for (const result of results) expect(result.answer).not.toMatch(/^HTTP\/1\.1 2/);
  }, 40_000);

  it('keeps answering through a flood of connections, then holds still work', async () => {
    const rawCount = byLevel(400, 2_000);
    const socketCount = byLevel(100, 500);
    const raw = await Promise.all(Array.from({ length: rawCount }, () => new Promise<net.Socket>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => resolve(socket));
      socket.on('error', () => resolve(socket));
    })));
    const sockets: TestSocket[] = [];
    for (let index = 0; index < socketCount; index += 20) {
      sockets.push(...(await Promise.all(Array.from({ length: Math.min(20, socketCount - index) }, () => world.t.socket()))));
    }
    figures.add('flood_connections_opened', rawCount + socketCount);
    const during = await world.t.request('GET', `/v1/shows/${world.showId}/availability`);
    expect(during.status).toBe(200);
    const hold = await world.t.request('POST', `/v1/shows/${world.showId}/holds`, { token: world.mallory.token, body: { seat_ids: ['B:AA:7', 'B:AA:8'] }, headers: { 'idempotency-key': 'flood-hold-12345678' } });
    expect(hold.status).toBe(201);
    const release = await world.t.request('DELETE', `/v1/holds/${(hold.body as { hold_id: string }).hold_id}`, { token: world.mallory.token });
    expect(release.status).toBe(200);
    for (const socket of raw) socket.destroy();
    for (const socket of sockets) socket.disconnect();
    expect((await world.t.request('GET', '/healthz')).status).toBe(200);
  }, 60_000);

  it('afterwards: nothing changed but the one hold placed and released on purpose', async () => {
    const after = await world.audit();
    // The journal, outbox and seat-map version moved for the purposeful hold; everything else must not.
    const changed = Object.keys(baseline).filter((key) => baseline[key] !== after[key] && !['journal_version', 'journal_rows', 'outbox', 'availability'].includes(key));
    figures.add('slow_state_changes_by_refused_requests', changed.length);
    expect(changed).toEqual([]);
    // The purposeful hold and release: two events, nothing from the slow clients.
    expect(Number(after['journal_version']) - Number(baseline['journal_version'])).toBe(2);
  });
});
