import type { PaymentErrorCode } from '../payments/payment-errors.js';
import { PaymentProviderError } from '../payments/payment-errors.js';
import type { ConfirmPaymentRequest, CreatePaymentRequest, PaymentIntent, PaymentProvider, PaymentWebhookEvent, RefundResult } from '../payments/payment-provider.js';
import { ApiError } from '../protocol/api-error.js';
import { isResultCode } from '../protocol/result-codes.js';
import { RemoteError, RpcTimeoutError, type Rpc } from './rpc.js';

export const pspMethods = { create: 'psp.create', confirm: 'psp.confirm', retrieve: 'psp.retrieve', refund: 'psp.refund', webhook: 'psp.webhook' } as const;

/**
 * The simulated PSP as the workers of one machine see it: one instance lives in the primary
 * (like an external PSP, it must know a payment whichever worker confirms it), reached over
 * IPC. Webhook signatures are checked locally with the shared secret.
 */
export class RemotePaymentProvider implements PaymentProvider {
  readonly name = 'simulated' as const;

  constructor(
    private readonly rpc: Rpc,
    private readonly host: string,
    /** Verifies webhook signatures (a provider holding the same webhook secret). */
    private readonly verifier: Pick<PaymentProvider, 'parseWebhook'>,
    private readonly timeoutMs: number,
  ) {}

  createPayment(request: CreatePaymentRequest): Promise<PaymentIntent> {
    return this.call<PaymentIntent>(pspMethods.create, request);
  }

  confirmPayment(request: ConfirmPaymentRequest): Promise<PaymentIntent> {
    return this.call<PaymentIntent>(pspMethods.confirm, request);
  }

  retrievePayment(paymentId: string): Promise<PaymentIntent> {
    return this.call<PaymentIntent>(pspMethods.retrieve, paymentId);
  }

  refundPayment(paymentId: string, idempotencyKey: string, reason: string): Promise<RefundResult> {
    return this.call<RefundResult>(pspMethods.refund, paymentId, idempotencyKey, reason);
  }

  parseWebhook(rawBody: Buffer, headers: Record<string, string>): PaymentWebhookEvent {
    return this.verifier.parseWebhook(rawBody, headers);
  }

  private async call<T>(method: string, ...args: unknown[]): Promise<T> {
    try {
      return (await this.rpc.call(this.host, method, args, this.timeoutMs)) as T;
    } catch (error) {
      // The saga retries what a PSP calls retryable, with the same idempotency key.
      if (error instanceof RpcTimeoutError) throw new PaymentProviderError('provider_unavailable', error.message, 'simulated');
      if (error instanceof RemoteError && error.name === 'PaymentProviderError') throw new PaymentProviderError((error.code ?? 'processing_error') as PaymentErrorCode, error.message, 'simulated');
      if (error instanceof RemoteError && error.code !== undefined && isResultCode(error.code)) throw new ApiError(error.code, error.message);
      throw error;
    }
  }
}

/** Serves the PSP calls of every worker from the primary's one provider. */
export function servePaymentProvider(rpc: Rpc, provider: PaymentProvider): void {
  rpc.handle(pspMethods.create, ([request]) => provider.createPayment(request as CreatePaymentRequest));
  rpc.handle(pspMethods.confirm, ([request]) => provider.confirmPayment(request as ConfirmPaymentRequest));
  rpc.handle(pspMethods.retrieve, ([paymentId]) => provider.retrievePayment(paymentId as string));
  rpc.handle(pspMethods.refund, ([paymentId, key, reason]) => provider.refundPayment(paymentId as string, key as string, reason as string));
}
