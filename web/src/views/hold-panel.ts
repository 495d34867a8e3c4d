import type { HoldResponse, Stop } from '../../../client-sdk/src/index.js';
import type { AppContext } from '../app-context.js';
import { announce, h } from '../dom.js';
import { describeError } from '../errors.js';
import { money, remaining } from '../format.js';

export interface HoldPanelOptions {
  /** Readable names of the held items ("Section 101, row 3, seat 7"). */
  describe(hold: HoldResponse): string[];
  onEnded(reason: 'released' | 'expired'): void;
  onChanged(hold: HoldResponse): void;
}

/**
 * A hold: what is held, the total, a countdown on the server's clock (the SDK's offset, so a
 * wrong device clock does not matter), and checkout / extend / release.
 */
export function holdPanel(ctx: AppContext, initial: HoldResponse, options: HoldPanelOptions): { element: HTMLElement; stop: Stop } {
  const { client } = ctx.session;
  let hold = initial;
  const timer = h('div', { class: 'countdown', 'data-testid': 'hold-countdown', role: 'timer', 'aria-label': 'Time left to buy' }, '');
  const message = h('p', { class: 'small', role: 'status' });
  const items = h('ul', { class: 'selection-list' });
  const total = h('strong', {});
  const extend = h('button', { type: 'button' }, 'More time');
  const release = h('button', { type: 'button', class: 'danger' }, 'Release');
  const checkout = h('a', { class: 'button primary', href: `#/checkout/${encodeURIComponent(hold.hold_id)}`, 'data-testid': 'checkout-link' }, 'Checkout');
  let warned = false;
  let stopCountdown: Stop = () => undefined;
  const render = () => {
    items.replaceChildren(...options.describe(hold).map((line) => h('li', {}, line)));
    total.textContent = money(hold.total_cents, hold.currency);
    extend.hidden = hold.extensions_left <= 0;
    stopCountdown();
    stopCountdown = client.holdCountdown(hold, (ms) => {
      timer.textContent = remaining(ms);
      timer.classList.toggle('low', ms < 60_000);
      if (ms < 60_000 && !warned) {
        warned = true;
        announce('Less than a minute left on your hold.');
      }
      if (ms <= 0) {
        stopCountdown();
        options.onEnded('expired');
      }
    }, { intervalMs: 250 });
  };
  extend.addEventListener('click', async () => {
    extend.disabled = true;
    try {
      hold = await client.extend(hold.hold_id);
      warned = false;
      message.textContent = 'You have more time.';
      render();
      options.onChanged(hold);
    } catch (error) {
      message.textContent = describeError(error);
    } finally {
      extend.disabled = false;
    }
  });
  release.addEventListener('click', async () => {
    release.disabled = true;
    try {
      await client.release(hold.hold_id);
      stopCountdown();
      announce('Released: the seats are back on sale.');
      options.onEnded('released');
    } catch (error) {
      message.textContent = describeError(error);
      release.disabled = false;
    }
  });
  const element = h(
    'section',
    { class: 'card stack', 'aria-labelledby': 'hold-title', 'data-testid': 'hold-panel', 'data-hold-id': hold.hold_id },
    h('h2', { id: 'hold-title' }, 'Held for you'),
    items,
    h('div', {}, 'Total ', total, hold.split ? h('span', { class: 'badge warn' }, 'not all together') : null),
    h('div', {}, h('span', { class: 'muted small' }, 'Time left to buy'), timer),
    h('div', { class: 'row' }, checkout, extend, release),
    message,
  );
  render();
  return { element, stop: () => stopCountdown() };
}
