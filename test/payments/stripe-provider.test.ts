import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError } from '../../src/protocol/api-error.js';
import { StripePaymentProvider, toPaymentIntent } from '../../src/payments/stripe-provider.js';
import { FakeStripeServer } from './fake-stripe-server.js';
import { describePaymentProviderContract } from './payment-provider-contract.js';

const webhookSecret = 'whsec_test_holdfast_contract';

function providerFor(server: FakeStripeServer, overrides: Partial<ConstructorParameters<typeof StripePaymentProvider>[0]> = {}): StripePaymentProvider {
  return new StripePaymentProvider({
    secretKey: server.secretKey,
    webhookSecret,
    host: server.host,
    port: server.port,
    protocol: 'http',
    ...overrides,
  });
}

describePaymentProviderContract('stripe (loopback fake)', async () => {
  const server = await FakeStripeServer.start();
  return {
    provider: providerFor(server),
    cards: {
      success: 'pm_card_visa',
      decline: 'pm_card_chargeDeclined',
      insufficientFunds: 'pm_card_visa_chargeDeclinedInsufficientFunds',
      processing: 'pm_fake_processing',
    },
    captures: (id) => server.captures(id),
    refunds: (id) => server.refunds(id),
    close: () => server.close(),
  };
});

describe('StripePaymentProvider over the wire', () => {
  let server: FakeStripeServer;
  let provider: StripePaymentProvider;

  beforeAll(async () => {
    server = await FakeStripeServer.start();
    provider = providerFor(server);
  });

  afterAll(async () => {
    await server.close();
  });

  it('sends the caller’s Idempotency-Key on every mutating call, and the expected parameters', async () => {
    const before = server.requests.length;
    const intent = await provider.createPayment({
      orderId: 'ord_42',
      amountCents: 4_200,
      currency: 'EUR',
      idempotencyKey: 'order:ord_42:create',
      metadata: { show_id: 'show-9' },
    });
    await provider.confirmPayment({ paymentId: intent.id, paymentMethod: 'pm_card_chargeDeclined', idempotencyKey: 'order:ord_42:confirm:1' });
    await provider.confirmPayment({ paymentId: intent.id, paymentMethod: 'pm_card_visa', idempotencyKey: 'order:ord_42:confirm:2' });
    await provider.retrievePayment(intent.id);
    await provider.refundPayment(intent.id, 'order:ord_42:refund', 'show canceled');

    const requests = server.requests.slice(before);
    expect(requests.map((request) => [request.method, request.path, request.idempotencyKey])).toEqual([
      ['POST', '/v1/payment_intents', 'order:ord_42:create'],
      ['POST', `/v1/payment_intents/${intent.id}/confirm`, 'order:ord_42:confirm:1'],
      ['POST', `/v1/payment_intents/${intent.id}/confirm`, 'order:ord_42:confirm:2'],
      ['GET', `/v1/payment_intents/${intent.id}`, undefined],
      ['POST', '/v1/refunds', 'order:ord_42:refund'],
    ]);
    expect(requests[0]!.form).toMatchObject({
      amount: '4200',
      currency: 'eur',
      'metadata[order_id]': 'ord_42',
      'metadata[show_id]': 'show-9',
      'payment_method_types[0]': 'card',
    });
    expect(requests[1]!.form).toEqual({ payment_method: 'pm_card_chargeDeclined' });
    expect(requests[3]!.query).toMatchObject({ 'expand[0]': 'latest_charge' });
    expect(requests[4]!.form).toEqual({ payment_intent: intent.id, reason: 'requested_by_customer', 'metadata[reason]': 'show canceled' });
    for (const request of requests) {
      expect(request.headers.authorization).toBe(`Bearer ${server.secretKey}`);
      expect(request.headers['x-stripe-client-telemetry']).toBeUndefined();
    }
    expect(intent.clientSecret).toMatch(/^pi_.+_secret_/);
  });

  it('survives a lost reply: the SDK retries with the same key and Stripe replays, one charge', async () => {
    const intent = await provider.createPayment({ orderId: 'ord_lost', amountCents: 900, currency: 'usd', idempotencyKey: 'lost:create', metadata: {} });
    server.dropNextResponse((method, path) => method === 'POST' && path.endsWith('/confirm'));
    const before = server.requests.length;
    const confirmed = await provider.confirmPayment({ paymentId: intent.id, paymentMethod: 'pm_card_visa', idempotencyKey: 'lost:confirm' });
    expect(confirmed.status).toBe('captured');
    const attempts = server.requests.slice(before);
    expect(attempts).toHaveLength(2);
    expect(attempts.map((request) => request.idempotencyKey)).toEqual(['lost:confirm', 'lost:confirm']);
    expect(attempts[1]!.replayed).toBe(true);
    expect(server.captures(intent.id)).toBe(1);
  });

  it('retries a 500 and maps an exhausted retry budget to a retryable processing_error', async () => {
    const intent = await provider.createPayment({ orderId: 'ord_500', amountCents: 900, currency: 'usd', idempotencyKey: '500:create', metadata: {} });
    server.failNext((method, path) => method === 'POST' && path.endsWith('/confirm'));
    expect((await provider.confirmPayment({ paymentId: intent.id, paymentMethod: 'pm_card_visa', idempotencyKey: '500:confirm' })).status).toBe('captured');

    const impatient = providerFor(server, { maxNetworkRetries: 0 });
    server.failNext((method) => method === 'GET');
    await expect(impatient.retrievePayment(intent.id)).rejects.toMatchObject({ code: 'processing_error', retryable: true, provider: 'stripe' });
  });

  it('maps 3-D Secure to requires_payment with the client secret', async () => {
    const intent = await provider.createPayment({ orderId: 'ord_3ds', amountCents: 900, currency: 'usd', idempotencyKey: '3ds:create', metadata: {} });
    const result = await provider.confirmPayment({ paymentId: intent.id, paymentMethod: 'pm_card_authenticationRequired', idempotencyKey: '3ds:confirm' });
    expect(result).toMatchObject({ status: 'requires_payment', failureCode: null, clientSecret: intent.clientSecret });
  });

  it('a processing payment settles to captured, and confirm on it changes nothing', async () => {
    const intent = await provider.createPayment({ orderId: 'ord_slow', amountCents: 900, currency: 'usd', idempotencyKey: 'slow:create', metadata: {} });
    await provider.confirmPayment({ paymentId: intent.id, paymentMethod: 'pm_fake_processing', idempotencyKey: 'slow:confirm:1' });
    expect((await provider.confirmPayment({ paymentId: intent.id, paymentMethod: 'pm_card_visa', idempotencyKey: 'slow:confirm:2' })).status).toBe('processing');
    server.settleProcessing(intent.id);
    expect((await provider.retrievePayment(intent.id)).status).toBe('captured');
    expect(server.captures(intent.id)).toBe(1);
  });

  it('maps a wrong API key to a non-retryable configuration_error, an unknown payment method to invalid_request', async () => {
    const wrongKey = providerFor(server, { secretKey: 'sk_test_wrong' });
    await expect(wrongKey.retrievePayment('pi_x')).rejects.toMatchObject({ code: 'configuration_error', retryable: false });
    const intent = await provider.createPayment({ orderId: 'ord_pm', amountCents: 900, currency: 'usd', idempotencyKey: 'pm:create', metadata: {} });
    await expect(provider.confirmPayment({ paymentId: intent.id, paymentMethod: 'pm_nonsense', idempotencyKey: 'pm:confirm' })).rejects.toMatchObject({
      code: 'invalid_request',
    });
  });

  it('maps an expired card by its code', async () => {
    const intent = await provider.createPayment({ orderId: 'ord_exp', amountCents: 900, currency: 'usd', idempotencyKey: 'exp:create', metadata: {} });
    const result = await provider.confirmPayment({ paymentId: intent.id, paymentMethod: 'pm_card_chargeDeclinedExpiredCard', idempotencyKey: 'exp:confirm' });
    expect(result).toMatchObject({ status: 'failed', failureCode: 'expired_card' });
  });
});

