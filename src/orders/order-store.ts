import type { SqlExecutor } from '../persistence/database.js';
import type { AttachedWrite } from '../persistence/journal.js';
import type { PaymentIntent } from '../payments/payment-provider.js';

export type OrderStatus = 'pending_payment' | 'processing' | 'confirmed' | 'expired' | 'refunded' | 'failed';

export interface OrderItems {
  seats: string[];
  pools: { poolId: string; quantity: number }[];
}

export interface OrderRecord {
  id: string;
  showId: string;
  holdId: string;
  userId: string;
  status: OrderStatus;
  totalCents: number;
  currency: string;
  provider: string;
  paymentId: string | null;
  payByMs: number;
  items: OrderItems;
  lastError: string | null;
  createdAtMs: number;
  confirmedAtMs: number | null;
}

export interface PaymentRecord {
  id: string;
  orderId: string;
  provider: string;
  status: string;
  amountCents: number;
  currency: string;
  clientSecret: string | null;
}

export interface TicketRecord {
  id: string;
  orderId: string;
  showId: string;
  seatId: string | null;
  poolId: string | null;
  unit: number | null;
  holderUserId: string;
  status: 'valid' | 'used' | 'void';
  tokenVersion: number;
  usedAtMs: number | null;
}

interface OrderRow {
  id: string; show_id: string; hold_id: string; user_id: string; status: OrderStatus; total_cents: number; currency: string;
  provider: string; payment_id: string | null; pay_by: Date | string; items: OrderItems | string; last_error: string | null;
  created_at: Date | string; confirmed_at: Date | string | null;
}

interface TicketRow {
  id: string; order_id: string; show_id: string; seat_id: string | null; pool_id: string | null; unit: number | null;
  holder_user_id: string; status: 'valid' | 'used' | 'void'; token_version: number; used_at: Date | string | null;
}

const ms = (value: Date | string): number => (value instanceof Date ? value.getTime() : Date.parse(value));

function toOrder(row: OrderRow): OrderRecord {
  return {
    id: row.id, showId: row.show_id, holdId: row.hold_id, userId: row.user_id, status: row.status, totalCents: Number(row.total_cents),
    currency: row.currency, provider: row.provider, paymentId: row.payment_id, payByMs: ms(row.pay_by),
    items: typeof row.items === 'string' ? (JSON.parse(row.items) as OrderItems) : row.items, lastError: row.last_error,
    createdAtMs: ms(row.created_at), confirmedAtMs: row.confirmed_at === null ? null : ms(row.confirmed_at),
  };
}

export function toTicket(row: TicketRow): TicketRecord {
  return {
    id: row.id, orderId: row.order_id, showId: row.show_id, seatId: row.seat_id, poolId: row.pool_id, unit: row.unit === null ? null : Number(row.unit),
    holderUserId: row.holder_user_id, status: row.status, tokenVersion: Number(row.token_version), usedAtMs: row.used_at === null ? null : ms(row.used_at),
  };
}

const orderColumns = 'id, show_id, hold_id, user_id, status, total_cents, currency, provider, payment_id, pay_by, items, last_error, created_at, confirmed_at';

/** SQL of orders, payments and tickets. */
export class OrderStore {
  constructor(private readonly db: SqlExecutor) {}

  /** Inserts the order unless the hold already has one; returns the hold's order either way. */
  async insertOrGet(order: Omit<OrderRecord, 'paymentId' | 'lastError' | 'createdAtMs' | 'confirmedAtMs' | 'status'>): Promise<{ order: OrderRecord; created: boolean }> {
    const inserted = await this.db.query<OrderRow>(
      `insert into orders (id, show_id, hold_id, user_id, status, total_cents, currency, provider, pay_by, items)
       values ($1, $2, $3, $4, 'pending_payment', $5, $6, $7, to_timestamp($8 / 1000.0), $9::jsonb)
       on conflict (hold_id) do nothing returning ${orderColumns}`,
      [order.id, order.showId, order.holdId, order.userId, order.totalCents, order.currency, order.provider, order.payByMs, JSON.stringify(order.items)],
    );
    if (inserted.rows[0]) return { order: toOrder(inserted.rows[0]), created: true };
    const existing = await this.byHold(order.holdId);
    return { order: existing!, created: false };
  }

  async byId(orderId: string): Promise<OrderRecord | null> {
    const { rows } = await this.db.query<OrderRow>(`select ${orderColumns} from orders where id = $1`, [orderId]);
    return rows[0] ? toOrder(rows[0]) : null;
  }

  async byHold(holdId: string): Promise<OrderRecord | null> {
    const { rows } = await this.db.query<OrderRow>(`select ${orderColumns} from orders where hold_id = $1`, [holdId]);
    return rows[0] ? toOrder(rows[0]) : null;
  }

  async byPayment(paymentId: string): Promise<OrderRecord | null> {
    const { rows } = await this.db.query<OrderRow>(`select ${orderColumns} from orders where payment_id = $1`, [paymentId]);
    return rows[0] ? toOrder(rows[0]) : null;
  }

  async ofUser(userId: string, limit: number, beforeMs: number | null): Promise<OrderRecord[]> {
    const { rows } = await this.db.query<OrderRow>(
      `select ${orderColumns} from orders where user_id = $1 and ($2::float8 is null or created_at < to_timestamp($2 / 1000.0)) order by created_at desc, id desc limit $3`,
      [userId, beforeMs, limit],
    );
    return rows.map(toOrder);
  }

