import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CatalogService } from '../../src/catalog/catalog-service.js';
import { seedDemo } from '../../src/seed/demo.js';
import { databaseKinds } from '../support/databases.js';
import { startTestServer, type TestServer } from '../support/server.js';
import type {} from '../../web/src/debug-hooks.js'; // window.__holdfast
import { chromiumAvailable, ensureWebBuilt, launchChromium, reportPageErrors, screenshot } from './support/browser.js';

const pglite = databaseKinds.find((kind) => kind.name === 'pglite')!;
const demoShow = 'shw-demo-now';
type Rgb = [number, number, number];

/** '#rrggbb' → [r, g, b]. */
const rgb = (hex: string): Rgb => [Number.parseInt(hex.slice(1, 3), 16), Number.parseInt(hex.slice(3, 5), 16), Number.parseInt(hex.slice(5, 7), 16)];

async function openShow(page: Page, url: string, showId: string): Promise<void> {
  await page.goto(`${url}/#/show/${showId}`);
  await page.waitForFunction((id) => window.__holdfast?.showId === id && window.__holdfast.version() >= 0, showId, { timeout: 20_000 });
}

async function seatPixel(page: Page, seatId: string): Promise<Rgb | null> {
  return page.evaluate((id) => window.__holdfast!.seatPixel(id), seatId);
}

/** Zooms onto the seat's section and clicks the seat where the canvas draws it. */
async function clickSeat(page: Page, seatId: string): Promise<void> {
  await page.evaluate((id) => window.__holdfast!.zoomToSeat(id), seatId);
  await page.waitForFunction((id) => window.__holdfast!.seatPoint(id) !== null, seatId);
  await page.waitForTimeout(50); // the zoomed frame is drawn on the next animation frame
  const point = (await page.evaluate((id) => window.__holdfast!.seatPoint(id), seatId))!;
  await page.mouse.click(point.x, point.y);
}