describe('StripePaymentProvider status mapping', () => {
  const base = { id: 'pi_1', amount: 100, currency: 'eur', client_secret: 'pi_1_secret', last_payment_error: null, latest_charge: null };
  const map = (fields: Record<string, unknown>) => toPaymentIntent({ ...base, ...fields } as unknown as Stripe.PaymentIntent);

  it.each([
    ['succeeded', 'captured'],
    ['processing', 'processing'],
    ['requires_capture', 'processing'],
    ['requires_payment_method', 'requires_payment'],
    ['requires_confirmation', 'requires_payment'],
    ['requires_action', 'requires_payment'],
    ['canceled', 'canceled'],
  ])('%s → %s', (stripeStatus, status) => {
    expect(map({ status: stripeStatus }).status).toBe(status);
  });

  it('requires_payment_method after an attempt → failed with the most specific code', () => {
    expect(map({ status: 'requires_payment_method', last_payment_error: { code: 'card_declined', decline_code: 'generic_decline' } })).toMatchObject({
      status: 'failed',
      failureCode: 'card_declined',
    });
    expect(map({ status: 'requires_payment_method', last_payment_error: { code: 'card_declined', decline_code: 'stolen_card' } }).failureCode).toBe(
      'stolen_card',
    );
  });

  it('succeeded with a refunded latest charge → refunded', () => {
    expect(map({ status: 'succeeded', latest_charge: { id: 'ch_1', refunded: true } }).status).toBe('refunded');
    expect(map({ status: 'succeeded', latest_charge: { id: 'ch_1', refunded: false } }).status).toBe('captured');
  });
});

