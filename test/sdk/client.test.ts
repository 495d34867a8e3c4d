import { mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SimulatedPaymentProvider } from '../../src/payments/simulated-provider.js';
import { bundleOptions, sdkDir } from '../../client-sdk/scripts/bundle-options.js';
import type * as Sdk from '../../client-sdk/src/index.js';
import { HoldfastAbortError, HoldfastError, HoldfastNetworkError, isHoldfastError, type SeatMapDiffMessage, type SeatMapEvent, type WaitlistOfferMessage } from '../../client-sdk/src/index.js';
import { databaseKinds } from '../support/databases.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { Clients, catalogOf, createCatalog, droppingFetch, eventually, heldCount, storeVsServer } from './sdk-helpers.js';

/**
 * The SDK end to end against a started server: browse, live seat maps, holds, retries with lost
 * responses, orders and payment, the server clock, the waitlist, the later-issue features, and the
 * built ESM and CJS bundles themselves. (Waiting room: queue.test.ts; restarts: reconnect.test.ts.)
 */
const okCard = '4242424242424242';

/** The published JavaScript, built with the build's own esbuild options (ES2019), once per file. */
const bundleDir = join(sdkDir, '..', 'node_modules', '.cache', `holdfast-sdk-bundle-test-${process.pid}`);
let bundlesBuilt: Promise<Record<'esm' | 'cjs', typeof Sdk>> | null = null;
function bundles(): Promise<Record<'esm' | 'cjs', typeof Sdk>> {
  bundlesBuilt ??= (async () => {
    // Inside the repository, so the bundles' external imports resolve from its node_modules.
    mkdirSync(bundleDir, { recursive: true });
    await build({ ...bundleOptions, format: 'esm', outfile: join(bundleDir, 'index.mjs') });
    await build({ ...bundleOptions, format: 'cjs', outfile: join(bundleDir, 'index.cjs') });
    return {
      esm: (await import(pathToFileURL(join(bundleDir, 'index.mjs')).href)) as typeof Sdk,
      cjs: createRequire(import.meta.url)(join(bundleDir, 'index.cjs')) as typeof Sdk,
    };
  })();
  return bundlesBuilt;
}
afterAll(() => rmSync(bundleDir, { recursive: true, force: true }));

