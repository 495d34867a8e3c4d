/**
 * The built-in simulated PSP: the default provider (no network, no account), and the test bed for
 * the order saga's unhappy paths. It behaves like a card processor seen through an unreliable
 * network: replies take a random latency, webhooks arrive late, twice or out of order, and one
 * test card loses the confirm reply after the money was taken.
 *
 * Test cards (the `paymentMethod` of confirmPayment; spaces and dashes are ignored). The Stripe
 * test payment-method ids in the last column are accepted as aliases.
 *
 * | card number        | outcome of confirmPayment                                              | webhooks                                                    | alias                                        |
 * |--------------------|------------------------------------------------------------------------|-------------------------------------------------------------|----------------------------------------------|
 * | 4242424242424242   | `captured` (declineRate / processingErrorRate may override, see options) | payment.captured                                          | pm_card_visa                                 |
 * | 4000000000000002   | `failed`, failureCode `card_declined`                                   | payment.failed                                              | pm_card_chargeDeclined                       |
 * | 4000000000009995   | `failed`, failureCode `insufficient_funds`                              | payment.failed                                              | pm_card_visa_chargeDeclinedInsufficientFunds |
 * | 4000000000000259   | `processing`; captured `processingDelayMs` later                        | payment.processing, then payment.captured (webhook only)    |                                              |
 * | 4000000000000341   | `captured`                                                             | NONE (lost webhook: only retrievePayment tells)             |                                              |
 * | 4000000000003220   | `captured`                                                             | payment.captured ×3 (one eventId) shuffled with an older payment.processing, which is never delivered first | |
 * | 4000000000000119   | captures, then THROWS PaymentProviderError('processing_error', retryable): the reply was lost. A retry with the same key returns `captured`; a new key also returns `captured`; never a second capture | payment.captured | |
 * | anything else      | `failed`, failureCode `incorrect_number`                                | payment.failed                                              |                                              |
 *
 * Semantics shared with the Stripe adapter (see the contract tests):
 * - Idempotency keys are global across operations, like Stripe's: the same key with the same
 *   operation and parameters replays the first result (even if the payment changed since: a replay
 *   can be stale, call retrievePayment for the current state); with other parameters or another
 *   operation it throws `idempotency_key_reused`. Keys are at most 255 characters.
 * - confirmPayment on a payment that is already captured, processing or refunded does nothing and
 *   returns its current state (never a second capture). On `failed` it tries the new card.
 * - refundPayment refunds the full amount once; a new key on a refunded payment throws
 *   `already_refunded`; a payment never captured throws `not_refundable`.
 * - Currencies are returned lowercased (Stripe's convention).
 *
 * Memory bound: at most `maxPayments` payments (default 50,000; a few hundred bytes each) are
 * kept. Creating one more evicts the oldest-created payment together with its idempotency keys:
 * retrievePayment of an evicted payment throws `not_found`, its keys are forgotten and the
 * `captures` / `refunds` audit helpers return 0 / []. Keep the bound above the number of payments
 * that can be alive within one order's lifetime.
 *
 * Webhooks go to `deliver` as raw JSON bytes plus headers; the body is signed at each delivery
 * attempt with `x-simulated-signature: t=<ms>,v1=<hex HMAC-SHA256 of "<t>.<body>">`. A rejected
 * delivery (the handler threw) is retried with exponential backoff, up to `maxAttempts`.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { ApiError } from '../protocol/api-error.js';
import type { Clock, Timers } from '../shared/clock.js';
import { systemClock, systemTimers } from '../shared/clock.js';
import { randomId } from '../shared/ids.js';
import { PaymentProviderError, headerValue } from './payment-errors.js';
import type {
  ConfirmPaymentRequest,
  CreatePaymentRequest,
  PaymentIntent,
  PaymentProvider,
  PaymentStatus,
  PaymentWebhookEvent,
  RefundResult,
  WebhookDelivery,
} from './payment-provider.js';

export const simulatedTestCards = {
  success: '4242424242424242',
  decline: '4000000000000002',
  insufficientFunds: '4000000000009995',
  slow: '4000000000000259',
  lostWebhook: '4000000000000341',
  duplicatedWebhook: '4000000000003220',
  processingError: '4000000000000119',
} as const;

const cardAliases: Readonly<Record<string, string>> = {
  pm_card_visa: simulatedTestCards.success,
  pm_card_chargeDeclined: simulatedTestCards.decline,
  pm_card_visa_chargeDeclinedInsufficientFunds: simulatedTestCards.insufficientFunds,
  pm_card_chargeDeclinedInsufficientFunds: simulatedTestCards.insufficientFunds,
};

export const simulatedSignatureHeader = 'x-simulated-signature';

export interface MsRange {
  min: number;
  max: number;
}

export interface SimulatedWebhookOptions {
  /** Delay before each delivery (default 10–200 ms). */
  delayMs?: MsRange;
  /** Probability that a delivery is sent a second time (default 0). */
  duplicateRate?: number;
  /**
   * false (default): deliveries leave in the order the events happened (FIFO, even with jittered
   * delays). true: each delivery draws its own delay, so a later event can overtake an earlier one.
   */
  reorder?: boolean;
  /** Delivery attempts when `deliver` rejects (default 5), backing off from `retryDelayMs`. */
  maxAttempts?: number;
  /** First retry delay after a rejected delivery, doubled per attempt (default 1000 ms). */
  retryDelayMs?: number;
}

