import { newIdempotencyKey, type HoldResponse, type OrderView, type Stop } from '../../../client-sdk/src/index.js';
import type { AppContext } from '../app-context.js';
import { announce, h, replaceChildren } from '../dom.js';
import { describeError } from '../errors.js';
import { dateTime, money, remaining } from '../format.js';
import { itemLines } from './items.js';

const testCards: [string, string][] = [
  ['4242 4242 4242 4242', 'paid'],
  ['4000 0000 0000 0002', 'declined'],
  ['4000 0000 0000 9995', 'declined: insufficient funds'],
  ['4000 0000 0000 0259', 'processing, paid ~2 s later'],
];

/**
 * Checkout of one hold with the simulated card: creates the order (which pins the hold for the
 * payment window), then confirms the payment. The order is created once per page (one key
 * for that intent); every press of Pay is its own intent with its own key, reused on retries.
 */
export function checkoutView(ctx: AppContext, [holdId]: string[]): () => void {
  const { client } = ctx.session;
  const stops: Stop[] = [];
  let closed = false;
  const orderIntent = newIdempotencyKey();
  let order: OrderView | null = null;

  const run = async () => {
    const hold: HoldResponse = await client.getHold(holdId!);
    if (hold.status === 'sold' && hold.order_id) {
      ctx.navigate(`#/order/${encodeURIComponent(hold.order_id)}`);
      return;
    }
    const show = await client.getShow(hold.show_id);
    const event = await client.getEvent(show.event_id);
    if (closed) return;
    const timer = h('div', { class: 'countdown', role: 'timer', 'data-testid': 'checkout-countdown' }, '');
    const timerLabel = h('span', { class: 'muted small' }, 'Time left to pay');
    const startTimer = (deadlineMs: number) => {
      for (const stop of stops.splice(0)) stop();
      stops.push(client.clock.countdown(deadlineMs, (ms) => {
        timer.textContent = remaining(ms);
        timer.classList.toggle('low', ms < 60_000);
      }, { intervalMs: 250 }));
    };
    startTimer(hold.expires_at_ms);
    const card = h('input', { id: 'card-number', name: 'card_number', inputmode: 'numeric', autocomplete: 'cc-number', value: '4242 4242 4242 4242', size: 22, 'aria-describedby': 'card-help' });
    const pay = h('button', { type: 'submit', class: 'primary', 'data-testid': 'pay-button' }, `Pay ${money(hold.total_cents, hold.currency)}`);
    const status = h('p', { role: 'alert', 'data-testid': 'payment-status' });
    const form = h(
      'form',
      { class: 'card stack', 'aria-labelledby': 'pay-title' },
      h('h2', { id: 'pay-title' }, 'Payment'),
      h('label', { for: 'card-number' }, 'Card number', card),
      h('details', { id: 'card-help' }, h('summary', { class: 'small' }, 'Test cards (simulated payments)'), h('ul', { class: 'test-cards' }, testCards.map(([number, outcome]) => h('li', {}, h('code', {}, number), ` ${outcome}`)))),
      pay,
      status,
    );
    form.addEventListener('submit', (submitted) => {
      submitted.preventDefault();
      void payNow();
    });
    const payNow = async () => {
      const digits = card.value.replace(/[\s-]/g, '');
      if (!/^[0-9]{12,19}$/.test(digits)) {
        status.textContent = 'Enter the card number: 12 to 19 digits.';
        return;
      }
      pay.disabled = true;
      status.className = '';
      status.textContent = 'Paying…';
      try {
        order ??= await client.createOrder(hold.hold_id, { idempotencyKey: orderIntent });
        startTimer(order.pay_by_ms);
        timerLabel.textContent = 'Seats kept for you while you pay';
        if (order.payment.id === null) throw new Error('the order has no payment to confirm; reload the page');
        const result = await client.confirmPayment(order.payment.id, { card_number: digits }, { idempotencyKey: newIdempotencyKey() });
        let final = result.order;
        if (result.status === 'processing') {
          status.textContent = 'The bank is processing the payment…';
          final = await client.waitForOrder(result.order_id, { timeoutMs: 30_000, intervalMs: 500 });
        }
        if (final.status === 'confirmed') {
          announce('Payment accepted. Your tickets are ready.');
          ctx.navigate(`#/order/${encodeURIComponent(final.order_id)}`);
          return;
        }
        status.className = 'error';
        status.textContent = final.status === 'refunded'
          ? 'The seats were no longer held when the payment arrived, so it was refunded. Nothing was charged.'
          : final.status === 'failed' || result.status === 'failed'
            ? `The card was declined${final.last_error ? ` (${final.last_error.replace(/_/g, ' ')})` : ''}. Try another card.`
            : `The payment is ${final.status.replace(/_/g, ' ')}. Check My orders in a moment.`;
      } catch (error) {
        status.className = 'error';
        status.textContent = describeError(error);
      }
      pay.disabled = false;
    };
    replaceChildren(
      ctx.root,
      h('p', {}, h('a', { href: `#/show/${encodeURIComponent(hold.show_id)}` }, '← Back to the seat map')),
      h('h1', {}, 'Checkout'),
      h(
        'div',
        { class: 'checkout' },
        form,
        h(
          'section',
          { class: 'card stack', 'aria-labelledby': 'summary-title', 'data-testid': 'order-summary' },
          h('h2', { id: 'summary-title' }, event.name),
          h('p', { class: 'muted small' }, `${dateTime(show.starts_at)} · ${event.venue_name}`),
          h('ul', { class: 'selection-list' }, itemLines(hold).map((line) => h('li', {}, line))),
          h('div', {}, 'Total ', h('strong', {}, money(hold.total_cents, hold.currency))),
          h('div', {}, timerLabel, timer),
        ),
      ),
    );
    card.focus();
  };
  run().catch((error: unknown) => {
    if (!closed) replaceChildren(ctx.root, h('div', { class: 'notice bad', role: 'alert' }, describeError(error)), h('p', {}, h('a', { href: '#/orders' }, 'My orders')));
  });
  return () => {
    closed = true;
    for (const stop of stops.splice(0)) stop();
  };
}
