/**
 * What fans do, shared by the scenarios: try a hold, then buy it the way a crowd does — most pay
 * once, some mash Pay (three confirms within 200 ms with one Idempotency-Key), some abandon (walk
 * away, or release), a few pay late (after the payment window: captured, then refunded). Every
 * acknowledged id goes to `ack` for the audit; every outcome is counted by code.
 */
import { HoldfastAbortError, HoldfastError, HoldfastNetworkError } from '../../client-sdk/src/errors.js';
import { newIdempotencyKey } from '../../client-sdk/src/idempotency.js';
import type { HoldRequestBody, HoldResponse } from '../../src/protocol/hold-schemas.js';
import type { FanContext } from './scenario.js';

export const successCard = '4242424242424242';

type Context = Pick<FanContext, 'client' | 'metrics' | 'ack' | 'random' | 'signal' | 'deadlineMs' | 'options' | 'plan'>;

/**
 * Wakers waiting on each stop signal. One `abort` listener per signal and a Set of wakers: thousands
 * of fans pause on one signal, and EventTarget's addEventListener walks its whole listener list
 * (to refuse duplicates), which made every pause O(fans) — ~5% of a 10,000-fan worker's CPU.
 */
const wakersBySignal = new WeakMap<AbortSignal, Set<() => void>>();

/** Calls `callback` once when `signal` fires (at once if it has); returns the unsubscribe. */
export function onStop(signal: AbortSignal, callback: () => void): () => void {
  if (signal.aborted) {
    callback();
    return () => undefined;
  }
  let wakers = wakersBySignal.get(signal);
  if (wakers === undefined) {
    const set = new Set<() => void>();
    wakers = set;
    wakersBySignal.set(signal, set);
    signal.addEventListener('abort', () => {
      for (const wake of [...set]) wake();
      set.clear();
    }, { once: true });
  }
  const registered = wakers;
  registered.add(callback);
  return () => registered.delete(callback);
}

/** Resolves after `ms`, or early (without throwing) when `signal` fires; without one, after `ms`. */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted || ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    if (signal === undefined) {
      setTimeout(resolve, ms);
      return;
    }
    const done = (): void => {
      clearTimeout(timer);
      unsubscribe();
      resolve();
    };
    const timer = setTimeout(done, ms);
    const unsubscribe = onStop(signal, done);
  });
}

/** Counts an unexpected failure by code; aborts (the run stopping) are not failures. */
export function countError(context: Pick<FanContext, 'metrics'>, error: unknown): void {
  if (error instanceof HoldfastAbortError) return;
  context.metrics.count('errors');
  const code = error instanceof HoldfastError ? error.code : error instanceof HoldfastNetworkError ? 'network' : error instanceof Error ? error.name : 'unknown';
  context.metrics.code('error', code);
}

/** Seats plus pool units of a hold. */
export function unitsOf(hold: Pick<HoldResponse, 'seat_ids' | 'ga'>): number {
  return hold.seat_ids.length + hold.ga.reduce((sum, pool) => sum + pool.quantity, 0);
}

export type HoldOutcome = { ok: true; hold: HoldResponse } | { ok: false; code: string };

/** One hold attempt: answered (granted or refused with a code), or an error after the SDK's retries. */
export async function tryHold(context: Context, showId: string, body: HoldRequestBody): Promise<HoldOutcome> {
  const startedAt = performance.now();
  let attempt;
  try {
    attempt = await context.client.tryHold(showId, body, { via: context.options.holdsVia });
  } catch (error) {
    countError(context, error);
    return { ok: false, code: 'error' };
  }
  context.metrics.recordMs('hold', performance.now() - startedAt);
  context.metrics.count('holdAttempts');
  if (!attempt.ok) {
    context.metrics.count('holdRefusals');
    context.metrics.code('refusal', attempt.error.code);
    return { ok: false, code: attempt.error.code };
  }
  const { hold } = attempt;
  context.metrics.count('holdsOk');
  context.metrics.count('seatsHeld', unitsOf(hold));
  context.ack.holds.push(hold.hold_id);
  return { ok: true, hold };
}

export async function release(context: Context, hold: HoldResponse): Promise<void> {
  try {
    await context.metrics.time('release', () => context.client.release(hold.hold_id, { via: context.options.holdsVia }));
    context.metrics.count('releases');
  } catch (error) {
    if (error instanceof HoldfastError && !error.retryable) context.metrics.code('refusal', `release_${error.code}`);
    else countError(context, error);
  }
}

export type Purchase = 'paid' | 'abandoned' | 'late' | 'failed';

