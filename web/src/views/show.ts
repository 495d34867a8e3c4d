import { HoldfastError, type HoldResponse, type SeatMapStore, type ShowView } from '../../../client-sdk/src/index.js';
import type { AppContext } from '../app-context.js';
import { exposeSeatMapDebug } from '../debug-hooks.js';
import { announce, h, replaceChildren } from '../dom.js';
import { describeError } from '../errors.js';
import { dateTime, plural } from '../format.js';
import { SeatGeometry, sectionTitle } from '../seatmap/geometry.js';
import { statusColours, tierColour } from '../seatmap/palette.js';
import { SeatCanvas } from '../seatmap/seat-canvas.js';
import { SeatList } from '../seatmap/seat-list.js';
import { holdPanel } from './hold-panel.js';
import { admissionTimer, waitInQueue } from './queue-panel.js';
import { selectionPanel, type Selection } from './selection-panel.js';
import { waitlistPanel } from './waitlist-panel.js';

const holdStorageKey = (userId: string | null, showId: string) => `holdfast:hold:${userId}:${showId}`;

/**
 * The show page: waiting room first when the show has one, then the live seat map (canvas + an
 * accessible section/seat list), choosing seats, GA quantities or best available, the hold with
 * its countdown, and the sold-out notice with the waitlist.
 */
export function showView(ctx: AppContext, [showId]: string[]): () => void {
  const cleanups: (() => void)[] = [];
  let closed = false;
  const run = async () => {
    const { client } = ctx.session;
    const show = await client.getShow(showId!);
    const event = await client.getEvent(show.event_id);
    if (closed) return;
    const notices = h('div', { class: 'stack' });
    const left = h('div', { class: 'stack' });
    const side = h('aside', { class: 'side', 'aria-label': 'Your tickets' });
    replaceChildren(
      ctx.root,
      h('p', {}, h('a', { href: `#/event/${encodeURIComponent(event.id)}` }, `← ${event.name}`)),
      h('h1', {}, event.name),
      h('p', { class: 'muted' }, `${dateTime(show.starts_at)} · ${event.venue_name}, ${event.venue_city}`),
      notices,
      h('div', { class: 'show-layout' }, left, side),
    );
    if (show.waiting_room?.enabled) {
      try {
        const queue = await waitInQueue(ctx, left, show.id, show.waiting_room.opens_at, (stop) => cleanups.push(stop));
        if (closed) return;
        const timer = admissionTimer(queue.tracker);
        cleanups.push(timer.stop);
        side.append(timer.element);
      } catch (error) {
        if (closed) return;
        if (!(error instanceof HoldfastError && error.code === 'show_not_on_sale')) throw error;
        notices.append(h('div', { class: 'notice warn' }, `Not on sale yet: holds open at ${dateTime(show.on_sale_at)}. Here is the seat map meanwhile.`));
      }
    } else if (Date.parse(show.on_sale_at) > Date.now()) {
      notices.append(h('div', { class: 'notice warn' }, `Not on sale yet: holds open at ${dateTime(show.on_sale_at)}.`));
    }
    if (closed) return;
    replaceChildren(left, h('p', { class: 'muted' }, 'Loading the seat map…'));
    const seatMap = await client.getSeatMap(show.id);
    const store = client.watchShow(show.id);
    cleanups.push(() => store.close());
    if (closed) return;
    mountSeatMap(ctx, show, seatMap, store, { notices, left, side }, cleanups);
  };
  run().catch((error: unknown) => {
    if (!closed) replaceChildren(ctx.root, h('div', { class: 'notice bad', role: 'alert' }, describeError(error)));
  });
  return () => {
    closed = true;
    for (const cleanup of cleanups.splice(0)) cleanup();
  };
}