export interface SimulatedProviderOptions {
  clock?: Clock;
  timers?: Timers;
  /** Random latency of every call (default 1–10 ms); {min: 0, max: 0} answers without a timer. */
  latencyMs?: MsRange;
  /** Probability that the generic success card (4242…) is declined with `card_declined` (default 0). */
  declineRate?: number;
  /** Probability that a generic success capture loses its reply, like card 4000000000000119 (default 0). */
  processingErrorRate?: number;
  /** When the slow card (4000000000000259) is captured after its confirm (default 2000 ms). */
  processingDelayMs?: number;
  /** Signs webhooks; the same instance verifies them. Default: a random per-instance secret. */
  webhookSecret?: string;
  /** Refuse webhook timestamps further than this from now (default 5 minutes). */
  webhookToleranceMs?: number;
  webhooks?: SimulatedWebhookOptions;
  /** Where webhooks are sent. Without it, no webhook is sent at all. */
  deliver?: WebhookDelivery;
  /** Maximum payments kept in memory (default 50,000; see the file comment). */
  maxPayments?: number;
  /** Random source in [0, 1) for latencies, rates and shuffles (default Math.random); inject a PRNG for reproducible runs. */
  random?: () => number;
}

export interface SimulatedRefund {
  refundId: string;
  idempotencyKey: string;
  amountCents: number;
  reason: string;
  createdAtMs: number;
}

/** A payment as the simulated PSP stores it, for tests and audits. */
export interface SimulatedPaymentSnapshot extends PaymentIntent {
  orderId: string;
  metadata: Record<string, string>;
  createdAtMs: number;
  /** The last card tried, normalized. */
  paymentMethod: string | null;
  /** How many times money was taken: an audit asserts this never exceeds 1. */
  captures: number;
  refunds: readonly SimulatedRefund[];
}

interface PaymentRecord {
  id: string;
  orderId: string;
  amountCents: number;
  currency: string;
  metadata: Record<string, string>;
  status: PaymentStatus;
  failureCode: string | null;
  createdAtMs: number;
  paymentMethod: string | null;
  captures: number;
  refunds: SimulatedRefund[];
  /** Idempotency keys pointing at this payment, forgotten with it. */
  keys: string[];
}

type Operation = 'create' | 'confirm' | 'refund';

interface StoredResult {
  operation: Operation;
  fingerprint: string;
  paymentId: string;
  intent: PaymentIntent | null;
  refund: RefundResult | null;
}

type SimulatedEventType = Exclude<PaymentWebhookEvent['type'], 'other'>;

interface SimulatedEventBody {
  id: string;
  object: 'event';
  type: SimulatedEventType;
  created_ms: number;
  data: { payment: PaymentIntent & { orderId: string } };
}

const maxKeyLength = 255;

export class SimulatedPaymentProvider implements PaymentProvider {
  readonly name = 'simulated' as const;

  private readonly clock: Clock;
  private readonly timers: Timers;
  private readonly latency: MsRange;
  private readonly declineRate: number;
  private readonly processingErrorRate: number;
  private readonly processingDelayMs: number;
  private readonly secret: Buffer;
  private readonly toleranceMs: number;
  private readonly webhookDelay: MsRange;
  private readonly duplicateRate: number;
  private readonly reorder: boolean;
  private readonly maxAttempts: number;
  private readonly retryDelayMs: number;
  private readonly deliver: WebhookDelivery | undefined;
  private readonly maxPayments: number;
  private readonly random: () => number;

