import { fingerprintOf, scopeIdempotencyKey } from '../actors/idempotency.js';
import type { ShowReply } from '../actors/messages.js';
import type { ShowRouter } from '../actors/show-router.js';
import { limits } from '../actors/limits.js';
import type { SqlDatabase } from '../persistence/database.js';
import type { PaymentIntent, PaymentProvider, PaymentWebhookEvent } from '../payments/payment-provider.js';
import { ApiError } from '../protocol/api-error.js';
import type { Clock } from '../shared/clock.js';
import { randomId, showIdOfHold } from '../shared/ids.js';
import type { Logger } from '../shared/logger.js';
import { confirmationWrites, OrderStore, type OrderRecord } from './order-store.js';

/** The system's own scope for keys of the saga's commands (never a fan's). */
const sagaCaller = 'order-saga';

export interface OrderServiceOptions {
  db: SqlDatabase;
  router: ShowRouter;
  provider: PaymentProvider;
  clock: Clock;
  logger: Logger;
  paymentWindowMs: number;
}

export type SettleOutcome = 'confirmed' | 'refunded' | 'processing' | 'failed';

/**
 * The hold-then-confirm saga. Every step is idempotent and resumable, so a retry, a duplicate
 * webhook or the reconciliation job can run any step again safely:
 *   order (pending_payment) → pin the hold for the payment window → payment intent →
 *   captured → confirm the pinned hold with the order's confirmation in the same journal batch;
 *   captured but the hold was lost → refund (exactly once) — never an oversell, never kept money.
 */
export class OrderService {
  private readonly store: OrderStore;

  constructor(private readonly options: OrderServiceOptions) {
    this.store = new OrderStore(options.db);
  }

  get orders(): OrderStore {
    return this.store;
  }

  async createOrder(userId: string, holdId: string): Promise<{ order: OrderRecord; payment: PaymentIntent }> {
    const showId = showIdOfHold(holdId);
    if (showId === null) throw new ApiError('validation_failed', 'not a hold id');
    const existing = await this.store.byHold(holdId);
    let order: OrderRecord;
    if (existing !== null) {
      if (existing.userId !== userId) throw new ApiError('forbidden', 'this hold belongs to another fan');
      // Its hold is gone (pin refused, or the window closed): a new payment could only be refunded.
      if (existing.status === 'expired') throw new ApiError('hold_expired', `the order for hold ${holdId} has expired`);
      order = existing;
    } else {
      const hold = await this.options.router.getHold(showId, holdId);
      if (hold === null) throw new ApiError('hold_not_found', `no live hold ${holdId}`);
      if (hold.userId !== userId) throw new ApiError('forbidden', 'this hold belongs to another fan');
      if (hold.status === 'sold') throw new ApiError('hold_not_active', 'this hold is already sold');
      const created = await this.store.insertOrGet({
        id: `ord_${randomId(20)}`,
        showId,
        holdId,
        userId,
        totalCents: hold.totalCents,
        currency: hold.currency,
        provider: this.options.provider.name,
        payByMs: this.options.clock.nowMs() + this.options.paymentWindowMs,
        items: { seats: hold.seats, pools: hold.pools },
      });
      order = created.order;
      if (order.userId !== userId) throw new ApiError('forbidden', 'this hold belongs to another fan');
    }
    if (order.status === 'pending_payment' || order.status === 'processing') await this.pin(order);
    const payment = await this.ensurePayment(order);
    return { order: (await this.store.byId(order.id))!, payment };
  }

  /** Pins the hold to the order for the payment window (idempotent: same order, same pin). */
  private async pin(order: OrderRecord): Promise<void> {
    const windowMs = Math.max(limits.paymentWindowMsMin, Math.min(limits.paymentWindowMsMax, order.payByMs - order.createdAtMs));
    const reply = await this.options.router.submit(order.showId, {
      command: { type: 'pin_hold', userId: order.userId, holdId: order.holdId, orderId: order.id, paymentWindowMs: windowMs },
      scopedKey: scopeIdempotencyKey(sagaCaller, `pin:${order.id}`),
      fingerprint: fingerprintOf({ op: 'pin_hold', orderId: order.id }),
    });
    if (reply.ok) return;
    if (isRetryable(reply)) throw new ApiError(reply.code, reply.detail);
    await this.store.setOpenStatus(order.id, 'expired', `${reply.code}: ${reply.detail}`);
    throw new ApiError(reply.code, reply.detail);
  }

  private async ensurePayment(order: OrderRecord): Promise<PaymentIntent> {
    if (order.paymentId !== null) return this.options.provider.retrievePayment(order.paymentId);
    const intent = await this.providerCall(() =>
      this.options.provider.createPayment({
        orderId: order.id,
        amountCents: order.totalCents,
        currency: order.currency,
        idempotencyKey: `create:${order.id}`,
        metadata: { order_id: order.id, show_id: order.showId, hold_id: order.holdId },
      }),
    );
    await this.store.attachPayment(order.id, intent);
    return intent;
  }

