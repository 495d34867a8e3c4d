/**
 * Stripe behind the PaymentProvider interface (stripe-node v17, server-side confirmation with a
 * payment method id).
 *
 * Calls:
 * - createPayment   → POST /v1/payment_intents {amount, currency, payment_method_types: ['card'],
 *                     metadata: {...metadata, order_id}} with the Idempotency-Key.
 *                     (payment_method_types, not automatic_payment_methods: a server-side confirm
 *                     then needs no return_url. Switch when the browser uses the Payment Element.)
 * - confirmPayment  → POST /v1/payment_intents/:id/confirm {payment_method} with the Idempotency-Key.
 *                     A decline (HTTP 402 card_error carrying the PaymentIntent) resolves to a
 *                     `failed` intent, not an error. A confirm of an intent that is already
 *                     succeeded / processing / canceled (Stripe: 400 payment_intent_unexpected_state)
 *                     resolves to its current state, like the simulated PSP: never a second charge.
 * - retrievePayment → GET /v1/payment_intents/:id?expand[]=latest_charge (to see refunds).
 * - refundPayment   → POST /v1/refunds {payment_intent, reason: 'requested_by_customer',
 *                     metadata: {reason}} with the Idempotency-Key (full refund).
 *
 * Status mapping (PaymentIntent.status → PaymentStatus):
 *
 * | Stripe status                                   | PaymentStatus      | failureCode                                   |
 * |-------------------------------------------------|--------------------|-----------------------------------------------|
 * | succeeded, latest_charge expanded and refunded  | refunded           | null                                          |
 * | succeeded                                       | captured           | null                                          |
 * | processing                                      | processing         | null                                          |
 * | requires_capture (manual capture; unused)       | processing         | null                                          |
 * | requires_payment_method with last_payment_error | failed             | decline_code unless generic_decline, else code (card_declined, insufficient_funds, expired_card…) |
 * | requires_payment_method (no attempt yet)        | requires_payment   | null                                          |
 * | requires_confirmation                           | requires_payment   | null                                          |
 * | requires_action (3-D Secure)                    | requires_payment   | null (the browser must finish it with clientSecret) |
 * | canceled                                        | canceled           | null                                          |
 *
 * Webhooks (verified by stripe.webhooks.constructEvent, tolerance 300 s by default):
 * payment_intent.succeeded → payment.captured, payment_intent.payment_failed → payment.failed,
 * payment_intent.processing → payment.processing, payment_intent.canceled → payment.canceled,
 * charge.refunded (fully refunded) → payment.refunded (paymentId = the charge's payment_intent),
 * anything else → 'other'. createdAtMs = event.created × 1000: Stripe times are whole SECONDS, so
 * two events of one payment can tie; a consumer must not move a payment backwards on a tie
 * (e.g. captured → processing) and can always retrievePayment for the truth.
 *
 * The SDK retries network errors, 409 and 5xx up to `maxNetworkRetries` times (default 2 here)
 * reusing the same Idempotency-Key, so a retry can never charge twice. Telemetry is off.
 */
import Stripe from 'stripe';
import { ApiError } from '../protocol/api-error.js';
import type { Clock } from '../shared/clock.js';
import { systemClock } from '../shared/clock.js';
import type { PaymentErrorCode } from './payment-errors.js';
import { PaymentProviderError, headerValue } from './payment-errors.js';
import type {
  ConfirmPaymentRequest,
  CreatePaymentRequest,
  PaymentIntent,
  PaymentProvider,
  PaymentStatus,
  PaymentWebhookEvent,
  RefundResult,
} from './payment-provider.js';

export interface StripeProviderOptions {
  /** sk_live_… / sk_test_… (or a restricted key with PaymentIntents + Refunds write). */
  secretKey: string;
  /** whsec_… of the webhook endpoint. */
  webhookSecret: string;
  /** API host (default api.stripe.com); tests point it at a loopback fake. */
  host?: string;
  port?: number | string;
  protocol?: 'http' | 'https';
  /** Default: the version this SDK release is pinned to (types match only that one). */
  apiVersion?: Stripe.LatestApiVersion;
  /** SDK retries of network errors / 409 / 5xx with the same idempotency key (default 2). */
  maxNetworkRetries?: number;
  /** Per-request timeout (default 20 s; the SDK's own default is 80 s). */
  timeoutMs?: number;
  /** Webhook timestamp tolerance in seconds (default 300, Stripe's). */
  webhookToleranceS?: number;
  /** Clock used to judge webhook timestamps (default the system clock). */
  clock?: Clock;
}

const metadataValueMax = 500;

export class StripePaymentProvider implements PaymentProvider {
  readonly name = 'stripe' as const;

  private readonly stripe: Stripe;
  private readonly webhookSecret: string;
  private readonly toleranceS: number;
  private readonly clock: Clock;