  /**
   * Orders whose payment outcome is unknown and that have not moved for `idleMs`: open ones, and
   * for a day after it, expired ones with a payment that is not settled (a capture may still land
   * on them; settling refunds it).
   */
  async unsettled(idleMs: number, limit: number): Promise<OrderRecord[]> {
    const { rows } = await this.db.query<OrderRow>(
      `select ${orderColumns.split(', ').map((column) => `o.${column}`).join(', ')} from orders o left join payments p on p.id = o.payment_id
       where o.updated_at < now() - ($1::float8 / 1000.0) * interval '1 second'
         and (o.status in ('pending_payment', 'processing')
              or (o.status = 'expired' and o.payment_id is not null and o.pay_by > now() - interval '1 day' and coalesce(p.status, '') in ('captured', 'processing', 'refunding')))
       order by o.updated_at limit $2`,
      [idleMs, limit],
    );
    return rows.map(toOrder);
  }

  async attachPayment(orderId: string, intent: PaymentIntent): Promise<void> {
    await this.db.query(
      `insert into payments (id, order_id, provider, status, amount_cents, currency, client_secret) values ($1, $2, $3, $4, $5, $6, $7) on conflict (id) do nothing`,
      [intent.id, orderId, intent.provider, intent.status, intent.amountCents, intent.currency, intent.clientSecret],
    );
    await this.db.query('update orders set payment_id = $2, updated_at = now() where id = $1 and payment_id is null', [orderId, intent.id]);
  }

  async payment(paymentId: string): Promise<PaymentRecord | null> {
    const { rows } = await this.db.query<{ id: string; order_id: string; provider: string; status: string; amount_cents: number; currency: string; client_secret: string | null }>(
      'select id, order_id, provider, status, amount_cents, currency, client_secret from payments where id = $1',
      [paymentId],
    );
    const row = rows[0];
    return row ? { id: row.id, orderId: row.order_id, provider: row.provider, status: row.status, amountCents: Number(row.amount_cents), currency: row.currency, clientSecret: row.client_secret } : null;
  }

  /** Moves an open order to `status` (processing, failed attempt, expired); terminal orders never move back. */
  async setOpenStatus(orderId: string, status: 'pending_payment' | 'processing' | 'expired', lastError: string | null): Promise<boolean> {
    const { rowCount } = await this.db.query(
      `update orders set status = $2, last_error = coalesce($3, last_error), updated_at = now() where id = $1 and status in ('pending_payment', 'processing')`,
      [orderId, status, lastError],
    );
    return rowCount > 0;
  }

  /** Records the payment's state; true when it changed (so news already applied is not announced twice). */
  async setPaymentStatus(paymentId: string, status: string): Promise<boolean> {
    const { rowCount } = await this.db.query(
      `update payments set status = $2, captured_at = case when $2 = 'captured' then coalesce(captured_at, now()) else captured_at end, updated_at = now()
       where id = $1 and status not in ('refunding', 'refunded', 'captured') and status <> $2`,
      [paymentId, status],
    );
    return rowCount > 0;
  }

  /** Claims the right to refund a captured payment: only one caller ever gets true. */
  async claimRefund(paymentId: string): Promise<boolean> {
    const { rowCount } = await this.db.query(`update payments set status = 'refunding', updated_at = now() where id = $1 and status not in ('refunding', 'refunded')`, [paymentId]);
    return rowCount > 0;
  }

  async tickets(orderId: string): Promise<TicketRecord[]> {
    const { rows } = await this.db.query<TicketRow>('select id, order_id, show_id, seat_id, pool_id, unit, holder_user_id, status, token_version, used_at from tickets where order_id = $1 order by seat_id nulls last, pool_id, unit', [orderId]);
    return rows.map(toTicket);
  }
}

/** The order's side of a confirmation, written in the same transaction as the hold's `hold_confirmed`. */
export function confirmationWrites(order: OrderRecord, tickets: { id: string; seatId: string | null; poolId: string | null; unit: number | null }[]): AttachedWrite[] {
  return [
    {
      sql: `update orders set status = 'confirmed', confirmed_at = now(), updated_at = now(), last_error = null where id = $1 and status in ('pending_payment', 'processing', 'expired')`,
      params: [order.id],
    },
    {
      sql: `update payments set status = 'captured', captured_at = coalesce(captured_at, now()), updated_at = now() where id = $1`,
      params: [order.paymentId],
    },
    {
      sql: `insert into tickets (id, order_id, show_id, seat_id, pool_id, unit, holder_user_id)
            select t.id, $1, $2, t.seat_id, t.pool_id, t.unit, $3 from unnest($4::text[], $5::text[], $6::text[], $7::int[]) as t(id, seat_id, pool_id, unit)`,
      params: [order.id, order.showId, order.userId, tickets.map((ticket) => ticket.id), tickets.map((ticket) => ticket.seatId), tickets.map((ticket) => ticket.poolId), tickets.map((ticket) => ticket.unit)],
    },
    {
      sql: `insert into outbox (show_id, topic, payload) values ($1, 'OrderConfirmed', $2::jsonb)`,
      params: [order.showId, JSON.stringify({ orderId: order.id, userId: order.userId, holdId: order.holdId, totalCents: order.totalCents, currency: order.currency, ticketIds: tickets.map((ticket) => ticket.id), items: order.items })],
    },
  ];
}
