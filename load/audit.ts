/**
 * The audit every load run ends with, straight against PostgreSQL (not through the server):
 *
 * 1. no seat sold twice — across confirmed orders, live tickets and the sold_seats guard, which
 *    must all agree;
 * 2. no pool over capacity — pool_sales within capacity and equal to what confirmed orders hold;
 * 3. every acknowledged hold and order is in the journal — each hold id a client was told "held"
 *    has a hold_placed event, each order it created exists, each order it saw confirmed is
 *    confirmed in the orders table and has a hold_confirmed event, and every confirmed order does;
 * 4. one capture per confirmed order and a refund for every other capture — in the payments table
 *    and, when the harness owns the simulated PSP, in the PSP's own ledger;
 * 5. every outbox event delivered (none pending, none dead), one OrderConfirmed per confirmed
 *    order and one RefundIssued per refunded one.
 *
 * Usable on its own (`auditDatabase(db, { showIds, acknowledged })`), e.g. after a chaos run.
 */
import type { SqlExecutor } from '../src/persistence/database.js';

export interface Acknowledged {
  /** Hold ids a client got a successful hold reply for. */
  holds: string[];
  /** Order ids a client got from createOrder. */
  orders: string[];
  /** Orders a client was told are confirmed (paid, tickets issued). */
  confirmedOrders: string[];
  /** Orders a client was told were refunded (captured after the hold was lost). */
  refundedOrders: string[];
}

export function emptyAcknowledged(): Acknowledged {
  return { holds: [], orders: [], confirmedOrders: [], refundedOrders: [] };
}

export function mergeAcknowledged(into: Acknowledged, from: Acknowledged): void {
  into.holds.push(...from.holds);
  into.orders.push(...from.orders);
  into.confirmedOrders.push(...from.confirmedOrders);
  into.refundedOrders.push(...from.refundedOrders);
}

/** One payment as the payment provider itself recorded it. */
export interface LedgerEntry {
  paymentId: string;
  orderId: string;
  captures: number;
  refunds: number;
}

export interface AuditOptions {
  showIds: string[];
  acknowledged: Acknowledged;
  /** The PSP's own ledger, when the harness owns the provider (the simulated PSP in its server). */
  providerLedger?: LedgerEntry[];
  /** Violations listed per check at most (the count is always complete). */
  examplesMax?: number;
}

export interface AuditReport {
  ok: boolean;
  violations: string[];
  /** Violations per check (0 = clean). */
  checks: Record<string, number>;
  /** What was counted, for the report. */
  figures: Record<string, number>;
}

interface OrderRow {
  id: string;
  show_id: string;
  hold_id: string;
  status: string;
  items: { seats: string[]; pools: { poolId: string; quantity: number }[] } | string;
  payment_id: string | null;
}

interface PaymentRow {
  id: string;
  order_id: string;
  status: string;
  captured: boolean;
  refund_id: string | null;
}

