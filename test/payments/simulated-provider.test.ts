import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../src/protocol/api-error.js';
import { PaymentProviderError } from '../../src/payments/payment-errors.js';
import type { PaymentIntent, PaymentWebhookEvent } from '../../src/payments/payment-provider.js';
import type { SimulatedProviderOptions } from '../../src/payments/simulated-provider.js';
import { SimulatedPaymentProvider, simulatedSignatureHeader, simulatedTestCards as cards } from '../../src/payments/simulated-provider.js';
import { ManualTime } from './manual-time.js';
import { describePaymentProviderContract } from './payment-provider-contract.js';

describePaymentProviderContract('simulated', async () => {
  const provider = new SimulatedPaymentProvider({ latencyMs: { min: 0, max: 0 }, processingDelayMs: 60_000 });
  return {
    provider,
    cards: { success: cards.success, decline: cards.decline, insufficientFunds: cards.insufficientFunds, processing: cards.slow },
    captures: (id) => provider.captures(id),
    refunds: (id) => provider.refunds(id).length,
    close: async () => provider.close(),
  };
});

interface Delivery {
  body: Buffer;
  headers: Record<string, string>;
  atMs: number;
}

/** A provider on manual time whose webhooks land in `deliveries`. */
function setup(options: Partial<SimulatedProviderOptions> = {}) {
  const time = new ManualTime();
  const deliveries: Delivery[] = [];
  const provider = new SimulatedPaymentProvider({
    clock: time,
    timers: time,
    latencyMs: { min: 0, max: 0 },
    webhookSecret: 'whsec_test_simulated',
    webhooks: { delayMs: { min: 5, max: 50 } },
    processingDelayMs: 1_000,
    deliver: async (body, headers) => {
      deliveries.push({ body, headers, atMs: time.nowMs() });
    },
    ...options,
  });
  const events = (): PaymentWebhookEvent[] => deliveries.map((delivery) => provider.parseWebhook(delivery.body, delivery.headers));
  return { time, deliveries, provider, events };
}

async function paid(provider: SimulatedPaymentProvider, card: string): Promise<{ intent: PaymentIntent; confirmed: PaymentIntent }> {
  const intent = await provider.createPayment({
    orderId: `ord_${randomUUID()}`,
    amountCents: 5_000,
    currency: 'usd',
    idempotencyKey: `create-${randomUUID()}`,
    metadata: {},
  });
  const confirmed = await provider.confirmPayment({ paymentId: intent.id, paymentMethod: card, idempotencyKey: `confirm-${randomUUID()}` });
  return { intent, confirmed };
}

/** What a saga's webhook consumer does: drop seen event ids, ignore events older than the last applied one. */
function consume(events: PaymentWebhookEvent[]): { applied: PaymentWebhookEvent[]; duplicates: number; stale: number } {
  const seen = new Set<string>();
  const lastApplied = new Map<string, number>();
  const applied: PaymentWebhookEvent[] = [];
  let duplicates = 0;
  let stale = 0;
  for (const event of events) {
    if (seen.has(event.eventId)) {
      duplicates += 1;
      continue;
    }
    seen.add(event.eventId);
    if (event.createdAtMs <= (lastApplied.get(event.paymentId) ?? -Infinity)) {
      stale += 1;
      continue;
    }
    lastApplied.set(event.paymentId, event.createdAtMs);
    applied.push(event);
  }
  return { applied, duplicates, stale };
}