describe('StripePaymentProvider webhooks', () => {
  const nowMs = 1_750_000_000_000;
  const provider = new StripePaymentProvider({ secretKey: 'sk_test_unused', webhookSecret, clock: { nowMs: () => nowMs } });

  function signed(type: string, object: unknown, timestampS = Math.floor(nowMs / 1000), secret = webhookSecret) {
    const payload = JSON.stringify({
      id: `evt_${type.replace(/\W/g, '_')}`,
      object: 'event',
      api_version: '2025-02-24.acacia',
      created: Math.floor(nowMs / 1000) - 2,
      data: { object },
      livemode: false,
      pending_webhooks: 1,
      request: { id: null, idempotency_key: null },
      type,
    });
    const header = Stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp: timestampS });
    return { body: Buffer.from(payload, 'utf8'), headers: { 'stripe-signature': header } };
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

  it.each([
    ['payment_intent.succeeded', 'payment.captured'],
    ['payment_intent.payment_failed', 'payment.failed'],
    ['payment_intent.processing', 'payment.processing'],
    ['payment_intent.canceled', 'payment.canceled'],
    ['payment_intent.created', 'other'],
  ])('accepts a signed %s as %s', (stripeType, type) => {
    const { body, headers } = signed(stripeType, { id: 'pi_123', object: 'payment_intent', status: 'succeeded' });
    expect(provider.parseWebhook(body, headers)).toEqual({
      eventId: `evt_${stripeType.replace(/\W/g, '_')}`,
      provider: 'stripe',
      paymentId: 'pi_123',
      type,
      createdAtMs: (Math.floor(nowMs / 1000) - 2) * 1000,
    });
  });

  it('maps a fully refunded charge to payment.refunded of its PaymentIntent', () => {
    const { body, headers } = signed('charge.refunded', { id: 'ch_1', object: 'charge', payment_intent: 'pi_123', refunded: true });
    expect(provider.parseWebhook(body, headers)).toMatchObject({ paymentId: 'pi_123', type: 'payment.refunded' });
    const partial = signed('charge.refunded', { id: 'ch_1', object: 'charge', payment_intent: 'pi_123', refunded: false });
    expect(provider.parseWebhook(partial.body, partial.headers).type).toBe('other');
  });

  it('refuses a bad signature, a wrong secret, a tampered body or no header', () => {
    const { body, headers } = signed('payment_intent.succeeded', { id: 'pi_123', object: 'payment_intent' });
    expectForbidden(() => provider.parseWebhook(body, { 'stripe-signature': headers['stripe-signature'].replace(/v1=[0-9a-f]{4}/, 'v1=0000') }));
    const otherSecret = signed('payment_intent.succeeded', { id: 'pi_123', object: 'payment_intent' }, undefined, 'whsec_someone_else');
    expectForbidden(() => provider.parseWebhook(otherSecret.body, otherSecret.headers));
    expectForbidden(() => provider.parseWebhook(Buffer.from(body.toString('utf8').replace('pi_123', 'pi_999')), headers));
    expectForbidden(() => provider.parseWebhook(body, {}));
    expectForbidden(() => provider.parseWebhook(body, { 'stripe-signature': 'garbage' }));
  });

  it('refuses a stale timestamp (10 minutes old), accepts one within tolerance', () => {
    const stale = signed('payment_intent.succeeded', { id: 'pi_123', object: 'payment_intent' }, Math.floor(nowMs / 1000) - 600);
    expectForbidden(() => provider.parseWebhook(stale.body, stale.headers));
    const recent = signed('payment_intent.succeeded', { id: 'pi_123', object: 'payment_intent' }, Math.floor(nowMs / 1000) - 240);
    expect(provider.parseWebhook(recent.body, { 'Stripe-Signature': recent.headers['stripe-signature'] }).type).toBe('payment.captured');
  });
});