  /** The fan pays: confirms the payment with the provider, then settles the order by the outcome. */
  async confirmPayment(userId: string, paymentId: string, paymentMethod: string, idempotencyKey: string): Promise<{ order: OrderRecord; outcome: SettleOutcome }> {
    const order = await this.store.byPayment(paymentId);
    if (order === null) throw new ApiError('not_found', `no payment ${paymentId}`);
    if (order.userId !== userId) throw new ApiError('forbidden', 'this payment belongs to another fan');
    if (order.status === 'confirmed' || order.status === 'refunded') return { order, outcome: order.status };
    // Expired: the hold was lost or the window closed, so a capture now could only be refunded.
    if (order.status === 'expired') throw new ApiError('hold_expired', this.options.clock.nowMs() > order.payByMs ? 'the payment window of this order has passed' : 'the hold of this order has expired');
    const intent = await this.providerCall(() => this.options.provider.confirmPayment({ paymentId, paymentMethod, idempotencyKey: `confirm:${paymentId}:${idempotencyKey}` }));
    const outcome = await this.applyPaymentState(order, intent);
    return { order: (await this.store.byId(order.id))!, outcome };
  }

  /** A verified provider webhook: deduplicated by event id, then applied like any other news of the payment. */
  async handleWebhook(rawBody: Buffer, headers: Record<string, string>): Promise<{ duplicate: boolean }> {
    const event = this.options.provider.parseWebhook(rawBody, headers);
    const seen = await this.options.db.query('select 1 from webhook_events where provider = $1 and event_id = $2', [event.provider, event.eventId]);
    if (seen.rowCount > 0) return { duplicate: true };
    // Applied first, recorded after: a crash in between means a redelivery applies it again,
    // which is harmless (applying re-reads the payment and every step is idempotent).
    await this.applyWebhook(event);
    const { rowCount } = await this.options.db.query(
      'insert into webhook_events (provider, event_id, payment_id, type) values ($1, $2, $3, $4) on conflict do nothing',
      [event.provider, event.eventId, event.paymentId, event.type],
    );
    return { duplicate: rowCount === 0 };
  }

  private async applyWebhook(event: PaymentWebhookEvent): Promise<void> {
    const order = await this.store.byPayment(event.paymentId);
    if (order === null) {
      this.options.logger.warn({ paymentId: event.paymentId, type: event.type }, 'webhook for an unknown payment');
      return;
    }
    if (event.type === 'other') return;
    // The event says something changed; the provider's current state says what. This makes late
    // and out-of-order deliveries harmless.
    const intent = await this.providerCall(() => this.options.provider.retrievePayment(event.paymentId));
    await this.applyPaymentState(order, intent);
  }

  /** Moves the order by the payment's state; the one place that decides confirm vs refund. */
  async applyPaymentState(order: OrderRecord, intent: PaymentIntent): Promise<SettleOutcome> {
    switch (intent.status) {
      case 'captured':
        return this.settleCaptured(order);
      case 'processing':
        await this.store.setPaymentStatus(intent.id, 'processing');
        await this.store.setOpenStatus(order.id, 'processing', null);
        return 'processing';
      case 'refunded': {
        // The provider refunded (perhaps our own refund whose books a crash interrupted).
        const current = (await this.store.byId(order.id))!;
        if (current.status !== 'confirmed') await this.finishRefund(current, intent.refundId ?? null, 'refunded by the provider');
        return 'refunded';
      }
      case 'failed':
      case 'canceled':
      case 'requires_payment': {
        const changed = await this.store.setPaymentStatus(intent.id, intent.status);
        // The hold stays pinned: the fan may retry with another card until the window closes.
        if (changed && intent.status !== 'requires_payment') {
          await this.store.setOpenStatus(order.id, 'pending_payment', intent.failureCode ?? intent.status);
          await this.outbox(order, 'PaymentFailed', { orderId: order.id, userId: order.userId, reason: intent.failureCode ?? intent.status });
        }
        return 'failed';
      }
    }
  }

  /** Money was taken: confirm the pinned hold with the order's confirmation, or refund if the hold is gone. */
  private async settleCaptured(order: OrderRecord): Promise<SettleOutcome> {
    const current = (await this.store.byId(order.id))!;
    if (current.status === 'confirmed') return 'confirmed';
    if (current.status === 'refunded') return 'refunded';
    const tickets = [
      ...current.items.seats.map((seatId) => ({ id: `tkt_${randomId(20)}`, seatId, poolId: null, unit: null })),
      ...current.items.pools.flatMap((pool) => Array.from({ length: pool.quantity }, (_, unit) => ({ id: `tkt_${randomId(20)}`, seatId: null, poolId: pool.poolId, unit }))),
    ];
    const reply = await this.options.router.submit(current.showId, {
      command: { type: 'confirm_hold', holdId: current.holdId, orderId: current.id },
      scopedKey: scopeIdempotencyKey(sagaCaller, `confirm:${current.id}`),
      fingerprint: fingerprintOf({ op: 'confirm_hold', orderId: current.id }),
      attachedWrites: confirmationWrites(current, tickets),
    });
    if (reply.ok) return 'confirmed';
    if (isRetryable(reply)) throw new ApiError(reply.code, reply.detail);
    return this.refundLostHold(current, `${reply.code}: ${reply.detail}`);
  }