function mountSeatMap(
  ctx: AppContext,
  show: ShowView,
  seatMap: Awaited<ReturnType<AppContext['session']['client']['getSeatMap']>>,
  store: SeatMapStore,
  areas: { notices: HTMLElement; left: HTMLElement; side: HTMLElement },
  cleanups: (() => void)[],
): void {
  const { client } = ctx.session;
  const geometry = new SeatGeometry(seatMap.geometry);
  // Until the live store has its snapshot, draw the one that came with the geometry.
  const seatStatus = () => (store.version >= 0 ? store.seatStatus : seatMap.seatStatus);
  const poolAvailable = () => (store.version >= 0 ? store.poolAvailable : seatMap.availability.pool_available);
  const selection: Selection = { seats: new Set(), pools: new Map() };
  const mine = new Set<number>();
  let currentHold: HoldResponse | null = null;
  let stopHold = () => undefined as void;
  const holdArea = h('div');
  const message = h('p', { class: 'small', role: 'status', 'data-testid': 'map-message' });

  const describeHold = (hold: HoldResponse): string[] => [
    ...hold.seat_ids.map((seatId) => {
      const seat = geometry.seatIndex(seatId);
      return seat === undefined ? seatId : `${sectionTitle(geometry.sectionOf(seat).name)}, row ${geometry.rowLabel(seat)}, seat ${geometry.labels[seat]}`;
    }),
    ...hold.ga.map((entry) => `${entry.quantity} × ${geometry.pools.find((pool) => pool.id === entry.section_id)?.name ?? entry.section_id}`),
  ];

  const summary = h('span', { class: 'small muted', 'data-testid': 'map-summary' });
  const canvas = h('canvas', { class: 'seat-canvas', tabindex: '0', role: 'img', 'data-testid': 'seat-canvas' });
  const tip = h('div', { class: 'map-tip', hidden: true });
  const hasSeats = geometry.seatCount > 0;
  let seatCanvas: SeatCanvas | null = null;
  let seatList: SeatList | null = null;

  const toggleSeat = (seat: number, fromCanvas: boolean) => {
    const name = seatList?.label(seat) ?? geometry.seatId(seat);
    if (mine.has(seat)) {
      message.textContent = 'That seat is already held for you.';
    } else if (selection.seats.has(seat)) {
      selection.seats.delete(seat);
      announce(`Removed ${name}`);
    } else if (seatStatus()[seat] !== 0) {
      message.textContent = 'That seat is not available.';
      announce(message.textContent);
    } else if (selection.seats.size + [...selection.pools.values()].reduce((a, b) => a + b, 0) >= show.max_items_per_hold) {
      message.textContent = `One hold can have at most ${show.max_items_per_hold} seats.`;
    } else {
      selection.seats.add(seat);
      message.textContent = '';
      announce(`Chosen: ${seatList?.label(seat) ?? name}. ${plural(selection.seats.size, 'seat')} chosen.`);
    }
    seatCanvas?.invalidate();
    seatList?.update([seat]);
    if (fromCanvas) seatList?.showSeat(seat);
    panel.render();
  };

  const showHold = (hold: HoldResponse) => {
    stopHold();
    currentHold = hold;
    sessionStorage.setItem(holdStorageKey(ctx.session.userId, show.id), hold.hold_id);
    mine.clear();
    for (const seatId of hold.seat_ids) {
      const seat = geometry.seatIndex(seatId);
      if (seat !== undefined) mine.add(seat);
    }
    const panelOfHold = holdPanel(ctx, hold, {
      describe: describeHold,
      onChanged: (changed) => {
        currentHold = changed;
      },
      onEnded: (reason) => {
        currentHold = null;
        sessionStorage.removeItem(holdStorageKey(ctx.session.userId, show.id));
        const seats = [...mine];
        mine.clear();
        replaceChildren(holdArea, h('div', { class: 'notice warn', role: 'status' }, reason === 'expired' ? 'Your hold expired: the seats went back on sale.' : 'Released: the seats are back on sale.'));
        seatCanvas?.invalidate();
        seatList?.update(seats);
        updateAvailability();
      },
    });
    stopHold = panelOfHold.stop;
    replaceChildren(holdArea, panelOfHold.element);
    seatCanvas?.invalidate();
    seatList?.update(null);
  };

  const panel = selectionPanel(ctx, show, geometry, selection, {
    poolAvailable,
    describeSeat: (seat) => seatList?.label(seat) ?? geometry.seatId(seat),
    onRemoveSeat: (seat) => toggleSeat(seat, false),
    onHeld: (hold) => {
      const chosen = [...selection.seats];
      selection.seats.clear();
      selection.pools.clear();
      showHold(hold);
      seatList?.update(chosen);
      announce(`Held: ${describeHold(hold).join('; ')}. Go to checkout before the timer runs out.`);
    },
    onRefused: (error) => {
      // Seats someone else took meanwhile leave the selection.
      if (error instanceof HoldfastError && error.problem.seats) {
        for (const seatId of error.problem.seats) {
          const seat = geometry.seatIndex(seatId);
          if (seat !== undefined) selection.seats.delete(seat);
        }
        seatCanvas?.invalidate();
        seatList?.update(null);
      }
    },
  });

  // Sold out: say so at once (diff counts and the server's show:status push) and offer the waitlist.
  let soldOutPanel: HTMLElement | null = null;
  const setSoldOut = (soldOut: boolean) => {
    if (soldOut && soldOutPanel === null) {
      soldOutPanel = waitlistPanel(ctx, show.id, geometry.tiers, show.max_items_per_hold);
      areas.notices.prepend(soldOutPanel);
    } else if (!soldOut && soldOutPanel !== null) {
      soldOutPanel.remove();
      soldOutPanel = null;
    }
  };
  const updateAvailability = () => {
    const status = seatStatus();
    let available = 0;
    let held = 0;
    let sold = 0;
    for (let seat = 0; seat < status.length; seat += 1) {
      const code = status[seat];
      if (code === 0) available += 1;
      else if (code === 1) held += 1;
      else if (code === 2) sold += 1;
    }
    const poolsLeft = poolAvailable().reduce((sum, left) => sum + left, 0);
    const text = geometry.seatCount === 0 ? `${poolsLeft.toLocaleString('en-US')} places left.` : `${plural(geometry.seatCount, 'seat')}: ${available.toLocaleString('en-US')} available, ${held.toLocaleString('en-US')} held, ${sold.toLocaleString('en-US')} sold${geometry.pools.length > 0 ? `; ${poolsLeft.toLocaleString('en-US')} standing or pool places left` : ''}.`;
    summary.textContent = text;
    canvas.setAttribute('aria-label', `Seat map of ${seatMap.geometry.sections.length} sections. ${text} Use the section list below to choose seats with the keyboard.`);
    setSoldOut(available + poolsLeft === 0);
  };
  let availabilityTimer: ReturnType<typeof setTimeout> | null = null;
  const scheduleAvailability = () => {
    availabilityTimer ??= setTimeout(() => {
      availabilityTimer = null;
      updateAvailability();
    }, 200);
  };
  cleanups.push(() => {
    if (availabilityTimer !== null) clearTimeout(availabilityTimer);
  });
  cleanups.push(client.onShowStatus((status) => {
    if (status.show_id === show.id) setSoldOut(status.sold_out);
  }));

  const legend = h(
    'div',
    { class: 'legend', 'aria-label': 'Legend' },
    geometry.tiers.map((tier, index) => h('span', {}, h('i', { class: 'swatch', style: `background:${tierColour(index)}` }), `${tier.name} ${new Intl.NumberFormat('en-US', { style: 'currency', currency: geometry.currency, maximumFractionDigits: 0 }).format(tier.price_cents / 100)}`)),
    h('span', {}, h('i', { class: 'swatch', style: `background:${statusColours.selected}` }), 'chosen'),
    h('span', {}, h('i', { class: 'swatch', style: `background:${statusColours.mine}` }), 'held for you'),
    h('span', {}, h('i', { class: 'swatch', style: `background:${statusColours.held}` }), 'held'),
    h('span', {}, h('i', { class: 'swatch', style: `background:${statusColours.sold}` }), 'sold'),
  );

  if (hasSeats) {
    const zoomIn = h('button', { type: 'button', 'aria-label': 'Zoom in' }, '+');
    const zoomOut = h('button', { type: 'button', 'aria-label': 'Zoom out' }, '−');
    const fit = h('button', { type: 'button', 'aria-label': 'Show the whole venue' }, 'Fit');
    replaceChildren(
      areas.left,
      h(
        'section',
        { class: 'card map-card', 'aria-label': 'Seat map' },
        h('div', { class: 'map-toolbar' }, zoomIn, zoomOut, fit, h('span', { class: 'small muted' }, 'Scroll or +/− to zoom, drag or arrow keys to move'), h('span', { class: 'spacer' }), summary),
        canvas,
        tip,
        legend,
      ),
      message,
    );
    seatCanvas = new SeatCanvas(canvas, geometry, { seatStatus, poolAvailable, selected: selection.seats, mine }, {
      onSeatClick: (seat) => toggleSeat(seat, true),
      onPoolClick: (pool) => panel.focusPool(pool),
      onHover: (seat, clientX, clientY) => {
        if (seat < 0 || seatList === null) {
          tip.hidden = true;
          return;
        }
        const rect = canvas.parentElement!.getBoundingClientRect();
        tip.textContent = seatList.label(seat);
        tip.style.left = `${clientX - rect.left}px`;
        tip.style.top = `${clientY - rect.top}px`;
        tip.hidden = false;
      },
    });
    const mapCanvas = seatCanvas;
    cleanups.push(() => mapCanvas.destroy());
    zoomIn.addEventListener('click', () => mapCanvas.zoomBy(1.5));
    zoomOut.addEventListener('click', () => mapCanvas.zoomBy(1 / 1.5));
    fit.addEventListener('click', () => mapCanvas.fit());
    seatList = new SeatList(geometry, { seatStatus, selected: selection.seats, mine }, {
      onToggleSeat: (seat) => toggleSeat(seat, false),
      onFocusSection: (section) => mapCanvas.zoomToBounds(section.bounds, 0.85),
    });
    areas.left.append(seatList.element);
    const seatIdState = (seatId: string): string | null => {
      const seat = geometry.seatIndex(seatId);
      if (seat === undefined) return null;
      if (mine.has(seat)) return 'mine';
      if (selection.seats.has(seat)) return 'selected';
      return ['available', 'held', 'sold', 'blocked'][seatStatus()[seat] ?? 3] ?? 'blocked';
    };
    cleanups.push(exposeSeatMapDebug({
      showId: show.id,
      seatCount: geometry.seatCount,
      version: () => store.version,
      seatState: seatIdState,
      seatPoint: (seatId) => {
        const seat = geometry.seatIndex(seatId);
        return seat === undefined ? null : mapCanvas.clientPointOf(seat);
      },
      seatPixel: (seatId) => {
        const seat = geometry.seatIndex(seatId);
        return seat === undefined ? null : mapCanvas.pixelOf(seat);
      },
      zoomToSeat: (seatId) => {
        const seat = geometry.seatIndex(seatId);
        if (seat !== undefined) mapCanvas.zoomToBounds(geometry.sectionOf(seat).bounds, 0.85);
      },
      colours: {
        held: statusColours.held, sold: statusColours.sold, selected: statusColours.selected, mine: statusColours.mine,
        available: (seatId) => {
          const seat = geometry.seatIndex(seatId);
          return seat === undefined ? null : tierColour(geometry.tier[seat]!);
        },
      },
      frames: () => mapCanvas.frames,
      lastFrameMs: () => mapCanvas.lastFrameMs,
    }));
  } else {
    replaceChildren(areas.left, h('section', { class: 'card' }, h('h2', {}, 'Availability'), summary), message);
  }
  replaceChildren(areas.side, ...[...areas.side.children], holdArea, panel.element);

  cleanups.push(store.subscribe((event) => {
    if (event.type === 'diff') {
      const touched = event.seats.map(([seat]) => seat);
      // A chosen seat someone else just took leaves the selection, with a word to the fan.
      const lost = touched.filter((seat) => selection.seats.has(seat) && seatStatus()[seat] !== 0);
      for (const seat of lost) selection.seats.delete(seat);
      if (lost.length > 0) {
        message.textContent = `Just taken by someone else: ${lost.map((seat) => seatList?.label(seat) ?? geometry.seatId(seat)).join('; ')}.`;
        announce(message.textContent);
        panel.render();
      }
      seatList?.update(touched);
      if (event.pools.length > 0) panel.render();
    } else seatList?.update(null);
    seatCanvas?.invalidate();
    scheduleAvailability();
  }));
  cleanups.push(() => stopHold());
  updateAvailability();

  // A hold made before a reload is shown again while it lasts.
  const storedHoldId = sessionStorage.getItem(holdStorageKey(ctx.session.userId, show.id));
  if (storedHoldId !== null) {
    client.getHold(storedHoldId).then(
      (hold) => {
        if (currentHold === null && hold.status !== 'sold' && client.holdRemainingMs(hold) > 0) showHold(hold);
      },
      () => sessionStorage.removeItem(holdStorageKey(ctx.session.userId, show.id)),
    );
  }
}