for (const kind of databaseKinds) {
  describe.skipIf(!kind.available)(`client SDK against a started server (${kind.name})`, () => {
    let t: TestServer;
    let eventId = '';
    let shows: Record<string, string> = {};
    const clients = new Clients(() => t.url);

    beforeAll(async () => {
      t = await startTestServer(kind, { RATE_LIMIT_USER_PER_S: '1000', DIFF_TICK_MS: '20' }, {
        beforeListen: async (db) => {
          const created = await createCatalog(catalogOf(db), {
            eventName: 'Sdkfest Live', performer: 'The Typed Definitions', city: 'Clientville',
            shows: { browse: {}, watch: {}, gap: {}, holds: {}, socketHolds: {}, tryHolds: {}, retry: {}, orders: {}, clock: {}, waitlist: {}, later: {}, bundle: {}, presale: { channels: [{ id: 'presale', name: 'Presale', key: 'presale-2026', seat_ids: ['A:1:1', 'A:1:2', 'A:1:3', 'A:1:4'], pools: [] }] } },
          });
          eventId = created.eventId;
          shows = created.showIds;
        },
      });
    });
    afterEach(() => clients.closeAll());
    afterAll(async () => t.close());

    it("holds and releases over the live socket with via: 'socket', and falls back to REST with the same key", async () => {
      const showId = shows['socketHolds']!;
      const restCalls: string[] = [];
      const fan = await clients.signedIn('socket-fan', { onAttempt: (record) => restCalls.push(`${record.method} ${record.path}`) });
      const rival = await clients.signedIn('socket-rival', { onAttempt: (record) => restCalls.push(`${record.method} ${record.path}`) });
      // Not connected yet: the hold goes over REST.
      const overRest = await fan.hold(showId, { seat_ids: ['A:1:1'] }, { via: 'socket' });
      expect(restCalls).toContain(`POST /v1/shows/${showId}/holds`);
      await fan.connect();
      await rival.connect();
      restCalls.length = 0;
      const key = 'socket-hold-key-0001';
      const held = await fan.hold(showId, { seat_ids: ['A:1:2', 'A:1:3'] }, { via: 'socket', idempotencyKey: key });
      expect(held).toMatchObject({ status: 'held', seat_ids: ['A:1:2', 'A:1:3'] });
      // The same intent retried over REST (as after a lost ack) is the same hold, not a second one.
      expect((await fan.hold(showId, { seat_ids: ['A:1:2', 'A:1:3'] }, { idempotencyKey: key })).hold_id).toBe(held.hold_id);
      expect(restCalls).toEqual([`POST /v1/shows/${showId}/holds`]);
      restCalls.length = 0;
      // A refusal is the server's answer, thrown as it is: no REST retry.
      const refused: unknown = await rival.hold(showId, { seat_ids: ['A:1:3'] }, { via: 'socket' }).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(HoldfastError);
      expect((refused as HoldfastError).code).toBe('seat_unavailable');
      expect((refused as HoldfastError).idempotencyKey).toMatch(/./);
      const aborted = new AbortController();
      aborted.abort();
      expect(await rival.hold(showId, { seat_ids: ['A:1:4'] }, { via: 'socket', signal: aborted.signal }).catch((error: unknown) => error)).toBeInstanceOf(HoldfastAbortError);
      expect((await fan.release(held.hold_id, { via: 'socket' })).hold_id).toBe(held.hold_id);
      expect((await fan.release(overRest.hold_id, { via: 'socket' })).hold_id).toBe(overRest.hold_id);
      expect(restCalls).toEqual([]);
      expect((await rival.hold(showId, { seat_ids: ['A:1:3'] }, { via: 'socket' })).status).toBe('held');
    });

    it('tryHold answers a refusal as a value — the same problem over the socket and over REST — and the hold when granted', async () => {
      const showId = shows['tryHolds']!;
      const fan = await clients.signedIn('try-fan');
      const rival = await clients.signedIn('try-rival');
      await fan.connect();
      await rival.connect();
      const granted = await fan.tryHold(showId, { seat_ids: ['A:1:1', 'A:1:2'] }, { via: 'socket' });
      if (!granted.ok) throw new Error(`expected a hold, got ${granted.error.code}`);
      expect(granted.hold).toMatchObject({ status: 'held', seat_ids: ['A:1:1', 'A:1:2'] });
      const overSocket = await rival.tryHold(showId, { seat_ids: ['A:1:2', 'A:1:3'] }, { via: 'socket', idempotencyKey: 'try-hold-socket-01' });
      const overRest = await rival.tryHold(showId, { seat_ids: ['A:1:2', 'A:1:3'] }, { idempotencyKey: 'try-hold-rest-0001' });
      if (overSocket.ok || overRest.ok) throw new Error('a held seat was held again');
      expect(overSocket.error).toBeInstanceOf(HoldfastError);
      expect(overSocket.error.problem).toMatchObject({ code: 'seat_unavailable', status: 409, retryable: false, seats: ['A:1:2'] });
      // One renderer of refusals: the ack carries exactly the problem document REST sends.
      expect(overSocket.error.problem).toEqual(overRest.error.problem);
      expect(overSocket.error.idempotencyKey).toBe('try-hold-socket-01');
      expect(overRest.error.idempotencyKey).toBe('try-hold-rest-0001');
      // hold() throws that same refusal; and the refused key answers the same on a retry.
      const thrown: unknown = await rival.hold(showId, { seat_ids: ['A:1:2', 'A:1:3'] }, { via: 'socket', idempotencyKey: 'try-hold-socket-01' }).catch((error: unknown) => error);
      expect(thrown).toBeInstanceOf(HoldfastError);
      expect((thrown as HoldfastError).problem).toEqual(overSocket.error.problem);
      // Bad input is a refusal too (the server's validation), never a hold.
      const invalid = await rival.tryHold(showId, { seat_ids: [] }, { via: 'socket' });
      expect(invalid.ok ? 'held' : invalid.error.code).toBe('validation_failed');
      // An abort still throws: it is not an answer.
      const aborted = new AbortController();
      aborted.abort();
      expect(await rival.tryHold(showId, { seat_ids: ['A:1:4'] }, { via: 'socket', signal: aborted.signal }).catch((error: unknown) => error)).toBeInstanceOf(HoldfastAbortError);
    });

    it('searches events and reads the event, its shows and a seat map', async () => {
      const client = clients.make();
      const found = await client.searchEvents({ q: 'sdkfest', limit: 5 });
      expect(found.items.map((event) => event.id)).toEqual([eventId]);
      expect(found.items[0]).toMatchObject({ name: 'Sdkfest Live', performer: 'The Typed Definitions', venue_city: 'Clientville' });
      expect((await client.searchEvents({ city: 'clientville' })).items).toHaveLength(1);
      expect((await client.searchEvents({ q: 'no-such-band-anywhere' })).items).toEqual([]);
      expect((await client.getEvent(eventId)).id).toBe(eventId);
      const showList = await client.listShows(eventId, { limit: 3 });
      expect(showList.items).toHaveLength(3);
      expect(showList.next_cursor).not.toBeNull();
      const next = await client.listShows(eventId, { cursor: showList.next_cursor!, limit: 100 });
      expect(showList.items.length + next.items.length).toBe(Object.keys(shows).length);
      expect(await client.getShow(shows['browse']!)).toMatchObject({ id: shows['browse'], seat_count: 20, pool_count: 1, currency: 'USD' });
      const seatMap = await client.getSeatMap(shows['browse']!);
      expect(seatMap.geometry.sections[0]!.rows.map((row) => row.seats.length)).toEqual([10, 10]);
      expect(seatMap.geometry.pools.map((pool) => pool.id)).toEqual(['pit']);
      expect(Array.from(seatMap.seatStatus)).toEqual(new Array(20).fill(0));
      const missing: unknown = await client.getShow('shw-does-not-exist').catch((error: unknown) => error);
      expect(isHoldfastError(missing, 'not_found')).toBe(true);
    });

    it('keeps a watched seat map live as another fan holds and releases (two clients)', async () => {
      const showId = shows['watch']!;
      const watcher = clients.make();
      const store = watcher.watchShow(showId);
      expect(watcher.watchShow(showId)).toBe(store); // one store per show per client
      await store.whenReady();
      expect(store.status).toBe('live');
      expect(store.counts().available).toBe(20);
      const events: SeatMapEvent[] = [];
      store.subscribe((event) => events.push(event));

      const bob = await clients.signedIn('bob');
      const held = await bob.hold(showId, { seat_ids: ['A:1:1', 'A:1:2'], ga: [{ section_id: 'pit', quantity: 3 }] });
      await store.waitForVersion(held.version);
      expect(Array.from(store.seatStatus.slice(0, 3))).toEqual([1, 1, 0]);
      expect(store.poolAvailable).toEqual([17]);
      const released = await bob.release(held.hold_id);
      await store.waitForVersion(released.version);
      expect(store.counts().available).toBe(20);
      expect(store.poolAvailable).toEqual([20]);
      const diffs = events.filter((event) => event.type === 'diff');
      expect(diffs.length).toBeGreaterThanOrEqual(2);
      expect(store.stats.gaps).toBe(0);
      const compared = await storeVsServer(watcher, store);
      expect(compared.store).toEqual(compared.server);
    });

    it('detects a gap (a diff lost on purpose), resyncs and ends equal to a fresh snapshot', async () => {
      const showId = shows['gap']!;
      const dropped: SeatMapDiffMessage[] = [];
      let armed = false;
      const watcher = clients.make({
        testHooks: {
          dropDiff: (diff) => {
            if (!armed || diff.show_id !== showId) return false;
            armed = false;
            dropped.push(diff);
            return true;
          },
        },
      });
      const store = watcher.watchShow(showId);
      await store.whenReady();
      const resyncs: string[] = [];
      store.subscribe((event) => {
        if (event.type === 'snapshot') resyncs.push(event.reason);
      });
      const carol = await clients.signedIn('carol');
      armed = true;
      const first = await carol.hold(showId, { seat_ids: ['A:2:1'] });
      await eventually(() => dropped.length === 1, 5_000, 'the dropped diff');
      expect(store.version).toBeLessThan(first.version); // it never arrived
      const second = await carol.hold(showId, { seat_ids: ['A:2:5', 'A:2:6'] });
      await store.waitForVersion(second.version);
      expect(store.stats.gaps).toBe(1);
      expect(resyncs).toEqual(['resync']);
      expect(Array.from(store.seatStatus.slice(10, 16))).toEqual([1, 0, 0, 0, 1, 1]);
      const compared = await storeVsServer(watcher, store);
      expect(compared.store).toEqual(compared.server);
    });

    it('comes back when the server drops its connection deliberately (io server disconnect), and resubscribes', async () => {
      const showId = shows['watch']!;
      const watcher = clients.make();
      const store = watcher.watchShow(showId);
      await store.whenReady();
      const reasons: string[] = [];
      const snapshots: string[] = [];
      store.subscribe((event) => {
        if (event.type === 'snapshot') snapshots.push(event.reason);
      });
      for (const socket of t.server.sockets.io.sockets.sockets.values()) {
        socket.once('disconnect', (reason) => reasons.push(reason));
        socket.disconnect(true); // socket.io alone would not reconnect after this
      }
      await eventually(() => snapshots.includes('reconnect'), 10_000, 'a reconnection snapshot');
      expect(reasons).toContain('server namespace disconnect');
      expect(store.status).toBe('live');
      const hank = await clients.signedIn('hank');
      const held = await hank.hold(showId, { seat_ids: ['A:2:9', 'A:2:10'] });
      await store.waitForVersion(held.version);
      await hank.release(held.hold_id);
    });

    it('holds, reads, extends and releases a hold', async () => {
      const showId = shows['holds']!;
      const dave = await clients.signedIn('dave');
      const held = await dave.hold(showId, { best_available: { quantity: 2 } });
      expect(held).toMatchObject({ show_id: showId, user_id: 'dave', status: 'held', total_cents: 5_000, currency: 'USD', split: false });
      expect(held.seat_ids).toHaveLength(2);
      expect(await dave.getHold(held.hold_id)).toMatchObject({ hold_id: held.hold_id, seat_ids: held.seat_ids });
      const extended = await dave.extend(held.hold_id);
      expect(extended.expires_at_ms).toBeGreaterThan(held.expires_at_ms);
      expect(extended.extensions_left).toBe(held.extensions_left - 1);
      expect(await heldCount(dave, showId)).toEqual({ heldSeats: 2, poolTaken: 0 });
      await dave.release(held.hold_id);
      expect(await heldCount(dave, showId)).toEqual({ heldSeats: 0, poolTaken: 0 });
      const gone: unknown = await dave.extend(held.hold_id).catch((error: unknown) => error);
      expect(gone).toBeInstanceOf(HoldfastError);
      expect((gone as HoldfastError).code).toMatch(/^hold_(not_active|expired|not_found)$/);
      const taken: unknown = await dave.hold(showId, { seat_ids: ['A:9:9'] }).catch((error: unknown) => error);
      expect(isHoldfastError(taken, 'unknown_seat')).toBe(true);
      expect((taken as HoldfastError).details.attempts).toBe(1); // refusals are not retried
    });

    it('retries a hold whose response was lost with the same Idempotency-Key: exactly one hold exists', async () => {
      const showId = shows['retry']!;
      const lossy = droppingFetch((url, init, count) => init.method === 'POST' && url.endsWith('/holds') && count === 1);
      const erin = await clients.signedIn('erin');
      const lossyErin = clients.make({ token: erin.token, fetch: lossy.fetch });
      const held = await lossyErin.hold(showId, { best_available: { quantity: 2 }, ga: undefined });
      expect(lossy.sent).toHaveLength(2); // the lost attempt and its retry
      expect(lossy.sent[0]!.key).toBeDefined();
      expect(lossy.sent[1]!.key).toBe(lossy.sent[0]!.key);
      expect(await heldCount(erin, showId)).toEqual({ heldSeats: 2, poolTaken: 0 });
      expect((await erin.getHold(held.hold_id)).seat_ids).toEqual(held.seat_ids);

      // Without the SDK's key reuse the retry would have held two more seats: a fresh key does.
      const again = await erin.hold(showId, { best_available: { quantity: 2 } });
      expect(again.hold_id).not.toBe(held.hold_id);
      expect(await heldCount(erin, showId)).toEqual({ heldSeats: 4, poolTaken: 0 });

      // An app-level retry after the SDK gave up reuses the key from the error: still one hold.
      const offline = droppingFetch((url, init) => init.method === 'POST' && url.endsWith('/holds'));
      const flaky = clients.make({ token: erin.token, fetch: offline.fetch, retry: { maxAttempts: 2, baseDelayMs: 5, maxDelayMs: 10 } });
      const failure: unknown = await flaky.hold(showId, { ga: [{ section_id: 'pit', quantity: 4 }] }).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(HoldfastNetworkError);
      const key = (failure as HoldfastNetworkError).idempotencyKey!;
      const retried = await erin.hold(showId, { ga: [{ section_id: 'pit', quantity: 4 }] }, { idempotencyKey: key });
      expect(retried.ga).toEqual([{ section_id: 'pit', quantity: 4 }]);
      expect(await heldCount(erin, showId)).toEqual({ heldSeats: 4, poolTaken: 4 });
    });

    it('creates an order and pays with 4242 4242 4242 4242: tickets, once, even when the payment reply is lost', async () => {
      const showId = shows['orders']!;
      const fan = await clients.signedIn('frank');
      const lossy = droppingFetch((url, init, count) => init.method === 'POST' && (url.endsWith('/orders') || url.endsWith('/confirm')) && !lossy.sent.slice(0, count - 1).some((earlier) => earlier.url === url));
      const lossyFan = clients.make({ token: fan.token, fetch: lossy.fetch });
      const held = await fan.hold(showId, { seat_ids: ['A:1:4', 'A:1:5'] });
      const countdown = fan.holdRemainingMs(held);
      expect(countdown).toBeGreaterThan(0);
      const order = await lossyFan.createOrder(held.hold_id);
      expect(order).toMatchObject({ status: 'pending_payment', hold_id: held.hold_id, total_cents: 5_000 });
      const paid = await lossyFan.confirmPayment(order.payment.id!, { card_number: okCard });
      expect(paid.status).toBe('confirmed');
      const byUrl = (suffix: string) => lossy.sent.filter((sent) => sent.url.endsWith(suffix));
      expect(byUrl('/orders').map((sent) => sent.key)).toEqual([byUrl('/orders')[0]!.key, byUrl('/orders')[0]!.key]);
      expect(byUrl('/confirm')).toHaveLength(2);
      expect(byUrl('/confirm')[1]!.key).toBe(byUrl('/confirm')[0]!.key);
      const provider = t.server.provider;
      expect(provider).toBeInstanceOf(SimulatedPaymentProvider);
      expect((provider as SimulatedPaymentProvider).captures(order.payment.id!)).toBe(1);
      expect(paid.order.tickets.map((ticket) => ticket.seat_id).sort()).toEqual(['A:1:4', 'A:1:5']);
      const final = await fan.waitForOrder(order.order_id);
      expect(final.status).toBe('confirmed');
      const ticket = await fan.getTicket(final.tickets[0]!.ticket_id);
      expect(ticket.status).toBe('valid');
      expect(await fan.getTicketQrSvg(ticket.ticket_id)).toContain('<svg');
      expect((await fan.listOrders({ limit: 5 })).items.map((item) => item.order_id)).toContain(order.order_id);
      const availability = await fan.getAvailability(showId);
      expect(Array.from(availability.seatStatus.slice(3, 5))).toEqual([2, 2]);
    });

    it('counts a hold down on the server clock, not a device clock 90 s fast', async () => {
      const showId = shows['clock']!;
      const skewMs = 90_000;
      const fan = await clients.signedIn('gina', { now: () => Date.now() + skewMs });
      const held = await fan.hold(showId, { seat_ids: ['A:1:10'] });
      expect(fan.clock.sampleCount).toBeGreaterThanOrEqual(1);
      expect(Math.abs(fan.clock.offsetMs + skewMs)).toBeLessThan(1_000);
      const serverRemaining = held.expires_at_ms - Date.now(); // the server runs on the real clock
      const sdkRemaining = fan.holdRemainingMs(held);
      expect(Math.abs(sdkRemaining - serverRemaining)).toBeLessThan(1_000);
      const naiveRemaining = held.expires_at_ms - (Date.now() + skewMs); // what a device-clock countdown would show
      expect(serverRemaining - naiveRemaining).toBeGreaterThan(skewMs - 1_000);
      const ticks: number[] = [];
      const stop = fan.holdCountdown(held, (remaining) => ticks.push(remaining), { intervalMs: 20 });
      await new Promise((resolve) => setTimeout(resolve, 100));
      stop();
      expect(ticks.length).toBeGreaterThanOrEqual(3);
      expect(Math.abs(ticks[0]! - (held.expires_at_ms - Date.now()))).toBeLessThan(1_200);
      for (let index = 1; index < ticks.length; index += 1) expect(ticks[index]!).toBeLessThanOrEqual(ticks[index - 1]!);
      // The watch snapshot's server_time_ms also feeds the clock.
      const store = fan.watchShow(showId);
      await store.whenReady();
      expect(fan.clock.sampleCount).toBeGreaterThanOrEqual(2);
      expect(Math.abs(fan.clock.offsetMs + skewMs)).toBeLessThan(1_000);
    });

    it('joins the waitlist of a sold-out show and receives a live offer it can buy', async () => {
      const showId = shows['waitlist']!;
      const holder = await clients.signedIn('wl-holder');
      const seats = await holder.hold(showId, { best_available: { quantity: 20 } });
      await holder.hold(showId, { ga: [{ section_id: 'pit', quantity: 20 }] });
      const fan = await clients.signedIn('wl-fan');
      const offers: WaitlistOfferMessage[] = [];
      fan.onWaitlistOffer((offer) => offers.push(offer));
      await fan.connect();
      const entry = await fan.joinWaitlist(showId, { party_size: 1 });
      expect(entry).toMatchObject({ show_id: showId, user_id: 'wl-fan', party_size: 1, position: 1 });
      await holder.release(seats.hold_id);
      await eventually(() => offers.length > 0, 10_000, 'a waitlist offer');
      const offer = offers[0]!;
      expect(offer.show_id).toBe(showId);
      expect(fan.clock.remainingMs(offer.expires_at_ms)).toBeGreaterThan(0);
      const order = await fan.createOrder(offer.hold_id);
      expect(order.status).toBe('pending_payment');
    });

    it('transfers a ticket to another fan: theirs now, with the transfer in its history', async () => {
      const alice = await clients.signedIn('transfer-alice');
      const bob = await clients.signedIn('transfer-bob');
      const held = await alice.hold(shows['later']!, { seat_ids: ['A:1:10'] });
      const order = await alice.createOrder(held.hold_id);
      const paid = await alice.confirmPayment(order.payment.id!, { card_number: okCard });
      const ticket = paid.order.tickets[0]!;
      const result = await alice.transferTicket(ticket.ticket_id, 'transfer-bob');
      expect(result).toMatchObject({ ticket_id: ticket.ticket_id, holder_user_id: 'transfer-bob' });
      expect(result.history.at(-1)).toMatchObject({ from_user_id: 'transfer-alice', to_user_id: 'transfer-bob' });
      const bobs = await bob.getTicket(ticket.ticket_id);
      expect(bobs.status).toBe('valid');
      expect(bobs.token).not.toBe(ticket.token);
      await expect(alice.getTicket(ticket.ticket_id)).rejects.toMatchObject({ code: 'not_found' });
    });

    it('holds channel-reserved inventory with a channel key, and is refused it without', async () => {
      const fan = await clients.signedIn('channel-fan');
      const withoutKey: unknown = await fan.hold(shows['presale']!, { seat_ids: ['A:1:1', 'A:1:2'] }).catch((error: unknown) => error);
      expect(isHoldfastError(withoutKey, 'channel_restricted')).toBe(true);
      const held = await fan.hold(shows['presale']!, { seat_ids: ['A:1:1', 'A:1:2'] }, { channelKey: 'presale-2026' });
      expect(held.status).toBe('held');
      const refused: unknown = await fan.hold(shows['presale']!, { best_available: { quantity: 2 } }, { channelKey: 'not-a-code' }).catch((error: unknown) => error);
      expect(isHoldfastError(refused, 'channel_key_invalid')).toBe(true);
    });

    for (const format of ['esm', 'cjs'] as const) {
      it(`the built ${format.toUpperCase()} bundle watches, holds and releases`, async () => {
        const sdk = (await bundles())[format];
        const watcher = new sdk.HoldfastClient({ baseUrl: t.url });
        const fan = new sdk.HoldfastClient({ baseUrl: t.url });
        try {
          await fan.signIn(`bundle-${format}`);
          const store = watcher.watchShow(shows['bundle']!);
          await store.whenReady();
          const held = await fan.hold(shows['bundle']!, { best_available: { quantity: 2 } });
          await store.waitForVersion(held.version);
          expect(store.counts().held).toBe(2);
          const released = await fan.release(held.hold_id);
          await store.waitForVersion(released.version);
          expect(store.counts().held).toBe(0);
          const error: unknown = await fan.hold(shows['bundle']!, { seat_ids: ['Z:9:9'] }).catch((caught: unknown) => caught);
          expect(error).toBeInstanceOf(sdk.HoldfastError);
        } finally {
          watcher.close();
          fan.close();
        }
      });
    }
  });
}
