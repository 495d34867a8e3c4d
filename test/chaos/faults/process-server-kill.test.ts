/**
 * Issue #10, process faults: kill -9 of the whole server — the primary and all its workers at
 * once — at random moments during an onsale load, restarted each time on the same database and
 * port. The load harness's fans (SDK clients) ride it out: their calls fail over to retries with
 * the same idempotency keys, their sockets reconnect. Afterwards the audit must be clean: every
 * hold and order a client was told about is in the database, no seat sold twice, no double charge.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { connectPostgres } from '../../../src/persistence/database.js';
import { startClusterProcess, type ClusterProcess } from '../../cluster/support/cluster-process.js';
import { byLevel } from '../support/level.js';
import { recordFigures } from '../support/figures.js';
import { killWholeServer, median, onsaleLoad, requirePostgres, scenarioShow, servedAgainAfterMs, sleep } from './support/process-cluster.js';

const databaseUrl = requirePostgres();
// A fan call may hang on a killed process: at the stop, give in-flight calls 5 s, not 30 (load/worker.ts).
process.env['LOAD_STOP_GRACE_S'] = '5';
const kills = byLevel(3, 20);
// The full level's load outlasts 20 kills even where a whole-cluster restart takes ~10 s (2026-11-23:
// 9.6 s median on a slow host, and 170 s saw only 16 of the 20 kills).
// Short: a primary and 2 workers (each restart boots them all on a 2-core machine); full: 4.
const workers = byLevel(2, 4);

/** Committed batches of the show so far. */
async function journalRows(url: string, showId: string): Promise<number> {
  const db = connectPostgres({ connectionString: url, poolSize: 1 });
  try {
    return (await db.query<{ n: number }>('select count(*)::int as n from journal where show_id = $1', [showId])).rows[0]!.n;
  } finally {
    await db.close();
  }
}

describe.skipIf(!databaseUrl)('kill -9 of the whole server during an onsale load, restarted on the same database and port', () => {
  let first: ClusterProcess | undefined;
  let current: ClusterProcess | undefined;
  afterAll(async () => {
    if (current !== first) await current?.stop();
    await first?.stop(); // drops the database
  }, 60_000);

  it(`${kills} kills of the primary and every worker: the fans carry on after each restart, audit clean`, async () => {
    // A relay killed mid-delivery holds its show's events back for the lease: 5 s here, not the default 60 s.
    const env = { LOG_LEVEL: process.env['CHAOS_CLUSTER_LOG_LEVEL'] ?? 'warn', OUTBOX_LEASE_MS: '5000' };
    first = current = await startClusterProcess({ workers, env });
    const port = Number(new URL(first.url).port);
    let loadDone = false;
    const load = onsaleLoad(first, { fans: byLevel(100, 600), seats: byLevel(3_000, 30_000), durationS: byLevel(40, 320), settleS: 30 }).finally(() => (loadDone = true));
    const showId = await scenarioShow(first, load);
    await sleep(5_000); // on sale: the fans are racing now

    const backAfter: number[] = [];
    let killsDuringLoad = 0;
    for (let kill = 0; kill < kills; kill += 1) {
      await sleep(byLevel(300 + Math.random() * 700, 500 + Math.random() * 1_500));
      const killedAt = Date.now();
      await killWholeServer(current);
      if (!loadDone) killsDuringLoad += 1;
      current = await startClusterProcess({ workers, env, restartOf: { databaseUrl: first.databaseUrl, port } });
      const servedAfter = await servedAgainAfterMs(current.url, showId, killedAt, 60_000);
      expect(servedAfter, `show ${showId} not served within 60 s of whole-server kill ${kill + 1}`).not.toBeNull();
      backAfter.push(servedAfter!);
    }

    // The sale resumes after the last restart: the show's journal grows again while the fans still run.
    const journalRowsAfterLastRestart = await journalRows(first.databaseUrl, showId);
    let resumed = false;
    while (!loadDone && !resumed) {
      await sleep(250);
      resumed = (await journalRows(first.databaseUrl, showId)) > journalRowsAfterLastRestart;
    }
    const report = await load;
    const run = report.runs[0]!;
    const figures = {
      server_kills: kills,
      server_kill_workers: workers,
      server_kills_during_load: killsDuringLoad,
      server_kill_served_again_max_ms: Math.max(...backAfter),
      server_kill_served_again_median_ms: median(backAfter),
      server_kill_holds_acknowledged: run.audit.figures['acknowledgedHolds'] ?? 0,
      server_kill_orders_confirmed: run.audit.figures['confirmedOrders'] ?? 0,
      server_kill_lost: (run.audit.checks['holdNotJournaled'] ?? 0) + (run.audit.checks['orderMissing'] ?? 0) + (run.audit.checks['confirmedNotRecorded'] ?? 0),
      server_kill_oversold: (run.audit.checks['seatSoldTwice'] ?? 0) + (run.audit.checks['poolOverCapacity'] ?? 0),
      server_kill_double_charges: (run.audit.checks['captureCount'] ?? 0) + (run.audit.checks['captureNotRefunded'] ?? 0),
      server_kill_audit_violations: Number(report.headline.violations),
      server_kill_client_errors: Number(report.headline.errors),
      server_kill_fans_unfinished_at_stop: run.unfinishedFans,
    };
    recordFigures('process-server-kill', figures);
    console.log(`[chaos] kill -9 of the whole server: ${JSON.stringify({ ...figures, backAfter, soldUnits: report.headline.soldUnits, endedBy: report.headline.endedBy, codes: run.codes })}`);

    expect(report.headline.auditOk, JSON.stringify(run.audit.violations)).toBe(true);
    expect(report.headline.violations).toBe(0);
    expect(killsDuringLoad, 'every kill landed while the fans were buying').toBe(kills);
    expect(resumed, 'the fans bought again after the last restart, before the load ended').toBe(true);
  }, byLevel(150_000, 600_000));
});