export async function auditDatabase(db: SqlExecutor, options: AuditOptions): Promise<AuditReport> {
  const { showIds, acknowledged } = options;
  const examplesMax = options.examplesMax ?? 20;
  const violations: string[] = [];
  const checks: Record<string, number> = {};
  const violate = (check: string, message: string): void => {
    checks[check] = (checks[check] ?? 0) + 1;
    if (checks[check]! <= examplesMax) violations.push(`${check}: ${message}`);
  };
  const check = (name: string): void => {
    checks[name] ??= 0;
  };
  ['seatSoldTwice', 'soldSeatsMismatch', 'poolOverCapacity', 'poolSalesMismatch', 'holdNotJournaled', 'orderMissing', 'confirmedNotRecorded', 'confirmedNotJournaled', 'refundedNotRecorded',
    'captureCount', 'captureNotRefunded', 'providerLedger', 'outboxUndelivered', 'outboxDead', 'outboxOrderEvents'].forEach(check);

  const orders = (await db.query<OrderRow>('select id, show_id, hold_id, status, items, payment_id from orders where show_id = any($1)', [showIds])).rows;
  const orderById = new Map(orders.map((order) => [order.id, order]));
  const itemsOf = (order: OrderRow) => (typeof order.items === 'string' ? (JSON.parse(order.items) as { seats: string[]; pools: { poolId: string; quantity: number }[] }) : order.items);
  const confirmed = orders.filter((order) => order.status === 'confirmed');

  // 1. No seat sold twice, and the three records of a sale agree.
  const seatOwner = new Map<string, string>();
  let seatsInConfirmedOrders = 0;
  for (const order of confirmed) {
    for (const seat of itemsOf(order).seats) {
      const key = `${order.show_id}|${seat}`;
      const other = seatOwner.get(key);
      if (other !== undefined) violate('seatSoldTwice', `seat ${seat} of ${order.show_id} is in confirmed orders ${other} and ${order.id}`);
      else seatOwner.set(key, order.id);
      seatsInConfirmedOrders += 1;
    }
  }
  const ticketDuplicates = await db.query<{ show_id: string; seat_id: string; n: number }>(
    `select show_id, seat_id, count(*)::int as n from tickets where show_id = any($1) and seat_id is not null and status <> 'void' group by show_id, seat_id having count(*) > 1`,
    [showIds],
  );
  for (const row of ticketDuplicates.rows) violate('seatSoldTwice', `seat ${row.seat_id} of ${row.show_id} has ${row.n} live tickets`);
  const soldSeats = (await db.query<{ show_id: string; seat_id: string; order_id: string }>('select show_id, seat_id, order_id from sold_seats where show_id = any($1)', [showIds])).rows;
  for (const row of soldSeats) {
    const owner = seatOwner.get(`${row.show_id}|${row.seat_id}`);
    if (owner !== row.order_id) violate('soldSeatsMismatch', `sold_seats says ${row.seat_id} of ${row.show_id} went to ${row.order_id}, confirmed orders say ${owner ?? 'nobody'}`);
  }
  if (soldSeats.length !== seatOwner.size) violate('soldSeatsMismatch', `${soldSeats.length} rows in sold_seats, ${seatOwner.size} seats in confirmed orders`);

  // 2. No pool over capacity; the guard table equals what confirmed orders carry.
  const poolSold = new Map<string, number>();
  let unitsInConfirmedOrders = 0;
  for (const order of confirmed) {
    for (const pool of itemsOf(order).pools) {
      const key = `${order.show_id}|${pool.poolId}`;
      poolSold.set(key, (poolSold.get(key) ?? 0) + pool.quantity);
      unitsInConfirmedOrders += pool.quantity;
    }
  }
  const poolSales = (await db.query<{ show_id: string; pool_id: string; sold: number; capacity: number }>('select show_id, pool_id, sold, capacity from pool_sales where show_id = any($1)', [showIds])).rows;
  const guarded = new Set<string>();
  for (const row of poolSales) {
    const key = `${row.show_id}|${row.pool_id}`;
    guarded.add(key);
    const ordered = poolSold.get(key) ?? 0;
    if (row.sold > row.capacity || ordered > row.capacity) violate('poolOverCapacity', `pool ${row.pool_id} of ${row.show_id}: capacity ${row.capacity}, pool_sales ${row.sold}, confirmed orders ${ordered}`);
    if (ordered !== row.sold) violate('poolSalesMismatch', `pool ${row.pool_id} of ${row.show_id}: pool_sales ${row.sold}, confirmed orders ${ordered}`);
  }
  for (const [key, units] of poolSold) if (!guarded.has(key)) violate('poolSalesMismatch', `pool ${key} has ${units} units in confirmed orders and no pool_sales row`);

  // 3. Acknowledged means durable: holds and confirmations are in the journal.
  const journal = await db.query<{ type: string; hold_id: string | null; order_id: string | null }>(
    `select e->>'type' as type, e->>'holdId' as hold_id, e->>'orderId' as order_id
       from journal j cross join lateral jsonb_array_elements(j.events) e
      where j.show_id = any($1) and e->>'type' in ('hold_placed', 'hold_confirmed', 'sale_voided')`,
    [showIds],
  );
  const placed = new Set<string>();
  const confirmedInJournal = new Set<string>();
  for (const row of journal.rows) {
    if (row.type === 'hold_placed' && row.hold_id !== null) placed.add(row.hold_id);
    else if (row.type === 'hold_confirmed' && row.order_id !== null) confirmedInJournal.add(row.order_id);
    else if (row.type === 'sale_voided' && row.order_id !== null) confirmedInJournal.delete(row.order_id);
  }
  for (const holdId of acknowledged.holds) if (!placed.has(holdId)) violate('holdNotJournaled', `hold ${holdId} was acknowledged but has no hold_placed event`);
  for (const orderId of acknowledged.orders) if (!orderById.has(orderId)) violate('orderMissing', `order ${orderId} was acknowledged but is not in orders`);
  for (const orderId of acknowledged.confirmedOrders) {
    if (orderById.get(orderId)?.status !== 'confirmed') violate('confirmedNotRecorded', `order ${orderId} was confirmed to its fan but is ${orderById.get(orderId)?.status ?? 'missing'}`);
  }
  for (const order of confirmed) if (!confirmedInJournal.has(order.id)) violate('confirmedNotJournaled', `confirmed order ${order.id} has no hold_confirmed event`);
  for (const orderId of confirmedInJournal) if (orderById.get(orderId)?.status !== 'confirmed') violate('confirmedNotJournaled', `the journal confirms ${orderId}, the orders table says ${orderById.get(orderId)?.status ?? 'missing'}`);
  for (const orderId of acknowledged.refundedOrders) {
    if (orderById.get(orderId)?.status !== 'refunded') violate('refundedNotRecorded', `order ${orderId} was reported refunded but is ${orderById.get(orderId)?.status ?? 'missing'}`);
  }

  // 4. Money: one capture per confirmed order, a refund for every other capture.
  const payments = (await db.query<PaymentRow>(
    `select p.id, p.order_id, p.status, (p.captured_at is not null) as captured, p.refund_id from payments p join orders o on o.id = p.order_id where o.show_id = any($1)`,
    [showIds],
  )).rows;
  const paymentsByOrder = new Map<string, PaymentRow[]>();
  for (const payment of payments) paymentsByOrder.set(payment.order_id, [...(paymentsByOrder.get(payment.order_id) ?? []), payment]);
  let captures = 0;
  let refunds = 0;
  for (const order of orders) {
    const own = paymentsByOrder.get(order.id) ?? [];
    const captured = own.filter((payment) => payment.captured || payment.status === 'captured' || payment.status === 'refunded' || payment.status === 'refunding');
    captures += captured.length;
    if (order.status === 'confirmed') {
      if (captured.length !== 1 || captured[0]!.status !== 'captured') violate('captureCount', `confirmed order ${order.id} has ${captured.length} captured payment(s) (${own.map((payment) => payment.status).join(', ') || 'none'})`);
    } else {
      for (const payment of captured) {
        if (payment.status !== 'refunded' || payment.refund_id === null) violate('captureNotRefunded', `payment ${payment.id} of ${order.status} order ${order.id} was captured and is ${payment.status}, refund ${payment.refund_id ?? 'none'}`);
        else refunds += 1;
      }
    }
  }
  if (options.providerLedger !== undefined) {
    for (const entry of options.providerLedger) {
      const order = orderById.get(entry.orderId);
      if (order === undefined) continue; // another show's payment
      if (entry.captures > 1) violate('providerLedger', `the PSP captured payment ${entry.paymentId} of order ${entry.orderId} ${entry.captures} times`);
      if (entry.refunds > 1) violate('providerLedger', `the PSP refunded payment ${entry.paymentId} ${entry.refunds} times`);
      if (order.status === 'confirmed' && (entry.captures !== 1 || entry.refunds !== 0)) violate('providerLedger', `confirmed order ${order.id}: the PSP shows ${entry.captures} capture(s), ${entry.refunds} refund(s)`);
      if (order.status !== 'confirmed' && entry.captures > 0 && entry.refunds !== 1) violate('providerLedger', `${order.status} order ${order.id}: the PSP captured and refunded ${entry.refunds} time(s)`);
    }
    const known = new Set(options.providerLedger.map((entry) => entry.paymentId));
    for (const order of orders) if (order.payment_id !== null && !known.has(order.payment_id)) violate('providerLedger', `payment ${order.payment_id} of order ${order.id} is unknown to the PSP`);
  }

  // 5. Outbox: everything delivered, nothing dead, one event per order outcome.
  const outbox = (await db.query<{ pending: number; dead: number; confirmed: number; refunded: number }>(
    `select count(*) filter (where delivered_at is null and not dead)::int as pending, count(*) filter (where dead)::int as dead,
            count(*) filter (where topic = 'OrderConfirmed')::int as confirmed, count(*) filter (where topic = 'RefundIssued')::int as refunded
       from outbox where show_id = any($1)`,
    [showIds],
  )).rows[0]!;
  if (outbox.pending > 0) violate('outboxUndelivered', `${outbox.pending} outbox event(s) not delivered`);
  if (outbox.dead > 0) violate('outboxDead', `${outbox.dead} outbox event(s) dead-lettered`);
  const refundedOrders = orders.filter((order) => order.status === 'refunded').length;
  if (outbox.confirmed !== confirmed.length) violate('outboxOrderEvents', `${outbox.confirmed} OrderConfirmed event(s) for ${confirmed.length} confirmed order(s)`);
  if (outbox.refunded !== refundedOrders) violate('outboxOrderEvents', `${outbox.refunded} RefundIssued event(s) for ${refundedOrders} refunded order(s)`);
  const outboxTotal = (await db.query<{ n: number }>('select count(*)::int as n from outbox where show_id = any($1)', [showIds])).rows[0]!.n;

  const total = Object.values(checks).reduce((sum, count) => sum + count, 0);
  if (total > violations.length) violations.push(`… ${total - violations.length} more violation(s) not listed`);
  return {
    ok: total === 0,
    violations,
    checks,
    figures: {
      acknowledgedHolds: acknowledged.holds.length,
      holdsInJournal: placed.size,
      orders: orders.length,
      confirmedOrders: confirmed.length,
      refundedOrders,
      seatsSold: seatOwner.size,
      seatsInConfirmedOrders,
      poolUnitsSold: unitsInConfirmedOrders,
      captures,
      refunds,
      providerPayments: options.providerLedger?.length ?? -1,
      outboxEvents: outboxTotal,
    },
  };
}

