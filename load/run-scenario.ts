/**
 * One load run, usable from the CLI (load/run.ts) and from tests: for each engine, start a server
 * (or use --url), create the show through the organizer API, fork the workers, follow them (live
 * progress line; stop at sell-out or --duration), let in-flight work settle, and audit straight
 * against PostgreSQL. Returns the report; writing files is the caller's choice (report/write.ts).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Histogram } from 'hdr-histogram-js';
import { median } from '../bench/support/report.js';
import { bundleLoadWorker } from './worker-bundle.js';
import { probeCommitLatency, type CommitLatency } from '../bench/support/commit-latency.js';
import { connectPostgres, type SqlDatabase } from '../src/persistence/database.js';
import { auditDatabase, emptyAcknowledged, mergeAcknowledged, settledState, soldUnits, type Acknowledged, type AuditReport } from './audit.js';
import { machineShare, sampleMachine, type MachineSample, type MachineShare } from './machine-share.js';
import { counterNames, decodeInto, emptyCounters, emptyGauges, gaugeNames, latencyNames, newHistogram, summarize, type Counters, type Gauges, type IntervalReport, type LatencyName, type LatencySummary } from './metrics.js';
import type { LoadOptions } from './options.js';
import { scenarios } from './scenarios/index.js';
import type { ScenarioPlan } from './scenarios/scenario.js';
import { startClusterServerProcess } from './server/cluster-server-process.js';
import { adminToken as ownAdminToken, startServerProcess, type ServerProcess } from './server/server-process.js';
import type { Engine } from './server/server-entry.js';
import type { ParentToWorker, WorkerParams, WorkerToParent } from './worker.js';

const workerSourcePath = join(dirname(fileURLToPath(import.meta.url)), 'worker.ts');

/** What a load worker runs: the esbuild bundle (see worker-bundle.ts), or its source under tsx. */
interface WorkerEntry {
  path: string;
  execArgv: string[];
}

async function workerEntry(hooks: RunHooks): Promise<WorkerEntry> {
  const fromSource = { path: workerSourcePath, execArgv: ['--import', 'tsx'] };
  if (process.env['LOAD_WORKER_BUNDLE'] === 'false') return fromSource;
  try {
    return { path: await bundleLoadWorker(), execArgv: [] };
  } catch (error) {
    hooks.onProgress?.(`[load] could not bundle the load worker (${error instanceof Error ? error.message : String(error)}): running it from source under tsx`);
    return fromSource;
  }
}

export interface TimelinePoint {
  /** Seconds since the load phase started. */
  t: number;
  holdAttemptsPerS: number;
  holdsPerS: number;
  paidPerS: number;
  itemsSoldPerS: number;
  errorsPerS: number;
  connected: number;
  queued: number;
  holding: number;
  soldUnits: number | null;
  holdP50Ms: number;
  holdP99Ms: number;
  confirmP99Ms: number;
  diffP99Ms: number;
}

export interface EngineRun {
  engine: Engine;
  /** Which round of the engine pair this run belongs to (1-based; 1 unless --rounds). */
  round: number;
  url: string;
  /** The harness's own server (null with --url). */
  server: { pid: number; schema: string; env: Record<string, string> } | null;
  showIds: string[];
  capacity: number;
  fans: number;
  watchers: number;
  workers: number;
  loadSeconds: number;
  /** Seconds from on-sale (or the load start) to the last unit sold; null when it did not sell out. */
  sellOutS: number | null;
  soldUnits: number;
  endedBy: 'sold-out' | 'duration' | 'fans-done' | 'server-exit';
  counters: Counters;
  peaks: Gauges;
  codes: Record<string, number>;
  /** Per second of sale (on-sale or load start → sell-out or stop); steady: after every fan arrived and the sale opened. */
  rates: { saleSeconds: number; holdAttemptsPerS: number; holdsPerS: number; paidPerS: number; itemsSoldPerS: number; steadyHoldAttemptsPerS: number; steadySeconds: number };
  latency: Record<LatencyName, LatencySummary>;
  /** Hold latency after every fan had arrived (the steady window). */
  steadyHold: LatencySummary;
  timeline: TimelinePoint[];
  unfinishedFans: number;
  audit: AuditReport;
  /** CPU by process group and the actors' group commits over the steady window (Linux, own server only). */
  machine: MachineShare | null;
}