/** Buys a hold the way this purchase's draw says (see the file comment). */
export async function buy(context: Context, hold: HoldResponse): Promise<Purchase> {
  const { options, metrics } = context;
  const draw = context.random();
  if (draw < options.abandonShare) {
    // Half walk away (the hold ends by itself at its TTL), half let go of it.
    if (context.random() < 0.5) {
      metrics.count('abandonedWalkAway');
    } else {
      metrics.count('abandonedReleased');
      await release(context, hold);
    }
    return 'abandoned';
  }
  let order;
  try {
    order = await metrics.time('order', () => context.client.createOrder(hold.hold_id));
  } catch (error) {
    if (error instanceof HoldfastError && !error.retryable) metrics.code('refusal', `order_${error.code}`);
    else countError(context, error);
    return 'failed';
  }
  metrics.count('ordersCreated');
  context.ack.orders.push(order.order_id);
  const paymentId = order.payment.id;
  if (paymentId === null) {
    metrics.code('error', 'order_without_payment');
    metrics.count('errors');
    return 'failed';
  }
  const windowLeftMs = context.client.clock.remainingMs(order.pay_by_ms);
  const late = draw < options.abandonShare + options.lateShare && Date.now() + windowLeftMs + 5_000 < context.deadlineMs;
  if (late) {
    // Pays after the window closed: the money is taken, the pinned hold is gone, so it must be refunded.
    await pause(windowLeftMs + 1_500, context.signal);
    if (context.signal.aborted) return 'abandoned';
    metrics.count('latePayments');
    try {
      const result = await metrics.time('confirm', () => context.client.confirmPayment(paymentId, { card_number: successCard }));
      if (result.status === 'refunded') {
        metrics.count('lateRefunded');
        context.ack.refundedOrders.push(order.order_id);
      } else if (result.status === 'confirmed') {
        recordPaid(context, order.order_id, hold);
      } else metrics.code('refusal', `late_${result.status}`);
    } catch (error) {
      if (error instanceof HoldfastError && !error.retryable) metrics.code('refusal', `late_${error.code}`);
      else countError(context, error);
    }
    return 'late';
  }
  const mash = draw < options.abandonShare + options.lateShare + options.mashShare;
  try {
    let status: string;
    if (mash) {
      // One Pay intent, three presses within 200 ms: one key, so at most one charge.
      const key = newIdempotencyKey();
      const press = (delayMs: number) => pause(delayMs).then(() => metrics.time('confirm', () => context.client.confirmPayment(paymentId, { card_number: successCard }, { idempotencyKey: key })));
      const results = await Promise.all([press(0), press(100), press(200)]);
      metrics.count('mashConfirms', results.length - 1);
      const statuses = new Set(results.map((result) => result.status));
      if (statuses.size > 1) {
        metrics.count('errors');
        metrics.code('error', `mash_answers_differ_${[...statuses].join('_')}`);
      }
      status = results[0]!.status;
    } else {
      status = (await metrics.time('confirm', () => context.client.confirmPayment(paymentId, { card_number: successCard }))).status;
    }
    if (status === 'processing') status = (await context.client.waitForOrder(order.order_id, { timeoutMs: 30_000, intervalMs: 500 })).status;
    if (status === 'confirmed') {
      recordPaid(context, order.order_id, hold);
      return 'paid';
    }
    if (status === 'refunded') context.ack.refundedOrders.push(order.order_id);
    metrics.code('refusal', `pay_${status}`);
    return 'failed';
  } catch (error) {
    if (error instanceof HoldfastError && !error.retryable) metrics.code('refusal', `pay_${error.code}`);
    else countError(context, error);
    return 'failed';
  }
}

function recordPaid(context: Context, orderId: string, hold: HoldResponse): void {
  context.metrics.count('paid');
  context.metrics.count('itemsSold', unitsOf(hold));
  context.ack.confirmedOrders.push(orderId);
}

/** Signs the fan in and opens its socket (counted in the `connected` gauge while it is up). */
export async function arrive(context: Pick<FanContext, 'client' | 'metrics' | 'index' | 'plan'>): Promise<void> {
  await context.metrics.time('signIn', () => context.client.signIn(`fan-${context.plan.runId}-${context.index}`));
  let up = false;
  context.client.onConnectionChange((state) => {
    if (state === 'connected' && !up) {
      up = true;
      context.metrics.gauge('connected', 1);
    } else if (state !== 'connected' && up) {
      up = false;
      context.metrics.gauge('connected', -1);
    }
  });
  await context.metrics.time('connect', () => context.client.connect(30_000));
}
