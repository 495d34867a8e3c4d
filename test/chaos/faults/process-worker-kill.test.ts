/**
 * Issue #10, process faults: kill -9 of the hot show's owner at random moments during one onsale
 * load against a 4-worker cluster (node:cluster IPC). The primary restarts each worker; the show
 * must be served again within 5 s of each kill, and the load's audit (straight against
 * PostgreSQL) must be clean: no acknowledged hold or order lost, no seat sold twice, one capture
 * per confirmed order.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { startClusterProcess, type ClusterProcess } from '../../cluster/support/cluster-process.js';
import { byLevel } from '../support/level.js';
import { recordFigures } from '../support/figures.js';
import { median, onsaleLoad, requirePostgres, scenarioShow, servedAgainAfterMs, sleep } from './support/process-cluster.js';

const databaseUrl = requirePostgres();
// A fan call may hang on a killed process: at the stop, give in-flight calls 5 s, not 30 (load/worker.ts).
process.env['LOAD_STOP_GRACE_S'] = '5';
const kills = byLevel(10, 20);
const servedWithinMs = 5_000;

describe.skipIf(!databaseUrl)('kill -9 of a worker during an onsale load (4 workers, IPC)', () => {
  let cluster: ClusterProcess | undefined;
  afterAll(async () => cluster?.stop());

  // A relay killed mid-delivery holds its show's events back for the lease: 5 s here, not the default 60 s.
  it(`${kills} kills of the show's owner: served again within 5 s each, primary restarts each worker, audit clean`, async () => {
    cluster = await startClusterProcess({ workers: 4, env: { LOG_LEVEL: process.env['CHAOS_CLUSTER_LOG_LEVEL'] ?? 'warn', OUTBOX_LEASE_MS: '5000' } });
    const running = cluster;
    let loadDone = false;
    const load = onsaleLoad(running, { fans: byLevel(100, 1_000), seats: byLevel(2_000, 20_000), durationS: byLevel(25, 100), settleS: 15 }).finally(() => (loadDone = true));
    const showId = await scenarioShow(running, load);
    await sleep(5_000); // on sale: the fans are racing now

    const recoveries: number[] = [];
    let killsDuringLoad = 0;
    for (let kill = 0; kill < kills; kill += 1) {
      await sleep(byLevel(200 + Math.random() * 500, 200 + Math.random() * 1_300));
      const owner = (await running.view()).owners[showId];
      const pid = owner ? running.workerPids().get(owner) : undefined;
      expect(pid, `the owner ${owner ?? '(none)'} of ${showId} has a pid`).toBeDefined();
      const killedAt = Date.now();
      process.kill(pid!, 'SIGKILL');
      if (!loadDone) killsDuringLoad += 1;
      const servedAfter = await servedAgainAfterMs(running.url, showId, killedAt, 15_000);
      expect(servedAfter, `show ${showId} not served within 15 s of kill ${kill + 1}`).not.toBeNull();
      recoveries.push(servedAfter!);
    }
    // The primary forked a replacement for every killed worker.
    await running.waitForWorkers(4, 60_000);

    const report = await load;
    const run = report.runs[0]!;
    const figures = {
      worker_kills: kills,
      worker_kills_during_load: killsDuringLoad,
      worker_kill_served_again_max_ms: Math.max(...recoveries),
      worker_kill_served_again_median_ms: median(recoveries),
      worker_kill_over_5s: recoveries.filter((ms) => ms > servedWithinMs).length,
      worker_kill_holds_acknowledged: run.audit.figures['acknowledgedHolds'] ?? 0,
      worker_kill_orders_confirmed: run.audit.figures['confirmedOrders'] ?? 0,
      worker_kill_lost: (run.audit.checks['holdNotJournaled'] ?? 0) + (run.audit.checks['orderMissing'] ?? 0) + (run.audit.checks['confirmedNotRecorded'] ?? 0),
      worker_kill_oversold: (run.audit.checks['seatSoldTwice'] ?? 0) + (run.audit.checks['poolOverCapacity'] ?? 0),
      worker_kill_double_charges: (run.audit.checks['captureCount'] ?? 0) + (run.audit.checks['captureNotRefunded'] ?? 0),
      worker_kill_audit_violations: Number(report.headline.violations),
      worker_kill_client_errors: Number(report.headline.errors),
      worker_kill_fans_unfinished_at_stop: run.unfinishedFans,
    };
    recordFigures('process-worker-kill', figures);
    console.log(`[chaos] kill -9 of a worker: ${JSON.stringify({ ...figures, recoveries, soldUnits: report.headline.soldUnits, endedBy: report.headline.endedBy, codes: run.codes })}`);

    expect(report.headline.auditOk, JSON.stringify(run.audit.violations)).toBe(true);
    expect(report.headline.violations).toBe(0);
    expect(report.headline.soldUnits).toBeGreaterThan(0);
    expect(killsDuringLoad, 'every kill landed while the fans were buying').toBe(kills);
    expect(Math.max(...recoveries)).toBeLessThanOrEqual(servedWithinMs);
  }, byLevel(150_000, 400_000));
});
