import { expect } from 'vitest';
import { loadOptions } from '../../load/options.js';
import { runScenario } from '../../load/run-scenario.js';
import { databaseKinds } from '../support/databases.js';
import { onlyWhere } from '../support/only-where.js';

/**
 * The CI-sized on-sale: 200 fans queue before on-sale, are admitted, race for 500 seats and pay
 * (some mash Pay, some abandon, some pay after a 3 s payment window and are refunded). The run
 * has its own server in a fresh schema; the audit against PostgreSQL must be clean, and things
 * must actually have been sold.
 */
const postgres = onlyWhere(databaseKinds[1]!.available);

postgres('a short on-sale sells seats, charges once per order, refunds late payers, and audits clean', async () => {
  const report = await runScenario(loadOptions('onsale', {
    fans: 200, seats: 500, durationS: 14, leadS: 3, admitRatePerS: 200, connectRatePerS: 400,
    paymentWindowS: 3, lateShare: 0.1, mashShare: 0.2, abandonShare: 0.1, settleS: 30, progress: false,
  }));
  const run = report.runs[0]!;
  expect(run.audit.violations).toEqual([]);
  expect(report.ok).toBe(true);
  expect(run.peaks.connected).toBe(200);
  // The room stops admitting while every seat is sold or held (nothing left to hold), so the last
  // few fans may still be in line when 500 seats run out before the 14 s are up.
  expect(run.counters.admitted).toBeGreaterThanOrEqual(190);
  expect(run.counters.paid).toBeGreaterThan(50);
  expect(run.audit.figures['confirmedOrders']).toBe(run.counters.paid);
  expect(run.audit.figures['seatsSold']).toBe(run.counters.itemsSold);
  expect(run.audit.figures['holdsInJournal']).toBeGreaterThanOrEqual(run.counters.holdsOk);
  expect(run.counters.mashConfirms).toBeGreaterThan(0);
  // Late payers paid after the window: captured, then refunded — once each.
  expect(run.counters.lateRefunded).toBeGreaterThan(0);
  expect(run.audit.figures['refunds']).toBe(run.counters.lateRefunded);
  expect(run.latency.diff.count).toBeGreaterThan(0);
  expect(run.counters.errors).toBe(0);
}, 120_000);

postgres('fans who want a few tickets buy them and leave, admitted adaptively while checkout has room; audit clean', async () => {
  const report = await runScenario(loadOptions('onsale', {
    fans: 150, seats: 1_000, durationS: 30, leadS: 3, admitRatePerS: 100, connectRatePerS: 400, ticketsPerFan: 3,
    admissionMode: 'adaptive', activeCap: 40, paymentWindowS: 20, lateShare: 0, mashShare: 0.2, abandonShare: 0.1, settleS: 30, progress: false,
  }));
  const run = report.runs[0]!;
  expect(run.audit.violations).toEqual([]);
  expect(report.ok).toBe(true);
  // Demand (150 fans × 1..3 tickets) is below supply: every fan gets what it wanted and leaves, which ends the run.
  expect(run.endedBy).toBe('fans-done');
  expect(run.counters.admitted).toBe(150);
  expect(run.counters.fansDone).toBe(150);
  expect(run.counters.itemsSold).toBeGreaterThanOrEqual(150);
  expect(run.counters.itemsSold).toBeLessThanOrEqual(450);
  expect(run.audit.figures['seatsSold']).toBe(run.counters.itemsSold);
  expect(run.counters.errors).toBe(0);
}, 120_000);