  private readonly payments = new Map<string, PaymentRecord>();
  private readonly idempotency = new Map<string, StoredResult>();
  private readonly pendingTimers = new Set<unknown>();
  private inFlightDeliveries = 0;
  private idleWaiters: (() => void)[] = [];
  private lastEventMs = 0;
  private lastDeliveryAtMs = 0;
  private closed = false;

  constructor(options: SimulatedProviderOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.timers = options.timers ?? systemTimers;
    this.latency = checkedRange('latencyMs', options.latencyMs ?? { min: 1, max: 10 });
    this.declineRate = checkedRate('declineRate', options.declineRate ?? 0);
    this.processingErrorRate = checkedRate('processingErrorRate', options.processingErrorRate ?? 0);
    this.processingDelayMs = Math.max(0, options.processingDelayMs ?? 2000);
    this.secret = Buffer.from(options.webhookSecret ?? `whsec_sim_${randomId(32)}`, 'utf8');
    this.toleranceMs = options.webhookToleranceMs ?? 5 * 60_000;
    const webhooks = options.webhooks ?? {};
    this.webhookDelay = checkedRange('webhooks.delayMs', webhooks.delayMs ?? { min: 10, max: 200 });
    this.duplicateRate = checkedRate('webhooks.duplicateRate', webhooks.duplicateRate ?? 0);
    this.reorder = webhooks.reorder ?? false;
    this.maxAttempts = Math.max(1, webhooks.maxAttempts ?? 5);
    this.retryDelayMs = Math.max(0, webhooks.retryDelayMs ?? 1000);
    this.deliver = options.deliver;
    this.maxPayments = Math.max(1, options.maxPayments ?? 50_000);
    this.random = options.random ?? Math.random;
  }

  async createPayment(request: CreatePaymentRequest): Promise<PaymentIntent> {
    await this.simulateLatency();
    checkKey(request.idempotencyKey);
    if (!Number.isInteger(request.amountCents) || request.amountCents <= 0) {
      throw this.error('invalid_request', `amountCents must be a positive integer, got ${request.amountCents}`);
    }
    if (!/^[a-zA-Z]{3}$/.test(request.currency)) throw this.error('invalid_request', `currency must be an ISO 4217 code, got "${request.currency}"`);
    if (request.orderId === '') throw this.error('invalid_request', 'orderId is required');
    const currency = request.currency.toLowerCase();
    const fingerprint = JSON.stringify([request.orderId, request.amountCents, currency, sortedEntries(request.metadata)]);
    const replay = this.replay(request.idempotencyKey, 'create', fingerprint);
    if (replay) return replay.intent!;

    const record: PaymentRecord = {
      id: `sp_${randomId(24)}`,
      orderId: request.orderId,
      amountCents: request.amountCents,
      currency,
      metadata: { ...request.metadata },
      status: 'requires_payment',
      failureCode: null,
      createdAtMs: this.clock.nowMs(),
      paymentMethod: null,
      captures: 0,
      refunds: [],
      keys: [],
    };
    this.payments.set(record.id, record);
    const intent = toIntent(record);
    this.remember(request.idempotencyKey, { operation: 'create', fingerprint, paymentId: record.id, intent, refund: null });
    this.evictOverflow();
    return intent;
  }

  async confirmPayment(request: ConfirmPaymentRequest): Promise<PaymentIntent> {
    await this.simulateLatency();
    checkKey(request.idempotencyKey);
    const card = normalizeCard(request.paymentMethod);
    const fingerprint = JSON.stringify([request.paymentId, card]);
    const replay = this.replay(request.idempotencyKey, 'confirm', fingerprint);
    if (replay) return replay.intent!;

    const record = this.record(request.paymentId);
    if (record.status !== 'requires_payment' && record.status !== 'failed') {
      // Already captured, processing, refunded or canceled: nothing to do, never a second capture.
      const intent = toIntent(record);
      this.remember(request.idempotencyKey, { operation: 'confirm', fingerprint, paymentId: record.id, intent, refund: null });
      return intent;
    }

    record.paymentMethod = card;
    let lostReply = false;
    switch (card) {
      case simulatedTestCards.success:
        if (this.random() < this.declineRate) {
          this.fail(record, 'card_declined');
        } else {
          lostReply = this.random() < this.processingErrorRate;
          this.capture(record);
          this.emit(record, 'payment.captured');
        }
        break;
      case simulatedTestCards.decline:
        this.fail(record, 'card_declined');
        break;
      case simulatedTestCards.insufficientFunds:
        this.fail(record, 'insufficient_funds');
        break;
      case simulatedTestCards.slow:
        record.status = 'processing';
        record.failureCode = null;
        this.emit(record, 'payment.processing');
        this.schedule(this.processingDelayMs, () => {
          if (this.payments.get(record.id) !== record || record.status !== 'processing') return;
          this.capture(record);
          this.emit(record, 'payment.captured');
        });
        break;
      case simulatedTestCards.lostWebhook:
        this.capture(record);
        break;
      case simulatedTestCards.duplicatedWebhook:
        this.captureWithDuplicatedWebhooks(record);
        break;
      case simulatedTestCards.processingError:
        lostReply = true;
        this.capture(record);
        this.emit(record, 'payment.captured');
        break;
      default:
        this.fail(record, 'incorrect_number');
    }

    const intent = toIntent(record);
    this.remember(request.idempotencyKey, { operation: 'confirm', fingerprint, paymentId: record.id, intent, refund: null });
    if (lostReply) {
      throw this.error(
        'processing_error',
        `simulated processing error: payment ${record.id} may have been captured; retry with the same idempotency key or retrieve it`,
      );
    }
    return intent;
  }

