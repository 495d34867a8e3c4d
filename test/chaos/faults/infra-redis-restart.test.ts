/**
 * Issue #10, Redis stopped and restarted during an onsale load against a 4-worker cluster in Redis
 * mode (a redis-server of the test's own, killed, then started empty on the same port). Measured:
 * claims answered by each worker while Redis is down — by the show's owner (served locally) and by
 * other workers (routed to the owner: over Redis pub/sub normally, through the primary's IPC hub
 * while Redis is down, since all four workers are on this machine) —, whether the cluster view and
 * live seat-map broadcasts come back after Redis does, and the load's audit. Asserted: the audit is
 * clean, acknowledged probe holds are in the journal, claims keep being acknowledged during the
 * outage at the owner and at every other worker, and after Redis returns every worker routes again
 * and every watcher gets diffs again within the bound.
 */
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { loadOptions, runScenario, type LoadReport } from '../../../load/index.js';
import { connectPostgres } from '../../../src/persistence/database.js';
import { startClusterProcess, type ClusterProcess } from '../../cluster/support/cluster-process.js';
import { FigureCounter, recordFigures } from '../support/figures.js';
import { byLevel } from '../support/level.js';
import { ackFigures, probeHoldsMissingFromJournal, startAckProbe, type AckProbe, type ProbeAnswer } from './support/ack-probe.js';
import { startClaimSampler } from './support/claim-sampler.js';
import { startDiffWatchers, type DiffWatchers } from './support/diff-watchers.js';
import { ownRedisAvailable, startOwnRedis, type OwnRedis } from './support/own-redis.js';
import { adminToken, sleep } from './support/own-server-load.js';

const databaseUrl = process.env['DATABASE_URL'];
const runHere = Boolean(databaseUrl) && ownRedisAvailable;
if (process.env['CI'] === 'true' && !runHere) throw new Error('CI=true: the Redis restart test needs DATABASE_URL and redis-server');

// Longer than ROUTE_RETRY_WINDOW_MS (10 s here) and than ioredis's 20 retries of a command (~10 s).
const outageMs = byLevel(13_000, 25_000);
/** One sampled claim this often while Redis is down. */
const samplePaceMs = 250;
/** After Redis is back: routing and broadcasts must work again within this. */
const recoveryBoundMs = 10_000;
const size = byLevel({ fans: 200, seats: 600, durationS: 20, leadS: 4 }, { fans: 600, seats: 2_000, durationS: 60, leadS: 5 });

function onsale(cluster: ClusterProcess): Promise<LoadReport> {
  return runScenario(loadOptions('onsale', {
    url: cluster.url, databaseUrl: cluster.databaseUrl, adminToken, fans: size.fans, seats: size.seats, durationS: size.durationS, leadS: size.leadS,
    workers: 1, admitRatePerS: 100, watchers: 50, settleS: 20, resultName: 'chaos-redis-restart', progress: process.env['CHAOS_PROGRESS'] === '1',
  }), process.env['CHAOS_PROGRESS'] === '1' ? { onProgress: (line) => process.stderr.write(`${line}\n`) } : {});
}

interface ClaimSplit {
  decided: number;
  acknowledged: number;
  /** 5xx or no answer. */
  failed: number;
  /** Slowest answer, ms. */
  slowestMs: number;
}

function split(answers: ProbeAnswer[]): ClaimSplit {
  const holds = answers.filter((answer) => answer.kind === 'hold');
  return {
    decided: holds.filter((answer) => answer.status >= 200 && answer.status < 500).length,
    acknowledged: holds.filter((answer) => answer.status === 201).length,
    failed: holds.filter((answer) => answer.status === 0 || answer.status >= 500).length,
    slowestMs: Math.max(0, ...holds.map((answer) => answer.answeredAtMs - answer.sentAtMs)),
  };
}

