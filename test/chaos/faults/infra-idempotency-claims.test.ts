/**
 * A REST call's Idempotency-Key must not be left claimed forever when the database fails the
 * claim's last write (a dropped connection, a restart). Found by the slow, connection-dropping
 * PostgreSQL proxy: keys of `create_order` and `confirm_payment` stayed "in progress", every retry
 * waited 15 s and was told to retry again, and under 1,000 fans those retries tied up the clients'
 * connections until payments stopped. Here the database itself is real; only the one statement
 * the fault hits fails, once, as a cut connection would fail it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpIdempotency } from '../../../src/gateway/http/http-idempotency.js';
import type { HttpRequest } from '../../../src/gateway/http/uws-http.js';
import { ApiError } from '../../../src/protocol/api-error.js';
import type { SqlDatabase } from '../../../src/persistence/database.js';
import { databaseKinds } from '../../support/databases.js';

/**
 * The database, except that the next statement starting with `prefix` fails with a connection
 * error: before it runs, or (`afterRunning`) once it has run and only its acknowledgement is lost.
 */
function failingOnce(db: SqlDatabase): { db: SqlDatabase; failNext(prefix: string, afterRunning?: boolean): void } {
  let failing: { prefix: string; afterRunning: boolean } | null = null;
  return {
    failNext(prefix, afterRunning = false) {
      failing = { prefix, afterRunning };
    },
    db: {
      ...db,
      async query<Row>(text: string, params?: unknown[]) {
        const fault = failing;
        if (fault === null || !text.trimStart().startsWith(fault.prefix)) return db.query<Row>(text, params);
        failing = null;
        if (fault.afterRunning) await db.query<Row>(text, params);
        throw new Error('Connection terminated unexpectedly');
      },
    },
  };
}

function request(key: string, body: unknown): HttpRequest {
  return { method: 'post', url: '/v1/orders', route: '/v1/orders', params: {}, query: new URLSearchParams(), headers: { 'idempotency-key': key }, ip: '127.0.0.1', body, rawBody: Buffer.from(JSON.stringify(body)) };
}

async function eventually<T>(attempt: () => Promise<T>, timeoutMs = 8_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

for (const kind of databaseKinds) {
  describe.skipIf(!kind.available)(`idempotency claims survive a failed last write (${kind.name})`, () => {
    let base: SqlDatabase;
    beforeAll(async () => {
      base = await kind.open();
    });
    afterAll(async () => base?.close());

    it('the work succeeded but storing its reply failed: the caller gets the reply, and a retry gets the same one', async () => {
      const faulty = failingOnce(base);
      const idempotency = new HttpIdempotency(faulty.db, 1_000);
      let runs = 0;
      const work = async () => {
        runs += 1;
        faulty.failNext('update http_idempotency');
        return { status: 201, body: { order_id: 'ord_1' } };
      };
      const first = await idempotency.run('fan-1', 'create_order', request('key-0001-first', { hold_id: 'h1' }), work);
      expect(first).toMatchObject({ status: 201, body: { order_id: 'ord_1' } });
      const retry = await eventually(() => idempotency.run('fan-1', 'create_order', request('key-0001-first', { hold_id: 'h1' }), work));
      expect(retry).toMatchObject({ status: 201, body: { order_id: 'ord_1' } });
      expect(runs).toBe(1);
    });

    it('the work failed and freeing the key failed: a retry with the key runs the work again', async () => {
      const faulty = failingOnce(base);
      const idempotency = new HttpIdempotency(faulty.db, 1_000);
      let runs = 0;
      const work = async () => {
        runs += 1;
        if (runs === 1) {
          faulty.failNext('delete from http_idempotency');
          throw new ApiError('commit_failed', 'the database went away');
        }
        return { status: 201, body: { order_id: 'ord_2' } };
      };
      await expect(idempotency.run('fan-2', 'create_order', request('key-0002-second', { hold_id: 'h2' }), work)).rejects.toMatchObject({ code: 'commit_failed' });
      const retry = await eventually(() => idempotency.run('fan-2', 'create_order', request('key-0002-second', { hold_id: 'h2' }), work));
      expect(retry).toMatchObject({ status: 201, body: { order_id: 'ord_2' } });
      expect(runs).toBe(2);
    });

    it('the claim landed but its acknowledgement was lost: a retry with the key runs the work', async () => {
      const faulty = failingOnce(base);
      const idempotency = new HttpIdempotency(faulty.db, 1_000);
      let runs = 0;
      const work = async () => {
        runs += 1;
        return { status: 201, body: { order_id: 'ord_3' } };
      };
      faulty.failNext('insert into http_idempotency', true);
      await expect(idempotency.run('fan-3', 'create_order', request('key-0003-third', { hold_id: 'h3' }), work)).rejects.toThrow('Connection terminated unexpectedly');
      const retry = await eventually(() => idempotency.run('fan-3', 'create_order', request('key-0003-third', { hold_id: 'h3' }), work));
      expect(retry).toMatchObject({ status: 201, body: { order_id: 'ord_3' } });
      expect(runs).toBe(1);
    });
  });
}