  async retrievePayment(paymentId: string): Promise<PaymentIntent> {
    await this.simulateLatency();
    return toIntent(this.record(paymentId));
  }

  async refundPayment(paymentId: string, idempotencyKey: string, reason: string): Promise<RefundResult> {
    await this.simulateLatency();
    checkKey(idempotencyKey);
    const fingerprint = JSON.stringify([paymentId, reason]);
    const replay = this.replay(idempotencyKey, 'refund', fingerprint);
    if (replay) return replay.refund!;

    const record = this.record(paymentId);
    if (record.status === 'refunded') throw this.error('already_refunded', `payment ${paymentId} is already refunded`);
    if (record.status !== 'captured') {
      throw this.error('not_refundable', `payment ${paymentId} is ${record.status}; only a captured payment can be refunded`);
    }
    const refund: SimulatedRefund = {
      refundId: `sr_${randomId(24)}`,
      idempotencyKey,
      amountCents: record.amountCents,
      reason,
      createdAtMs: this.clock.nowMs(),
    };
    record.refunds.push(refund);
    record.status = 'refunded';
    const result: RefundResult = { refundId: refund.refundId, status: 'succeeded' };
    this.remember(idempotencyKey, { operation: 'refund', fingerprint, paymentId, intent: null, refund: result });
    this.emit(record, 'payment.refunded');
    return result;
  }

  parseWebhook(rawBody: Buffer, headers: Record<string, string>): PaymentWebhookEvent {
    const header = headerValue(headers, simulatedSignatureHeader);
    if (header === undefined || header === '') throw new ApiError('forbidden', `missing ${simulatedSignatureHeader} header`);
    let timestamp: string | undefined;
    const signatures: string[] = [];
    for (const part of header.split(',')) {
      const eq = part.indexOf('=');
      if (eq <= 0) continue;
      const key = part.slice(0, eq).trim();
      const value = part.slice(eq + 1).trim();
      if (key === 't') timestamp = value;
      else if (key === 'v1') signatures.push(value);
    }
    if (timestamp === undefined || !/^\d{1,16}$/.test(timestamp) || signatures.length === 0) {
      throw new ApiError('forbidden', `malformed ${simulatedSignatureHeader} header`);
    }
    const expected = Buffer.from(this.sign(timestamp, rawBody), 'utf8');
    const matches = signatures.some((signature) => {
      const given = Buffer.from(signature, 'utf8');
      return given.length === expected.length && timingSafeEqual(given, expected);
    });
    if (!matches) throw new ApiError('forbidden', 'webhook signature does not match');
    if (Math.abs(this.clock.nowMs() - Number(timestamp)) > this.toleranceMs) {
      throw new ApiError('forbidden', 'webhook timestamp is outside the tolerance window');
    }

    let body: unknown;
    try {
      body = JSON.parse(rawBody.toString('utf8'));
    } catch {
      throw new ApiError('validation_failed', 'webhook body is not JSON');
    }
    if (!isEventBody(body)) throw new ApiError('validation_failed', 'webhook body is not a simulated payment event');
    return { eventId: body.id, provider: 'simulated', paymentId: body.data.payment.id, type: body.type, createdAtMs: body.created_ms };
  }

  // ---- audit and test helpers ---------------------------------------------------------------