describe.skipIf(!runHere)('Redis stopped and restarted under a 4-worker cluster in Redis mode', () => {
  let redis: OwnRedis | null = null;
  let cluster: ClusterProcess | null = null;
  let watchers: DiffWatchers | null = null;
  const probes: AckProbe[] = [];
  afterAll(async () => {
    watchers?.close();
    for (const probe of probes) await probe.stop();
    await cluster?.stop();
    await redis?.stop();
  });

  it(`claims at the owner keep working, routing and broadcasts resume within ${recoveryBoundMs / 1000} s, audit clean`, async () => {
    redis = await startOwnRedis();
    cluster = await startClusterProcess({ workers: 4, redisUrl: redis.url });
    const load = onsale(cluster);
    let loadFailed: unknown = null;
    load.catch((error: unknown) => (loadFailed = error));
    // Probes on shows of their own, each request on a fresh connection (a random worker).
    for (let index = 0; index < 3; index += 1) probes.push(await startAckProbe({ url: cluster.url, adminToken, freshConnections: true, requestTimeoutMs: 20_000, intervalMs: 100 }));
    const probeShows = probes.map((probe) => probe.showId);
    const sampler = await startClaimSampler({ url: cluster.url, adminToken, fans: Math.ceil(outageMs / samplePaceMs) + 5, requestTimeoutMs: 30_000 });
    watchers = await startDiffWatchers(cluster.url, probeShows, 8);
    await sleep((size.leadS + 2) * 1000);
    if (loadFailed !== null) throw loadFailed;

    const pidsBefore = [...cluster.workerPids().values()].sort();
    const owners = (await cluster.view()).owners;
    const workers = (await cluster.view()).workers;
    await redis.stop();
    const downAtMs = Date.now();
    const sampled = sampler.run(samplePaceMs, downAtMs + outageMs - 500);
    const viewsDuringOutage: number[] = [];
    while (Date.now() - downAtMs < outageMs) {
      const view = await cluster.view().catch(() => null);
      viewsDuringOutage.push(view?.workers?.length ?? -1);
      await sleep(1_000);
    }
    await redis.start();
    const upAtMs = Date.now();

    // Membership: every worker's heartbeat back in the (empty) Redis that returned.
    const members = new Redis(redis.url, { lazyConnect: true });
    await members.connect();
    const membersKey = `${new URL(cluster.databaseUrl).pathname.slice(1)}:workers`;
    let viewBackAfterMs: number | null = null;
    while (Date.now() - upAtMs < 20_000) {
      if ((await members.zrangebyscore(membersKey, Date.now(), '+inf')).length === 4 && (await cluster.view().catch(() => null))?.workers?.length === 4) {
        viewBackAfterMs = Date.now() - upAtMs;
        break;
      }
      await sleep(100);
    }
    await members.quit();
    const samples = await sampled;
    // After Redis is back: the first claim acknowledged at a worker that is not the show's owner.
    const routedAgain = (list: ProbeAnswer[], index: number): ProbeAnswer | undefined =>
      list.find((answer) => answer.kind === 'hold' && answer.status === 201 && answer.sentAtMs >= upAtMs && answer.worker !== owners[probeShows[index]!]);
    // Wait (at most the bound) until every probe was routed again and every watcher got diffs again.
    while (Date.now() - upAtMs < recoveryBoundMs) {
      const routed = probes.every((probe, index) => routedAgain(probe.answers, index) !== undefined);
      if (routed && watchers.firstDiffAfter(upAtMs).flat().every((waitMs) => waitMs !== null)) break;
      await sleep(250);
    }
    const answers = await Promise.all(probes.map((probe) => probe.stop()));
    const diffsAfter = watchers.firstDiffAfter(upAtMs);
    watchers.close();

    // Claims sampled while Redis was down, split by the worker that answered: the show's owner or another.
    const samplerOwner = owners[sampler.showId] ?? null;
    const atOwner = split(samples.filter((answer) => answer.worker !== null && answer.worker === samplerOwner));
    const elsewhereAnswers = samples.filter((answer) => answer.worker === null || answer.worker !== samplerOwner);
    const elsewhere = split(elsewhereAnswers);
    const elsewhereAcknowledgedWhileDown = elsewhereAnswers.filter((answer) => answer.status === 201 && answer.answeredAtMs < upAtMs).length;
    const failureCodes: Record<string, number> = {};
    for (const answer of samples) if (answer.status === 0 || answer.status >= 500) failureCodes[`${answer.status}:${answer.code ?? ''}`] = (failureCodes[`${answer.status}:${answer.code ?? ''}`] ?? 0) + 1;
    const recovery = answers.map((list) => ackFigures(list, { fromMs: downAtMs, toMs: upAtMs }));
    const routedAgainAfterMs = answers.map((list, index) => {
      const first = routedAgain(list, index);
      return first === undefined ? null : first.answeredAtMs - upAtMs;
    });

    const pidsAfter = [...cluster.workerPids().values()].sort();
    const db = connectPostgres({ connectionString: cluster.databaseUrl, poolSize: 1 });
    const missing = [
      ...(await Promise.all(probes.map((probe, index) => probeHoldsMissingFromJournal(db, probe.showId, answers[index]!)))).flat(),
      ...(await probeHoldsMissingFromJournal(db, sampler.showId, samples)),
    ];
    await db.close();
    const report = await load;
    const run = report.runs[0]!;
    const diffWaits = diffsAfter.flat();

    const figures = new FigureCounter();
    figures.add('redis_restarts', 1);
    figures.add('redis_workers_died', pidsBefore.filter((pid) => !pidsAfter.includes(pid)).length);
    figures.add('redis_outage_ms', upAtMs - downAtMs);
    figures.add('redis_claims_at_owner_during_outage', atOwner.decided + atOwner.failed);
    figures.add('redis_claims_at_owner_acknowledged', atOwner.acknowledged);
    figures.add('redis_claims_elsewhere_during_outage', elsewhere.decided + elsewhere.failed);
    figures.add('redis_claims_elsewhere_acknowledged', elsewhere.acknowledged);
    figures.add('redis_claims_elsewhere_failed', elsewhere.failed);
    figures.add('redis_claims_elsewhere_acknowledged_while_down', elsewhereAcknowledgedWhileDown);
    figures.add('redis_view_back_after_ms', viewBackAfterMs ?? -1);
    figures.add('redis_holds_lost', missing.length);
    figures.add('redis_audit_violations', Number(report.headline.violations));
    figures.add('redis_load_holds_acknowledged', run.counters.holdsOk);
    figures.add('redis_load_orders_confirmed', run.counters.paid);
    figures.add('holds_acknowledged', run.counters.holdsOk);
    figures.add('orders_confirmed', run.counters.paid);
    recordFigures('infra-redis-restart', figures.snapshot());
    console.log(`[chaos redis-restart] ${JSON.stringify({
      outageMs: upAtMs - downAtMs, workers, workersDied: pidsBefore.filter((pid) => !pidsAfter.includes(pid)).length, owners: probeShows.map((showId) => owners[showId] ?? null), viewsDuringOutage, viewBackAfterMs,
      samplerOwner, atOwner, elsewhere, elsewhereAcknowledgedWhileDown, failureCodes, recovery, routedAgainAfterMs, diffsAfterRedisBackMs: diffsAfter, missing: missing.length,
      load: report.headline, codes: run.codes,
    })}`);

    expect(pidsAfter, 'no worker may die of the Redis outage').toEqual(pidsBefore);
    expect(missing, 'acknowledged probe holds missing from the journal').toEqual([]);
    expect(report.headline.auditOk, JSON.stringify(run.audit.violations)).toBe(true);
    expect(report.headline.violations).toBe(0);
    expect(run.counters.holdsOk).toBeGreaterThan(0);
    expect(atOwner.acknowledged, 'claims answered by the show owner keep being acknowledged while Redis is down').toBeGreaterThan(0);
    expect(elsewhereAcknowledgedWhileDown, 'claims at the other workers keep being acknowledged while Redis is down (same-machine fallback)').toBeGreaterThan(0);
    expect(elsewhere.failed, 'claims at the other workers that failed during the outage').toBe(0);
    expect(viewBackAfterMs, 'every worker back in the cluster view').not.toBeNull();
    expect(viewBackAfterMs!).toBeLessThan(recoveryBoundMs);
    for (const afterMs of routedAgainAfterMs) {
      expect(afterMs, 'claims routed to another worker are acknowledged again').not.toBeNull();
      expect(afterMs!).toBeLessThan(recoveryBoundMs);
    }
    for (const waitMs of diffWaits) {
      expect(waitMs, 'every watcher gets diffs of every probe show again').not.toBeNull();
      expect(waitMs!).toBeLessThan(recoveryBoundMs);
    }
  }, byLevel(150_000, 400_000));
});
