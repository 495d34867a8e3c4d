import type { OrderItems } from '../../src/orders/order-store.js';
import type { SimulatedPaymentProvider, SimulatedPaymentSnapshot } from '../../src/payments/simulated-provider.js';
import type { SqlDatabase } from '../../src/persistence/database.js';
import { check } from './failure.js';
import type { ReferenceModel } from './reference-model.js';

interface OrderRow {
  id: string;
  hold_id: string;
  status: string;
  payment_id: string | null;
  items: OrderItems | string;
}

interface AuditedOrder {
  id: string;
  holdId: string;
  status: string;
  paymentId: string | null;
  items: OrderItems;
}

/** What a run's payments came to, for the coverage figures (counted at the final audit). */
export interface PaymentFigures {
  payments: number;
  captured: number;
  confirmed: number;
  refunded: number;
  ticketsIssued: number;
}

function sameMultiset(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const left = [...a].sort();
  const right = [...b].sort();
  return left.every((value, index) => value === right[index]);
}

function countBy<T>(items: readonly T[], key: (item: T) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return counts;
}

/**
 * The money audit, read straight from the database the saga writes and from the PSP's own
 * records (never through the saga). Every step (the writes that must be atomic are checked
 * at every commit boundary):
 *
 * - `payment_once` — no payment is captured twice or refunded twice, nothing refunded that was never captured.
 * - `confirmed_or_refunded` — never both: a confirmed order's payment is captured once and never refunded;
 *   a refunded order's payment was refunded by the PSP exactly once.
 * - `order_records` — a confirmed order's seats are sold to it (sold_seats and the journal), its tickets are
 *   its items, one OrderConfirmed; a refunded order has no ticket, no sold seat, was never confirmed in the
 *   journal and has one RefundIssued; an open order has none of these; no seat has tickets of two orders;
 *   every sale in the journal is a confirmed order.
 *
 * At the end (after the faults stopped and a final reconcile), never neither: every captured payment
 * belongs to an order that is confirmed or refunded, and every refund the PSP made shows as a refunded order.
 */
