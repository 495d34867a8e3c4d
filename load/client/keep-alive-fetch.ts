/**
 * The SDK's `fetch` for a load worker: node:http over one keep-alive Agent per worker process,
 * so thousands of simulated fans share a bounded number of TCP connections (the global fetch
 * would open one per concurrent request, and this Node has no public undici to bound it).
 * Requests beyond the pool wait in the Agent's queue; one whose attempt times out there is dropped
 * unsent and costs no connection (test/load/keep-alive-fetch.test.ts), while one aborted on the
 * wire closes its connection, as a phone's would.
 */
import http from 'node:http';
import type { FetchLike, FetchResponseLike } from '../../client-sdk/src/http.js';

export interface KeepAliveFetch {
  fetch: FetchLike;
  /** Requests waiting for a free connection right now (the generator's own queue). */
  queued(): number;
  close(): void;
}

/** `localAddress`: the source address of every connection (a loopback alias, see load/worker.ts). */
export function keepAliveFetch(maxSockets: number, localAddress?: string): KeepAliveFetch {
  const agent = new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets, scheduling: 'fifo', ...(localAddress ? { localAddress } : {}) });
  const fetch: FetchLike = (url, init) =>
    new Promise<FetchResponseLike>((resolve, reject) => {
      const headers: Record<string, string | number> = { ...init.headers };
      if (init.body !== undefined) headers['content-length'] = Buffer.byteLength(init.body);
      const request = http.request(url, { method: init.method, headers, agent, ...(init.signal ? { signal: init.signal } : {}) }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({
            status: response.statusCode ?? 0,
            headers: {
              get: (name) => {
                const value = response.headers[name.toLowerCase()];
                return value === undefined ? null : Array.isArray(value) ? value.join(', ') : String(value);
              },
            },
            text: () => Promise.resolve(text),
          });
        });
      });
      request.on('error', reject);
      request.end(init.body);
    });
  return {
    fetch,
    queued: () => Object.values(agent.requests).reduce((sum, list) => sum + (list?.length ?? 0), 0),
    close: () => agent.destroy(),
  };
}
