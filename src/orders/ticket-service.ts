import QRCode from 'qrcode';
import { ApiError } from '../protocol/api-error.js';
import type { SqlDatabase, SqlExecutor } from '../persistence/database.js';
import type { TokenSigner } from '../shared/signed-tokens.js';
import { toTicket, type TicketRecord } from './order-store.js';

interface TicketClaims {
  tid: string;
  v: number;
  exp: number;
}

/** Ticket tokens never expire by time; they stop verifying when used, voided or transferred (version bump). */
const ticketTokenExpiry = Date.parse('2100-01-01T00:00:00Z');

export type ScanResult = { result: 'valid'; ticket: TicketRecord };

/** Signed ticket tokens, their QR codes, and check-in: the first scan is valid, later ones `ticket_already_used`. */
export class TicketService {
  constructor(
    private readonly db: SqlDatabase,
    private readonly signer: TokenSigner,
  ) {}

  tokenOf(ticket: TicketRecord): string {
    return this.signer.sign('tkt', { tid: ticket.id, v: ticket.tokenVersion, exp: ticketTokenExpiry });
  }

  async byId(ticketId: string): Promise<TicketRecord | null> {
    const { rows } = await this.db.query<Parameters<typeof toTicket>[0]>(
      'select id, order_id, show_id, seat_id, pool_id, unit, holder_user_id, status, token_version, used_at from tickets where id = $1',
      [ticketId],
    );
    return rows[0] ? toTicket(rows[0]) : null;
  }

  async qrPng(ticket: TicketRecord): Promise<Buffer> {
    return QRCode.toBuffer(this.tokenOf(ticket), { type: 'png', errorCorrectionLevel: 'M', margin: 2, width: 320 });
  }

  async qrSvg(ticket: TicketRecord): Promise<string> {
    return QRCode.toString(this.tokenOf(ticket), { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
  }

  /**
   * Gives a valid ticket to another fan: a new token version is issued, so the old token (and
   * any screenshot of its QR code) stops verifying; the history keeps both.
   */
  async transfer(ticketId: string, fromUserId: string, toUserId: string): Promise<TicketRecord> {
    return this.db.transaction(async (tx) => {
      if (toUserId === fromUserId) {
        // Ownership first: another fan's ticket id gets the same answer as an unknown one.
        const current = await this.byIdWith(tx, ticketId);
        if (current === null || current.holderUserId !== fromUserId) throw new ApiError('not_found', 'no such ticket of yours');
        throw new ApiError('validation_failed', 'the ticket is already yours');
      }
      const { rows } = await tx.query<Parameters<typeof toTicket>[0]>(
        `update tickets set holder_user_id = $3, token_version = token_version + 1 where id = $1 and holder_user_id = $2 and status = 'valid'
         returning id, order_id, show_id, seat_id, pool_id, unit, holder_user_id, status, token_version, used_at`,
        [ticketId, fromUserId, toUserId],
      );
      const ticket = rows[0];
      if (ticket === undefined) {
        const current = await this.byIdWith(tx, ticketId);
        if (current === null || current.holderUserId !== fromUserId) throw new ApiError('not_found', 'no such ticket of yours');
        throw new ApiError('ticket_invalid', `a ${current.status} ticket cannot be transferred`);
      }
      const record = toTicket(ticket);
      await tx.query(
        'insert into ticket_transfers (ticket_id, from_user_id, to_user_id, old_token_version, new_token_version) values ($1, $2, $3, $4, $5)',
        [ticketId, fromUserId, toUserId, record.tokenVersion - 1, record.tokenVersion],
      );
      await tx.query(`insert into outbox (show_id, topic, payload) values ($1, 'TicketTransferred', $2::jsonb)`, [record.showId, JSON.stringify({ ticketId, fromUserId, toUserId })]);
      return record;
    });
  }

  async history(ticketId: string): Promise<{ fromUserId: string; toUserId: string; atMs: number }[]> {
    const { rows } = await this.db.query<{ from_user_id: string; to_user_id: string; transferred_at: Date | string }>(
      'select from_user_id, to_user_id, transferred_at from ticket_transfers where ticket_id = $1 order by id',
      [ticketId],
    );
    return rows.map((row) => ({ fromUserId: row.from_user_id, toUserId: row.to_user_id, atMs: new Date(row.transferred_at).getTime() }));
  }

  private async byIdWith(executor: SqlExecutor, ticketId: string): Promise<TicketRecord | null> {
    const { rows } = await executor.query<Parameters<typeof toTicket>[0]>(
      'select id, order_id, show_id, seat_id, pool_id, unit, holder_user_id, status, token_version, used_at from tickets where id = $1',
      [ticketId],
    );
    return rows[0] ? toTicket(rows[0]) : null;
  }

  /** Check-in scan. Atomic: two gates scanning one ticket at once admit one person. */
  async scan(token: string, nowMs: number): Promise<ScanResult> {
    const claims = this.signer.verify<TicketClaims>('tkt', token, nowMs);
    if (claims === null) throw new ApiError('ticket_invalid', 'this ticket token is forged or damaged');
    const { rows } = await this.db.query<Parameters<typeof toTicket>[0]>(
      `update tickets set status = 'used', used_at = now() where id = $1 and token_version = $2 and status = 'valid'
       returning id, order_id, show_id, seat_id, pool_id, unit, holder_user_id, status, token_version, used_at`,
      [claims.tid, claims.v],
    );
    if (rows[0]) return { result: 'valid', ticket: toTicket(rows[0]) };
    const ticket = await this.byId(claims.tid);
    if (ticket === null) throw new ApiError('ticket_invalid', 'no such ticket');
    if (ticket.tokenVersion !== claims.v) throw new ApiError('ticket_invalid', 'this token was replaced (the ticket was transferred)');
    if (ticket.status === 'used') throw new ApiError('ticket_already_used', `already scanned at ${new Date(ticket.usedAtMs ?? 0).toISOString()}`);
    throw new ApiError('ticket_invalid', `the ticket is ${ticket.status}`);
  }
}
