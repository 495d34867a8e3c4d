import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../src/config.js';
import type { SqlDatabase } from '../../src/persistence/database.js';
import { startServer, type HoldfastServer } from '../../src/server.js';
import { silentLogger } from '../../src/shared/logger.js';
import { HoldfastClient, type ConnectionState, type SeatMapEvent } from '../../client-sdk/src/index.js';
import { databaseKinds } from '../support/databases.js';
import { Clients, TcpProxy, catalogOf, createCatalog, eventually, storeVsServer } from './sdk-helpers.js';

/**
 * The server is really stopped (close) and started again (startServer on the same database); the
 * watcher reaches it through a TCP front door with a stable address, as through a load balancer
 * (uWS keeps a closed server's port busy while old keep-alive connections linger, so restarting
 * on the very same port is not dependable in a test).
 */
for (const kind of databaseKinds) {
  describe.skipIf(!kind.available)(`client SDK across a server restart (${kind.name})`, () => {
    let db: SqlDatabase;
    let server: HoldfastServer | null = null;
    let config: Config;
    let showId = '';
    const proxy = new TcpProxy();
    let frontUrl = '';
    const clients = new Clients(() => frontUrl);

    beforeAll(async () => {
      db = await kind.open();
      config = { ...loadConfig({ NODE_ENV: 'test', RATE_LIMIT_USER_PER_S: '1000', DIFF_TICK_MS: '20' }), port: 0, host: '127.0.0.1', seedDemo: false };
      server = await startServer(config, {
        db, logger: silentLogger,
        beforeListen: async (database) => {
          showId = (await createCatalog(catalogOf(database), { eventName: 'Restart Rock', performer: 'The Reconnects', city: 'Backoff', shows: { main: {} } })).showIds['main']!;
        },
      });
      frontUrl = await proxy.start();
      proxy.route(server.port);
    });
    afterAll(async () => {
      clients.closeAll();
      await proxy.close();
      await server?.close();
      await db.close();
    });

    it('reconnects with backoff after a restart, resubscribes from its last version and catches up', async () => {
      const watcher = clients.make({ live: { reconnectDelayMs: 100, reconnectDelayMaxMs: 400 } });
      const states: ConnectionState[] = [];
      watcher.onConnectionChange((state) => states.push(state));
      const store = watcher.watchShow(showId);
      await store.whenReady();
      const holder = await clients.signedIn('holder');
      const before = await holder.hold(showId, { seat_ids: ['A:1:1'] });
      await store.waitForVersion(before.version);
      const events: SeatMapEvent[] = [];
      store.subscribe((event) => events.push(event));

      // Stop the server (gracefully: it closes its sockets itself); the front door then refuses
      // connections until it is back.
      await server!.close();
      proxy.route(null);
      server = null;
      await eventually(() => store.status === 'offline', 5_000, 'the store to notice the disconnect');
      expect(Array.from(store.seatStatus.slice(0, 2))).toEqual([1, 0]); // the last known state stays readable

      // Start it again on the same database. Before the watcher can get back in, a fan holds two
      // more seats (straight to the new server): only the resubscription can tell the watcher.
      server = await startServer(config, { db, logger: silentLogger });
      const direct = new HoldfastClient({ baseUrl: server.url, token: holder.token });
      const whileAway = await direct.hold(showId, { seat_ids: ['A:2:1', 'A:2:2'] });
      direct.close();
      await new Promise((resolve) => setTimeout(resolve, 600)); // several refused reconnection attempts
      expect(store.version).toBe(before.version);
      expect(store.status).toBe('offline');
      expect(watcher.connectionState).not.toBe('connected');

      proxy.route(server.port);
      await store.waitForVersion(whileAway.version, 15_000);
      const reconnect = events.find((event) => event.type === 'snapshot');
      expect(reconnect).toMatchObject({ type: 'snapshot', reason: 'reconnect', previousVersion: before.version, version: whileAway.version });
      expect(store.status).toBe('live');
      expect(states).toContain('disconnected');
      expect(states.at(-1)).toBe('connected');

      // And it is live again: later changes arrive as diffs (REST goes through the front door too).
      const after = await holder.release(before.hold_id);
      await store.waitForVersion(after.version);
      expect(events.at(-1)).toMatchObject({ type: 'diff', toVersion: after.version });
      const compared = await storeVsServer(watcher, store);
      expect(compared.store).toEqual(compared.server);
      expect(store.seat(0)).toBe(0);
      expect(Array.from(store.seatStatus.slice(10, 12))).toEqual([1, 1]);
    });
  });
}
