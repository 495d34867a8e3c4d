import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseKinds } from '../support/databases.js';
import { startTestServer, type TestServer } from '../support/server.js';

/** Sends the headers and part of the body, then goes quiet; resolves with what the server sent back. */
function dripBody(url: string, path: string, token: string, sentBytes: number, declaredBytes: number): Promise<string> {
  const target = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(target.port), target.hostname, () => {
      socket.write(`POST ${path} HTTP/1.1\r\nhost: ${target.host}\r\nauthorization: Bearer ${token}\r\ncontent-type: application/json\r\nidempotency-key: slow-body-key-0001\r\ncontent-length: ${declaredBytes}\r\n\r\n`);
      socket.write('{'.padEnd(sentBytes, ' '));
    });
    let received = '';
    socket.on('data', (chunk) => (received += chunk.toString()));
    socket.on('close', () => resolve(received));
    socket.on('error', () => resolve(received));
    setTimeout(() => socket.destroy(), 8_000);
  });
}

describe('a request body that does not arrive in time', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer(databaseKinds[0]!, { HTTP_BODY_TIMEOUT_MS: '400' });
  });
  afterAll(async () => t?.close());

  it('is answered 408 request_timeout as a problem document, and the connection is closed', async () => {
    const token = await t.session('slow-fan');
    const startedAt = Date.now();
    const reply = await dripBody(t.url, '/v1/sessions', token, 10, 200);
    expect(reply).toMatch(/^HTTP\/1\.1 408/);
    expect(reply.toLowerCase()).toContain('application/problem+json');
    expect(reply).toContain('"code":"request_timeout"');
    expect(Date.now() - startedAt).toBeLessThan(5_000);
    // Others are still served.
    expect((await t.request('GET', '/healthz')).status).toBe(200);
  });
});
