/**
 * Issue #10, PostgreSQL slowed and flaky: every server connection to PostgreSQL goes through a
 * loopback TCP proxy of the project's own that delays each chunk 5–50 ms and cuts a random
 * connection every ~2 s (full level: more often, longer), during an onsale load. Whatever the
 * server acknowledged must be in the database (the load's audit and the probe's holds), nothing
 * sold twice, no double charge, the process stays up, and it acknowledges again once the faults
 * stop. The hold p99 under the slowdown is reported.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { connectPostgres } from '../../../src/persistence/database.js';
import { FigureCounter, recordFigures } from '../support/figures.js';
import { byLevel } from '../support/level.js';
import { ackFigures, probeHoldsMissingFromJournal, startAckProbe } from './support/ack-probe.js';
import { adminToken, auditWithProviderLedger, onsaleAgainst, sleep, startFaultServer } from './support/own-server-load.js';
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy.js';
import type { ServerProcess } from '../../../load/index.js';

const databaseUrl = process.env['DATABASE_URL'];
if (process.env['CI'] === 'true' && !databaseUrl) throw new Error('CI=true needs DATABASE_URL for the PostgreSQL proxy fault test');

const latencyMs: [number, number] = [5, 50];
const meanDropIntervalMs = byLevel(2_000, 1_000);
const faultS = byLevel(10, 45);
const size = byLevel({ fans: 200, seats: 600, durationS: 16, leadS: 3 }, { fans: 1_000, seats: 3_000, durationS: 60, leadS: 5 });
/** Once the proxy is clean again, the probe must be acknowledged within this. */
const recoveryBoundMs = 10_000;
/** A claim without a reply this long after the faults ended is stuck for good (every request has long been answered or failed). */
const stuckAfterFaultsMs = 60_000;

