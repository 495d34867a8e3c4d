/**
 * A server for hostile input, with something to protect: a show, a fan (alice) with a live
 * hold, a paid order and a ticket, a second fan (mallory) who attacks them, distinctive
 * secrets, and the server's own log captured (the production logger with its redaction) so a
 * test can prove no token or secret is ever written. `audit()` reads the database state a
 * refused request must not change.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import type { z } from 'zod';
import type { HoldResponse } from '../../../src/protocol/hold-schemas.js';
import type { ConfirmPaymentResponse, OrderResponse } from '../../../src/protocol/order-schemas.js';
import { createLogger } from '../../../src/shared/logger.js';
import { TokenSigner } from '../../../src/shared/signed-tokens.js';
import { arenaShow, dayMs, ok, organizer, smallArena } from '../../gateway/gateway-helpers.js';
import type { DatabaseKind } from '../../support/databases.js';
import { startTestServer, type TestServer } from '../../support/server.js';

export const bodyBytesMax = 4_096;

export interface HostileWorld {
  t: TestServer;
  showId: string;
  eventId: string;
  alice: { userId: string; token: string; holdId: string; orderId: string; paymentId: string; ticketId: string; ticketToken: string; soldHoldId: string };
  mallory: { userId: string; token: string };
  tokenSecret: string;
  adminToken: string;
  /** Well-formed but refused tokens: expired, signed with another secret, of another kind. */
  badTokens: Record<'expired' | 'wrongSecret' | 'wrongKind' | 'truncated', string>;
  /** Everything the server logged so far, one JSON object per line. */
  logText(): string;
  audit(): Promise<Record<string, unknown>>;
}

const auditQuery = `select
  (select coalesce(max(to_version), 0) from journal)::text as journal_version,
  (select count(*) from journal)::text as journal_rows,
  (select count(*) from orders)::text as orders,
  (select string_agg(id || ':' || status, ',' order by id) from orders) as order_statuses,
  (select count(*) from payments)::text as payments,
  (select count(*) from tickets)::text as tickets,
  (select string_agg(id || ':' || holder_user_id || ':' || status, ',' order by id) from tickets) as ticket_holders,
  (select count(*) from ticket_transfers)::text as ticket_transfers,
  (select count(*) from sold_seats)::text as sold_seats,
  (select coalesce(sum(sold), 0) from pool_sales)::text as pool_units_sold,
  (select count(*) from outbox)::text as outbox,
  (select count(*) from venues)::text as venues,
  (select count(*) from events)::text as events,
  (select count(*) from shows)::text as shows,
  (select count(*) from queue_tickets)::text as queue_tickets,
  (select count(*) from show_leases)::text as show_leases`;

export async function startHostileWorld(kind: DatabaseKind): Promise<HostileWorld> {
  const tokenSecret = `chaos-token-secret-${randomBytes(12).toString('hex')}`;
  const adminToken = `chaos-admin-${randomBytes(12).toString('hex')}`;
  let log = '';
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      log += chunk.toString('utf8');
      done();
    },
  });
  const t = await startTestServer(
    kind,
    {
      TOKEN_SECRET: tokenSecret, ADMIN_TOKEN: adminToken, HTTP_BODY_BYTES_MAX: String(bodyBytesMax),
      RATE_LIMIT_USER_PER_S: '1000000', RATE_LIMIT_IP_PER_S: '1000000', SOCKET_EVENTS_PER_S: '1000000', PAYMENT_WINDOW_S: '600',
    },
    { logger: createLogger('trace', sink) },
  );
  const org = organizer(t);
  const venueId = (await org.venue(smallArena('Chaos Arena', 'Hostile City'))).id;
  const eventId = (await org.event({ name: 'Chaos Night', performer: 'The Fuzzers', category: 'concert', venue_id: venueId })).id;
  const showId = (await org.show(eventId, arenaShow(Date.now() + 9 * dayMs, { max_holds_per_user: 5 }))).id;

  const aliceToken = await t.session('alice-chaos');
  const malloryToken = await t.session('mallory-chaos');
  const key = () => ({ 'idempotency-key': randomUUID() });
  const holdOf = async (seat: string) => ok<HoldResponse>(await t.request('POST', `/v1/shows/${showId}/holds`, { token: aliceToken, body: { seat_ids: [seat] }, headers: key() }), 201);
  const hold = await holdOf('A:1:1');
  const sold = await holdOf('A:2:1');
  const order = ok<z.output<typeof OrderResponse>>(await t.request('POST', '/v1/orders', { token: aliceToken, body: { hold_id: sold.hold_id }, headers: key() }), 201);
  const paid = ok<z.output<typeof ConfirmPaymentResponse>>(await t.request('POST', `/v1/payments/${order.payment.id}/confirm`, { token: aliceToken, body: { card_number: '4242424242424242' }, headers: key() }));
  if (paid.status !== 'confirmed') throw new Error(`the setup purchase ended ${paid.status}`);
  const ticket = paid.order.tickets[0]!;

  const signer = new TokenSigner(tokenSecret);
  const badTokens = {
    expired: signer.sign('ses', { sub: 'alice-chaos', exp: Date.now() - 1_000 }),
    wrongSecret: new TokenSigner(`another-secret-${randomBytes(8).toString('hex')}`).sign('ses', { sub: 'alice-chaos', exp: Date.now() + 3_600_000 }),
    wrongKind: signer.sign('adm', { sub: 'alice-chaos', exp: Date.now() + 3_600_000 }),
    truncated: aliceToken.slice(0, -3),
  };
  return {
    t, showId, eventId, tokenSecret, adminToken, badTokens,
    alice: { userId: 'alice-chaos', token: aliceToken, holdId: hold.hold_id, orderId: order.order_id, paymentId: order.payment.id!, ticketId: ticket.ticket_id, ticketToken: ticket.token, soldHoldId: sold.hold_id },
    mallory: { userId: 'mallory-chaos', token: malloryToken },
    logText: () => log,
    async audit() {
      const rows = await t.server.db.query<Record<string, unknown>>(auditQuery);
      const aliceHold = await t.request('GET', `/v1/holds/${hold.hold_id}`, { token: aliceToken });
      const availability = await t.request('GET', `/v1/shows/${showId}/availability`);
      const heldHold = aliceHold.body as HoldResponse;
      return {
        ...rows.rows[0],
        alice_hold: `${aliceHold.status} ${heldHold.status} ${heldHold.seat_ids?.join(',')} ${heldHold.expires_at_ms} ${heldHold.extensions_left}`,
        availability: availability.text,
      };
    },
  };
}

/** Tokens and secrets of `world` (and any extra ones) that appear in its log. */
export function secretsInLog(world: HostileWorld, extra: string[] = []): string[] {
  const log = world.logText();
  const secrets = [world.tokenSecret, world.adminToken, world.alice.token, world.mallory.token, world.alice.ticketToken, ...Object.values(world.badTokens), ...extra];
  // Only long values: a short forged string could occur in a log by chance.
  return secrets.filter((secret) => secret.length >= 16 && log.includes(secret)).map((secret) => `${secret.slice(0, 12)}…`);
}
