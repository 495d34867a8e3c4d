/**
 * Issue #10, PostgreSQL restarted mid-sale: a server over a PostgreSQL of the test's own, an
 * onsale load and an acknowledgement probe; PostgreSQL is stopped (`pg_ctl stop -m immediate`,
 * then `-m fast`), kept down a moment and started again, while fans race. The server must stop
 * acknowledging while the database is gone (acknowledged means durable), come back by itself (same
 * process, no restart of its own) within the bound, and the load's audit must be clean.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { connectPostgres } from '../../../src/persistence/database.js';
import { byLevel } from '../support/level.js';
import { FigureCounter, recordFigures } from '../support/figures.js';
import { ackFigures, probeHoldsMissingFromJournal, startAckProbe, type AckFigures } from './support/ack-probe.js';
import { ownPostgresAvailable, startOwnPostgres, type OwnPostgres, type ShutdownMode } from './support/own-postgres.js';
import { adminToken, auditWithProviderLedger, onsaleAgainst, sleep, startFaultServer } from './support/own-server-load.js';
import type { ServerProcess } from '../../../load/index.js';

const runHere = Boolean(process.env['DATABASE_URL']) && ownPostgresAvailable;
if (process.env['CI'] === 'true' && !runHere) throw new Error('CI=true: the PostgreSQL restart test needs DATABASE_URL and the PostgreSQL 15 binaries');

/** The server must acknowledge again this soon after PostgreSQL accepts connections again. */
const recoveryBoundMs = 10_000;
const restarts: ShutdownMode[] = byLevel(['immediate', 'fast'], ['immediate', 'fast', 'immediate', 'fast', 'immediate', 'fast']);
const downMs = byLevel(1_500, 3_000);
const size = byLevel({ fans: 200, seats: 600, durationS: 16, leadS: 3 }, { fans: 1_000, seats: 3_000, durationS: 60, leadS: 5 });

describe.skipIf(!runHere)('PostgreSQL restarted mid-sale (a PostgreSQL of the test\'s own)', () => {
  let postgres: OwnPostgres | null = null;
  let server: ServerProcess | null = null;
  afterAll(async () => {
    await server?.stop().catch(() => undefined);
    await postgres?.destroy();
  });

  it(`stops acknowledging while PostgreSQL is down, recovers within ${recoveryBoundMs / 1000} s without a restart of its own, audit clean`, async () => {
    const testStartedMs = Date.now();
    postgres = await startOwnPostgres();
    server = await startFaultServer(postgres.url);
    const serverExited = server.exited.then(() => true);
    const probe = await startAckProbe({ url: server.url, adminToken });
    const load = onsaleAgainst(server, postgres.url, size, 'chaos-postgres-restart');
    let loadFailed: unknown = null;
    load.catch((error: unknown) => (loadFailed = error));
    await sleep((size.leadS + 1.5) * 1000); // fans are racing now

    // The fault window, as the server sees it: from the stop done to the start asked (nothing can
    // commit in between). Recovery counts from the start asked; PostgreSQL's own start time is
    // reported beside it.
    const perRestart: (AckFigures & { mode: ShutdownMode; outageMs: number; postgresStartMs: number })[] = [];
    const faults: { fromMs: number; toMs: number; mode: ShutdownMode; outageMs: number; postgresStartMs: number }[] = [];
    for (const mode of restarts) {
      const restart = await postgres.restart(mode, downMs);
      faults.push({ fromMs: restart.stoppedAtMs, toMs: restart.startRequestedAtMs, mode, outageMs: restart.startedAtMs - restart.requestedAtMs, postgresStartMs: restart.startedAtMs - restart.startRequestedAtMs });
      await sleep(byLevel(4_000, 6_000));
      if (loadFailed !== null) throw loadFailed;
    }
    const answers = await probe.stop();
    for (const fault of faults) perRestart.push({ mode: fault.mode, outageMs: fault.outageMs, postgresStartMs: fault.postgresStartMs, ...ackFigures(answers, fault) });
    const audit = connectPostgres({ connectionString: postgres.url, schema: server.schema, poolSize: 1 });
    const missing = await probeHoldsMissingFromJournal(audit, probe.showId, answers).finally(() => audit.close());

    const report = await load;
    const loadEndedAtMs = Date.now();
    const ledgerAudit = await auditWithProviderLedger(server, postgres.url, report.runs[0]!.showIds);
    const stillSameProcess = !(await Promise.race([serverExited, sleep(10).then(() => false)]));

    const figures = new FigureCounter();
    figures.add('postgres_restarts', faults.length);
    figures.add('postgres_restart_probe_holds_acknowledged', perRestart.length === 0 ? 0 : ackFigures(answers, { fromMs: 0, toMs: 0 }).holdsAcknowledged);
    figures.add('postgres_restart_acknowledged_while_down', perRestart.reduce((sum, row) => sum + row.acknowledgedWhileDown, 0));
    figures.add('postgres_restart_no_ack_window_max_ms', Math.max(...perRestart.map((row) => row.noAckWindowMs)));
    figures.add('postgres_restart_recovered_after_max_ms', Math.max(...perRestart.map((row) => row.recoveredAfterMs ?? Infinity)));
    figures.add('postgres_restart_holds_lost', missing.length);
    figures.add('postgres_restart_load_holds_acknowledged', report.runs[0]!.counters.holdsOk);
    figures.add('postgres_restart_load_orders_confirmed', report.runs[0]!.counters.paid);
    figures.add('postgres_restart_audit_violations', Number(report.headline.violations) + Object.values(ledgerAudit.checks).reduce((a, b) => a + b, 0));
    figures.add('holds_acknowledged', report.runs[0]!.counters.holdsOk);
    figures.add('orders_confirmed', report.runs[0]!.counters.paid);
    recordFigures('infra-postgres-restart', figures.snapshot());
    console.log(`[chaos postgres-restart] ${JSON.stringify({ perRestart, probeAnswers: answers.length, missing: missing.length, load: report.headline, ledgerAudit: ledgerAudit.figures, ledgerSettledAfterMs: ledgerAudit.settledAfterMs, loadEndedAtS: (loadEndedAtMs - testStartedMs) / 1000, testS: (Date.now() - testStartedMs) / 1000 })}`);

    expect(stillSameProcess, 'the server process must survive the restarts').toBe(true);
    expect(report.runs[0]!.endedBy).not.toBe('server-exit');
    for (const row of perRestart) {
      expect(row.acknowledgedWhileDown, `${row.mode}: no hold may be acknowledged while PostgreSQL is down`).toBe(0);
      expect(row.recoveredAfterMs, `${row.mode}: acknowledging again after the restart`).not.toBeNull();
      expect(row.recoveredAfterMs!).toBeLessThan(recoveryBoundMs);
    }
    expect(missing, 'acknowledged probe holds missing from the journal').toEqual([]);
    expect(report.headline.auditOk, JSON.stringify(report.runs[0]!.audit.violations)).toBe(true);
    expect(report.headline.violations).toBe(0);
    expect(report.runs[0]!.counters.holdsOk).toBeGreaterThan(0);
    expect(report.headline.soldUnits).toBeGreaterThan(0);
    expect(ledgerAudit.ok, JSON.stringify(ledgerAudit.violations)).toBe(true);
  }, byLevel(120_000, 400_000));
});