  /**
   * Captured after the hold was lost: refund exactly once and tell the fan. Resumable: the claim
   * marks the payment `refunding`; whoever finds it so (a retry, reconciliation, another process)
   * calls the provider again with the same key (the provider refunds once) and finishes the books.
   */
  private async refundLostHold(order: OrderRecord, reason: string): Promise<SettleOutcome> {
    const paymentId = order.paymentId!;
    const claimed = await this.store.claimRefund(paymentId);
    const payment = await this.store.payment(paymentId);
    if (!claimed && payment?.status !== 'refunding') return 'refunded'; // already refunded and booked
    const refund = await this.providerCall(() => this.options.provider.refundPayment(paymentId, `refund:${paymentId}`, 'hold_lost'));
    await this.finishRefund(order, refund.refundId, reason);
    return 'refunded';
  }

  /** The books of a refund the provider made: once, whoever gets here first. */
  private async finishRefund(order: OrderRecord, refundId: string | null, reason: string): Promise<void> {
    const paymentId = order.paymentId!;
    await this.options.db.transaction(async (tx) => {
      // The provider's refund webhook may have booked the refund first, without its id: record the id
      // whichever came first (the books below still happen once, on the status change).
      if (refundId !== null) await tx.query('update payments set refund_id = $2, updated_at = now() where id = $1 and refund_id is null', [paymentId, refundId]);
      const moved = await tx.query(`update payments set status = 'refunded', refund_id = coalesce($2, refund_id), refunded_at = now(), updated_at = now() where id = $1 and status <> 'refunded'`, [paymentId, refundId]);
      if (moved.rowCount === 0) return;
      await tx.query(`update orders set status = 'refunded', last_error = $2, updated_at = now() where id = $1 and status <> 'confirmed'`, [order.id, reason]);
      await tx.query(`insert into outbox (show_id, topic, payload) values ($1, 'RefundIssued', $2::jsonb)`, [
        order.showId,
        JSON.stringify({ orderId: order.id, userId: order.userId, paymentId, refundId, amountCents: order.totalCents, currency: order.currency, reason }),
      ]);
    });
    this.options.logger.warn({ orderId: order.id, paymentId, reason }, 'payment captured after the hold was lost: refunded');
  }

  /**
   * Reconciliation: orders whose outcome is unknown (a lost webhook, a crash between capture and
   * confirmation) are settled against the provider; unpaid orders past their window expire.
   */
  async reconcile(idleMs: number, batch: number): Promise<{ checked: number; settled: number }> {
    const open = await this.store.unsettled(idleMs, batch);
    let settled = 0;
    for (const order of open) {
      try {
        if (order.paymentId === null) {
          if (this.options.clock.nowMs() > order.payByMs) await this.store.setOpenStatus(order.id, 'expired', 'no payment before the window closed');
          continue;
        }
        const intent = await this.options.provider.retrievePayment(order.paymentId);
        const outcome = await this.applyPaymentState(order, intent);
        if (outcome === 'confirmed' || outcome === 'refunded') settled += 1;
        // Unpaid past the window: the pinned hold has expired by itself; a capture that still
        // arrives later is refunded by settleCaptured.
        else if (outcome === 'failed' && this.options.clock.nowMs() > order.payByMs) await this.store.setOpenStatus(order.id, 'expired', 'payment window closed');
      } catch (error) {
        this.options.logger.warn({ err: error, orderId: order.id }, 'reconciliation of an order failed; will retry');
      }
    }
    return { checked: open.length, settled };
  }

  private async outbox(order: OrderRecord, topic: string, payload: Record<string, unknown>): Promise<void> {
    await this.options.db.query('insert into outbox (show_id, topic, payload) values ($1, $2, $3::jsonb)', [order.showId, topic, JSON.stringify(payload)]);
  }

  /** Provider failures are retryable for the caller: the same Idempotency-Key makes the retry safe. */
  private async providerCall<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      if (error instanceof ApiError) throw error;
      this.options.logger.warn({ err: error }, 'payment provider call failed');
      throw new ApiError('payment_provider_unavailable', 'the payment provider did not answer; retry with the same Idempotency-Key');
    }
  }
}

function isRetryable(reply: Extract<ShowReply, { ok: false }>): boolean {
  return reply.code === 'overloaded' || reply.code === 'not_owner' || reply.code === 'commit_failed' || reply.code === 'internal_error';
}
