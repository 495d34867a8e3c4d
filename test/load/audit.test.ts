import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { auditDatabase, emptyAcknowledged } from '../../load/audit.js';
import type { SqlDatabase } from '../../src/persistence/database.js';
import { databaseKinds } from '../support/databases.js';

/**
 * The audit must catch what it is there to catch: each case plants one violation in an otherwise
 * consistent database (one show, one confirmed order) and expects exactly its check to fire.
 */
const showId = 'shw-audit';

async function consistentSale(db: SqlDatabase): Promise<void> {
  await db.query(`insert into journal (show_id, from_version, to_version, epoch, events) values ($1, 0, 2, 1, $2::jsonb)`, [
    showId,
    JSON.stringify([{ type: 'hold_placed', holdId: `${showId}.hAAAAAAAA`, userId: 'u1', seats: [0], pools: [], expiresAtMs: 1, totalCents: 100, split: false }, { type: 'hold_confirmed', holdId: `${showId}.hAAAAAAAA`, orderId: 'ord_1' }]),
  ]);
  await db.query(`insert into orders (id, show_id, hold_id, user_id, status, total_cents, currency, provider, payment_id, pay_by, items) values ('ord_1', $1, $2, 'u1', 'confirmed', 100, 'USD', 'simulated', 'pay_1', now(), $3::jsonb)`, [showId, `${showId}.hAAAAAAAA`, JSON.stringify({ seats: ['101:1:1'], pools: [] })]);
  await db.query(`insert into payments (id, order_id, provider, status, amount_cents, currency, captured_at) values ('pay_1', 'ord_1', 'simulated', 'captured', 100, 'usd', now())`);
  await db.query(`insert into tickets (id, order_id, show_id, seat_id, holder_user_id) values ('tkt_1', 'ord_1', $1, '101:1:1', 'u1')`, [showId]);
  await db.query(`insert into sold_seats (show_id, seat_id, order_id) values ($1, '101:1:1', 'ord_1')`, [showId]);
  await db.query(`insert into outbox (show_id, topic, payload, delivered_at) values ($1, 'OrderConfirmed', '{"orderId":"ord_1"}', now())`, [showId]);
}

const acknowledged = () => ({ ...emptyAcknowledged(), holds: [`${showId}.hAAAAAAAA`], orders: ['ord_1'], confirmedOrders: ['ord_1'] });
const ledger = [{ paymentId: 'pay_1', orderId: 'ord_1', captures: 1, refunds: 0 }];

describe('load audit', () => {
  let db: SqlDatabase;
  beforeEach(async () => {
    db = await databaseKinds[0]!.open();
    await consistentSale(db);
  });
  afterEach(async () => {
    await db.close();
  });

  it('passes a consistent sale', async () => {
    const report = await auditDatabase(db, { showIds: [showId], acknowledged: acknowledged(), providerLedger: ledger });
    expect(report.violations).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.figures).toMatchObject({ confirmedOrders: 1, seatsSold: 1, captures: 1, refunds: 0 });
  });

  it('catches a seat sold in two confirmed orders', async () => {
    await db.query(`insert into orders (id, show_id, hold_id, user_id, status, total_cents, currency, provider, pay_by, items) values ('ord_2', $1, 'h2', 'u2', 'confirmed', 100, 'USD', 'simulated', now(), $2::jsonb)`, [showId, JSON.stringify({ seats: ['101:1:1'], pools: [] })]);
    const report = await auditDatabase(db, { showIds: [showId], acknowledged: acknowledged() });
    expect(report.ok).toBe(false);
    expect(report.checks['seatSoldTwice']).toBe(1);
    expect(report.violations.join('\n')).toContain('101:1:1');
  });

  it('catches an acknowledged hold missing from the journal', async () => {
    const report = await auditDatabase(db, { showIds: [showId], acknowledged: { ...acknowledged(), holds: [`${showId}.hAAAAAAAA`, `${showId}.hLOSTLOST`] } });
    expect(report.checks['holdNotJournaled']).toBe(1);
    expect(report.ok).toBe(false);
  });

  it('catches a pool sold over capacity', async () => {
    await db.query(`insert into pool_sales (show_id, pool_id, sold, capacity) values ($1, 'floor', 0, 2)`, [showId]);
    await db.query(`insert into orders (id, show_id, hold_id, user_id, status, total_cents, currency, provider, pay_by, items) values ('ord_3', $1, 'h3', 'u3', 'confirmed', 100, 'USD', 'simulated', now(), $2::jsonb)`, [showId, JSON.stringify({ seats: [], pools: [{ poolId: 'floor', quantity: 3 }] })]);
    const report = await auditDatabase(db, { showIds: [showId], acknowledged: acknowledged() });
    expect(report.checks['poolOverCapacity']).toBe(1);
  });

  it('catches a capture that was neither confirmed nor refunded, and a double capture at the PSP', async () => {
    await db.query(`insert into orders (id, show_id, hold_id, user_id, status, total_cents, currency, provider, payment_id, pay_by, items) values ('ord_4', $1, 'h4', 'u4', 'expired', 100, 'USD', 'simulated', 'pay_4', now(), '{"seats":[],"pools":[]}')`, [showId]);
    await db.query(`insert into payments (id, order_id, provider, status, amount_cents, currency, captured_at) values ('pay_4', 'ord_4', 'simulated', 'captured', 100, 'usd', now())`);
    const report = await auditDatabase(db, { showIds: [showId], acknowledged: acknowledged(), providerLedger: [{ ...ledger[0]!, captures: 2 }, { paymentId: 'pay_4', orderId: 'ord_4', captures: 1, refunds: 0 }] });
    expect(report.checks['captureNotRefunded']).toBe(1);
    expect(report.checks['providerLedger']).toBeGreaterThanOrEqual(2);
  });

  it('catches an undelivered outbox event and a confirmation the fan saw but the books do not have', async () => {
    await db.query(`insert into outbox (show_id, topic, payload) values ($1, 'SeatsReleased', '{}')`, [showId]);
    const report = await auditDatabase(db, { showIds: [showId], acknowledged: { ...acknowledged(), confirmedOrders: ['ord_1', 'ord_ghost'] } });
    expect(report.checks['outboxUndelivered']).toBe(1);
    expect(report.checks['confirmedNotRecorded']).toBe(1);
  });
});
