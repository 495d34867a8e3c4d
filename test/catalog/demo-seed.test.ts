import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Inventory } from '../../src/actors/inventory.js';
import { CatalogService } from '../../src/catalog/catalog-service.js';
import type { SqlDatabase } from '../../src/persistence/database.js';
import { ShowDefinitionStore } from '../../src/persistence/show-definitions.js';
import { demoIds, seedDemo } from '../../src/seed/demo.js';
import { databaseKinds } from '../support/databases.js';

const nowMs = Date.parse('2030-05-10T18:30:00Z');

for (const kind of databaseKinds) {
  describe.skipIf(!kind.available)(`demo seed: ${kind.name}`, () => {
    let db: SqlDatabase;
    beforeAll(async () => {
      db = await kind.open();
    });
    afterAll(async () => db.close());

    it('seeds a 50,000-seat stadium, a hotel and their shows, once', async () => {
      const messages: string[] = [];
      const first = await seedDemo(db, { nowMs, onProgress: (message) => messages.push(message) });
      expect(first.created).toEqual([demoIds.stadium, demoIds.event, demoIds.showNow, demoIds.showLater, demoIds.hotel, demoIds.hotelEvent, demoIds.hotelShow]);
      expect(messages.length).toBe(7);
      const again = await seedDemo(db, { nowMs: nowMs + 60_000, onProgress: (message) => messages.push(message) });
      expect(again.created).toEqual([]);

      const catalog = new CatalogService(db, { clock: { nowMs: () => nowMs } });
      const venue = await catalog.getVenue(demoIds.stadium);
      expect(venue.seat_count).toBe(50_000);
      expect(venue.ga_areas).toMatchObject([{ id: 'floor', capacity: 5_000 }]);

      const definitions = new ShowDefinitionStore(db);
      const now = new Inventory((await definitions.load(demoIds.showNow))!);
      expect(now.seatCount).toBe(50_000);
      expect(now.pools.map((pool) => [pool.id, pool.capacity])).toEqual([['floor', 5_000]]);
      expect(now.policy.onSaleAtMs).toBeLessThanOrEqual(nowMs);

      const showNow = await catalog.getShow(demoIds.showNow);
      expect(showNow.waiting_room).toBeNull();
      const later = await catalog.getShow(demoIds.showLater);
      expect(Date.parse(later.on_sale_at)).toBe(nowMs + 3_600_000);
      expect(later.waiting_room?.enabled).toBe(true);

      const { geometry, etag } = await catalog.getSeatMapGeometry(demoIds.showNow);
      expect(etag).toBe(showNow.geometry_etag);
      expect(geometry.seat_count).toBe(50_000);
      expect(geometry.stage).not.toBeNull();
      const flat = geometry.sections.flatMap((section) => section.rows.flatMap((row) => row.seats.map((seat) => `${section.id}:${row.label}:${seat[0]}`)));
      expect(flat.every((seatId, index) => seatId === now.seatId(index))).toBe(true);

      const hotelShow = await catalog.getShow(demoIds.hotelShow);
      expect(hotelShow.lodging).toEqual({ first_night: '2030-05-11', nights: 30 });
      const hotel = new Inventory((await definitions.load(demoIds.hotelShow))!);
      expect(hotel.pools).toHaveLength(90);
      expect(hotel.pools.filter((pool) => pool.id.startsWith('suite@')).every((pool) => pool.capacity === 5 && pool.kind === 'room_night')).toBe(true);
      const stay = await catalog.stayPools(demoIds.hotelShow, { room_type_id: 'double', check_in: '2030-05-20', nights: 3 });
      expect(stay).toEqual(['double@2030-05-20', 'double@2030-05-21', 'double@2030-05-22']);
      expect(stay.every((pool) => hotel.poolIndexOf(pool) >= 0)).toBe(true);

      const found = await catalog.searchEvents({ q: 'demo tour' });
      expect(found.items.map((item) => item.id)).toEqual([demoIds.event]);
    });
  });
}
