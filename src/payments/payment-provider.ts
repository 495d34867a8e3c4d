/**
 * Payment providers behind one interface: the built-in simulated PSP (default, no network) and
 * Stripe. The order saga only ever talks to this. Every call that moves money carries an
 * idempotency key, so a retried call can never charge or refund twice.
 */
export type ProviderName = 'simulated' | 'stripe';

export type PaymentStatus =
  | 'requires_payment' // created, waiting for the fan's card
  | 'processing' // submitted; the outcome arrives later (webhook)
  | 'captured' // money taken
  | 'failed' // declined; the fan may retry with another card while the order is payable
  | 'canceled'
  | 'refunded';

export interface PaymentIntent {
  /** The provider's id of the payment (Stripe: pi_…). */
  id: string;
  provider: ProviderName;
  status: PaymentStatus;
  amountCents: number;
  currency: string;
  /** Handed to the browser for client-side confirmation (Stripe); null for the simulated PSP. */
  clientSecret: string | null;
  /** The provider's reason for a decline, when it gives one. */
  failureCode: string | null;
  /** The provider's id of the latest refund, when it says (the books record it whichever news of the refund comes first). */
  refundId?: string | null;
}

export interface CreatePaymentRequest {
  orderId: string;
  amountCents: number;
  currency: string;
  idempotencyKey: string;
  metadata: Record<string, string>;
}

export interface ConfirmPaymentRequest {
  paymentId: string;
  /** Simulated PSP: a test card number choosing the outcome; Stripe: a payment method id (pm_…). */
  paymentMethod: string;
  idempotencyKey: string;
}

export interface RefundResult {
  refundId: string;
  status: 'succeeded' | 'pending' | 'failed';
}

/** A verified, normalized webhook event. */
export interface PaymentWebhookEvent {
  /** The provider's event id: webhooks are deduplicated by it. */
  eventId: string;
  provider: ProviderName;
  paymentId: string;
  type: 'payment.captured' | 'payment.failed' | 'payment.processing' | 'payment.refunded' | 'payment.canceled' | 'other';
  /** Provider time of the event (ms), so an older event never overrides a newer state. */
  createdAtMs: number;
}

export interface PaymentProvider {
  readonly name: ProviderName;
  createPayment(request: CreatePaymentRequest): Promise<PaymentIntent>;
  confirmPayment(request: ConfirmPaymentRequest): Promise<PaymentIntent>;
  retrievePayment(paymentId: string): Promise<PaymentIntent>;
  refundPayment(paymentId: string, idempotencyKey: string, reason: string): Promise<RefundResult>;
  /**
   * Verifies and parses a webhook delivery (raw body bytes as received, and the request headers).
   * Throws ApiError('forbidden') on a bad signature or a stale timestamp.
   */
  parseWebhook(rawBody: Buffer, headers: Record<string, string>): PaymentWebhookEvent;
}

/** Where a provider's webhooks are delivered (the order saga's webhook handler). */
export type WebhookDelivery = (rawBody: Buffer, headers: Record<string, string>) => Promise<void>;
