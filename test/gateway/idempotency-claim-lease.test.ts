import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fingerprintOf } from '../../src/actors/idempotency.js';
import { HttpIdempotency } from '../../src/gateway/http/http-idempotency.js';
import type { HttpRequest } from '../../src/gateway/http/uws-http.js';
import type { SqlDatabase } from '../../src/persistence/database.js';
import { databaseKinds } from '../support/databases.js';

/**
 * A process killed in the middle of a REST call leaves its Idempotency-Key claimed with no reply.
 * Found by the kill -9 faults: every retry with that key waited and was told "in progress", for
 * good. Past the claim lease, the same request takes the claim over and runs; another request
 * with the key is still refused, and a claim inside its lease is still "in progress".
 */
function request(key: string, body: unknown): HttpRequest {
  return { method: 'post', url: '/v1/orders', route: '/v1/orders', params: {}, query: new URLSearchParams(), headers: { 'idempotency-key': key }, ip: '127.0.0.1', body, rawBody: Buffer.from(JSON.stringify(body)) };
}

for (const kind of databaseKinds) {
  describe.skipIf(!kind.available)(`abandoned Idempotency-Key claims (${kind.name})`, () => {
    let db: SqlDatabase;
    beforeAll(async () => {
      db = await kind.open();
    });
    afterAll(async () => db?.close());

    /** A claim as a killed process leaves it: taken `ageS` seconds ago, no reply. */
    const abandonedClaim = async (key: string, body: unknown, ageS: number): Promise<void> => {
      const fingerprint = fingerprintOf({ operation: 'create_order', params: {}, body });
      await db.query(`insert into http_idempotency (scope, idempotency_key, operation, fingerprint, created_at) values ('fan-1', $1, 'create_order', $2, now() - make_interval(secs => $3))`, [key, fingerprint, ageS]);
    };

    it('past the lease, the same request takes the claim over, runs once and stores its reply', async () => {
      const idempotency = new HttpIdempotency(db, 200, 30_000);
      const body = { hold_id: 'shw-x.h1' };
      await abandonedClaim('killed-mid-request-0001', body, 120);
      let runs = 0;
      const work = async () => ({ status: 201, body: { order_id: `ord-${(runs += 1)}` } });
      const first = await idempotency.run('fan-1', 'create_order', request('killed-mid-request-0001', body), work);
      expect(first).toMatchObject({ status: 201, body: { order_id: 'ord-1' } });
      const again = await idempotency.run('fan-1', 'create_order', request('killed-mid-request-0001', body), work);
      expect(again).toMatchObject({ status: 201, body: { order_id: 'ord-1' } });
      expect(runs).toBe(1);
    });

    it('inside the lease the key is still "in progress", and another body is still refused', async () => {
      const idempotency = new HttpIdempotency(db, 200, 30_000);
      const body = { hold_id: 'shw-x.h2' };
      await abandonedClaim('still-running-key-0001', body, 5);
      const work = async () => ({ status: 201, body: {} });
      await expect(idempotency.run('fan-1', 'create_order', request('still-running-key-0001', body), work)).rejects.toMatchObject({ code: 'request_in_progress' });
      await abandonedClaim('old-other-body-key-001', body, 120);
      await expect(idempotency.run('fan-1', 'create_order', request('old-other-body-key-001', { hold_id: 'shw-x.other' }), work)).rejects.toMatchObject({ code: 'idempotency_key_reused' });
    });
  });
}