  /** How many times money was taken for this payment (0 for unknown or evicted payments). */
  captures(paymentId: string): number {
    return this.payments.get(paymentId)?.captures ?? 0;
  }

  refunds(paymentId: string): readonly SimulatedRefund[] {
    return [...(this.payments.get(paymentId)?.refunds ?? [])];
  }

  allPayments(): SimulatedPaymentSnapshot[] {
    return [...this.payments.values()].map((record) => ({
      ...toIntent(record),
      orderId: record.orderId,
      metadata: { ...record.metadata },
      createdAtMs: record.createdAtMs,
      paymentMethod: record.paymentMethod,
      captures: record.captures,
      refunds: [...record.refunds],
    }));
  }

  /** Scheduled work not yet done: webhook deliveries (incl. retries), in-flight deliveries, delayed captures. */
  get pendingWork(): number {
    return this.pendingTimers.size + this.inFlightDeliveries;
  }

  /** Resolves once no delivery, retry or delayed capture is pending (with real or manual timers). */
  settled(): Promise<void> {
    if (this.pendingWork === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Cancels every pending delivery and delayed capture; nothing is sent afterwards. */
  close(): void {
    this.closed = true;
    for (const handle of this.pendingTimers) this.timers.clearTimeout(handle);
    this.pendingTimers.clear();
    this.notifyIfIdle();
  }

  // ---- internals ----------------------------------------------------------------------------

  private record(paymentId: string): PaymentRecord {
    const record = this.payments.get(paymentId);
    if (!record) throw this.error('not_found', `no such payment: ${paymentId}`);
    return record;
  }

  private replay(key: string, operation: Operation, fingerprint: string): StoredResult | null {
    const stored = this.idempotency.get(key);
    if (!stored) return null;
    if (stored.operation !== operation || stored.fingerprint !== fingerprint) {
      throw this.error('idempotency_key_reused', `idempotency key "${key}" was already used for another ${stored.operation} request`);
    }
    return stored;
  }

  private remember(key: string, result: StoredResult): void {
    this.idempotency.set(key, result);
    this.payments.get(result.paymentId)?.keys.push(key);
  }

  private evictOverflow(): void {
    while (this.payments.size > this.maxPayments) {
      const oldest = this.payments.values().next().value;
      if (oldest === undefined) return;
      this.payments.delete(oldest.id);
      for (const key of oldest.keys) this.idempotency.delete(key);
    }
  }

  private capture(record: PaymentRecord): void {
    record.captures += 1;
    record.status = 'captured';
    record.failureCode = null;
  }

  private fail(record: PaymentRecord, failureCode: string): void {
    record.status = 'failed';
    record.failureCode = failureCode;
    this.emit(record, 'payment.failed');
  }

  /** Card 4000000000003220: three copies of payment.captured shuffled with an older payment.processing. */
  private captureWithDuplicatedWebhooks(record: PaymentRecord): void {
    const processing = this.eventBody(record, 'payment.processing', 'processing');
    this.capture(record);
    const captured = this.eventBody(record, 'payment.captured');
    const order = [captured, captured, captured];
    // The stale processing event lands anywhere but first, so a consumer must ignore it.
    order.splice(1 + Math.floor(this.random() * 3), 0, processing);
    if (!this.deliver || this.closed) return;
    const start = this.reorder ? this.clock.nowMs() + this.draw(this.webhookDelay) : this.plannedDeliveryAt();
    order.forEach((body, index) => this.scheduleDelivery(body, start + index, 1));
    if (!this.reorder) this.lastDeliveryAtMs = start + order.length - 1;
  }

  private emit(record: PaymentRecord, type: SimulatedEventType): void {
    if (!this.deliver || this.closed) return;
    const body = this.eventBody(record, type);
    const copies = this.random() < this.duplicateRate ? 2 : 1;
    for (let copy = 0; copy < copies; copy += 1) this.scheduleDelivery(body, this.plannedDeliveryAt(), 1);
  }

  private eventBody(record: PaymentRecord, type: SimulatedEventType, statusOverride?: PaymentStatus): Buffer {
    const createdMs = Math.max(Math.floor(this.clock.nowMs()), this.lastEventMs + 1);
    this.lastEventMs = createdMs;
    const payment = { ...toIntent(record), orderId: record.orderId };
    if (statusOverride) payment.status = statusOverride;
    const body: SimulatedEventBody = { id: `sev_${randomId(24)}`, object: 'event', type, created_ms: createdMs, data: { payment } };
    return Buffer.from(JSON.stringify(body), 'utf8');
  }

  private plannedDeliveryAt(): number {
    const at = this.clock.nowMs() + this.draw(this.webhookDelay);
    if (this.reorder) return at;
    this.lastDeliveryAtMs = Math.max(at, this.lastDeliveryAtMs);
    return this.lastDeliveryAtMs;
  }

  private scheduleDelivery(body: Buffer, atMs: number, attempt: number): void {
    this.schedule(atMs - this.clock.nowMs(), () => {
      const deliver = this.deliver;
      if (!deliver || this.closed) return;
      const timestamp = String(Math.floor(this.clock.nowMs()));
      const headers = {
        'content-type': 'application/json',
        [simulatedSignatureHeader]: `t=${timestamp},v1=${this.sign(timestamp, body)}`,
      };
      this.inFlightDeliveries += 1;
      let delivery: Promise<void>;
      try {
        delivery = Promise.resolve(deliver(body, headers));
      } catch (error) {
        delivery = Promise.reject(error);
      }
      delivery
        .catch(() => {
          if (attempt < this.maxAttempts && !this.closed) {
            this.scheduleDelivery(body, this.clock.nowMs() + this.retryDelayMs * 2 ** (attempt - 1), attempt + 1);
          }
        })
        .finally(() => {
          this.inFlightDeliveries -= 1;
          this.notifyIfIdle();
        });
    });
  }

  private schedule(delayMs: number, callback: () => void): void {
    if (this.closed) return;
    const handle = this.timers.setTimeout(
      () => {
        this.pendingTimers.delete(handle);
        try {
          callback();
        } finally {
          this.notifyIfIdle();
        }
      },
      Math.max(0, delayMs),
    );
    this.pendingTimers.add(handle);
  }

  private notifyIfIdle(): void {
    if (this.pendingWork !== 0 || this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private sign(timestamp: string, body: Buffer): string {
    return createHmac('sha256', this.secret).update(`${timestamp}.`).update(body).digest('hex');
  }

  private async simulateLatency(): Promise<void> {
    if (this.latency.max <= 0) return;
    const delay = this.draw(this.latency);
    await new Promise<void>((resolve) => this.timers.setTimeout(resolve, delay));
  }

  private draw(range: MsRange): number {
    return Math.round(range.min + this.random() * (range.max - range.min));
  }

  private error(code: ConstructorParameters<typeof PaymentProviderError>[0], message: string): PaymentProviderError {
    return new PaymentProviderError(code, message, 'simulated');
  }
}

function toIntent(record: PaymentRecord): PaymentIntent {
  return {
    id: record.id,
    provider: 'simulated',
    status: record.status,
    amountCents: record.amountCents,
    currency: record.currency,
    clientSecret: null,
    failureCode: record.failureCode,
    refundId: record.refunds.at(-1)?.refundId ?? null,
  };
}

function normalizeCard(paymentMethod: string): string {
  const alias = cardAliases[paymentMethod];
  if (alias !== undefined) return alias;
  return paymentMethod.replace(/[\s-]/g, '');
}

function checkKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0 || key.length > maxKeyLength) {
    throw new PaymentProviderError('invalid_request', `an idempotency key of 1–${maxKeyLength} characters is required`, 'simulated');
  }
}

function checkedRange(name: string, range: MsRange): MsRange {
  if (!(range.min >= 0) || !(range.max >= range.min)) throw new Error(`${name} must satisfy 0 <= min <= max`);
  return { min: range.min, max: range.max };
}

function checkedRate(name: string, rate: number): number {
  if (!(rate >= 0 && rate <= 1)) throw new Error(`${name} must be between 0 and 1`);
  return rate;
}

function sortedEntries(record: Record<string, string>): [string, string][] {
  return Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

const eventTypes: ReadonlySet<string> = new Set<SimulatedEventType>([
  'payment.captured',
  'payment.failed',
  'payment.processing',
  'payment.refunded',
  'payment.canceled',
]);

function isEventBody(value: unknown): value is SimulatedEventBody {
  if (typeof value !== 'object' || value === null) return false;
  const body = value as Partial<Record<keyof SimulatedEventBody, unknown>>;
  if (typeof body.id !== 'string' || typeof body.type !== 'string' || !eventTypes.has(body.type)) return false;
  if (typeof body.created_ms !== 'number' || !Number.isFinite(body.created_ms)) return false;
  const data = body.data as { payment?: { id?: unknown } } | undefined;
  return typeof data === 'object' && data !== null && typeof data.payment?.id === 'string';
}
