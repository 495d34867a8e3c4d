/**
 * Issue #10, process faults: the outbox consumer down for a while mid-sale. The cluster's webhook
 * sink (OUTBOX_WEBHOOK_URL) points at the test's receiver, which goes down (connection refused),
 * then answers 503, then comes back. Every outbox event must reach it in the end — each show's in
 * id order, none lost, none dead-lettered — and the sale's audit must be clean.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { connectPostgres } from '../../../src/persistence/database.js';
import { startClusterProcess, type ClusterProcess } from '../../cluster/support/cluster-process.js';
import { byLevel } from '../support/level.js';
import { recordFigures } from '../support/figures.js';
import { onsaleLoad, requirePostgres, scenarioShow, sleep } from './support/process-cluster.js';
import { startWebhookReceiver, type WebhookReceiver } from './support/process-webhook-receiver.js';

const databaseUrl = requirePostgres();
const secret = 'chaos-outbox-consumer-secret-0123';
const refusedForMs = byLevel(3_000, 20_000);
const failingForMs = byLevel(3_000, 20_000);

describe.skipIf(!databaseUrl)('the outbox consumer down for a while during an onsale load (2 workers; full: 4)', () => {
  let cluster: ClusterProcess | undefined;
  let receiver: WebhookReceiver | undefined;
  afterAll(async () => {
    await cluster?.stop();
    await receiver?.close();
  });

  it('refused, then 503, then back: every event delivered in the end, in order per show, none lost, audit clean', async () => {
    receiver = await startWebhookReceiver(secret);
    const consumer = receiver;
    cluster = await startClusterProcess({
      workers: byLevel(2, 4),
      env: { LOG_LEVEL: process.env['CHAOS_CLUSTER_LOG_LEVEL'] ?? 'error', OUTBOX_WEBHOOK_URL: consumer.url, OUTBOX_WEBHOOK_SECRET: secret, OUTBOX_WEBHOOK_TIMEOUT_MS: '2000' },
    });
    const running = cluster;
    let loadDone = false;
    const load = onsaleLoad(running, { fans: byLevel(100, 600), seats: byLevel(2_000, 20_000), durationS: byLevel(18, 80), settleS: 90 }).finally(() => (loadDone = true));
    const showId = await scenarioShow(running, load);
    await sleep(5_500); // on sale: the fans are buying, events flowing
    const acceptedBeforeOutage = consumer.accepted.size;
    await consumer.setMode('down');
    await sleep(refusedForMs);
    await consumer.setMode('failing');
    await sleep(failingForMs);
    const outageDuringLoad = !loadDone;
    const backAt = Date.now();
    await consumer.setMode('up');
    // How long the relays, backing off, take to notice the consumer is back.
    let resumedAfterMs: number | null = null;
    while (resumedAfterMs === null && Date.now() - backAt < 120_000) {
      if (consumer.accepted.size > acceptedBeforeOutage) resumedAfterMs = Date.now() - backAt;
      else await sleep(50);
    }

    const report = await load;
    const run = report.runs[0]!;
    const db = connectPostgres({ connectionString: running.databaseUrl, poolSize: 1 });
    let outbox: { id: string; show_id: string; delivered: boolean; dead: boolean; attempts: number; last_error: string | null }[];
    let deadLetters: number;
    try {
      outbox = (await db.query<{ id: string; show_id: string; delivered: boolean; dead: boolean; attempts: number; last_error: string | null }>(
        'select id::text as id, show_id, delivered_at is not null as delivered, dead, attempts, last_error from outbox order by id',
      )).rows;
      deadLetters = (await db.query<{ n: number }>('select count(*)::int as n from outbox_dead_letters')).rows[0]!.n;
    } finally {
      await db.close();
    }
    const missing = outbox.filter((event) => !consumer.accepted.has(event.id));
    const unknown = [...consumer.accepted.keys()].filter((id) => !outbox.some((event) => event.id === id));
    const figures = {
      outbox_consumer_down_ms: refusedForMs + failingForMs,
      outbox_events: outbox.length,
      outbox_events_received: consumer.accepted.size,
      outbox_events_lost: missing.length,
      outbox_events_out_of_order: consumer.counts.outOfOrder,
      outbox_events_dead: deadLetters,
      outbox_failed_deliveries_recorded: outbox.reduce((sum, event) => sum + event.attempts, 0),
      outbox_deliveries_answered_503: consumer.counts.answered503,
      outbox_resumed_after_consumer_back_ms: resumedAfterMs ?? -1,
      outbox_duplicate_deliveries: consumer.counts.duplicates,
      outbox_bad_signatures: consumer.counts.badSignatures,
      outbox_audit_violations: Number(report.headline.violations),
      outbox_holds_acknowledged: run.audit.figures['acknowledgedHolds'] ?? 0,
      outbox_orders_confirmed: run.audit.figures['confirmedOrders'] ?? 0,
    };
    recordFigures('process-outbox-down', figures);
    console.log(`[chaos] outbox consumer down: ${JSON.stringify({ ...figures, acceptedBeforeOutage, lastErrors: [...new Set(outbox.map((event) => event.last_error).filter((error) => error !== null))].slice(0, 4), soldUnits: report.headline.soldUnits })}`);

    expect(report.headline.auditOk, JSON.stringify(run.audit.violations)).toBe(true);
    expect(outageDuringLoad, 'the consumer was down while the fans were buying').toBe(true);
    expect(acceptedBeforeOutage).toBeGreaterThan(0);
    // The outage was felt: the relays kept trying and were turned away (refused, then 503), and resumed.
    expect(figures.outbox_failed_deliveries_recorded).toBeGreaterThan(1);
    expect(resumedAfterMs).not.toBeNull();
    expect(outbox.some((event) => event.show_id === showId)).toBe(true);
    expect(missing.map((event) => event.id)).toEqual([]);
    expect(unknown).toEqual([]);
    expect(outbox.filter((event) => !event.delivered || event.dead)).toEqual([]);
    expect(deadLetters).toBe(0);
    expect(consumer.orderProblems).toEqual([]);
    expect(consumer.counts.badSignatures).toBe(0);
  }, byLevel(180_000, 400_000));
});
