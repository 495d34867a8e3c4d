/**
 * The single-process server of an infrastructure fault test and its onsale load: the load
 * harness's server process (real server, simulated PSP, fresh schema) over a database URL the
 * test controls (its own PostgreSQL, or a faulty proxy in front of it), and the harness's onsale
 * scenario pointed at it. The test owns the server, so after the load it can still read the PSP's
 * ledger and audit again with it (runScenario with --url cannot).
 */
import { auditDatabase, emptyAcknowledged, loadOptions, runScenario, settledState, startServerProcess, type AuditReport, type LoadReport, type ServerProcess } from '../../../../load/index.js';
import { adminToken } from '../../../../load/server/server-process.js';
import { connectPostgres } from '../../../../src/persistence/database.js';
import { byLevel } from '../../support/level.js';

export { adminToken };

export async function startFaultServer(connectionString: string, options: { poolSize?: number } = {}): Promise<ServerProcess> {
  return startServerProcess({
    connectionString,
    engine: 'holdfast',
    limits: {
      userRatePerS: 1_000, ipRatePerS: 10_000_000, socketEventsPerS: 30, paymentWindowS: 60, poolSize: options.poolSize ?? 16,
      mailboxDepthMax: 20_000, batchCommandsMax: 4_096, diffTickMs: 50, queueTickMs: 500, outboxPollMs: 250, outboxGatherMs: 25, outboxBatchSize: 1_000,
      reconcileIntervalMs: 2_000, reconcileIdleMs: 90_000,
    },
    providerPaymentsMax: 1_000_000,
    baselinePoolSize: 4,
    logLevel: process.env['CHAOS_SERVER_LOG_LEVEL'] ?? 'error',
  });
}

export interface OnsaleSize {
  fans: number;
  seats: number;
  durationS: number;
  leadS: number;
}

/**
 * How long the harness waits after the load for in-flight work (outbox, sagas) before it audits.
 * Under the full level's faults a confirm can take ~40 s: an audit after 20 s found work still
 * landing (an outbox event written after the check, counted as undelivered).
 */
const settleS = byLevel(20, 90);

/** The harness's onsale scenario against `server` (audited by the harness at the end). */
export function onsaleAgainst(server: ServerProcess, auditUrl: string, size: OnsaleSize, resultName: string): Promise<LoadReport> {
  return runScenario(
    loadOptions('onsale', {
      url: server.url, databaseUrl: auditUrl, schema: server.schema, adminToken, fans: size.fans, seats: size.seats, durationS: size.durationS, leadS: size.leadS,
      workers: 1, admitRatePerS: Math.max(100, size.fans / 2), watchers: Math.min(50, size.fans), settleS, resultName,
      progress: process.env['CHAOS_PROGRESS'] === '1',
    }),
    process.env['CHAOS_PROGRESS'] === '1' ? { onProgress: (line) => process.stderr.write(`${line}\n`) } : {},
  );
}

/**
 * The harness's audit again, now with the simulated PSP's own ledger (one capture per confirmed
 * order, a refund for every other) — once the PSP has no work left and no order is mid-saga (as
 * the harness settles when it owns the server), at most `settleMs`. `settledAfterMs`: how long that took.
 */
export async function auditWithProviderLedger(server: ServerProcess, auditUrl: string, showIds: string[], settleMs = 30_000): Promise<AuditReport & { settledAfterMs: number | null }> {
  const db = connectPostgres({ connectionString: auditUrl, schema: server.schema, poolSize: 1 });
  try {
    const startedMs = Date.now();
    let settledAfterMs: number | null = null;
    while (Date.now() - startedMs < settleMs) {
      const state = await settledState(db, showIds);
      if ((await server.ledger()).pendingWork === 0 && state.outboxPending === 0 && state.ordersProcessing === 0 && state.capturesUnsettled === 0) {
        settledAfterMs = Date.now() - startedMs;
        break;
      }
      await sleep(250);
    }
    // Orders still open when the load stopped expire later and emit outbox events meanwhile: an
    // undelivered event alone (the one transient finding) is audited again until it is delivered.
    for (;;) {
      const { entries } = await server.ledger();
      const audit = await auditDatabase(db, { showIds, acknowledged: emptyAcknowledged(), providerLedger: entries });
      const onlyOutboxPending = Object.entries(audit.checks).every(([check, count]) => count === 0 || check === 'outboxUndelivered');
      if (audit.ok || !onlyOutboxPending || Date.now() - startedMs > settleMs) return { ...audit, settledAfterMs };
      await sleep(500);
    }
  } finally {
    await db.close();
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