  constructor(options: StripeProviderOptions) {
    if (!options.secretKey) throw new Error('StripePaymentProvider needs a secret key');
    if (!options.webhookSecret) throw new Error('StripePaymentProvider needs a webhook secret');
    const config: Stripe.StripeConfig = {
      maxNetworkRetries: options.maxNetworkRetries ?? 2,
      telemetry: false,
      timeout: options.timeoutMs ?? 20_000,
      appInfo: { name: 'holdfast' },
    };
    if (options.apiVersion !== undefined) config.apiVersion = options.apiVersion;
    if (options.host !== undefined) config.host = options.host;
    if (options.port !== undefined) config.port = options.port;
    if (options.protocol !== undefined) config.protocol = options.protocol;
    this.stripe = new Stripe(options.secretKey, config);
    this.webhookSecret = options.webhookSecret;
    this.toleranceS = options.webhookToleranceS ?? 300;
    this.clock = options.clock ?? systemClock;
  }

  async createPayment(request: CreatePaymentRequest): Promise<PaymentIntent> {
    try {
      const intent = await this.stripe.paymentIntents.create(
        {
          amount: request.amountCents,
          currency: request.currency.toLowerCase(),
          payment_method_types: ['card'],
          metadata: { ...request.metadata, order_id: request.orderId },
        },
        { idempotencyKey: request.idempotencyKey },
      );
      return toPaymentIntent(intent);
    } catch (error) {
      throw translateStripeError(error, 'create');
    }
  }

  async confirmPayment(request: ConfirmPaymentRequest): Promise<PaymentIntent> {
    try {
      const intent = await this.stripe.paymentIntents.confirm(
        request.paymentId,
        { payment_method: request.paymentMethod },
        { idempotencyKey: request.idempotencyKey },
      );
      return toPaymentIntent(intent);
    } catch (error) {
      if (error instanceof Stripe.errors.StripeError) {
        // A decline: Stripe answers 402 with the PaymentIntent (requires_payment_method + last_payment_error).
        if (error.type === 'StripeCardError' && error.payment_intent) return toPaymentIntent(error.payment_intent);
        // Already succeeded / processing / canceled: report the current state instead of an error.
        if (error.code === 'payment_intent_unexpected_state') {
          const current = await this.retrievePayment(request.paymentId);
          if (current.status !== 'requires_payment' && current.status !== 'failed') return current;
        }
      }
      throw translateStripeError(error, 'confirm');
    }
  }

  async retrievePayment(paymentId: string): Promise<PaymentIntent> {
    try {
      const intent = await this.stripe.paymentIntents.retrieve(paymentId, { expand: ['latest_charge'] });
      return toPaymentIntent(intent);
    } catch (error) {
      throw translateStripeError(error, 'retrieve');
    }
  }

  async refundPayment(paymentId: string, idempotencyKey: string, reason: string): Promise<RefundResult> {
    try {
      const refund = await this.stripe.refunds.create(
        { payment_intent: paymentId, reason: 'requested_by_customer', metadata: { reason: reason.slice(0, metadataValueMax) } },
        { idempotencyKey },
      );
      return { refundId: refund.id, status: toRefundStatus(refund.status) };
    } catch (error) {
      throw translateStripeError(error, 'refund');
    }
  }

  parseWebhook(rawBody: Buffer, headers: Record<string, string>): PaymentWebhookEvent {
    const signature = headerValue(headers, 'stripe-signature');
    if (signature === undefined || signature === '') throw new ApiError('forbidden', 'missing Stripe-Signature header');
    let event: Stripe.Event;
    try {
      event = this.stripe.webhooks.constructEvent(rawBody, signature, this.webhookSecret, this.toleranceS, undefined, this.clock.nowMs());
    } catch (error) {
      if (error instanceof Stripe.errors.StripeSignatureVerificationError) {
        throw new ApiError('forbidden', `Stripe webhook refused: ${error.message.split('\n')[0] ?? 'bad signature'}`);
      }
      if (error instanceof SyntaxError) throw new ApiError('validation_failed', 'Stripe webhook body is not JSON');
      throw error;
    }
    return toWebhookEvent(event);
  }
}

