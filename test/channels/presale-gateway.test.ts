import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseKinds } from '../support/databases.js';
import { startTestServer, type TestServer } from '../support/server.js';

for (const kind of databaseKinds) {
  describe.skipIf(!kind.available)(`presale channels over HTTP (${kind.name})`, () => {
    let t: TestServer;
    let showId = '';
    const offset = { ms: 0 };
    const clock = { nowMs: () => Date.now() + offset.ms };
    const admin = (path: string, body: unknown) => t.request('POST', path, { token: t.adminToken, body, headers: { 'idempotency-key': randomUUID() } });

    beforeAll(async () => {
      t = await startTestServer(kind, { RATE_LIMIT_USER_PER_S: '1000' }, { clock });
      const venue = await admin('/v1/venues', {
        name: 'Club', city: 'Presaleton', kind: 'arena',
        seat_map: { sections: [{ id: 'A', name: 'A', rows: [{ label: '1', seats: [1, 2, 3, 4, 5, 6].map((seat) => ({ label: String(seat), x: seat, y: 0, tier: 'std' })) }] }], ga_areas: [{ id: 'pit', name: 'Pit', capacity: 10, tier: 'std' }] },
      });
      const event = await admin('/v1/events', { name: 'Presale Night', performer: 'The Codes', category: 'concert', venue_id: (venue.body as { id: string }).id });
      const show = await admin(`/v1/events/${(event.body as { id: string }).id}/shows`, {
        starts_at: new Date(Date.now() + 30 * 86_400_000).toISOString(), on_sale_at: new Date(Date.now() - 60_000).toISOString(),
        max_holds_per_user: 5, price_tiers: [{ id: 'std', name: 'Standard', price_cents: 4_000 }],
        channels: [{ id: 'club', name: 'Fan club', key: 'CLUB-2026', seat_ids: ['A:1:1', 'A:1:2'], pools: [{ pool_id: 'pit', quantity: 6 }], release_at: new Date(Date.now() + 3_600_000).toISOString() }],
      });
      expect(show.status).toBe(201);
      expect(show.text).not.toContain('CLUB-2026');
      showId = (show.body as { id: string }).id;
    });
    afterAll(async () => t.close());

    it('holds channel inventory only with the key until release, then for everyone', async () => {
      const fan = await t.session('public-fan');
      const member = await t.session('club-member');
      const hold = (token: string, body: unknown) => t.request('POST', `/v1/shows/${showId}/holds`, { token, body, headers: { 'idempotency-key': randomUUID() } });
      expect((await hold(fan, { seat_ids: ['A:1:1', 'A:1:2'] })).body).toMatchObject({ code: 'channel_restricted', seats: ['A:1:1', 'A:1:2'] });
      expect((await hold(fan, { seat_ids: ['A:1:1', 'A:1:2'], channel_key: 'GUESS-0001' })).body).toMatchObject({ code: 'channel_key_invalid' });
      expect((await hold(fan, { ga: [{ section_id: 'pit', quantity: 5 }] })).body).toMatchObject({ code: 'pool_unavailable' });
      expect((await hold(member, { seat_ids: ['A:1:1', 'A:1:2'], channel_key: 'CLUB-2026' })).status).toBe(201);
      expect((await hold(member, { ga: [{ section_id: 'pit', quantity: 6 }], channel_key: 'CLUB-2026' })).status).toBe(201);
      expect((await hold(fan, { ga: [{ section_id: 'pit', quantity: 4 }] })).status).toBe(201);
      const bad = await t.request('POST', `/v1/events/nope/shows`, { token: t.adminToken, body: {}, headers: { 'idempotency-key': randomUUID() } });
      expect(bad.status).toBeGreaterThanOrEqual(400);
    });
  });
}