describe('SimulatedPaymentProvider test cards', () => {
  it('4242…: captured in the reply, then a signed payment.captured webhook, late', async () => {
    const { time, deliveries, provider, events } = setup();
    const { intent, confirmed } = await paid(provider, cards.success);
    expect(confirmed.status).toBe('captured');
    expect(deliveries).toHaveLength(0);
    await time.advance(100);
    expect(events()).toEqual([{ eventId: expect.any(String), provider: 'simulated', paymentId: intent.id, type: 'payment.captured', createdAtMs: expect.any(Number) }]);
    expect(deliveries[0]!.atMs).toBeGreaterThan(events()[0]!.createdAtMs);
    expect(deliveries[0]!.headers[simulatedSignatureHeader]).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
  });

  it('4000…0002 and 4000…9995: failed with a failureCode and a payment.failed webhook', async () => {
    const { time, provider, events } = setup();
    const declined = await paid(provider, cards.decline);
    const broke = await paid(provider, cards.insufficientFunds);
    expect(declined.confirmed).toMatchObject({ status: 'failed', failureCode: 'card_declined' });
    expect(broke.confirmed).toMatchObject({ status: 'failed', failureCode: 'insufficient_funds' });
    await time.advance(200);
    expect(events().map((event) => [event.paymentId, event.type])).toEqual([
      [declined.intent.id, 'payment.failed'],
      [broke.intent.id, 'payment.failed'],
    ]);
    expect(provider.captures(declined.intent.id) + provider.captures(broke.intent.id)).toBe(0);
  });

  it('4000…0259: processing in the reply, captured later by webhook only', async () => {
    const { time, provider, events } = setup();
    const { intent, confirmed } = await paid(provider, cards.slow);
    expect(confirmed.status).toBe('processing');
    await time.advance(200);
    expect(events().map((event) => event.type)).toEqual(['payment.processing']);
    expect((await provider.retrievePayment(intent.id)).status).toBe('processing');
    await time.advance(1_000);
    const received = events();
    expect(received.map((event) => event.type)).toEqual(['payment.processing', 'payment.captured']);
    expect(received[1]!.createdAtMs).toBeGreaterThan(received[0]!.createdAtMs);
    expect((await provider.retrievePayment(intent.id)).status).toBe('captured');
    expect(provider.captures(intent.id)).toBe(1);
  });

  it('4000…0259 with reorder: a consumer still ends on captured by createdAtMs', async () => {
    // Big jitter relative to the capture delay so that the two webhooks can swap.
    let swapped = 0;
    for (let run = 0; run < 20; run += 1) {
      const { time, provider, events } = setup({ processingDelayMs: 10, webhooks: { delayMs: { min: 0, max: 200 }, reorder: true } });
      await paid(provider, cards.slow);
      await time.advance(500);
      const received = events();
      expect(received).toHaveLength(2);
      if (received[0]!.type === 'payment.captured') swapped += 1;
      const { applied } = consume(received);
      expect(applied.at(-1)!.type).toBe('payment.captured');
    }
    expect(swapped).toBeGreaterThan(0);
  });

  it('4000…0341: captured with no webhook at all', async () => {
    const { time, deliveries, provider } = setup();
    const { intent, confirmed } = await paid(provider, cards.lostWebhook);
    expect(confirmed.status).toBe('captured');
    await time.advance(60_000);
    expect(deliveries).toHaveLength(0);
    expect((await provider.retrievePayment(intent.id)).status).toBe('captured');
  });

  it('4000…3220: payment.captured delivered 3 times with one eventId, shuffled with an older processing event', async () => {
    const { time, provider, events } = setup();
    const { intent, confirmed } = await paid(provider, cards.duplicatedWebhook);
    expect(confirmed.status).toBe('captured');
    await time.advance(200);
    const received = events();
    const captured = received.filter((event) => event.type === 'payment.captured');
    const processing = received.filter((event) => event.type === 'payment.processing');
    expect(captured.length).toBeGreaterThanOrEqual(3);
    expect(new Set(captured.map((event) => event.eventId)).size).toBe(1);
    expect(processing).toHaveLength(1);
    expect(received[0]!.type).toBe('payment.captured');
    expect(processing[0]!.createdAtMs).toBeLessThan(captured[0]!.createdAtMs);
    expect(received.every((event) => event.paymentId === intent.id)).toBe(true);

    const { applied, duplicates, stale } = consume(received);
    expect(applied.map((event) => event.type)).toEqual(['payment.captured']);
    expect(duplicates).toBe(2);
    expect(stale).toBe(1);
    expect(provider.captures(intent.id)).toBe(1);
  });

  it('4000…0119: captures, then throws a retryable error; retries never capture again', async () => {
    const { time, provider, events } = setup();
    const intent = await provider.createPayment({ orderId: 'ord_lost', amountCents: 700, currency: 'eur', idempotencyKey: 'c-lost', metadata: {} });
    const confirm = { paymentId: intent.id, paymentMethod: cards.processingError, idempotencyKey: 'k-lost' };
    const error = await provider.confirmPayment(confirm).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PaymentProviderError);
    expect(error).toMatchObject({ code: 'processing_error', retryable: true });
    expect(provider.captures(intent.id)).toBe(1);

    expect(await provider.confirmPayment(confirm)).toMatchObject({ status: 'captured' });
    expect(await provider.confirmPayment({ ...confirm, idempotencyKey: 'k-other' })).toMatchObject({ status: 'captured' });
    expect(await provider.confirmPayment({ paymentId: intent.id, paymentMethod: cards.success, idempotencyKey: 'k-third' })).toMatchObject({
      status: 'captured',
    });
    expect(provider.captures(intent.id)).toBe(1);
    await time.advance(200);
    expect(events().map((event) => event.type)).toEqual(['payment.captured']);
  });

  it('accepts Stripe test payment-method ids as aliases', async () => {
    const { provider } = setup();
    expect((await paid(provider, 'pm_card_visa')).confirmed.status).toBe('captured');
    expect((await paid(provider, 'pm_card_chargeDeclined')).confirmed).toMatchObject({ status: 'failed', failureCode: 'card_declined' });
    expect((await paid(provider, '4242 4242 4242 4242')).confirmed.status).toBe('captured');
    expect((await paid(provider, '4111111111111111')).confirmed).toMatchObject({ status: 'failed', failureCode: 'incorrect_number' });
  });
});

