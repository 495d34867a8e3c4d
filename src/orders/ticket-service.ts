import QRCode from 'qrcode';
import { ApiError } from '../protocol/api-error.js';
import type { SqlDatabase } from '../persistence/database.js';
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
