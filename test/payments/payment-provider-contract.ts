import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PaymentProviderError } from '../../src/payments/payment-errors.js';
import type { CreatePaymentRequest, PaymentProvider } from '../../src/payments/payment-provider.js';

/** What the contract needs from one provider under test. */
export interface ContractHarness {
  provider: PaymentProvider;
  /** Payment methods choosing outcomes (card numbers for the simulated PSP, pm_… ids for Stripe). */
  cards: { success: string; decline: string; insufficientFunds: string; processing: string };
  /** How many times money was actually taken for a payment, as the PSP saw it. */
  captures(paymentId: string): number;
  /** How many refunds the PSP made for a payment. */
  refunds(paymentId: string): number;
  close(): Promise<void>;
}

function key(label: string): string {
  return `${label}-${randomUUID()}`;
}

function request(overrides: Partial<CreatePaymentRequest> = {}): CreatePaymentRequest {
  return {
    orderId: `ord_${randomUUID()}`,
    amountCents: 12_500,
    currency: 'EUR',
    idempotencyKey: key('create'),
    metadata: { show_id: 'show-1', seats: '2' },
    ...overrides,
  };
}

async function expectProviderError(promise: Promise<unknown>, code: PaymentProviderError['code']): Promise<PaymentProviderError> {
  const error = await promise.then(
    () => {
      throw new Error(`expected a PaymentProviderError(${code}), the call succeeded`);
    },
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(PaymentProviderError);
  expect((error as PaymentProviderError).code).toBe(code);
  return error as PaymentProviderError;
}

export function describePaymentProviderContract(label: string, factory: () => Promise<ContractHarness>): void {
  describe(`PaymentProvider contract: ${label}`, () => {
    let harness: ContractHarness;
    let provider: PaymentProvider;

    beforeEach(async () => {
      harness = await factory();
      provider = harness.provider;
    });

    afterEach(async () => {
      await harness.close();
    });

    it('creates a payment awaiting the card, idempotently per key', async () => {
      const create = request();
      const first = await provider.createPayment(create);
      expect(first).toMatchObject({ provider: provider.name, status: 'requires_payment', amountCents: 12_500, currency: 'eur', failureCode: null });
      const again = await provider.createPayment(create);
      expect(again.id).toBe(first.id);
      const other = await provider.createPayment({ ...create, idempotencyKey: key('create') });
      expect(other.id).not.toBe(first.id);
      expect(await provider.retrievePayment(first.id)).toMatchObject({ id: first.id, status: 'requires_payment' });
    });

    it('refuses an idempotency key reused with other parameters', async () => {
      const create = request();
      await provider.createPayment(create);
      await expectProviderError(provider.createPayment({ ...create, amountCents: 99 }), 'idempotency_key_reused');
    });

    it('captures once when confirm is called three times with one key', async () => {
      const intent = await provider.createPayment(request());
      const confirmKey = key('confirm');
      const results = [];
      for (let attempt = 0; attempt < 3; attempt += 1) {
        results.push(await provider.confirmPayment({ paymentId: intent.id, paymentMethod: harness.cards.success, idempotencyKey: confirmKey }));
      }
      for (const result of results) expect(result).toMatchObject({ id: intent.id, status: 'captured', failureCode: null });
      expect(harness.captures(intent.id)).toBe(1);
      expect((await provider.retrievePayment(intent.id)).status).toBe('captured');
    });

    it('captures once when confirm is called three times with three keys', async () => {
      const intent = await provider.createPayment(request());
      for (let attempt = 0; attempt < 3; attempt += 1) {
        const result = await provider.confirmPayment({ paymentId: intent.id, paymentMethod: harness.cards.success, idempotencyKey: key('confirm') });
        expect(result.status).toBe('captured');
      }
      expect(harness.captures(intent.id)).toBe(1);
    });

    it('reports a decline as failed, and lets the fan retry with another card', async () => {
      const intent = await provider.createPayment(request());
      const declined = await provider.confirmPayment({ paymentId: intent.id, paymentMethod: harness.cards.decline, idempotencyKey: key('confirm') });
      expect(declined).toMatchObject({ id: intent.id, status: 'failed', failureCode: 'card_declined' });
      expect(await provider.retrievePayment(intent.id)).toMatchObject({ status: 'failed', failureCode: 'card_declined' });
      expect(harness.captures(intent.id)).toBe(0);

      const retried = await provider.confirmPayment({ paymentId: intent.id, paymentMethod: harness.cards.success, idempotencyKey: key('confirm') });
      expect(retried).toMatchObject({ status: 'captured', failureCode: null });
      expect(harness.captures(intent.id)).toBe(1);
    });

    it('names insufficient funds in failureCode', async () => {
      const intent = await provider.createPayment(request());
      const result = await provider.confirmPayment({ paymentId: intent.id, paymentMethod: harness.cards.insufficientFunds, idempotencyKey: key('confirm') });
      expect(result).toMatchObject({ status: 'failed', failureCode: 'insufficient_funds' });
    });

    it('replays a declined confirm for the same key', async () => {
      const intent = await provider.createPayment(request());
      const confirmKey = key('confirm');
      const first = await provider.confirmPayment({ paymentId: intent.id, paymentMethod: harness.cards.decline, idempotencyKey: confirmKey });
      const second = await provider.confirmPayment({ paymentId: intent.id, paymentMethod: harness.cards.decline, idempotencyKey: confirmKey });
      expect(second).toEqual(first);
    });

    it('reports an asynchronous payment as processing', async () => {
      const intent = await provider.createPayment(request());
      const result = await provider.confirmPayment({ paymentId: intent.id, paymentMethod: harness.cards.processing, idempotencyKey: key('confirm') });
      expect(result.status).toBe('processing');
      expect((await provider.retrievePayment(intent.id)).status).toBe('processing');
      expect(harness.captures(intent.id)).toBe(0);
    });

    it('refunds once per key, and reflects it in retrieve', async () => {
      const intent = await provider.createPayment(request());
      await provider.confirmPayment({ paymentId: intent.id, paymentMethod: harness.cards.success, idempotencyKey: key('confirm') });
      const refundKey = key('refund');
      const first = await provider.refundPayment(intent.id, refundKey, 'show canceled');
      const second = await provider.refundPayment(intent.id, refundKey, 'show canceled');
      expect(first.status).toBe('succeeded');
      expect(second).toEqual(first);
      expect(harness.refunds(intent.id)).toBe(1);
      expect((await provider.retrievePayment(intent.id)).status).toBe('refunded');
      await expectProviderError(provider.refundPayment(intent.id, key('refund'), 'show canceled'), 'already_refunded');
      expect(harness.refunds(intent.id)).toBe(1);
      expect(harness.captures(intent.id)).toBe(1);
    });

    it('refuses to refund a payment that was never captured', async () => {
      const intent = await provider.createPayment(request());
      await expectProviderError(provider.refundPayment(intent.id, key('refund'), 'hold expired'), 'not_refundable');
      await provider.confirmPayment({ paymentId: intent.id, paymentMethod: harness.cards.decline, idempotencyKey: key('confirm') });
      await expectProviderError(provider.refundPayment(intent.id, key('refund'), 'hold expired'), 'not_refundable');
      expect(harness.refunds(intent.id)).toBe(0);
    });

    it('does not know a payment it never created', async () => {
      await expectProviderError(provider.retrievePayment('pi_doesnotexist'), 'not_found');
      await expectProviderError(
        provider.confirmPayment({ paymentId: 'pi_doesnotexist', paymentMethod: harness.cards.success, idempotencyKey: key('confirm') }),
        'not_found',
      );
    });
  });
}