export interface LoadReport {
  name: string;
  scenario: string;
  startedAt: string;
  finishedAt: string;
  options: LoadOptions;
  /** commitLatency: one durable single-row commit on the run's PostgreSQL (when comparing engines; else null). */
  machine: { cpus: number; cpuModel: string; loadAverage: number[]; node: string; commitLatency: CommitLatency | null };
  runs: EngineRun[];
  /**
   * hot-seats with both engines: holdfast ÷ baseline, the median over the rounds (each round's engines
   * measured back to back); with the gateway floor too, gateway ÷ baseline: the most any engine behind
   * this gateway and generator reaches on this machine (null without it).
   */
  comparison: { attemptsPerSRatio: number; p99Ratio: number; gatewayRatio: number | null; target: string; met: boolean; rounds: RoundComparison[] } | null;
  ok: boolean;
  headline: Record<string, number | string | boolean | null>;
}

export interface RoundComparison {
  round: number;
  first: Engine;
  holdfastAttemptsPerS: number;
  baselineAttemptsPerS: number;
  attemptsPerSRatio: number;
  holdfastP99Ms: number;
  baselineP99Ms: number;
  p99Ratio: number;
  /** The gateway floor's answered attempts/s and gateway ÷ baseline (null when it did not run). */
  gatewayAttemptsPerS: number | null;
  gatewayRatio: number | null;
}

export interface RunHooks {
  /** Each second: the progress line (the CLI prints it on stderr). */
  onProgress?: (line: string) => void;
}

const round = (value: number, digits = 1): number => (Number.isFinite(value) ? Math.round(value * 10 ** digits) / 10 ** digits : 0);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Adds up the workers' reports: cumulative counters, current gauges, merged histograms. */
class Aggregate {
  private readonly latest = new Map<number, IntervalReport>();
  readonly totals = new Map<LatencyName, Histogram>(latencyNames.map((name) => [name, newHistogram()]));
  private tick = new Map<LatencyName, Histogram>();
  readonly steadyHold = newHistogram();
  readonly peaks = emptyGauges();

  add(workerIndex: number, interval: IntervalReport, steady: boolean): void {
    this.latest.set(workerIndex, interval);
    for (const [name, encoded] of Object.entries(interval.histograms) as [LatencyName, string][]) {
      decodeInto(this.totals.get(name)!, encoded);
      let tick = this.tick.get(name);
      if (tick === undefined) this.tick.set(name, (tick = newHistogram()));
      decodeInto(tick, encoded);
      if (steady && name === 'hold') decodeInto(this.steadyHold, encoded);
    }
    const gauges = this.gauges();
    for (const name of gaugeNames) this.peaks[name] = Math.max(this.peaks[name], gauges[name]);
  }

  counters(): Counters {
    const sum = emptyCounters();
    for (const report of this.latest.values()) for (const name of counterNames) sum[name] += report.counters[name];
    return sum;
  }

  gauges(): Gauges {
    const sum = emptyGauges();
    for (const report of this.latest.values()) for (const name of gaugeNames) sum[name] += report.gauges[name];
    return sum;
  }

  codes(): Record<string, number> {
    const sum: Record<string, number> = {};
    for (const report of this.latest.values()) for (const [code, count] of Object.entries(report.codes)) sum[code] = (sum[code] ?? 0) + count;
    return Object.fromEntries(Object.entries(sum).sort(([a], [b]) => a.localeCompare(b)));
  }

  /** Histograms since the last call (the timeline's second). */
  takeTick(): Map<LatencyName, Histogram> {
    const tick = this.tick;
    this.tick = new Map();
    return tick;
  }
}

interface Worker {
  index: number;
  process: ChildProcess;
  done: Promise<Extract<WorkerToParent, { type: 'done' }>>;
}