/** Maps a Stripe PaymentIntent to the provider-neutral shape (see the table at the top). */
export function toPaymentIntent(intent: Stripe.PaymentIntent): PaymentIntent {
  let status: PaymentStatus;
  let failureCode: string | null = null;
  switch (intent.status) {
    case 'succeeded': {
      const charge = intent.latest_charge;
      status = typeof charge === 'object' && charge !== null && charge.refunded ? 'refunded' : 'captured';
      break;
    }
    case 'processing':
    case 'requires_capture':
      status = 'processing';
      break;
    case 'requires_payment_method':
      if (intent.last_payment_error) {
        status = 'failed';
        failureCode = failureCodeOf(intent.last_payment_error);
      } else {
        status = 'requires_payment';
      }
      break;
    case 'requires_confirmation':
    case 'requires_action':
      status = 'requires_payment';
      break;
    case 'canceled':
      status = 'canceled';
      break;
    default:
      // A status added by a newer API version: treat it as not paid yet.
      status = 'requires_payment';
  }
  return {
    id: intent.id,
    provider: 'stripe',
    status,
    amountCents: intent.amount,
    currency: intent.currency,
    clientSecret: intent.client_secret,
    failureCode,
    refundId: refundIdOf(intent),
  };
}

/** The latest refund's id, when the expanded charge lists its refunds (API versions that include them). */
function refundIdOf(intent: Stripe.PaymentIntent): string | null {
  const charge = intent.latest_charge;
  if (typeof charge !== 'object' || charge === null) return null;
  return charge.refunds?.data[0]?.id ?? null;
}

function failureCodeOf(error: Stripe.PaymentIntent.LastPaymentError): string {
  if (error.decline_code && error.decline_code !== 'generic_decline') return error.decline_code;
  return error.code ?? error.decline_code ?? 'payment_failed';
}

function toRefundStatus(status: string | null): RefundResult['status'] {
  switch (status) {
    case 'succeeded':
      return 'succeeded';
    case 'failed':
    case 'canceled':
      return 'failed';
    default:
      // pending, requires_action, null
      return 'pending';
  }
}

function toWebhookEvent(event: Stripe.Event): PaymentWebhookEvent {
  const base = { eventId: event.id, provider: 'stripe' as const, createdAtMs: event.created * 1000 };
  switch (event.type) {
    case 'payment_intent.succeeded':
      return { ...base, paymentId: event.data.object.id, type: 'payment.captured' };
    case 'payment_intent.payment_failed':
      return { ...base, paymentId: event.data.object.id, type: 'payment.failed' };
    case 'payment_intent.processing':
      return { ...base, paymentId: event.data.object.id, type: 'payment.processing' };
    case 'payment_intent.canceled':
      return { ...base, paymentId: event.data.object.id, type: 'payment.canceled' };
    case 'charge.refunded': {
      const charge = event.data.object;
      const paymentId = idOf(charge.payment_intent);
      return { ...base, paymentId, type: charge.refunded && paymentId !== '' ? 'payment.refunded' : 'other' };
    }
    default:
      return { ...base, paymentId: paymentIdOfUnknown(event.data.object), type: 'other' };
  }
}

function idOf(value: string | { id: string } | null | undefined): string {
  if (typeof value === 'string') return value;
  return value?.id ?? '';
}

function paymentIdOfUnknown(object: unknown): string {
  if (typeof object !== 'object' || object === null) return '';
  const candidate = object as { object?: unknown; id?: unknown; payment_intent?: unknown };
  if (candidate.object === 'payment_intent' && typeof candidate.id === 'string') return candidate.id;
  if (typeof candidate.payment_intent === 'string') return candidate.payment_intent;
  if (typeof candidate.payment_intent === 'object' && candidate.payment_intent !== null) {
    const id = (candidate.payment_intent as { id?: unknown }).id;
    if (typeof id === 'string') return id;
  }
  return '';
}

type Operation = 'create' | 'confirm' | 'retrieve' | 'refund';

/** Stripe SDK errors → PaymentProviderError; anything else (a bug) is rethrown untouched. */
export function translateStripeError(error: unknown, operation: Operation): unknown {
  if (!(error instanceof Stripe.errors.StripeError)) return error;
  const providerCode = error.code ?? null;
  const make = (code: PaymentErrorCode): PaymentProviderError =>
    new PaymentProviderError(code, `Stripe ${operation} failed: ${error.message}`, 'stripe', providerCode, { cause: error });
  switch (error.type) {
    case 'StripeIdempotencyError':
      return make('idempotency_key_reused');
    case 'StripeInvalidRequestError':
      // An unknown payment method is a bad request; an unknown PaymentIntent is not_found.
      if (providerCode === 'resource_missing') return make(error.param === 'payment_method' ? 'invalid_request' : 'not_found');
      if (operation === 'refund') return make(providerCode === 'charge_already_refunded' ? 'already_refunded' : 'not_refundable');
      return make('invalid_request');
    case 'StripeCardError':
      return make('invalid_request');
    case 'StripeAuthenticationError':
    case 'StripePermissionError':
      return make('configuration_error');
    case 'StripeConnectionError':
    case 'StripeRateLimitError':
      return make('provider_unavailable');
    default:
      // StripeAPIError (5xx), StripeUnknownError, a 409 the retries did not clear: outcome unknown.
      if (error.statusCode === 409) return make('provider_unavailable');
      return make('processing_error');
  }
}