describe('SimulatedPaymentProvider options', () => {
  it('declineRate 1 declines the generic card; processingErrorRate 1 loses its reply', async () => {
    const declining = setup({ declineRate: 1 }).provider;
    expect((await paid(declining, cards.success)).confirmed).toMatchObject({ status: 'failed', failureCode: 'card_declined' });
    const losing = setup({ processingErrorRate: 1 }).provider;
    await expect(paid(losing, cards.success)).rejects.toMatchObject({ code: 'processing_error', retryable: true });
    expect(losing.allPayments()[0]).toMatchObject({ status: 'captured', captures: 1 });
  });

  it('duplicateRate 1 delivers every event twice with the same eventId', async () => {
    const { time, provider, events } = setup({ webhooks: { delayMs: { min: 1, max: 20 }, duplicateRate: 1 } });
    await paid(provider, cards.success);
    await time.advance(100);
    const received = events();
    expect(received).toHaveLength(2);
    expect(received[0]!.eventId).toBe(received[1]!.eventId);
  });

  it('without reorder, deliveries keep event order despite jitter', async () => {
    const { time, provider, events } = setup({ webhooks: { delayMs: { min: 0, max: 500 } } });
    for (let index = 0; index < 20; index += 1) await paid(provider, index % 2 === 0 ? cards.success : cards.decline);
    await time.advance(1_000);
    const created = events().map((event) => event.createdAtMs);
    expect(created).toHaveLength(20);
    expect([...created].sort((a, b) => a - b)).toEqual(created);
  });

  it('retries a rejected delivery with backoff', async () => {
    const time = new ManualTime();
    const attempts: number[] = [];
    const provider = new SimulatedPaymentProvider({
      clock: time,
      timers: time,
      latencyMs: { min: 0, max: 0 },
      webhooks: { delayMs: { min: 10, max: 10 }, retryDelayMs: 100, maxAttempts: 3 },
      deliver: async () => {
        attempts.push(time.nowMs());
        if (attempts.length < 3) throw new Error('handler down');
      },
    });
    await paid(provider, cards.success);
    await time.advance(1_000);
    expect(attempts).toHaveLength(3);
    expect(attempts[1]! - attempts[0]!).toBe(100);
    expect(attempts[2]! - attempts[1]!).toBe(200);
    expect(provider.pendingWork).toBe(0);
  });

  it('answers after a random latency on its timers', async () => {
    const time = new ManualTime();
    const provider = new SimulatedPaymentProvider({ clock: time, timers: time, latencyMs: { min: 20, max: 20 } });
    let done = false;
    const pending = provider
      .createPayment({ orderId: 'o', amountCents: 1, currency: 'eur', idempotencyKey: 'k', metadata: {} })
      .then(() => {
        done = true;
      });
    await time.advance(19);
    expect(done).toBe(false);
    await time.advance(1);
    await pending;
    expect(done).toBe(true);
  });

  it('settled() waits for deliveries and delayed captures; close() cancels them', async () => {
    const { time, provider } = setup();
    await paid(provider, cards.slow);
    expect(provider.pendingWork).toBeGreaterThan(0);
    let settled = false;
    const waiting = provider.settled().then(() => {
      settled = true;
    });
    await time.advance(500);
    expect(settled).toBe(false);
    await time.advance(1_000);
    await waiting;
    expect(settled).toBe(true);

    await paid(provider, cards.slow);
    provider.close();
    expect(provider.pendingWork).toBe(0);
    await provider.settled();
  });

  it('keeps at most maxPayments, forgetting the oldest and its keys', async () => {
    const { provider } = setup({ maxPayments: 3 });
    const created: PaymentIntent[] = [];
    for (let index = 0; index < 5; index += 1) {
      created.push(await provider.createPayment({ orderId: `o${index}`, amountCents: 100, currency: 'eur', idempotencyKey: `k${index}`, metadata: {} }));
    }
    expect(provider.allPayments().map((payment) => payment.orderId)).toEqual(['o2', 'o3', 'o4']);
    await expect(provider.retrievePayment(created[0]!.id)).rejects.toMatchObject({ code: 'not_found' });
    const recreated = await provider.createPayment({ orderId: 'o0', amountCents: 100, currency: 'eur', idempotencyKey: 'k0', metadata: {} });
    expect(recreated.id).not.toBe(created[0]!.id);
  });

  it('refuses one idempotency key across operations, and invalid requests', async () => {
    const { provider } = setup();
    const intent = await provider.createPayment({ orderId: 'o', amountCents: 100, currency: 'eur', idempotencyKey: 'same', metadata: {} });
    await expect(provider.confirmPayment({ paymentId: intent.id, paymentMethod: cards.success, idempotencyKey: 'same' })).rejects.toMatchObject({
      code: 'idempotency_key_reused',
    });
    await expect(provider.createPayment({ orderId: 'o', amountCents: 0, currency: 'eur', idempotencyKey: 'x', metadata: {} })).rejects.toMatchObject({
      code: 'invalid_request',
    });
    await expect(provider.createPayment({ orderId: 'o', amountCents: 1, currency: 'euro', idempotencyKey: 'y', metadata: {} })).rejects.toMatchObject({
      code: 'invalid_request',
    });
    await expect(provider.createPayment({ orderId: 'o', amountCents: 1, currency: 'eur', idempotencyKey: '', metadata: {} })).rejects.toMatchObject({
      code: 'invalid_request',
    });
  });

  it('exposes refunds for audits', async () => {
    const { provider } = setup();
    const { intent } = await paid(provider, cards.success);
    const refund = await provider.refundPayment(intent.id, 'refund-1', 'show canceled');
    expect(provider.refunds(intent.id)).toEqual([
      { refundId: refund.refundId, idempotencyKey: 'refund-1', amountCents: 5_000, reason: 'show canceled', createdAtMs: expect.any(Number) },
    ]);
    expect(provider.allPayments()[0]).toMatchObject({ id: intent.id, status: 'refunded', captures: 1, paymentMethod: cards.success });
  });
});

