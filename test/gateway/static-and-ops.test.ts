import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CatalogService } from '../../src/catalog/catalog-service.js';
import type { OpsStatus } from '../../src/protocol/ops-schemas.js';
import { OpsStatusResponse } from '../../src/protocol/ops-schemas.js';
import { ensureWebBuilt } from '../browser/support/browser.js';
import { databaseKinds } from '../support/databases.js';
import { startTestServer, type TestServer } from '../support/server.js';

/** The built pages at /, /ops and /assets/*, and GET /v1/ops/status (what the ops page reads). */
for (const kind of databaseKinds) {
  describe.skipIf(!kind.available)(`web pages and ops status (${kind.name})`, () => {
    let t: TestServer;
    let showId = '';
    let queueShowId = '';

    beforeAll(async () => {
      await ensureWebBuilt();
      t = await startTestServer(kind, {}, {
        beforeListen: async (db) => {
          const catalog = new CatalogService(db);
          const venue = await catalog.createVenue({
            name: 'Ops Hall', city: 'Opsville', kind: 'arena',
            seat_map: { sections: [{ id: 'A', name: 'A', rows: [{ label: '1', seats: Array.from({ length: 10 }, (_, seat) => ({ label: String(seat + 1), x: seat, y: 0, tier: 'std' })) }] }], ga_areas: [] },
          });
          const event = await catalog.createEvent({ name: 'Ops Night', performer: 'The Operators', category: 'concert', venue_id: venue.id });
          const show = (room: boolean) => catalog.createShow(event.id, {
            starts_at: new Date(Date.now() + 30 * 86_400_000).toISOString(), on_sale_at: new Date(Date.now() - 60_000).toISOString(),
            price_tiers: [{ id: 'std', name: 'Standard', price_cents: 1_000 }],
            ...(room ? { waiting_room: { enabled: true, admission_rate_per_s: 5 } } : {}),
          });
          showId = (await show(false)).id;
          queueShowId = (await show(true)).id;
        },
      });
    });
    afterAll(async () => t?.close());

    it('serves the fan page and the ops page as revalidated HTML, and hashed assets as immutable', async () => {
      const page = await t.request('GET', '/');
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(page.headers.get('cache-control')).toBe('no-cache');
      const etag = page.headers.get('etag')!;
      expect(etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
      expect((await t.request('GET', '/', { headers: { 'if-none-match': etag } })).status).toBe(304);
      const ops = await t.request('GET', '/ops');
      expect(ops.status).toBe(200);
      expect(ops.text).toContain('Holdfast ops');
      const script = page.text.match(/src="(\/assets\/[^"]+\.js)"/)![1]!;
      const asset = await fetch(`${t.url}${script}`, { headers: { 'accept-encoding': 'gzip' } });
      expect(asset.status).toBe(200);
      expect(asset.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
      expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect((await asset.text()).length).toBeGreaterThan(10_000); // fetch undid the gzip
    });

    it('shadows nothing: API, health, metrics and socket.io still answer; unknown or escaping asset paths are 404 problems', async () => {
      expect((await t.request('GET', '/healthz')).body).toMatchObject({ status: 'ok' });
      expect((await t.request('GET', '/metrics')).text).toContain('holdfast_');
      expect((await t.request('GET', '/openapi.json')).body).toMatchObject({ openapi: '3.1.0' });
      expect((await t.request('GET', '/v1/nothing')).body).toMatchObject({ status: 404, code: 'not_found' });
      expect((await t.request('GET', '/socket.io/?EIO=4&transport=polling')).status).toBe(200);
      for (const path of ['/assets/missing-abc123.js', '/assets/..%2F..%2Fpackage.json', '/assets/../package.json']) {
        const response = await t.request('GET', path);
        expect(response.status, path).toBe(404);
        expect(response.headers.get('content-type')).toBe('application/problem+json');
        expect(response.text).not.toContain('"dependencies"');
      }
    });

    it('answers /v1/ops/status to the admin only, with live figures once fans hold seats', async () => {
      expect((await t.request('GET', '/v1/ops/status')).body).toMatchObject({ status: 401, code: 'unauthorized' });
      const fan = await t.session('ops-fan');
      expect((await t.request('GET', '/v1/ops/status', { token: fan })).body).toMatchObject({ status: 403, code: 'forbidden' });
      for (let index = 0; index < 3; index += 1) {
        const held = await t.request('POST', `/v1/shows/${showId}/holds`, { token: await t.session(`ops-fan-${index}`), headers: { 'idempotency-key': randomUUID() }, body: { best_available: { quantity: 1 } } });
        expect(held.status).toBe(201);
      }
      const response = await t.request('GET', '/v1/ops/status', { token: t.adminToken });
      expect(response.status).toBe(200);
      const status: OpsStatus = OpsStatusResponse.parse(response.body);
      expect(status.workers).toHaveLength(1);
      expect(status.workers[0]!.shows).toContain(showId);
      const show = status.shows.find((entry) => entry.show_id === showId)!;
      expect(show).toMatchObject({ active: true, owner_worker_id: status.workers[0]!.worker_id, active_holds: 3, items_available: 7, queue: null });
      expect(show.claims_per_s).toBeGreaterThan(0);
      expect(status.journal.batches_total).toBeGreaterThanOrEqual(3);
      expect(status.journal.commit_p50_ms).not.toBeNull();
      expect(status.journal.batch_size_p99).toBeGreaterThanOrEqual(1);
      expect(status.shows.find((entry) => entry.show_id === queueShowId)!.queue).toMatchObject({ enabled: true, paused: false, waiting: 0 });

      await t.request('POST', `/v1/ops/shows/${queueShowId}/queue`, { token: t.adminToken, body: { paused: true } });
      await t.request('POST', `/v1/shows/${queueShowId}/queue`, { token: fan, body: {} });
      const paused = OpsStatusResponse.parse((await t.request('GET', '/v1/ops/status', { token: t.adminToken })).body);
      expect(paused.shows.find((entry) => entry.show_id === queueShowId)!.queue).toMatchObject({ enabled: true, paused: true, waiting: 1 });
    });
  });
}