/** Quiet enough to audit: no outbox event pending, no order waiting on a payment outcome. */
export async function settledState(db: SqlExecutor, showIds: string[]): Promise<{ outboxPending: number; ordersProcessing: number; capturesUnsettled: number; sagaBehindJournal: number; refundsUnbooked: number }> {
  const outbox = await db.query<{ n: number }>(`select count(*)::int as n from outbox where show_id = any($1) and delivered_at is null and not dead`, [showIds]);
  const processing = await db.query<{ n: number }>(`select count(*)::int as n from orders where show_id = any($1) and status = 'processing'`, [showIds]);
  // Money taken for an order that is neither confirmed nor refunded yet: the saga is mid-way.
  const captured = await db.query<{ n: number }>(
    `select count(*)::int as n from payments p join orders o on o.id = p.order_id
      where o.show_id = any($1) and o.status not in ('confirmed', 'refunded') and (p.captured_at is not null or p.status in ('captured', 'refunding'))`,
    [showIds],
  );
  // The actor sold the seats for an order whose row is not confirmed yet: the saga's confirmation reply
  // was lost (a timeout, a crash); a webhook retry or the reconciliation pass finishes it.
  const behind = await db.query<{ n: number }>(
    `select count(distinct s.order_id)::int as n from sold_seats s join orders o on o.id = s.order_id where s.show_id = any($1) and o.status <> 'confirmed'`,
    [showIds],
  );
  // Refunded by the provider's webhook before the refund call's reply was booked.
  const unbooked = await db.query<{ n: number }>(
    `select count(*)::int as n from payments p join orders o on o.id = p.order_id where o.show_id = any($1) and p.status = 'refunded' and p.refund_id is null`,
    [showIds],
  );
  return { outboxPending: outbox.rows[0]!.n, ordersProcessing: processing.rows[0]!.n, capturesUnsettled: captured.rows[0]!.n, sagaBehindJournal: behind.rows[0]!.n, refundsUnbooked: unbooked.rows[0]!.n };
}

/** Units sold so far (seats + pool units): what a sell-out is measured by. */
export async function soldUnits(db: SqlExecutor, showIds: string[]): Promise<number> {
  const seats = await db.query<{ n: number }>('select count(*)::int as n from sold_seats where show_id = any($1)', [showIds]);
  const pools = await db.query<{ n: number }>('select coalesce(sum(sold), 0)::int as n from pool_sales where show_id = any($1)', [showIds]);
  return seats.rows[0]!.n + pools.rows[0]!.n;
}
