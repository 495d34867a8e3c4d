import type { HoldRequestBody, HoldResponse, ShowView } from '../../../client-sdk/src/index.js';
import { newIdempotencyKey } from '../../../client-sdk/src/index.js';
import type { AppContext } from '../app-context.js';
import { h, replaceChildren } from '../dom.js';
import { describeError } from '../errors.js';
import { money } from '../format.js';
import type { SeatGeometry } from '../seatmap/geometry.js';

export interface Selection {
  seats: Set<number>;
  /** Pool index → quantity. */
  pools: Map<number, number>;
}

export interface SelectionHooks {
  poolAvailable(): readonly number[];
  describeSeat(seat: number): string;
  onRemoveSeat(seat: number): void;
  onHeld(hold: HoldResponse): void;
  onRefused(error: unknown): void;
}

/**
 * What the fan is about to hold: chosen seats, quantities from GA areas or room-nights, or
 * "best available N" — and the Hold button. One click is one intent: its Idempotency-Key is
 * made when the button is pressed and reused by the SDK's retries, so a flaky network never
 * holds twice.
 */
export function selectionPanel(ctx: AppContext, show: ShowView, geometry: SeatGeometry, selection: Selection, hooks: SelectionHooks) {
  const { client } = ctx.session;
  const chosen = h('ul', { class: 'selection-list', 'aria-label': 'Chosen seats' });
  const error = h('p', { class: 'error small', role: 'alert', 'data-testid': 'hold-error' });
  const holdButton = h('button', { type: 'button', class: 'primary', 'data-testid': 'hold-button' }, 'Hold');
  const poolInputs: HTMLInputElement[] = [];
  const poolLabels: HTMLElement[] = [];
  let busy = false;

  const send = async (body: HoldRequestBody, button: HTMLButtonElement) => {
    if (busy) return;
    busy = true;
    button.disabled = true;
    error.textContent = '';
    try {
      const hold = await client.hold(show.id, body, { idempotencyKey: newIdempotencyKey() });
      for (const input of poolInputs) input.value = '0';
      hooks.onHeld(hold);
    } catch (failure) {
      error.textContent = describeError(failure);
      hooks.onRefused(failure);
    } finally {
      busy = false;
      button.disabled = false;
      render();
    }
  };

  holdButton.addEventListener('click', () => {
    const seatIds = [...selection.seats].map((seat) => geometry.seatId(seat));
    const ga: { section_id: string; quantity: number }[] = [];
    const pools: { pool_id: string; quantity: number }[] = [];
    for (const [pool, quantity] of selection.pools) {
      const info = geometry.pools[pool]!;
      if (quantity <= 0) continue;
      if (info.kind === 'ga') ga.push({ section_id: info.id, quantity });
      else pools.push({ pool_id: info.id, quantity });
    }
    void send({ ...(seatIds.length > 0 ? { seat_ids: seatIds } : {}), ...(ga.length > 0 ? { ga } : {}), ...(pools.length > 0 ? { pools } : {}) }, holdButton);
  });

  const element = h('section', { class: 'card stack', 'aria-labelledby': 'selection-title' }, h('h2', { id: 'selection-title' }, 'Your choice'));
  if (geometry.seatCount > 0) element.append(h('p', { class: 'muted small' }, 'Click seats on the map, or use the section list.'), chosen);

  if (geometry.pools.length > 0) {
    const list = h('div', { class: 'stack', style: `gap:0.4rem;${geometry.pools.length > 8 ? 'max-height:18rem;overflow:auto' : ''}` });
    geometry.pools.forEach((pool, index) => {
      const input = h('input', { type: 'number', min: '0', max: String(show.max_items_per_hold), value: '0', inputmode: 'numeric', style: 'width:4.5rem', 'data-pool-id': pool.id });
      const label = h('span', {});
      input.addEventListener('input', () => {
        const quantity = Math.max(0, Math.min(show.max_items_per_hold, Math.floor(Number(input.value) || 0)));
        if (quantity === 0) selection.pools.delete(index);
        else selection.pools.set(index, quantity);
        render();
      });
      poolInputs.push(input);
      poolLabels.push(label);
      list.append(h('label', { style: 'flex-direction:row;align-items:center;justify-content:space-between;gap:0.5rem' }, label, input));
    });
    element.append(h('h3', {}, geometry.seatCount > 0 ? 'Standing' : 'Rooms'), list);
  }
  element.append(holdButton, error);

  if (geometry.seatCount > 0) {
    const quantity = h('select', { 'aria-label': 'How many seats' }, Array.from({ length: Math.min(10, show.max_items_per_hold) }, (_, index) => h('option', { value: String(index + 1), selected: index === 1 }, String(index + 1))));
    const tier = h('select', { 'aria-label': 'Price' }, h('option', { value: '' }, 'Cheapest'), geometry.tiers.map((entry) => h('option', { value: entry.id }, `${entry.name} ${money(entry.price_cents, geometry.currency)}`)));
    const best = h('button', { type: 'button', 'data-testid': 'best-available' }, 'Find best seats');
    best.addEventListener('click', () => void send({ best_available: { quantity: Number(quantity.value), ...(tier.value ? { tier: tier.value } : {}) } }, best));
    element.append(h('h3', {}, 'Or let us choose'), h('div', { class: 'row' }, h('label', {}, 'Seats', quantity), h('label', {}, 'Price', tier), best));
  }

  function render(): void {
    replaceChildren(
      chosen,
      [...selection.seats].map((seat) =>
        h('li', {}, hooks.describeSeat(seat), ' ', h('button', { type: 'button', class: 'small', 'aria-label': `Remove ${hooks.describeSeat(seat)}`, onclick: () => hooks.onRemoveSeat(seat) }, '×')),
      ),
    );
    const available = hooks.poolAvailable();
    geometry.pools.forEach((pool, index) => {
      const left = available[index] ?? 0;
      poolLabels[index]!.textContent = `${pool.name} · ${money(pool.price_cents, geometry.currency)} · ${left > 0 ? `${left.toLocaleString('en-US')} left` : 'sold out'}`;
      poolInputs[index]!.disabled = left === 0;
    });
    const items = selection.seats.size + [...selection.pools.values()].reduce((sum, count) => sum + count, 0);
    let totalCents = 0;
    for (const seat of selection.seats) totalCents += geometry.priceCents(seat);
    for (const [pool, count] of selection.pools) totalCents += (geometry.pools[pool]?.price_cents ?? 0) * count;
    holdButton.textContent = items === 0 ? 'Hold' : `Hold ${items} for ${money(totalCents, geometry.currency)}`;
    holdButton.disabled = items === 0 || busy;
  }
  render();

  return {
    element,
    render,
    focusPool(pool: number): void {
      poolInputs[pool]?.focus();
    },
  };
}