describe.skipIf(!databaseUrl)('PostgreSQL behind a slow, connection-dropping proxy during an onsale load', () => {
  let proxy: TcpProxy | null = null;
  let server: ServerProcess | null = null;
  afterAll(async () => {
    await server?.stop().catch(() => undefined);
    await proxy?.close();
  });

  it(`acknowledged = durable, audit clean, acknowledging again within ${recoveryBoundMs / 1000} s of the faults ending`, async () => {
    const testStartedMs = Date.now();
    const upstream = new URL(databaseUrl!);
    proxy = await startTcpProxy({ upstreamHost: upstream.hostname, upstreamPort: Number(upstream.port || 5432), latencyMs, meanDropIntervalMs, faulty: false });
    const viaProxy = new URL(databaseUrl!);
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(proxy.port);
    server = await startFaultServer(viaProxy.toString());
    const serverExited = server.exited.then(() => true);
    const probe = await startAckProbe({ url: server.url, adminToken });
    const load = onsaleAgainst(server, databaseUrl!, size, 'chaos-postgres-proxy');
    let loadFailed: unknown = null;
    load.catch((error: unknown) => (loadFailed = error));

    await sleep(size.leadS * 1000);
    const faultFromMs = Date.now();
    proxy.setFaulty(true);
    for (let second = 0; second < faultS && loadFailed === null; second += 1) await sleep(1_000);
    proxy.setFaulty(false);
    const faultToMs = Date.now();
    await sleep(3_000);
    if (loadFailed !== null) throw loadFailed;
    const answers = await probe.stop();
    const probeFigures = ackFigures(answers, { fromMs: faultFromMs, toMs: faultToMs });
    const faultAnswers = answers.filter((answer) => answer.sentAtMs >= faultFromMs && answer.answeredAtMs <= faultToMs);
    const audit = connectPostgres({ connectionString: databaseUrl!, schema: server.schema, poolSize: 1 });
    const missing = await probeHoldsMissingFromJournal(audit, probe.showId, answers);

    const report = await load;
    const loadEndedAtMs = Date.now();
    const ledgerAudit = await auditWithProviderLedger(server, databaseUrl!, report.runs[0]!.showIds);
    // A REST call's Idempotency-Key whose first request never completed nor freed its claim: every
    // retry is told "in progress". Requests the slowed database left queued may still be finishing
    // when the load ends (confirm p99 is seconds here, more on a busy machine), so "for good" means:
    // still unsettled a minute after the faults ended.
    const unsettledClaims = async (): Promise<Record<string, number>> =>
      Object.fromEntries((await audit.query<{ operation: string; n: number }>(`select operation, count(*)::int as n from http_idempotency where status is null and created_at < now() - interval '20 seconds' group by operation`)).rows.map((row) => [row.operation, row.n]));
    let stuckByOperation = await unsettledClaims();
    const unsettledAtLoadEnd = Object.values(stuckByOperation).reduce((a, b) => a + b, 0);
    while (Object.keys(stuckByOperation).length > 0 && Date.now() - faultToMs < stuckAfterFaultsMs) {
      await sleep(1_000);
      stuckByOperation = await unsettledClaims();
    }
    const stuckKeys = Object.values(stuckByOperation).reduce((a, b) => a + b, 0);
    await audit.close();
    const stillSameProcess = !(await Promise.race([serverExited, sleep(10).then(() => false)]));
    const run = report.runs[0]!;
    const probeHoldMs = faultAnswers.filter((answer) => answer.kind === 'hold' && answer.status === 201).map((answer) => answer.answeredAtMs - answer.sentAtMs).sort((a, b) => a - b);

    const figures = new FigureCounter();
    figures.add('postgres_proxy_fault_seconds', Math.round((faultToMs - faultFromMs) / 1000));
    figures.add('postgres_proxy_connections_dropped', proxy.figures.dropped);
    figures.add('postgres_proxy_load_holds_acknowledged', run.counters.holdsOk);
    figures.add('postgres_proxy_load_orders_confirmed', run.counters.paid);
    figures.add('postgres_proxy_probe_holds_acknowledged', probeFigures.holdsAcknowledged);
    figures.add('postgres_proxy_holds_lost', missing.length);
    figures.add('postgres_proxy_audit_violations', Number(report.headline.violations) + Object.values(ledgerAudit.checks).reduce((a, b) => a + b, 0));
    figures.add('postgres_proxy_load_hold_p99_ms', Math.round(Number(report.headline.holdP99Ms)));
    figures.add('postgres_proxy_recovered_after_ms', probeFigures.recoveredAfterMs ?? -1);
    figures.add('postgres_proxy_stuck_idempotency_keys', stuckKeys);
    figures.add('holds_acknowledged', run.counters.holdsOk);
    figures.add('orders_confirmed', run.counters.paid);
    recordFigures('infra-postgres-proxy', figures.snapshot());
    console.log(`[chaos postgres-proxy] ${JSON.stringify({
      stuckKeys, stuckByOperation, unsettledAtLoadEnd, proxy: proxy.figures, faultS: (faultToMs - faultFromMs) / 1000, probe: probeFigures, missing: missing.length,
      probeHoldDuringFault: { count: probeHoldMs.length, p50Ms: probeHoldMs[Math.floor(probeHoldMs.length / 2)] ?? null, p99Ms: probeHoldMs[Math.floor(probeHoldMs.length * 0.99)] ?? null },
      probeFailedDuringFault: faultAnswers.filter((answer) => answer.status === 0 || answer.status >= 500).length, probeAnswersDuringFault: faultAnswers.length,
      load: report.headline, codes: run.codes, ledgerAudit: ledgerAudit.figures, ledgerSettledAfterMs: ledgerAudit.settledAfterMs, loadEndedAtS: (loadEndedAtMs - testStartedMs) / 1000, testS: (Date.now() - testStartedMs) / 1000,
    })}`);

    expect(proxy.figures.dropped, 'the proxy must actually have cut connections').toBeGreaterThan(0);
    expect(stillSameProcess, 'the server process must survive').toBe(true);
    expect(run.endedBy).not.toBe('server-exit');
    expect(missing, 'acknowledged probe holds missing from the journal').toEqual([]);
    expect(stuckByOperation, 'Idempotency-Keys left "in progress" for good').toEqual({});
    expect(probeFigures.recoveredAfterMs, 'acknowledging again after the faults end').not.toBeNull();
    expect(probeFigures.recoveredAfterMs!).toBeLessThan(recoveryBoundMs);
    expect(report.headline.auditOk, JSON.stringify(run.audit.violations)).toBe(true);
    expect(report.headline.violations).toBe(0);
    expect(run.counters.holdsOk).toBeGreaterThan(0);
    expect(report.headline.soldUnits).toBeGreaterThan(0);
    expect(ledgerAudit.ok, JSON.stringify(ledgerAudit.violations)).toBe(true);
  }, byLevel(180_000, 460_000));
});
