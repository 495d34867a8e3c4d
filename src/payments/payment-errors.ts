import type { ProviderName } from './payment-provider.js';

/**
 * Why a provider call failed, normalized across providers. Declines are NOT errors: a declined
 * confirmation resolves to a PaymentIntent with status 'failed' and a failureCode.
 *
 * | code                     | retryable | meaning / what the caller should do                                            |
 * |--------------------------|-----------|--------------------------------------------------------------------------------|
 * | `not_found`              | no        | the provider does not know this payment id                                    |
 * | `invalid_request`        | no        | bad parameters (amount, currency, unknown payment method, key too long…)      |
 * | `idempotency_key_reused` | no        | the key was already used for another operation or other parameters            |
 * | `not_refundable`         | no        | refund of a payment that was never captured                                    |
 * | `already_refunded`       | no        | refund (with a new key) of a payment that is already refunded                  |
 * | `processing_error`       | yes       | OUTCOME UNKNOWN: the provider may have acted (e.g. captured) before failing.   |
 * |                          |           | Retry with the SAME idempotency key, or retrievePayment / wait for the webhook. |
 * | `provider_unavailable`   | yes       | network error, timeout, rate limit. Also outcome unknown for mutating calls:  |
 * |                          |           | retry with the SAME idempotency key.                                           |
 * | `configuration_error`    | no        | bad API key / permissions: an operator problem                                 |
 */
export type PaymentErrorCode =
  | 'not_found'
  | 'invalid_request'
  | 'idempotency_key_reused'
  | 'not_refundable'
  | 'already_refunded'
  | 'processing_error'
  | 'provider_unavailable'
  | 'configuration_error';

const retryableCodes: ReadonlySet<PaymentErrorCode> = new Set<PaymentErrorCode>(['processing_error', 'provider_unavailable']);

export class PaymentProviderError extends Error {
  override name = 'PaymentProviderError';
  /** True when the same call (same idempotency key) may be retried. */
  readonly retryable: boolean;

  constructor(
    readonly code: PaymentErrorCode,
    message: string,
    readonly provider: ProviderName,
    /** The provider's own error code (Stripe: `error.code`), when it gave one. */
    readonly providerCode: string | null = null,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.retryable = retryableCodes.has(code);
  }
}

export function isPaymentProviderError(error: unknown): error is PaymentProviderError {
  return error instanceof PaymentProviderError;
}

/** Case-insensitive header lookup (Node lowercases incoming names; tests may not). */
export function headerValue(headers: Record<string, string>, name: string): string | undefined {
  const direct = headers[name];
  if (direct !== undefined) return direct;
  const lower = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === lower) return value;
  return undefined;
}
