import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { keepAliveFetch, type KeepAliveFetch } from '../../load/client/keep-alive-fetch.js';
import { onStop, pause } from '../../load/scenarios/fan-actions.js';

describe("the load generator's keep-alive fetch", () => {
  let server: http.Server | undefined;
  let pool: KeepAliveFetch | undefined;
  afterEach(async () => {
    pool?.close();
    await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  });

  async function slowServer(delayMs: number): Promise<{ url: string; connections: () => number; received: string[] }> {
    let connections = 0;
    const received: string[] = [];
    server = http.createServer((request, response) => {
      received.push(request.url ?? '');
      setTimeout(() => {
        response.end(request.url);
      }, delayMs);
    });
    server.on('connection', () => (connections += 1));
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return { url: `http://127.0.0.1:${port}`, connections: () => connections, received };
  }

  it('drops requests aborted while waiting for a connection without reconnecting, and serves the rest in order', async () => {
    const target = await slowServer(200);
    pool = keepAliveFetch(2);
    const results: string[] = [];
    const aborts = new Map<number, AbortController>();
    const calls = Array.from({ length: 10 }, (_, index) => {
      // Every odd request gives up once requests 0 and 1 are on the server: 3, 5, 7 and 9 are then
      // still waiting for one of the two connections.
      const abort = index % 2 === 1 ? new AbortController() : undefined;
      if (abort) aborts.set(index, abort);
      return pool!.fetch(`${target.url}/${index}`, { method: 'GET', headers: {}, ...(abort ? { signal: abort.signal } : {}) })
        .then(async (response) => results.push(await response.text()))
        .catch((error: Error) => results.push(error.name));
    });
    expect(pool.queued()).toBe(8);
    while (target.received.length < 2) await new Promise((resolve) => setTimeout(resolve, 1));
    expect(target.received.sort()).toEqual(['/0', '/1']);
    for (const abort of aborts.values()) abort.abort();
    await Promise.all(calls);
    // Request 1 was on the wire (its abort closes that connection, as a phone's would);
    // requests 3, 5, 7 and 9 were dropped while queued and never sent.
    expect(results.filter((result) => result === 'AbortError')).toHaveLength(5);
    expect(results.filter((result) => result.startsWith('/')).sort()).toEqual(['/0', '/2', '/4', '/6', '/8']);
    expect(target.connections()).toBe(3);
    expect(target.received.sort()).toEqual(['/0', '/1', '/2', '/4', '/6', '/8']);
    expect(pool.queued()).toBe(0);
  });

  it('pauses wake on the stop signal, and a finished pause leaves nothing registered', async () => {
    const stop = new AbortController();
    const woken: string[] = [];
    const unsubscribe = onStop(stop.signal, () => woken.push('unsubscribed'));
    unsubscribe();
    await pause(5, stop.signal);
    const long = pause(60_000, stop.signal).then(() => woken.push('long'));
    onStop(stop.signal, () => woken.push('listener'));
    stop.abort();
    await long;
    expect(woken.sort()).toEqual(['listener', 'long']);
    let late = false;
    onStop(stop.signal, () => (late = true));
    expect(late).toBe(true);
  });
});