function forkWorker(entry: WorkerEntry, params: WorkerParams, aggregate: Aggregate, isSteady: () => boolean, onError: (message: string) => void): Worker {
  const child = fork(entry.path, [], {
    // LOAD_WORKER_CPU_PROF=<dir>: a V8 CPU profile of each load worker, written there when it stops.
    execArgv: [...entry.execArgv, '--max-old-space-size=8192', ...(process.env['LOAD_WORKER_CPU_PROF'] ? ['--cpu-prof', `--cpu-prof-dir=${process.env['LOAD_WORKER_CPU_PROF']}`] : [])],
    env: { ...process.env, LOG_LEVEL: 'silent' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const done = new Promise<Extract<WorkerToParent, { type: 'done' }>>((resolve, reject) => {
    child.on('message', (message: WorkerToParent) => {
      if (message.type === 'progress') aggregate.add(message.workerIndex, message.interval, isSteady());
      else if (message.type === 'done') {
        aggregate.add(message.workerIndex, message.interval, isSteady());
        resolve(message);
      } else if (message.type === 'error') {
        onError(`worker ${message.workerIndex}: ${message.message}`);
        reject(new Error(`worker ${message.workerIndex} failed: ${message.message}`));
      }
    });
    child.once('exit', (code) => reject(new Error(`worker ${params.workerIndex} exited (code ${code}) before reporting`)));
  });
  done.catch(() => undefined);
  child.send({ type: 'start', params } satisfies ParentToWorker);
  return { index: params.workerIndex, process: child, done };
}

function summaries(aggregate: Aggregate): Record<LatencyName, LatencySummary> {
  return Object.fromEntries(latencyNames.map((name) => [name, summarize(aggregate.totals.get(name)!)])) as Record<LatencyName, LatencySummary>;
}

async function runEngine(options: LoadOptions, engine: Engine, entry: WorkerEntry, hooks: RunHooks): Promise<Omit<EngineRun, 'round'>> {
  const scenario = scenarios[options.scenario];
  const progress = (line: string): void => hooks.onProgress?.(`[load ${options.scenario} ${engine}] ${line}`);
  let server: ServerProcess | null = null;
  let db: SqlDatabase | null = null;
  const workers: Worker[] = [];
  try {
    if (options.url === null) {
      progress(options.serverWorkers > 1 ? `starting a ${options.serverWorkers}-worker server (fresh schema)…` : 'starting the server (fresh schema)…');
      const limits = {
          userRatePerS: options.userRatePerS, ipRatePerS: 10_000_000, socketEventsPerS: options.userRatePerS, paymentWindowS: options.paymentWindowS, poolSize: 16,
          mailboxDepthMax: 20_000, batchCommandsMax: 4_096, diffTickMs: 100, queueTickMs: 1_000, outboxPollMs: 250, outboxGatherMs: 25, outboxBatchSize: 1_000,
          reconcileIntervalMs: 5_000,
          reconcileIdleMs: 600_000,
      };
      if (options.serverWorkers > 1 && engine !== 'holdfast') throw new Error('--server-workers > 1 runs the holdfast engine only');
      server = options.serverWorkers > 1
        ? await startClusterServerProcess({ connectionString: options.databaseUrl, workers: options.serverWorkers, limits, logLevel: options.serverLogLevel, keepSchema: options.keepSchema })
        : await startServerProcess({
        connectionString: options.databaseUrl,
        engine,
        limits,
        providerPaymentsMax: 1_000_000,
        baselinePoolSize: options.baselinePoolSize,
        logLevel: options.serverLogLevel,
        keepSchema: options.keepSchema,
      });
      progress(`server pid ${server.pid} at ${server.url}, schema ${server.schema}`);
    }
    const url = server?.url ?? options.url!;
    const fdLimit = openFileLimit();
    // A sharded server spreads the connections over its workers (the kernel balances them per connection).
    const fdsNeeded = Math.ceil((options.fans + options.workers * options.httpConnections) / options.serverWorkers) + 100;
    if (server !== null && fdLimit !== null && fdsNeeded > fdLimit) {
      // One server process holds every fan's socket plus the workers' HTTP pools: past the limit it stops accepting connections.
      progress(`WARNING: ${options.fans} sockets + ${options.workers}×${options.httpConnections} HTTP connections need ~${fdsNeeded} descriptors in ${options.serverWorkers > 1 ? 'each server worker' : 'the server'}; its limit is ${fdLimit} (ulimit -n)`);
    }
    db = connectPostgres({ connectionString: options.databaseUrl, poolSize: 2, applicationName: 'holdfast-load-audit', ...((server?.schema ?? options.schema) ? { schema: server?.schema ?? options.schema! } : {}) });
    const plan: ScenarioPlan = await scenario.setup({ url, adminToken: server ? ownAdminToken : options.adminToken }, options);
    const watchers = Math.min(options.fans, options.watchers ?? (options.scenario === 'browse' ? options.fans : options.scenario === 'hot-seats' ? 0 : Math.min(options.fans, 200)));
    progress(`show ${plan.showId}: ${plan.capacity.toLocaleString('en-US')} units; ${options.fans.toLocaleString('en-US')} fans (${watchers} watching) over ${options.workers} worker(s)`);

    const aggregate = new Aggregate();
    const startedAtMs = Date.now();
    const deadlineMs = startedAtMs + options.durationS * 1000;
    const perWorker = Math.ceil(options.fans / options.workers);
    const rampEndMs = startedAtMs + (perWorker / options.connectRatePerS) * 1000;
    const steadyFromMs = Math.max(rampEndMs, plan.onSaleAtMs);
    const isSteady = (): boolean => Date.now() >= steadyFromMs;
    let workerError: string | null = null;
    for (let index = 0; index < options.workers; index += 1) {
      const fanFrom = index * perWorker;
      const fanTo = Math.min(options.fans, fanFrom + perWorker);
      if (fanFrom >= fanTo) break;
      workers.push(forkWorker(entry, { workerIndex: index, fanFrom, fanTo, url, plan, options, fansTotal: options.fans, watchersTotal: watchers, deadlineMs, driver: index === 0 }, aggregate, isSteady, (message) => {
        workerError ??= message;
      }));
    }

    // Follow the run: a progress line and a timeline point per second, and the stop conditions.
    const timeline: TimelinePoint[] = [];
    let previous = emptyCounters();
    // Workers report once a second, but a busy worker's report comes late and the next one doubles:
    // the progress line shows rates over the last 5 s so they do not flicker between 0 and twice.
    const recent: { atMs: number; counters: Counters }[] = [];
    let sold = 0;
    let soldOutAtMs: number | null = null;
    let endedBy: EngineRun['endedBy'] = 'duration';
    let serverGone = false;
    const sample = (): Promise<MachineSample | null> =>
      server === null ? Promise.resolve(null) : sampleMachine([server.pid], workers.flatMap((worker) => (worker.process.pid === undefined ? [] : [worker.process.pid])), engine === 'holdfast' ? `${url}/metrics` : null, aggregate.counters().holdAttempts);
    let steadySample: MachineSample | null = null;
    let steadySampled = false;
    void server?.exited.then(() => {
      serverGone = true;
    });
    for (;;) {
      await sleep(1_000);
      const nowMs = Date.now();
      if (plan.endsAtSellOut) sold = await soldUnits(db, plan.showIds).catch(() => sold);
      const counters = aggregate.counters();
      const gauges = aggregate.gauges();
      const tick = aggregate.takeTick();
      const delta = (name: keyof Counters): number => counters[name] - previous[name];
      const p = (name: LatencyName, percentile: number): number => round((tick.get(name)?.getValueAtPercentile(percentile) ?? 0) / 1000, 1);
      timeline.push({
        t: round((nowMs - startedAtMs) / 1000, 1),
        holdAttemptsPerS: delta('holdAttempts'), holdsPerS: delta('holdsOk'), paidPerS: delta('paid'), itemsSoldPerS: delta('itemsSold'), errorsPerS: delta('errors'),
        connected: gauges.connected, queued: gauges.queued, holding: gauges.holding, soldUnits: plan.endsAtSellOut ? sold : null,
        holdP50Ms: p('hold', 50), holdP99Ms: p('hold', 99), confirmP99Ms: p('confirm', 99), diffP99Ms: p('diff', 99),
      });
      previous = counters;
      recent.push({ atMs: nowMs, counters });
      while (recent.length > 1 && nowMs - recent[0]!.atMs > 5_000) recent.shift();
      const windowS = Math.max(1, (nowMs - recent[0]!.atMs) / 1000);
      const rate = (name: keyof Counters): number => Math.round((counters[name] - recent[0]!.counters[name]) / windowS);
      const point = timeline.at(-1)!;
      const onSaleIn = plan.onSaleAtMs - nowMs;
      progress(
        `+${Math.round((nowMs - startedAtMs) / 1000)}s connected ${gauges.connected} queued ${gauges.queued} holding ${gauges.holding} | ` +
          `holds ${counters.holdsOk} (${rate('holdsOk')}/s) attempts ${counters.holdAttempts} (${rate('holdAttempts')}/s) paid ${counters.paid} (${rate('paid')}/s) ` +
          `errors ${counters.errors}` + (counters.fansDone > 0 ? ` | fans done ${counters.fansDone}` : '') + (plan.endsAtSellOut ? ` | sold ${sold}/${plan.capacity}` : '') + (counters.diffs > 0 ? ` | diffs ${counters.diffs} p99 ${point.diffP99Ms} ms` : '') +
          (onSaleIn > 0 ? ` | on sale in ${Math.ceil(onSaleIn / 1000)}s` : '') + (gauges.httpQueued > 0 ? ` | client HTTP queue ${gauges.httpQueued}` : ''),
      );
      if (workerError !== null) throw new Error(workerError);
      if (!steadySampled && nowMs >= steadyFromMs + 1_000) {
        steadySampled = true;
        steadySample = await sample();
      }
      if (serverGone) {
        endedBy = 'server-exit';
        break;
      }
      if (plan.endsAtSellOut && sold >= plan.capacity) {
        soldOutAtMs = nowMs;
        endedBy = 'sold-out';
        break;
      }
      if (nowMs >= deadlineMs) break;
      if (nowMs > rampEndMs + 2_000 && gauges.fansActive === 0 && timeline.length > 3) {
        endedBy = 'fans-done';
        break;
      }
    }
    const loadEndMs = Date.now();
    const endSample = steadySample === null || serverGone ? null : await sample();
    const machine = steadySample !== null && endSample !== null ? machineShare(steadySample, endSample, os.cpus().length) : null;
    progress(`stopping (${endedBy}); letting in-flight calls finish…`);
    for (const worker of workers) worker.process.send({ type: 'stop', graceMs: 30_000 } satisfies ParentToWorker);
    const ack: Acknowledged = emptyAcknowledged();
    let unfinishedFans = 0;
    for (const worker of workers) {
      const done = await worker.done;
      mergeAcknowledged(ack, done.ack);
      unfinishedFans += done.unfinishedFans;
    }
    if (plan.endsAtSellOut) sold = await soldUnits(db, plan.showIds);

    // Settle: no outbox event pending, no payment outcome outstanding, the PSP idle.
    const settleDeadline = Date.now() + options.settleS * 1000;
    const settleStartedAt = Date.now();
    let reconciledAt = 0;
    let calmSince: number | null = null;
    for (;;) {
      const state = await settledState(db, plan.showIds);
      const pendingWork = server ? (await server.ledger()).pendingWork : 0;
      const calm = state.outboxPending === 0 && state.ordersProcessing === 0 && state.capturesUnsettled === 0 && state.sagaBehindJournal === 0 && state.refundsUnbooked === 0 && pendingWork === 0;
      calmSince = calm ? (calmSince ?? Date.now()) : null;
      // Without the PSP's own ledger (a sharded server, --url) its pending webhooks are invisible: the state must stay calm a while.
      const calmForMs = server?.hasLedger ? 0 : 5_000;
      if ((calmSince !== null && Date.now() - calmSince >= calmForMs) || Date.now() > settleDeadline) break;
      progress(`settling: outbox ${state.outboxPending} pending, ${state.ordersProcessing} order(s) processing, ${state.capturesUnsettled} capture(s) unsettled, ${state.sagaBehindJournal} order(s) behind the journal, ${state.refundsUnbooked} refund(s) unbooked, PSP work ${pendingWork}`);
      // A saga left mid-way (a lost reply) is finished by reconciliation: run it now rather than on its timer.
      if ((state.sagaBehindJournal > 0 || state.refundsUnbooked > 0 || state.capturesUnsettled > 0) && Date.now() - settleStartedAt > 5_000 && Date.now() - reconciledAt > 5_000) {
        reconciledAt = Date.now();
        await fetch(`${url}/v1/ops/reconcile`, {
          method: 'POST', signal: AbortSignal.timeout(30_000),
          headers: { authorization: `Bearer ${server ? ownAdminToken : options.adminToken}`, 'content-type': 'application/json' },
          body: JSON.stringify({ idle_ms: 0, batch: 5_000 }),
        }).catch((error: unknown) => progress(`reconcile call failed: ${String(error)}`));
      }
      await sleep(1_000);
    }
    progress('auditing against PostgreSQL…');
    let audit: AuditReport;
    if (engine === 'baseline') audit = await auditBaseline(server!, plan, ack);
    else {
      const providerLedger = server?.hasLedger ? (await server.ledger()).entries : undefined;
      audit = await auditDatabase(db, { showIds: plan.showIds, acknowledged: ack, ...(providerLedger ? { providerLedger } : {}) });
      if (engine === 'gateway') audit = auditGateway(audit, ack);
    }
    progress(audit.ok ? `audit clean: ${JSON.stringify(audit.figures)}` : `AUDIT FAILED (${audit.violations.length} listed):\n  ${audit.violations.join('\n  ')}`);

    const counters = aggregate.counters();
    const loadSeconds = (loadEndMs - startedAtMs) / 1000;
    const steadySeconds = Math.max(0, (loadEndMs - steadyFromMs) / 1000);
    const steadyAttempts = timeline.filter((point) => startedAtMs + point.t * 1000 > steadyFromMs + 1_000).reduce((sum, point) => sum + point.holdAttemptsPerS, 0);
    const steadyPoints = timeline.filter((point) => startedAtMs + point.t * 1000 > steadyFromMs + 1_000).length;
    const saleStartMs = Math.max(startedAtMs, plan.onSaleAtMs);
    // Rates are per second of sale: from on-sale (or the load start) to the sell-out (or the stop).
    const saleSeconds = Math.max(0.001, ((soldOutAtMs ?? loadEndMs) - saleStartMs) / 1000);
    return {
      engine, url,
      server: server ? { pid: server.pid, schema: server.schema, env: server.env } : null,
      showIds: plan.showIds, capacity: plan.capacity, fans: options.fans, watchers, workers: workers.length,
      loadSeconds: round(loadSeconds, 2),
      sellOutS: soldOutAtMs === null ? null : round((soldOutAtMs - saleStartMs) / 1000, 1),
      soldUnits: sold,
      endedBy,
      counters,
      peaks: aggregate.peaks,
      codes: aggregate.codes(),
      rates: {
        saleSeconds: round(saleSeconds, 1),
        holdAttemptsPerS: round(counters.holdAttempts / saleSeconds),
        holdsPerS: round(counters.holdsOk / saleSeconds),
        paidPerS: round(counters.paid / saleSeconds),
        itemsSoldPerS: round(counters.itemsSold / saleSeconds),
        steadyHoldAttemptsPerS: steadyPoints > 0 ? round(steadyAttempts / steadyPoints) : 0,
        steadySeconds: round(steadySeconds, 1),
      },
      latency: summaries(aggregate),
      steadyHold: summarize(aggregate.steadyHold),
      timeline,
      unfinishedFans,
      audit,
      machine,
    };
  } finally {
    if (process.env['LOAD_WORKER_CPU_PROF']) {
      // A profiled worker writes its profile as it exits: give it the time to.
      const exited = workers.map((worker) => (worker.process.exitCode !== null ? Promise.resolve() : new Promise((resolve) => worker.process.once('exit', resolve))));
      await Promise.race([Promise.all(exited), new Promise((resolve) => setTimeout(resolve, 20_000))]);
    }
    for (const worker of workers) if (worker.process.exitCode === null) worker.process.kill('SIGKILL');
    await db?.close().catch(() => undefined);
    await server?.stop().catch(() => undefined);
  }
}

/** RLIMIT_NOFILE of this process (children inherit it); null when unknown. */
function openFileLimit(): number | null {
  try {
    const match = /Max open files\s+(\d+|unlimited)/.exec(readFileSync('/proc/self/limits', 'utf8'));
    return match === null || match[1] === 'unlimited' ? null : Number(match[1]);
  } catch {
    return null;
  }
}

/** The gateway floor refuses every hold: none may have been acknowledged, and the show's own records must be clean too. */
function auditGateway(database: AuditReport, ack: Acknowledged): AuditReport {
  const granted = ack.holds.length;
  const violations = [...database.violations, ...(granted > 0 ? [`${granted} hold(s) acknowledged by an engine that refuses every hold`] : [])];
  return { ok: violations.length === 0, violations, checks: { ...database.checks, gatewayHoldsAcknowledged: granted }, figures: database.figures };
}

/** The baseline keeps holds in its own table: every acknowledged hold that was not released must be there, and no seat twice. */
async function auditBaseline(server: ServerProcess, plan: ScenarioPlan, ack: Acknowledged): Promise<AuditReport> {
  const held = await server.baselineHolds(plan.showIds);
  const acknowledged = new Set(ack.holds);
  const violations: string[] = [];
  const seats = new Set<string>();
  let unknown = 0;
  for (const row of held) {
    if (seats.has(row.seatId)) violations.push(`seat ${row.seatId} held twice`);
    seats.add(row.seatId);
    if (!acknowledged.has(row.holdId)) unknown += 1;
  }
  if (unknown > 0) violations.push(`${unknown} held seat(s) belong to holds no client was told about`);
  return { ok: violations.length === 0, violations, checks: { baselineSeatHeldTwice: 0, baselineUnknownHolds: unknown }, figures: { acknowledgedHolds: ack.holds.length, seatsHeldAtEnd: held.length } };
}

export async function runScenario(options: LoadOptions, hooks: RunHooks = {}): Promise<LoadReport> {
  const startedAt = new Date().toISOString();
  const engines: Engine[] = options.url !== null ? ['holdfast'] : options.engines;
  const comparing = engines.includes('holdfast') && engines.includes('baseline');
  const rounds = comparing ? options.rounds : 1;
  // The disk's flush time bounds the baseline (one transaction per claim): printed beside the ratio it
  // moves. A comparison on commits that do not reach the disk would be no comparison: the probe refuses it.
  const commitLatency = comparing ? await probeCommitLatency(options.databaseUrl) : null;
  if (commitLatency !== null) hooks.onProgress?.(`[load ${options.scenario}] one durable single-row commit on this PostgreSQL: p50 ${commitLatency.p50Us} µs, p99 ${commitLatency.p99Us} µs`);
  const entry = await workerEntry(hooks);
  const runs: EngineRun[] = [];
  for (let roundNumber = 1; roundNumber <= rounds; roundNumber += 1) {
    // Every other round the baseline goes first, so a machine that slows down (or warms up) over
    // the run weighs on both engines alike.
    const order = roundNumber % 2 === 0 ? [...engines].reverse() : engines;
    for (const engine of order) {
      if (rounds > 1) hooks.onProgress?.(`[load ${options.scenario}] round ${roundNumber}/${rounds}: ${engine}`);
      runs.push({ ...(await runEngine(options, engine, entry, hooks)), round: roundNumber });
    }
  }
  const roundComparisons: RoundComparison[] = comparing
    ? Array.from({ length: rounds }, (_, index) => {
        const pair = runs.filter((run) => run.round === index + 1);
        const holdfast = pair.find((run) => run.engine === 'holdfast')!;
        const baseline = pair.find((run) => run.engine === 'baseline')!;
        const gateway = pair.find((run) => run.engine === 'gateway');
        return {
          round: index + 1,
          first: pair[0]!.engine,
          holdfastAttemptsPerS: holdfast.rates.steadyHoldAttemptsPerS,
          baselineAttemptsPerS: baseline.rates.steadyHoldAttemptsPerS,
          attemptsPerSRatio: round(holdfast.rates.steadyHoldAttemptsPerS / Math.max(1e-9, baseline.rates.steadyHoldAttemptsPerS), 2),
          holdfastP99Ms: holdfast.steadyHold.p99Ms,
          baselineP99Ms: baseline.steadyHold.p99Ms,
          p99Ratio: round(holdfast.steadyHold.p99Ms / Math.max(1e-9, baseline.steadyHold.p99Ms), 3),
          gatewayAttemptsPerS: gateway ? gateway.rates.steadyHoldAttemptsPerS : null,
          gatewayRatio: gateway ? round(gateway.rates.steadyHoldAttemptsPerS / Math.max(1e-9, baseline.rates.steadyHoldAttemptsPerS), 2) : null,
        };
      })
    : [];
  const comparison =
    roundComparisons.length > 0
      ? (() => {
          const attemptsPerSRatio = round(median(roundComparisons.map((entry) => entry.attemptsPerSRatio)), 2);
          const p99Ratio = round(median(roundComparisons.map((entry) => entry.p99Ratio)), 3);
          const gatewayRatios = roundComparisons.flatMap((entry) => (entry.gatewayRatio === null ? [] : [entry.gatewayRatio]));
          const gatewayRatio = gatewayRatios.length > 0 ? round(median(gatewayRatios), 2) : null;
          return { attemptsPerSRatio, p99Ratio, gatewayRatio, target: '>= 5x the baseline answered attempts/s at a lower p99', met: attemptsPerSRatio >= 5 && p99Ratio < 1, rounds: roundComparisons };
        })()
      : null;
  const holdfastRuns = runs.filter((run) => run.engine === 'holdfast');
  const baselineRuns = runs.filter((run) => run.engine === 'baseline');
  const holdfast = holdfastRuns[0];
  const baseline = baselineRuns[0];
  const main = holdfast ?? runs[0]!;
  const headline: LoadReport['headline'] = {
    scenario: options.scenario,
    auditOk: runs.every((run) => run.audit.ok),
    violations: runs.reduce((sum, run) => sum + Object.values(run.audit.checks).reduce((a, b) => a + b, 0), 0),
    fans: options.fans,
    connectedPeak: main.peaks.connected,
    capacity: main.capacity,
    soldUnits: main.soldUnits,
    sellOutS: main.sellOutS,
    endedBy: main.endedBy,
    loadSeconds: main.loadSeconds,
    holdsPerS: main.rates.holdsPerS,
    holdAttemptsPerS: main.rates.holdAttemptsPerS,
    steadyHoldAttemptsPerS: main.rates.steadyHoldAttemptsPerS,
    paid: main.counters.paid,
    holdP50Ms: main.latency.hold.p50Ms,
    holdP99Ms: main.latency.hold.p99Ms,
    confirmP50Ms: main.latency.confirm.p50Ms,
    confirmP99Ms: main.latency.confirm.p99Ms,
    diffP99Ms: main.latency.diff.count > 0 ? main.latency.diff.p99Ms : null,
    errors: main.counters.errors,
    commitP50Us: commitLatency?.p50Us ?? null,
    ...(baseline
      ? {
          // Medians over the rounds (with one round, that round's figures).
          rounds,
          holdfastSteadyHoldAttemptsPerS: round(median(holdfastRuns.map((run) => run.rates.steadyHoldAttemptsPerS))),
          baselineSteadyHoldAttemptsPerS: round(median(baselineRuns.map((run) => run.rates.steadyHoldAttemptsPerS))),
          baselineHoldP99Ms: round(median(baselineRuns.map((run) => run.steadyHold.p99Ms)), 2),
          holdfastSteadyHoldP99Ms: holdfast ? round(median(holdfastRuns.map((run) => run.steadyHold.p99Ms)), 2) : null,
          attemptsPerSRatio: comparison?.attemptsPerSRatio ?? null,
          roundRatios: comparison ? comparison.rounds.map((entry) => entry.attemptsPerSRatio).join(' ') : null,
          p99Ratio: comparison?.p99Ratio ?? null,
          targetMet: comparison?.met ?? null,
          gatewayRatio: comparison?.gatewayRatio ?? null,
        }
      : {}),
  };
  const cpus = os.cpus();
  return {
    name: options.resultName,
    scenario: options.scenario,
    startedAt,
    finishedAt: new Date().toISOString(),
    options,
    machine: { cpus: cpus.length, cpuModel: cpus[0]?.model.trim() ?? 'unknown', loadAverage: os.loadavg().map((value) => round(value, 2)), node: process.version, commitLatency },
    runs,
    comparison,
    ok: runs.every((run) => run.audit.ok),
    headline,
  };
}