describe.skipIf(!chromiumAvailable)('the fan web page in headless chromium', () => {
  let t: TestServer;
  let browser: Browser;
  let queueShowId = '';
  let tinyShowId = '';
  const contexts: BrowserContext[] = [];
  const newPage = async (label: string): Promise<Page> => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    contexts.push(context);
    const page = await context.newPage();
    reportPageErrors(page, label);
    return page;
  };

  beforeAll(async () => {
    const built = ensureWebBuilt();
    t = await startTestServer(pglite, { QUEUE_TICK_MS: '200', RATE_LIMIT_USER_PER_S: '1000', RATE_LIMIT_IP_PER_S: '10000' }, {
      beforeListen: async (db) => {
        await seedDemo(db);
        // A small show behind a waiting room admitting 2 fans a second.
        const catalog = new CatalogService(db);
        const venue = await catalog.createVenue({
          name: 'Queue Hall', city: 'Lineville', kind: 'arena',
          seat_map: { sections: [{ id: 'A', name: 'A', rows: [{ label: '1', seats: Array.from({ length: 20 }, (_, seat) => ({ label: String(seat + 1), x: seat * 10, y: 0, tier: 'std' })) }] }], ga_areas: [] },
        });
        const event = await catalog.createEvent({ name: 'Queue Night', performer: 'The Waiters', category: 'concert', venue_id: venue.id });
        const show = await catalog.createShow(event.id, {
          starts_at: new Date(Date.now() + 30 * 86_400_000).toISOString(), on_sale_at: new Date(Date.now() - 60_000).toISOString(),
          price_tiers: [{ id: 'std', name: 'Standard', price_cents: 4_000 }],
          waiting_room: { enabled: true, admission_rate_per_s: 2, admission_ttl_s: 600 },
        });
        queueShowId = show.id;
        const tiny = await catalog.createShow(event.id, {
          starts_at: new Date(Date.now() + 31 * 86_400_000).toISOString(), on_sale_at: new Date(Date.now() - 60_000).toISOString(), max_items_per_hold: 20,
          price_tiers: [{ id: 'std', name: 'Standard', price_cents: 4_000 }],
        });
        tinyShowId = tiny.id;
      },
    });
    [browser] = await Promise.all([launchChromium(), built]);
  });
  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser?.close();
    await t?.close();
  });

  it('serves the page at / without shadowing the API', async () => {
    const page = await t.request('GET', '/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect((await t.request('GET', '/v1/nothing-here')).body).toMatchObject({ status: 404, code: 'not_found' });
    expect((await t.request('GET', '/healthz')).body).toMatchObject({ status: 'ok' });
  });

  it('draws the 50,000-seat venue; a seat one fan holds by clicking changes colour for another fan within a second', async () => {
    const [alice, bob] = await Promise.all([newPage('alice'), newPage('bob')]);
    await Promise.all([openShow(alice, t.url, demoShow), openShow(bob, t.url, demoShow)]);
    expect(await bob.evaluate(() => window.__holdfast!.seatCount)).toBe(50_000);
    const seatId = '105:1:1';
    await bob.evaluate((id) => window.__holdfast!.zoomToSeat(id), seatId);
    const availableColour = rgb((await bob.evaluate((id) => window.__holdfast!.colours.available(id), seatId))!);
    await expect.poll(() => seatPixel(bob, seatId)).toEqual(availableColour);

    await clickSeat(alice, seatId);
    expect(await alice.evaluate((id) => window.__holdfast!.seatState(id), seatId)).toBe('selected');
    await alice.getByTestId('hold-button').click();
    await alice.getByTestId('hold-panel').waitFor();
    // Alice's hold is committed (her page shows it): Bob's canvas must repaint that seat within 1 s.
    const heldColour = rgb(await bob.evaluate(() => window.__holdfast!.colours.held));
    await bob.waitForFunction(
      ({ id, colour }) => {
        const pixel = window.__holdfast!.seatPixel(id);
        return pixel !== null && pixel.every((value, index) => value === colour[index]);
      },
      { id: seatId, colour: heldColour },
      { timeout: 1_000, polling: 20 },
    );
    expect(await bob.evaluate((id) => window.__holdfast!.seatState(id), seatId)).toBe('held');
    expect(await alice.evaluate((id) => window.__holdfast!.seatState(id), seatId)).toBe('mine');
    expect(await alice.getByTestId('hold-countdown').textContent()).toMatch(/^[0-9]+:[0-5][0-9]$/);
    await bob.evaluate(() => window.scrollTo(0, 0));
    await screenshot(bob, 'seat-map.png');
  });

  it('lets a fan buy a seat only by clicking (search → show → seat → hold → checkout → pay) and shows a QR ticket; the ticket can be transferred', async () => {
    const page = await newPage('carol');
    await page.goto(`${t.url}/`);
    await page.getByRole('button', { name: 'Search' }).click();
    await page.locator('a[data-event-id="evt-demo"]').click();
    await page.locator(`a[data-show-id="${demoShow}"]`).click();
    await page.waitForFunction(() => (window.__holdfast?.version() ?? -1) >= 0);
    const seatId = '106:2:5';
    await clickSeat(page, seatId);
    await page.getByTestId('hold-button').click();
    await page.getByTestId('checkout-link').click();
    await page.getByTestId('pay-button').waitFor();
    expect(await page.getByTestId('order-summary').textContent()).toContain('Section 106, row 2, seat 5');
    await screenshot(page, 'checkout.png');
    await page.getByTestId('pay-button').click(); // the test card 4242… is filled in
    const qr = page.getByTestId('ticket-qr');
    await qr.waitFor({ timeout: 15_000 });
    await page.waitForFunction(() => {
      const image = document.querySelector<HTMLImageElement>('[data-testid=ticket-qr]');
      return image !== null && image.complete && image.naturalWidth > 0;
    });
    expect(await page.getByTestId('order-status').textContent()).toContain('You are going');
    expect(await qr.getAttribute('alt')).toContain('Section 106, row 2, seat 5');
    await screenshot(page, 'confirmation.png');

    await page.getByRole('link', { name: 'My orders' }).first().click();
    await page.getByRole('textbox', { name: /Give Section 106, row 2, seat 5 to/ }).fill('dave-friend');
    await page.getByRole('button', { name: 'Transfer' }).click();
    await expect.poll(() => page.locator('[data-ticket-id] [role=status]').first().textContent()).toContain('Given to dave-friend');
  });

  it('lets a keyboard-only fan pick a section and a seat and hold it, with labels for screen readers', async () => {
    const page = await newPage('erin');
    await openShow(page, t.url, demoShow);
    expect(await page.getByTestId('seat-canvas').getAttribute('role')).toBe('img');
    expect(await page.getByTestId('seat-canvas').getAttribute('aria-label')).toMatch(/50,000 seats: [0-9,]+ available/);
    // Tab to the first section button.
    for (let presses = 0; presses < 40; presses += 1) {
      await page.keyboard.press('Tab');
      if (await page.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset['section'] !== undefined)) break;
    }
    const section = page.locator(':focus');
    expect(await section.getAttribute('aria-label')).toMatch(/^Section 101: \$150 to \$250, [0-9,]+ seats available$/);
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('role'))).toBe('listbox');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    for (let step = 0; step < 3; step += 1) await page.keyboard.press('ArrowRight');
    await page.keyboard.press(' ');
    const option = page.locator('[data-seat-id="101:3:4"]');
    expect(await option.getAttribute('aria-selected')).toBe('true');
    expect(await option.getAttribute('aria-label')).toMatch(/^Section 101, row 3, seat 4, \$[0-9,]+, chosen$/);
    expect(await page.evaluate(() => window.__holdfast!.seatState('101:3:4'))).toBe('selected');
    for (let presses = 0; presses < 20; presses += 1) {
      await page.keyboard.press('Tab');
      if (await page.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset['testid'] === 'hold-button')) break;
    }
    await page.keyboard.press('Enter');
    await page.getByTestId('hold-panel').waitFor();
    expect(await page.evaluate(() => window.__holdfast!.seatState('101:3:4'))).toBe('mine');
  });

  it('shows the waiting room with a decreasing position, then admits the fan to the seat map', async () => {
    const control = (paused: boolean) => t.request('POST', `/v1/ops/shows/${queueShowId}/queue`, { token: t.adminToken, body: { paused } });
    expect((await control(true)).status).toBe(200);
    for (const fan of ['q-ahead-1', 'q-ahead-2', 'q-ahead-3', 'q-ahead-4', 'q-ahead-5']) {
      expect((await t.request('POST', `/v1/shows/${queueShowId}/queue`, { token: await t.session(fan), body: {} })).status).toBe(201);
    }
    const page = await newPage('frank');
    // Record every position the page displays.
    await page.addInitScript(() => {
      const seen: number[] = [];
      (window as unknown as { __positions: number[] }).__positions = seen;
      new MutationObserver((records) => {
        for (const record of records) {
          const value = (record.target as HTMLElement).dataset['position'];
          if (value !== undefined && seen.at(-1) !== Number(value)) seen.push(Number(value));
        }
      }).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-position'] });
    });
    await page.goto(`${t.url}/#/show/${queueShowId}`);
    await page.getByTestId('waiting-room').waitFor();
    await expect.poll(() => page.getByTestId('queue-position').textContent()).toBe('6');
    expect((await control(false)).status).toBe(200);
    await page.waitForFunction(() => (window.__holdfast?.version() ?? -1) >= 0, null, { timeout: 20_000 });
    const positions = await page.evaluate(() => (window as unknown as { __positions: number[] }).__positions);
    expect(positions[0]).toBe(6);
    expect(positions.at(-1)).toBe(0);
    expect(positions.filter((position) => position > 0 && position < 6).length).toBeGreaterThan(0); // seen moving, not just jumping to 0
    for (let index = 1; index < positions.length; index += 1) expect(positions[index]!).toBeLessThan(positions[index - 1]!);
    expect(await page.getByTestId('admission-countdown').textContent()).toMatch(/^[0-9]+:[0-5][0-9]$/);
  });

  it('says a sold-out show is sold out at once, offers the waitlist, and shows a live offer with its countdown that the fan can buy', async () => {
    // Another fan holds every seat of a 20-seat show.
    const holder = await t.session('holds-everything');
    const held = await t.request('POST', `/v1/shows/${tinyShowId}/holds`, { token: holder, headers: { 'idempotency-key': `all-${tinyShowId}` }, body: { seat_ids: Array.from({ length: 20 }, (_, seat) => `A:1:${seat + 1}`) } });
    expect(held.status).toBe(201);
    const page = await newPage('gina');
    await openShow(page, t.url, tinyShowId);
    const soldOut = page.getByTestId('sold-out');
    await soldOut.waitFor({ timeout: 5_000 });
    expect(await soldOut.getByRole('heading').textContent()).toBe('Sold out');
    await soldOut.getByLabel('Seats together').selectOption('2');
    await soldOut.getByRole('button', { name: 'Join the waitlist' }).click();
    await expect.poll(() => page.getByTestId('waitlist-status').textContent()).toContain('number 1 on the waitlist');
    // The seats come back: the server holds two for Gina and pushes the offer.
    expect((await t.request('DELETE', `/v1/holds/${(held.body as { hold_id: string }).hold_id}`, { token: holder, headers: { 'idempotency-key': `release-${tinyShowId}` } })).status).toBe(200);
    await page.getByTestId('offer-buy').waitFor({ timeout: 5_000 });
    expect(await page.getByTestId('offer-countdown').textContent()).toMatch(/^[0-9]+:[0-5][0-9]$/);
    await page.getByTestId('offer-buy').click();
    await page.getByTestId('pay-button').click();
    await page.getByTestId('ticket-qr').first().waitFor({ timeout: 15_000 });
    expect(await page.getByTestId('ticket-qr').count()).toBe(2);
  });

  it('shows the ops page: workers, shows with holds, and pauses and resumes a waiting room', async () => {
    const page = await newPage('ops');
    await page.goto(`${t.url}/ops`);
    await page.getByLabel('Admin token (ADMIN_TOKEN)').fill('wrong-token');
    await page.getByRole('button', { name: 'Open the ops page' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('refused');
    await page.getByLabel('Admin token (ADMIN_TOKEN)').fill(t.adminToken);
    await page.getByRole('button', { name: 'Open the ops page' }).click();
    const demoRow = page.locator(`tr[data-show-id="${demoShow}"]`);
    await demoRow.waitFor();
    expect(Number(await demoRow.getByTestId('active-holds').textContent())).toBeGreaterThanOrEqual(2); // alice's and erin's holds
    expect(Number(await page.getByTestId('ops-batches-total').textContent())).toBeGreaterThan(0);
    expect(await page.locator('tr[data-worker-id]').count()).toBe(1);
    await page.getByTestId(`queue-toggle-${queueShowId}`).click();
    await expect.poll(() => page.locator(`tr[data-show-id="${queueShowId}"] .badge`).last().textContent()).toBe('paused');
    expect((await t.request('GET', `/v1/ops/shows/${queueShowId}/queue`, { token: t.adminToken })).body).toMatchObject({ paused: true });
    await screenshot(page, 'ops-page.png');
    await page.getByTestId(`queue-toggle-${queueShowId}`).click();
    await expect.poll(async () => ((await t.request('GET', `/v1/ops/shows/${queueShowId}/queue`, { token: t.adminToken })).body as { paused: boolean }).paused).toBe(false);
  });
});