describe('SimulatedPaymentProvider webhook verification', () => {
  async function oneDelivery() {
    const context = setup();
    await paid(context.provider, cards.success);
    await context.time.advance(100);
    return { ...context, delivery: context.deliveries[0]! };
  }

  function expectForbidden(call: () => unknown): void {
    let caught: unknown;
    try {
      call();
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ApiError);
    expect((caught as ApiError).code).toBe('forbidden');
  }

  it('accepts the genuine delivery, with any header-name case', async () => {
    const { provider, delivery } = await oneDelivery();
    expect(provider.parseWebhook(delivery.body, { 'X-Simulated-Signature': delivery.headers[simulatedSignatureHeader]! }).type).toBe('payment.captured');
  });

  it('refuses a tampered body, a wrong secret, a missing or malformed header', async () => {
    const { provider, delivery, time } = await oneDelivery();
    const tampered = Buffer.from(delivery.body.toString('utf8').replace('payment.captured', 'payment.refunded'));
    expectForbidden(() => provider.parseWebhook(tampered, delivery.headers));
    const other = new SimulatedPaymentProvider({ clock: time, timers: time, webhookSecret: 'another-secret' });
    expectForbidden(() => other.parseWebhook(delivery.body, delivery.headers));
    expectForbidden(() => provider.parseWebhook(delivery.body, {}));
    expectForbidden(() => provider.parseWebhook(delivery.body, { [simulatedSignatureHeader]: 'v1=abc' }));
    expectForbidden(() => provider.parseWebhook(delivery.body, { [simulatedSignatureHeader]: 't=1,v1=' }));
  });

  it('refuses a timestamp older than 5 minutes', async () => {
    const { provider, delivery, time } = await oneDelivery();
    time.jump(4 * 60_000);
    expect(provider.parseWebhook(delivery.body, delivery.headers).type).toBe('payment.captured');
    time.jump(2 * 60_000);
    expectForbidden(() => provider.parseWebhook(delivery.body, delivery.headers));
  });
});