export async function auditPayments(db: SqlDatabase, provider: SimulatedPaymentProvider, showId: string, reference: ReferenceModel, final: boolean): Promise<PaymentFigures> {
  const payments = provider.allPayments();
  for (const payment of payments) {
    check(payment.captures <= 1, 'payment_once', () => `payment ${payment.id} (order ${payment.orderId}) was captured ${payment.captures} times`);
    check(payment.refunds.length <= 1, 'payment_once', () => `payment ${payment.id} (order ${payment.orderId}) was refunded ${payment.refunds.length} times`);
    check(payment.refunds.length === 0 || payment.captures === 1, 'payment_once', () => `payment ${payment.id} was refunded but never captured`);
  }
  const pspById = new Map(payments.map((payment) => [payment.id, payment]));
  const orderRows = (await db.query<OrderRow>('select id, hold_id, status, payment_id, items from orders')).rows;
  const orders: AuditedOrder[] = orderRows.map((row) => ({
    id: row.id,
    holdId: row.hold_id,
    status: row.status,
    paymentId: row.payment_id,
    items: typeof row.items === 'string' ? (JSON.parse(row.items) as OrderItems) : row.items,
  }));
  const orderById = new Map(orders.map((order) => [order.id, order]));
  const paymentRows = (await db.query<{ id: string; status: string; refund_id: string | null }>('select id, status, refund_id from payments')).rows;
  const paymentStatus = new Map(paymentRows.map((row) => [row.id, row.status]));
  const paymentRefundId = new Map(paymentRows.map((row) => [row.id, row.refund_id]));
  const tickets = (await db.query<{ id: string; order_id: string; seat_id: string | null; pool_id: string | null }>("select id, order_id, seat_id, pool_id from tickets where status <> 'void'")).rows;
  const sold = (await db.query<{ seat_id: string; order_id: string }>('select seat_id, order_id from sold_seats where show_id = $1', [showId])).rows;
  const outbox = (await db.query<{ topic: string; order_id: string | null }>("select topic, payload->>'orderId' as order_id from outbox where topic in ('OrderConfirmed', 'RefundIssued')")).rows;
  const confirmedNews = countBy(outbox.filter((row) => row.topic === 'OrderConfirmed'), (row) => row.order_id ?? '');
  const refundNews = countBy(outbox.filter((row) => row.topic === 'RefundIssued'), (row) => row.order_id ?? '');

  const ticketsByOrder = new Map<string, typeof tickets>();
  const seatTicketOrder = new Map<string, string>();
  for (const ticket of tickets) {
    ticketsByOrder.set(ticket.order_id, [...(ticketsByOrder.get(ticket.order_id) ?? []), ticket]);
    if (ticket.seat_id === null) continue;
    const other = seatTicketOrder.get(ticket.seat_id);
    check(other === undefined || other === ticket.order_id, 'order_records', () => `seat ${ticket.seat_id} has tickets of two orders: ${other} and ${ticket.order_id}`);
    seatTicketOrder.set(ticket.seat_id, ticket.order_id);
  }
  const soldByOrder = new Map<string, string[]>();
  for (const row of sold) soldByOrder.set(row.order_id, [...(soldByOrder.get(row.order_id) ?? []), row.seat_id]);

  for (const order of orders) {
    const psp: SimulatedPaymentSnapshot | undefined = order.paymentId === null ? undefined : pspById.get(order.paymentId);
    const captured = (psp?.captures ?? 0) > 0;
    const refunds = psp?.refunds.length ?? 0;
    const own = ticketsByOrder.get(order.id) ?? [];
    const soldSeats = soldByOrder.get(order.id) ?? [];
    const journalHold = reference.soldOrderHolds.get(order.id);
    const confirmedCount = confirmedNews.get(order.id) ?? 0;
    const refundCount = refundNews.get(order.id) ?? 0;
    const what = `order ${order.id} (hold ${order.holdId}, payment ${order.paymentId ?? 'none'}, ${order.status})`;
    if (order.status === 'confirmed') {
      check(captured, 'confirmed_or_refunded', () => `${what} is confirmed, but the PSP never captured its payment`);
      check(refunds === 0, 'confirmed_or_refunded', () => `${what} is confirmed AND its payment was refunded`);
      check(paymentStatus.get(order.paymentId ?? '') === 'captured', 'order_records', () => `${what} is confirmed, its payment row says ${paymentStatus.get(order.paymentId ?? '')}`);
      check(journalHold === order.holdId, 'order_records', () => `${what} is confirmed, but the journal has ${journalHold === undefined ? 'no sale for it' : `hold ${journalHold} sold for it`}`);
      check(sameMultiset(soldSeats, order.items.seats), 'order_records', () => `${what} is confirmed for seats [${order.items.seats.join(' ')}], sold_seats has [${soldSeats.join(' ')}] for it`);
      const seatTickets = own.flatMap((ticket) => (ticket.seat_id === null ? [] : [ticket.seat_id]));
      const poolTickets = own.flatMap((ticket) => (ticket.pool_id === null ? [] : [ticket.pool_id]));
      const poolUnits = order.items.pools.flatMap((pool) => Array.from({ length: pool.quantity }, () => pool.poolId));
      check(sameMultiset(seatTickets, order.items.seats) && sameMultiset(poolTickets, poolUnits), 'order_records', () => `${what} is confirmed with tickets [${[...seatTickets, ...poolTickets].join(' ')}] for items ${JSON.stringify(order.items)}`);
      check(confirmedCount === 1 && refundCount === 0, 'order_records', () => `${what} is confirmed with ${confirmedCount} OrderConfirmed and ${refundCount} RefundIssued in the outbox`);
      continue;
    }
    check(own.length === 0 && soldSeats.length === 0 && journalHold === undefined && confirmedCount === 0, 'order_records', () => `${what} is not confirmed, yet has ${own.length} tickets, sold seats [${soldSeats.join(' ')}], a journal sale ${journalHold ?? '-'} and ${confirmedCount} OrderConfirmed`);
    if (order.status === 'refunded') {
      check(captured && refunds === 1, 'confirmed_or_refunded', () => `${what} is refunded, but the PSP captured ${psp?.captures ?? 0} and refunded ${refunds} times`);
      check(paymentStatus.get(order.paymentId ?? '') === 'refunded', 'order_records', () => `${what} is refunded, its payment row says ${paymentStatus.get(order.paymentId ?? '')}`);
      // The books name the PSP's refund (support and the accounts reconcile by it), whichever of the refund call and its webhook came first.
      const bookedRefund = paymentRefundId.get(order.paymentId ?? '') ?? null;
      check(bookedRefund !== null && psp?.refunds.some((refund) => refund.refundId === bookedRefund) === true, 'order_records', () => `${what} is refunded, its payment row names refund ${bookedRefund ?? 'none'}, the PSP made [${psp?.refunds.map((refund) => refund.refundId).join(' ') ?? ''}]`);
      check(!reference.wasConfirmed(order.id), 'confirmed_or_refunded', () => `${what} is refunded, but its hold was confirmed in the journal`);
      check(refundCount === 1, 'order_records', () => `${what} is refunded with ${refundCount} RefundIssued in the outbox`);
    } else {
      check(refundCount === 0, 'order_records', () => `${what} has ${refundCount} RefundIssued in the outbox`);
    }
  }
  for (const [orderId, holdId] of reference.soldOrderHolds) {
    check(orderById.get(orderId)?.status === 'confirmed', 'order_records', () => `the journal sold hold ${holdId} for ${orderId}, which is ${orderById.get(orderId)?.status ?? 'no order'}`);
  }
  for (const row of sold) check(orderById.get(row.order_id)?.status === 'confirmed', 'order_records', () => `seat ${row.seat_id} is sold for ${row.order_id}, which is ${orderById.get(row.order_id)?.status ?? 'no order'}`);

  if (final) {
    // Never neither: every payment the PSP captured ends confirmed or refunded, and every refund shows.
    for (const payment of payments) {
      const order = orderById.get(payment.orderId);
      const what = `payment ${payment.id} of order ${payment.orderId} (captured ${payment.captures}, refunded ${payment.refunds.length}, PSP status ${payment.status}, payment row ${paymentStatus.get(payment.id) ?? 'none'})`;
      if (payment.captures > 0) {
        check(order !== undefined && order.paymentId === payment.id, 'confirmed_or_refunded', () => `${what} was captured but no order carries it`);
        check(order.status === 'confirmed' || order.status === 'refunded', 'confirmed_or_refunded', () => `${what} was captured, but its order ended ${order.status}: neither confirmed nor refunded`);
      } else {
        check(order?.paymentId !== payment.id || order.status !== 'confirmed', 'confirmed_or_refunded', () => `${what} was never captured, but its order is confirmed`);
      }
      if (payment.refunds.length > 0) check(order?.status === 'refunded', 'confirmed_or_refunded', () => `${what} was refunded by the PSP, but its order ended ${order?.status ?? 'missing'} (no RefundIssued)`);
    }
  }
  return {
    payments: payments.length,
    captured: payments.filter((payment) => payment.captures > 0).length,
    confirmed: orders.filter((order) => order.status === 'confirmed').length,
    refunded: orders.filter((order) => order.status === 'refunded').length,
    ticketsIssued: tickets.length,
  };
}
