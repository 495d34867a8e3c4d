/**
 * `npm run bench -- queue`: the virtual waiting room under a million fans.
 *
 * Processes (all on 127.0.0.1, same machine, same clock):
 *   - this process: orchestration, the ops API calls (admin token), /proc and /metrics sampling,
 *     the SQL check at the end;
 *   - bench/support/queue-server.ts: the real server (startServer), every limit set in its
 *     environment, alone in its process so its RSS and heap are its own; it creates one show
 *     with a fixed-mode waiting room, on sale since a minute ago;
 *   - bench/queue-sockets.ts ×ceil(S / --per-process): the first S fans, one socket.io connection
 *     each (websocket, msgpack), `queue:join` with ack, then listening to `queue:serving`;
 *   - bench/queue-joiner.ts ×--joiners: the other N − S fans over HTTP keep-alive,
 *     `POST /v1/shows/{id}/queue`, each a distinct user id whose session token the joiner mints
 *     itself with the server's TOKEN_SECRET (no POST /v1/sessions round trip).
 *
 * Phases: (A) admission paused through the ops API, S sockets connect and join (ticket numbers
 * 0..S−1); (B) N − S HTTP joins, measured: joins/s (overall and per 5 s), latency, errors by code,
 * server RSS (VmRSS) and heap before/after, CPU; the sockets keep receiving the paused broadcasts
 * meanwhile (delay under join load); SQL check: queue_tickets has N rows, pre_count + post_count
 * = N, the seq numbers are 0..N−1 once each, and every fan got a distinct ticket number;
 * (C) the ops API resumes admission at --admit-rate: the next --broadcasts `queue:serving`
 * broadcasts are measured at every socket (receipt − server_time_ms, p50/p99/max; sockets that
 * missed one), and the `queue:admitted` pushes that follow.
 * Everything runs in a PostgreSQL schema of its own (bench_queue_<random>), dropped at the end.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build, decodeFromCompressedBase64, type Histogram } from 'hdr-histogram-js';
import { limits } from '../src/actors/limits.js';
import { connectPostgres, type SqlDatabase } from '../src/persistence/database.js';
import type { JoinerParams, JoinerProgress, JoinerResult, JoinerToParent, ParentToJoiner } from './queue-joiner.js';
import type { BroadcastWindow, ParentToSocketFans, SocketConnectReport, SocketFansParams, SocketFansResult, SocketFansToParent } from './queue-sockets.js';
import { Child, forkTs, machineTicks, openFileLimit, procCpuSeconds, procMemoryKb, procRunQueueWaitS } from './support/child.js';
import { summarizeProfile, type ProfileSummary } from './support/profile-summary.js';
import type { ParentToQueueServer, QueueServerParams, QueueServerStats, QueueServerToParent, ServerBroadcast } from './support/queue-server.js';
import { cpuSample, cpuSince, machineInfo, progress, resultsDir, round, type LatencySummary } from './support/report.js';
import { writeResult } from './support/report.js';

const here = dirname(fileURLToPath(import.meta.url));

const help = `npm run bench -- queue [flags]
  --fans <n>               fans joining in all, each a distinct user (default 1,000,000; --quick 20,000)
  --sockets <n>            of them, the first n join over socket.io and measure the broadcasts (default 5,000; --quick 500)
  --connections <n>        HTTP keep-alive connections (= joins in flight), over all joiner processes (default 512)
  --joiners <n>            HTTP joiner processes (default 1)
  --client <raw|node-http> joiner HTTP client: a minimal keep-alive client on net.Socket (default), or node:http with a keep-alive Agent
  --per-process <n>        sockets per socket process (default 2,500)
  --connect-concurrency <n> sockets being opened at once per socket process (default 50)
  --tick <ms>              QUEUE_TICK_MS: serving broadcast period (default 1000)
  --batch-max <n>          QUEUE_JOIN_BATCH_MAX: joins per group commit at most (default 2000)
  --pool <n>               DATABASE_POOL_SIZE of the server (default 8)
  --rate <n>               the show's admission_rate_per_s at creation (default 100; admission is paused before any join)
  --admit-rate <n>         rate_per_s set through the ops API when admission resumes (default 500)
  --broadcasts <n>         queue:serving broadcasts measured after the resume (default 10; --quick 5)
  --join-budget <s>        stop issuing HTTP joins after this many seconds (default 250; --quick 60)
  --server-flags <flags>   extra node/V8 flags for the server process, space-separated (e.g. "--max-semi-space-size=64"; default none)
  --prof                   V8 CPU profile of the server during the HTTP joins (bench-results/queue-prof/)
  --pglite                 embedded PGlite instead of PostgreSQL
  --quick                  CI-sized run (20,000 fans, 500 sockets)
  --keep-schema            leave the bench schema in place (debugging)
DATABASE_URL defaults to postgres://postgres@127.0.0.1:5432/test.`;

interface Options {
  connectionString: string | null;
  fans: number;
  sockets: number;
  connections: number;
  joiners: number;
  client: 'raw' | 'node-http';
  perProcess: number;
  connectConcurrency: number;
  tickMs: number;
  batchMax: number;
  poolSize: number;
  rate: number;
  admitRate: number;
  broadcasts: number;
  joinBudgetS: number;
  serverFlags: string[];
  prof: boolean;
  quick: boolean;
  keepSchema: boolean;
}

function parseOptions(argv: string[]): Options | null {
  const { values } = parseArgs({
    args: argv,
    options: {
      fans: { type: 'string' },
      sockets: { type: 'string' },
      connections: { type: 'string' },
      joiners: { type: 'string' },
      client: { type: 'string' },
      'per-process': { type: 'string' },
      'connect-concurrency': { type: 'string' },
      tick: { type: 'string' },
      'batch-max': { type: 'string' },
      pool: { type: 'string' },
      rate: { type: 'string' },
      'admit-rate': { type: 'string' },
      broadcasts: { type: 'string' },
      'join-budget': { type: 'string' },
      'server-flags': { type: 'string' },
      prof: { type: 'boolean', default: false },
      pglite: { type: 'boolean', default: false },
      quick: { type: 'boolean', default: false },
      'keep-schema': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.error(help);
    return null;
  }
  const quick = values.quick === true;
  const integer = (name: string, raw: string | undefined, fallback: number, min = 1): number => {
    if (raw === undefined) return fallback;
    const value = Number(raw.replaceAll('_', '').replaceAll(',', ''));
    if (!Number.isInteger(value) || value < min) throw new Error(`--${name} must be an integer >= ${min}, got "${raw}"`);
    return value;
  };
  const options: Options = {
    connectionString: values.pglite ? null : (process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test'),
    fans: integer('fans', values.fans, quick ? 20_000 : 1_000_000),
    sockets: integer('sockets', values.sockets, quick ? 500 : 5_000, 0),
    connections: integer('connections', values.connections, 512),
    joiners: integer('joiners', values.joiners, 1),
    client: values.client === 'node-http' ? 'node-http' : 'raw',
    perProcess: integer('per-process', values['per-process'], 2_500),
    connectConcurrency: integer('connect-concurrency', values['connect-concurrency'], 50),
    tickMs: integer('tick', values.tick, 1_000, 10),
    batchMax: integer('batch-max', values['batch-max'], 2_000),
    poolSize: integer('pool', values.pool, 8, 2),
    rate: integer('rate', values.rate, 100),
    admitRate: integer('admit-rate', values['admit-rate'], 500),
    broadcasts: integer('broadcasts', values.broadcasts, quick ? 5 : 10),
    joinBudgetS: integer('join-budget', values['join-budget'], quick ? 60 : 250),
    serverFlags: (values['server-flags'] ?? '').split(' ').filter((flag) => flag !== ''),
    prof: values.prof === true,
    quick,
    keepSchema: values['keep-schema'] === true,
  };
  if (values.client !== undefined && values.client !== 'raw' && values.client !== 'node-http') throw new Error(`--client is raw or node-http, got "${values.client}"`);
  if (options.sockets > options.fans) throw new Error('--sockets cannot exceed --fans (the socket fans are the first fans)');
  if (options.connections < options.joiners) throw new Error('--connections must be at least --joiners');
  return options;
}

interface Secrets {
  tokenSecret: string;
  adminToken: string;
}

/** Every server setting loadConfig reads, set explicitly. Rate limits are far above the load: the bench measures joins, not refusals. */
function serverEnv(options: Options, secrets: Secrets): Record<string, string> {
  return {
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: '0',
    DATABASE_URL: options.connectionString ?? '',
    DATABASE_POOL_SIZE: String(options.poolSize),
    JOURNAL_POOL_SIZE: '4',
    DATABASE_STATEMENT_TIMEOUT_MS: '30000',
    DATABASE_QUERY_TIMEOUT_MS: '45000',
    REDIS_URL: '',
    TOKEN_SECRET: secrets.tokenSecret,
    ADMIN_TOKEN: secrets.adminToken,
    SESSION_TTL_S: String(12 * 3600),
    SEED_DEMO: 'false',
    LOG_LEVEL: 'warn',
    HTTP_BODY_BYTES_MAX: String(64 * 1024),
    RATE_LIMIT_USER_PER_S: '100',
    RATE_LIMIT_IP_PER_S: '100000000',
    SOCKET_EVENTS_PER_S: '30',
    SOCKET_PARSER: 'msgpack',
    DIFF_TICK_MS: '100',
    WATCHED_SHOWS_PER_SOCKET_MAX: '4',
    MAILBOX_DEPTH_MAX: String(limits.mailboxDepthMax),
    BATCH_COMMANDS_MAX: String(limits.batchCommandsMax),
    SHUTDOWN_GRACE_MS: '10000',
    QUEUE_TICK_MS: String(options.tickMs),
    QUEUE_JOIN_BATCH_MAX: String(options.batchMax),
    WORKER_ID: 'bench-queue',
  };
}

const redacted = (env: Record<string, string>): Record<string, string> => ({ ...env, TOKEN_SECRET: '<random 32 bytes, redacted>', ADMIN_TOKEN: '<random, redacted>' });

// ---------------------------------------------------------------------------------------------

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const mb = (bytes: number): number => round(bytes / 2 ** 20, 1);
const kbToMb = (kb: number | undefined): number | null => (kb === undefined ? null : round(kb / 1024, 1));

function summarize(histogram: Histogram): LatencySummary {
  const empty = histogram.totalCount === 0;
  const at = (percentile: number): number => (empty ? 0 : round(histogram.getValueAtPercentile(percentile) / 1000, 3));
  return {
    count: histogram.totalCount,
    meanMs: empty ? 0 : round(histogram.mean / 1000, 3),
    p50Ms: at(50),
    p90Ms: at(90),
    p99Ms: at(99),
    p999Ms: at(99.9),
    maxMs: empty ? 0 : round(histogram.maxValue / 1000, 3),
  };
}

function merged(encoded: string[]): Histogram {
  const histogram = build({ numberOfSignificantValueDigits: 3 });
  for (const item of encoded) histogram.add(decodeFromCompressedBase64(item));
  return histogram;
}

/** prom-client exposition: the value of an unlabelled metric. */
function metricValue(text: string, name: string): number | null {
  const match = new RegExp(`^${name} ([0-9.eE+-]+)`, 'm').exec(text);
  return match ? Number(match[1]) : null;
}

async function scrapeMemory(url: string): Promise<{ heapUsedMb: number | null; heapTotalMb: number | null; externalMb: number | null; rssMb: number | null }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const value = (name: string): number | null => {
    const bytes = metricValue(text, name);
    return bytes === null ? null : mb(bytes);
  };
  return {
    heapUsedMb: value('holdfast_nodejs_heap_size_used_bytes'),
    heapTotalMb: value('holdfast_nodejs_heap_size_total_bytes'),
    externalMb: value('holdfast_nodejs_external_memory_bytes'),
    rssMb: value('holdfast_process_resident_memory_bytes'),
  };
}

async function ops(url: string, adminToken: string, showId: string, change: Record<string, unknown> | null): Promise<Record<string, unknown>> {
  const response = await fetch(`${url}/v1/ops/shows/${showId}/queue`, {
    method: change === null ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${adminToken}`, ...(change === null ? {} : { 'content-type': 'application/json' }) },
    ...(change === null ? {} : { body: JSON.stringify(change) }),
  });
  const body = (await response.json()) as Record<string, unknown>;
  if (response.status !== 200) throw new Error(`ops ${change === null ? 'GET' : 'POST'} queue: ${response.status} ${JSON.stringify(body)}`);
  return body;
}

/** Number of set bits of a bitmap, and how many bits two processes both set (the same number given twice). */
function mergeBitmaps(bitmaps: Buffer[], size: number): { distinct: number; collisions: number; merged: Buffer } {
  const all = Buffer.alloc(size);
  let collisions = 0;
  for (const bitmap of bitmaps) {
    for (let index = 0; index < size; index += 1) {
      const byte = bitmap[index] ?? 0;
      if (byte === 0) continue;
      collisions += popcount(all[index]! & byte);
      all[index] = all[index]! | byte;
    }
  }
  let distinct = 0;
  for (let index = 0; index < size; index += 1) distinct += popcount(all[index]!);
  return { distinct, collisions, merged: all };
}

interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  'Index Cond'?: string;
  'Recheck Cond'?: string;
  'Rows Removed by Filter'?: number;
  'Rows Removed by Index Recheck'?: number;
  'Actual Rows'?: number;
  Plans?: PlanNode[];
}

/** One line per plan node: type, index and condition, rows read then thrown away by a filter. */
function describePlan(node: PlanNode): string {
  const parts = [node['Node Type']];
  if (node['Index Name']) parts.push(`on ${node['Index Name']}`);
  if (node['Index Cond']) parts.push(`cond ${node['Index Cond'].replace(/'\{[^}]*\}'/g, "'{…}'")}`);
  if (node['Recheck Cond']) parts.push(`recheck ${node['Recheck Cond'].replace(/'\{[^}]*\}'/g, "'{…}'")}`);
  if (node['Rows Removed by Filter'] !== undefined) parts.push(`${node['Rows Removed by Filter']} rows removed by filter`);
  if (node['Actual Rows'] !== undefined) parts.push(`${node['Actual Rows']} rows`);
  const children = (node.Plans ?? []).map(describePlan);
  return children.length === 0 ? parts.join(' ') : `${parts.join(' ')} <- ${children.join(' | ')}`;
}

/** Linux PSI: microseconds during which some runnable task waited for a CPU (whole machine). */
function cpuPressureUs(): number | null {
  try {
    const match = /some .*total=(\d+)/.exec(readFileSync('/proc/pressure/cpu', 'utf8'));
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

function popcount(byte: number): number {
  let count = 0;
  for (let value = byte; value !== 0; value &= value - 1) count += 1;
  return count;
}

function addCounts(into: Record<string, number>, from: Record<string, number>): void {
  for (const [key, count] of Object.entries(from)) into[key] = (into[key] ?? 0) + count;
}

// ---------------------------------------------------------------------------------------------

type ServerChild = Child<ParentToQueueServer, QueueServerToParent>;
type JoinerChild = Child<ParentToJoiner, JoinerToParent>;
type SocketChild = Child<ParentToSocketFans, SocketFansToParent>;

async function withSchema<T>(options: Options, work: (postgres: QueueServerParams['postgres'], admin: SqlDatabase | null) => Promise<T>): Promise<T> {
  if (options.connectionString === null) return work(null, null);
  const schema = `bench_queue_${randomBytes(4).toString('hex')}`;
  const admin = connectPostgres({ connectionString: options.connectionString, poolSize: 2, applicationName: 'holdfast-bench-queue-admin', schema });
  await admin.query(`create schema ${schema}`);
  try {
    return await work({ connectionString: options.connectionString, schema }, admin);
  } finally {
    if (options.keepSchema) progress(`schema ${schema} kept`);
    else {
      await admin.query(`drop schema ${schema} cascade`).then(
        () => progress(`schema ${schema} dropped`),
        (error: unknown) => progress(`could not drop schema ${schema}: ${String(error)}`),
      );
    }
    await admin.close();
  }
}

interface WindowFigures {
  broadcasts: number;
  /** receipt − server_time_ms over every (socket, broadcast) of the window. */
  delay: LatencySummary;
  /** Per broadcast, the last socket's delay: how long until the whole room had it. */
  lastSocketDelay: LatencySummary;
  socketsMissingAny: number;
  missedReceipts: number;
  /** The server's side: how long the io.to(room).emit call itself took, and the real tick gaps. */
  serverEmitMs: { p50: number; max: number };
  tickGapMs: { min: number; max: number };
}

function windowFigures(name: string, serverBroadcasts: ServerBroadcast[], results: SocketFansResult[]): WindowFigures {
  const windows = results.map((result) => result.windows.find((window) => window.name === name)!);
  const delay = merged(windows.map((window) => window.delay));
  const receivers = new Map<number, { receivers: number; last: number }>();
  for (const window of windows) {
    for (const [id, count, , last] of window.perBroadcast) {
      const known = receivers.get(id) ?? { receivers: 0, last: 0 };
      known.receivers += count;
      known.last = Math.max(known.last, last);
      receivers.set(id, known);
    }
  }
  const lastSocket = build({ numberOfSignificantValueDigits: 3 });
  for (const { last } of receivers.values()) lastSocket.recordValue(Math.max(1, Math.round(last * 1000)));
  const emits = serverBroadcasts.map((broadcast) => broadcast.emitMs).sort((a, b) => a - b);
  const gaps = serverBroadcasts.map((broadcast) => broadcast.gapMs).filter((gap): gap is number => gap !== null);
  return {
    broadcasts: serverBroadcasts.length,
    delay: summarize(delay),
    lastSocketDelay: summarize(lastSocket),
    socketsMissingAny: windows.reduce((sum, window) => sum + window.socketsMissingAny, 0),
    missedReceipts: windows.reduce((sum, window) => sum + window.missedReceipts, 0),
    serverEmitMs: { p50: round(emits[Math.floor(emits.length / 2)] ?? 0, 2), max: round(emits.at(-1) ?? 0, 2) },
    tickGapMs: { min: gaps.length ? Math.min(...gaps) : 0, max: gaps.length ? Math.max(...gaps) : 0 },
  };
}

export async function run(argv: string[]): Promise<void> {
  const options = parseOptions(argv);
  if (options === null) return;
  const fileLimit = openFileLimit();
  if (fileLimit !== null && options.sockets + options.connections + 256 > fileLimit) {
    throw new Error(`ulimit -n is ${fileLimit}: ${options.sockets} sockets and ${options.connections} HTTP connections need about ${options.sockets + options.connections + 256} descriptors in the server; raise it or lower --sockets`);
  }
  let postgresVersion: string | null = null;
  if (options.connectionString !== null) {
    const probe = connectPostgres({ connectionString: options.connectionString, poolSize: 1, applicationName: 'holdfast-bench-queue' });
    postgresVersion = (await probe.query<{ server_version: string }>('show server_version')).rows[0]?.server_version ?? null;
    await probe.close();
  }
  const machine = machineInfo(postgresVersion);
  const secrets: Secrets = { tokenSecret: randomBytes(32).toString('base64url'), adminToken: `bench-admin-${randomBytes(12).toString('hex')}` };
  const env = serverEnv(options, secrets);
  const runTag = randomBytes(3).toString('hex');
  const userPrefix = `qfan-${runTag}-`;
  const admissionTtlS = 600;
  const httpFans = options.fans - options.sockets;
  progress(
    `queue: ${options.fans.toLocaleString('en')} fans (${options.sockets} over sockets, ${httpFans.toLocaleString('en')} over HTTP on ${options.connections} keep-alive connections, ${options.joiners} joiner process(es)); ` +
      `QUEUE_TICK_MS ${options.tickMs}, QUEUE_JOIN_BATCH_MAX ${options.batchMax}; ${options.connectionString === null ? 'PGlite' : `PostgreSQL ${postgresVersion}`}; ${machine.cpus} cpus, load ${machine.loadAverage1m}`,
  );

  const result = await withSchema(options, async (postgres, admin) => {
    const serverParams: QueueServerParams = { postgres, waitingRoom: { mode: 'fixed', admission_rate_per_s: options.rate, admission_ttl_s: admissionTtlS } };
    const server: ServerChild = new Child('server', forkTs(join(here, 'support/queue-server.ts'), serverParams, env, ['--expose-gc', ...options.serverFlags]));
    const socketProcesses = options.sockets === 0 ? 0 : Math.ceil(options.sockets / options.perProcess);
    const socketChildren: SocketChild[] = [];
    const joiners: JoinerChild[] = [];
    const allBroadcasts: ServerBroadcast[] = [];
    const stats = async (gc: boolean, reset: boolean): Promise<QueueServerStats> => {
      server.send({ type: 'stats', gc, reset });
      const value = (await server.next('stats', 30_000)).stats;
      for (const broadcast of value.broadcasts) if (!allBroadcasts.some((known) => known.serverTimeMs === broadcast.serverTimeMs)) allBroadcasts.push(broadcast);
      return value;
    };
    try {
      const ready = await server.next('ready', 60_000);
      const { url, showId } = ready;
      const serverPid = server.pid;
      progress(`server ${url} (pid ${serverPid}), show ${showId} (waiting room: fixed, ${options.rate}/s, on sale since ${ready.onSaleAt})`);
      const memoryAtReady = procMemoryKb(serverPid);

      // (A) Pause admission, then the socket fans connect and join: ticket numbers 0..S-1.
      const paused = await ops(url, secrets.adminToken, showId, { paused: true });
      progress(`admission paused (ops API): ${JSON.stringify({ paused: paused['paused'], serving: paused['serving'], queue_length: paused['queue_length'] })}`);
      for (let index = 0; index < socketProcesses; index += 1) {
        const from = Math.floor((options.sockets * index) / socketProcesses);
        const to = Math.floor((options.sockets * (index + 1)) / socketProcesses);
        const params: SocketFansParams = { index, showId, tokenSecret: secrets.tokenSecret, userPrefix, from, to, connectConcurrency: options.connectConcurrency, admissionTtlMs: admissionTtlS * 1000 };
        socketChildren.push(new Child(`sockets-${index}`, forkTs(join(here, 'queue-sockets.ts'), params, {})));
      }
      for (let index = 0; index < options.joiners; index += 1) {
        const from = options.sockets + Math.floor((httpFans * index) / options.joiners);
        const to = options.sockets + Math.floor((httpFans * (index + 1)) / options.joiners);
        const connections = Math.floor(options.connections / options.joiners) + (index < options.connections % options.joiners ? 1 : 0);
        const params: JoinerParams = { index, showId, tokenSecret: secrets.tokenSecret, userPrefix, from, to, numberBound: options.fans, connections, client: options.client };
        joiners.push(new Child(`joiner-${index}`, forkTs(join(here, 'queue-joiner.ts'), params, {})));
      }
      await Promise.all([...socketChildren.map((child) => child.next('booted', 60_000)), ...joiners.map((child) => child.next('booted', 60_000))]);
      const connectStart = performance.now();
      for (const child of socketChildren) child.send({ type: 'connect', url });
      const connectReports: SocketConnectReport[] = (await Promise.all(socketChildren.map((child) => child.next('connected', 300_000)))).map((message) => message.report);
      const connectWallMs = round(performance.now() - connectStart, 0);
      const socketsJoined = connectReports.reduce((sum, report) => sum + report.joined, 0);
      const socketErrors: Record<string, number> = {};
      for (const report of connectReports) addCounts(socketErrors, report.errors);
      const socketPhases: Record<string, number> = {};
      for (const report of connectReports) addCounts(socketPhases, report.phases);
      progress(`${socketsJoined}/${options.sockets} sockets connected and joined in ${connectWallMs} ms (errors ${JSON.stringify(socketErrors)}${connectReports.find((r) => r.firstError)?.firstError ? `, first: ${connectReports.find((r) => r.firstError)!.firstError}` : ''})`);

      // Baseline memory: sockets connected, nothing else going on; after a full GC.
      await sleep(1_500);
      await stats(true, true);
      await sleep(200);
      const memoryBefore = procMemoryKb(serverPid);
      const scrapeBefore = await scrapeMemory(url);
      const statsBefore = await stats(false, true);
      progress(`server before the joins: RSS ${kbToMb(memoryBefore?.rssKb)} MB, heap used ${mb(statsBefore.memory.heapUsed)} MB (after GC), /metrics heap ${scrapeBefore.heapUsedMb} MB`);

      // (B) The HTTP joins.
      const profileDir = join(resultsDir, 'queue-prof');
      const profilePath = join(profileDir, `server-joins-${options.fans}.cpuprofile`);
      if (options.prof) {
        mkdirSync(profileDir, { recursive: true });
        server.send({ type: 'profile-start' });
        await sleep(50);
      }
      const latest = new Map<number, JoinerProgress>();
      for (const joiner of joiners) joiner.on((message) => {
        if (message.type === 'progress') latest.set(message.index, message);
      });
      // CPU of this server's own PostgreSQL backends (by application_name), apart from other users of the same PostgreSQL.
      const backendPids = async (): Promise<number[]> =>
        admin === null ? [] : (await admin.query<{ pid: number }>("select pid from pg_stat_activity where application_name = 'holdfast-bench-queue'")).rows.map((row) => row.pid);
      const backendCpuBefore = new Map<number, number>();
      for (const pid of await backendPids()) backendCpuBefore.set(pid, procCpuSeconds(pid) ?? 0);
      const serverCpuBefore = procCpuSeconds(serverPid);
      const joinerCpuBefore = joiners.map((joiner) => procCpuSeconds(joiner.pid));
      const socketCpuBefore = socketChildren.map((child) => procCpuSeconds(child.pid));
      const serverWaitBefore = procRunQueueWaitS(serverPid);
      const machineBefore = machineTicks();
      const selfBefore = cpuSample();
      const joinStart = performance.now();
      for (const joiner of joiners) joiner.send({ type: 'start', url });
      const totals = (): { joined: number; failed: number; inFlight: number } => {
        let joined = 0;
        let failed = 0;
        let inFlight = 0;
        for (const value of latest.values()) {
          joined += value.joined;
          failed += value.failed;
          inFlight += value.inFlight;
        }
        return { joined, failed, inFlight };
      };
      const series: { tS: number; joined: number; rssMb: number | null }[] = [];
      const heapSeries = new Map<number, { heapUsedMb: number | null; heapTotalMb: number | null }>();
      const statementSeries = new Map<number, QueueServerStats['statements']>();
      let peakRssKb = memoryBefore?.rssKb ?? 0;
      const pressureBefore = cpuPressureUs();
      const loadAverageBefore = round(os.loadavg()[0] ?? 0, 2);
      let stopped = false;
      const sampler = setInterval(() => {
        const tS = round((performance.now() - joinStart) / 1000, 1);
        const memory = procMemoryKb(serverPid);
        if (memory !== null) peakRssKb = Math.max(peakRssKb, memory.rssKb);
        const { joined, failed, inFlight } = totals();
        series.push({ tS, joined, rssMb: kbToMb(memory?.rssKb) });
        if (series.length % 5 === 0) {
          const previous = series[series.length - 6];
          const recent = previous === undefined ? joined / tS : (joined - previous.joined) / (tS - previous.tS);
          const serverCpu = procCpuSeconds(serverPid);
          const index = series.length - 1;
          scrapeMemory(url).then(
            (scraped) => heapSeries.set(index, { heapUsedMb: scraped.heapUsedMb, heapTotalMb: scraped.heapTotalMb }),
            () => undefined,
          );
          stats(false, false).then(
            (value) => statementSeries.set(index, structuredClone(value.statements)),
            () => undefined,
          );
          progress(
            `  joined ${(joined + socketsJoined).toLocaleString('en')}/${options.fans.toLocaleString('en')}: ${Math.round(recent).toLocaleString('en')}/s now, ${Math.round(joined / tS).toLocaleString('en')}/s overall; ` +
              `errors ${failed}, in flight ${inFlight}; server RSS ${kbToMb(memory?.rssKb)} MB, CPU ${serverCpu !== null && serverCpuBefore !== null ? round((serverCpu - serverCpuBefore) / tS, 2) : '?'} cores`,
          );
        }
        if (!stopped && tS >= options.joinBudgetS) {
          stopped = true;
          progress(`  join budget of ${options.joinBudgetS} s spent: stopping the joiners (the run will not reach ${options.fans} fans)`);
          for (const joiner of joiners) joiner.send({ type: 'stop' });
        }
      }, 1_000);
      let joinResults: JoinerResult[];
      try {
        joinResults = (await Promise.all(joiners.map((joiner) => joiner.next('done', (options.joinBudgetS + 120) * 1000)))).map((message) => message.result);
      } finally {
        clearInterval(sampler);
      }
      const joinWallS = (performance.now() - joinStart) / 1000;
      const self = cpuSince(selfBefore);
      let backendCpuS: number | null = null;
      if (admin !== null) {
        backendCpuS = 0;
        for (const pid of new Set([...backendCpuBefore.keys(), ...(await backendPids())])) backendCpuS += (procCpuSeconds(pid) ?? 0) - (backendCpuBefore.get(pid) ?? 0);
      }
      const machineAfter = machineTicks();
      const pressureAfter = cpuPressureUs();
      const loadAverageAfter = round(os.loadavg()[0] ?? 0, 2);
      const serverCpuAfter = procCpuSeconds(serverPid);
      const serverWaitAfter = procRunQueueWaitS(serverPid);
      const joinerCpuAfter = joiners.map((joiner) => procCpuSeconds(joiner.pid));
      const socketCpuAfter = socketChildren.map((child) => procCpuSeconds(child.pid));
      const statsJoins = await stats(false, true);
      const memoryEndNoGc = procMemoryKb(serverPid);
      let profile: ProfileSummary | null = null;
      if (options.prof) {
        server.send({ type: 'profile-stop', path: profilePath });
        await server.next('profiled', 60_000);
        profile = summarizeProfile(profilePath);
      }
      const httpJoined = joinResults.reduce((sum, item) => sum + item.joined, 0);
      const httpErrors: Record<string, number> = {};
      for (const item of joinResults) addCounts(httpErrors, item.errors);
      const httpPhases: Record<string, number> = {};
      for (const item of joinResults) addCounts(httpPhases, item.phases);
      const joinLatency = summarize(merged(joinResults.map((item) => item.latency)));
      const batchSizes = decodeFromCompressedBase64(statsJoins.joinBatches.sizes);
      const joinBatches = {
        count: statsJoins.joinBatches.count,
        joins: statsJoins.joinBatches.joins,
        joinsPerBatch: batchSizes.totalCount === 0 ? null : { mean: round(batchSizes.mean, 1), p50: batchSizes.getValueAtPercentile(50), p90: batchSizes.getValueAtPercentile(90), p99: batchSizes.getValueAtPercentile(99), max: batchSizes.maxValue },
        commit: summarize(decodeFromCompressedBase64(statsJoins.joinBatches.commitUs)),
        /** Mean ms per batch in each statement over the whole join phase (see perFiveSeconds[].sqlMsPerBatch for the trend). */
        sqlMsPerBatch: Object.fromEntries(
          Object.entries(statsJoins.statements).map(([name, entry]) => {
            const before = statsBefore.statements[name] ?? { count: 0, totalMs: 0 };
            const batches = (statsJoins.statements['beginCommit']?.count ?? 0) - (statsBefore.statements['beginCommit']?.count ?? 0);
            return [name, batches > 0 ? round((entry.totalMs - before.totalMs) / batches, 2) : 0];
          }),
        ),
        note: 'QueueStore.issueTickets calls (one transaction of 6 statements: BEGIN, SELECT … FOR UPDATE, SELECT existing, INSERT … unnest, UPDATE counters, COMMIT), measured in the server',
      };
      const joinsPerSecond = round(httpJoined / joinWallS, 0);
      progress(`${httpJoined.toLocaleString('en')} HTTP joins in ${round(joinWallS, 1)} s: ${joinsPerSecond.toLocaleString('en')}/s; latency p50 ${joinLatency.p50Ms} ms p99 ${joinLatency.p99Ms} ms; errors ${JSON.stringify(httpErrors)}; ${joinBatches.count} group commits, ${joinBatches.joinsPerBatch?.mean ?? 0} joins each on average, commit p50 ${joinBatches.commit.p50Ms} ms p99 ${joinBatches.commit.p99Ms} ms`);

      // Memory after the million: rate-limiter keys expire after 1 s; then a full GC.
      await sleep(2_500);
      const memoryAfterIdleNoGc = procMemoryKb(serverPid);
      const scrapeAfter = await scrapeMemory(url);
      const statsAfter = await stats(true, true);
      await sleep(200);
      const memoryAfter = procMemoryKb(serverPid);
      progress(`server after the joins: RSS ${kbToMb(memoryAfter?.rssKb)} MB (peak ${kbToMb(peakRssKb)} MB), heap used ${mb(statsAfter.memory.heapUsed)} MB (after GC), /metrics heap ${scrapeAfter.heapUsedMb} MB (before GC)`);

      // The SQL check and ticket-number uniqueness over every fan.
      const expected = socketsJoined + httpJoined;
      let sql: Record<string, number | boolean | null> = {};
      let existingTicketsQuery: { tableAnalyzed: boolean; autovacuum: string; plans: { batch: number; plan: string; executionMs: number }[] } | null = null;
      if (admin !== null) {
        const tickets = (await admin.query<{ rows: number; seqs: number; min_seq: number | null; max_seq: number | null; lotteries: number }>(
          'select count(*)::int as rows, count(distinct seq)::int as seqs, min(seq) as min_seq, max(seq) as max_seq, count(lottery)::int as lotteries from queue_tickets where show_id = $1',
          [showId],
        )).rows[0]!;
        const room = (await admin.query<{ pre_count: number; post_count: number }>('select pre_count, post_count from waiting_rooms where show_id = $1', [showId])).rows[0]!;
        const size = (await admin.query<{ bytes: number }>("select pg_total_relation_size('queue_tickets')::bigint as bytes")).rows[0]!;
        // How PostgreSQL runs QueueStore.issueTickets' "which of these fans already have a ticket"
        // query now, with the server's query text, for batches of several sizes (the planner's
        // choice depends on the array length while the table has no statistics).
        const statistics = (await admin.query<{ reltuples: number }>("select reltuples from pg_class where oid = 'queue_tickets'::regclass")).rows[0]!;
        const autovacuum = (await admin.query<{ autovacuum: string }>('show autovacuum')).rows[0]!;
        const plans: { batch: number; plan: string; executionMs: number }[] = [];
        for (const batch of [64, 254, 511]) {
          const probeUsers = Array.from({ length: batch }, (_, index) => `${userPrefix}${options.fans + index}`);
          const explained = (await admin.query<{ 'QUERY PLAN': { Plan: PlanNode; 'Execution Time': number }[] }>(
            'explain (analyze, format json) select user_id, lottery, seq from queue_tickets where show_id = $1 and user_id = any($2)',
            [showId, probeUsers],
          )).rows[0]!['QUERY PLAN'][0]!;
          plans.push({ batch, plan: describePlan(explained.Plan), executionMs: round(explained['Execution Time'], 2) });
        }
        existingTicketsQuery = { tableAnalyzed: statistics.reltuples >= 0, autovacuum: autovacuum.autovacuum, plans };
        for (const plan of plans) progress(`existing-ticket query, batch of ${plan.batch} fans: ${plan.executionMs} ms, ${plan.plan.slice(0, 160)}`);
        progress(`(queue_tickets analyzed: ${existingTicketsQuery.tableAnalyzed}, autovacuum ${autovacuum.autovacuum})`);
        sql = {
          queueTicketsRows: tickets.rows,
          distinctSeqs: tickets.seqs,
          minSeq: tickets.min_seq,
          maxSeq: tickets.max_seq,
          lotteryTickets: tickets.lotteries,
          preCount: room.pre_count,
          postCount: room.post_count,
          queueTicketsTableMb: mb(size.bytes),
          rowsMatch: tickets.rows === expected,
          countersMatch: room.pre_count + room.post_count === expected,
          seqsDense: tickets.seqs === expected && tickets.min_seq === 0 && tickets.max_seq === expected - 1,
        };
      }
      const bitmapSize = Math.ceil(options.fans / 8);
      const socketBitmap = Buffer.alloc(bitmapSize);
      let socketDuplicates = 0;
      for (const report of connectReports) {
        for (const { number } of report.numbers) {
          const byte = number >> 3;
          const bit = 1 << (number & 7);
          if ((socketBitmap[byte]! & bit) !== 0) socketDuplicates += 1;
          else socketBitmap[byte] = socketBitmap[byte]! | bit;
        }
      }
      const numbers = mergeBitmaps([socketBitmap, ...joinResults.map((item) => Buffer.from(item.numbers, 'base64'))], bitmapSize);
      const duplicateNumbers = numbers.collisions + socketDuplicates + joinResults.reduce((sum, item) => sum + item.duplicateNumbers, 0);
      progress(`SQL: ${JSON.stringify(sql)}; ticket numbers: ${numbers.distinct} distinct of ${expected}, ${duplicateNumbers} given twice`);

      // (C) Resume admission at a new rate; measure the next broadcasts at every socket.
      for (const child of socketChildren) child.send({ type: 'measure-start' });
      const measureWaitBefore = procRunQueueWaitS(serverPid);
      const measurePressureBefore = cpuPressureUs();
      const measureStart = performance.now();
      const resumeSentMs = Date.now();
      const resumed = await ops(url, secrets.adminToken, showId, { paused: false, rate_per_s: options.admitRate });
      const resumeAckMs = Date.now();
      progress(`admission resumed at ${options.admitRate}/s (ops API, ${resumeAckMs - resumeSentMs} ms): waiting for ${options.broadcasts} broadcasts`);
      const afterResume = (): ServerBroadcast[] => allBroadcasts.filter((broadcast) => broadcast.serverTimeMs >= resumeAckMs && !broadcast.paused).slice(0, options.broadcasts);
      const measureDeadline = performance.now() + (options.broadcasts + 5) * options.tickMs + 10_000;
      while (afterResume().length < options.broadcasts && performance.now() < measureDeadline) {
        await sleep(Math.min(options.tickMs, 500));
        await stats(false, false);
      }
      await sleep(1_000); // the last measured broadcast reaches every socket
      const statsMeasure = await stats(false, true);
      const measureWallS = (performance.now() - measureStart) / 1000;
      const measureWaitAfter = procRunQueueWaitS(serverPid);
      const measurePressureAfter = cpuPressureUs();
      const resumeBroadcasts = afterResume();
      const joinBroadcasts = statsJoins.broadcasts;
      const windows: BroadcastWindow[] = [
        { name: 'joins', ids: joinBroadcasts.map((broadcast) => broadcast.serverTimeMs) },
        { name: 'resume', ids: resumeBroadcasts.map((broadcast) => broadcast.serverTimeMs) },
      ];
      for (const child of socketChildren) child.send({ type: 'finish', windows, knownIds: allBroadcasts.map((broadcast) => broadcast.serverTimeMs) });
      const socketResults: SocketFansResult[] = (await Promise.all(socketChildren.map((child) => child.next('result', 60_000)))).map((message) => message.result);
      const finalStats = await ops(url, secrets.adminToken, showId, null);
      const duringJoins = windowFigures('joins', joinBroadcasts, socketResults);
      const afterResumeFigures = windowFigures('resume', resumeBroadcasts, socketResults);
      const admittedDelay = summarize(merged(socketResults.map((item) => item.admitted.delay)));
      const admitted = {
        pushes: socketResults.reduce((sum, item) => sum + item.admitted.pushes, 0),
        sockets: socketResults.reduce((sum, item) => sum + item.admitted.sockets, 0),
        duplicatePushes: socketResults.reduce((sum, item) => sum + item.admitted.duplicate, 0),
        owedNotAdmitted: socketResults.reduce((sum, item) => sum + item.admitted.owedNotAdmitted, 0),
        notOwedButAdmitted: socketResults.reduce((sum, item) => sum + item.admitted.notOwedButAdmitted, 0),
        maxServingSeen: Math.max(0, ...socketResults.map((item) => item.admitted.maxServingSeen)),
        delay: admittedDelay,
      };
      progress(
        `broadcasts after resume: ${afterResumeFigures.broadcasts} × ${socketsJoined} sockets: delay p50 ${afterResumeFigures.delay.p50Ms} ms p99 ${afterResumeFigures.delay.p99Ms} ms max ${afterResumeFigures.delay.maxMs} ms; ` +
          `${afterResumeFigures.socketsMissingAny} sockets missed one; during the joins (${duringJoins.broadcasts} broadcasts): p99 ${duringJoins.delay.p99Ms} ms max ${duringJoins.delay.maxMs} ms, ${duringJoins.socketsMissingAny} sockets missed one; ` +
          `${admitted.sockets} sockets admitted (push delay p99 ${admittedDelay.p99Ms} ms)`,
      );

      const cpu = (before: number | null, after: number | null): { cpuS: number | null; cores: number | null } =>
        before === null || after === null ? { cpuS: null, cores: null } : { cpuS: round(after - before, 2), cores: round((after - before) / joinWallS, 2) };
      const serverCpu = cpu(serverCpuBefore, serverCpuAfter);
      const serverElu = (statsJoins.elu.active - statsBefore.elu.active) / (statsJoins.elu.active - statsBefore.elu.active + statsJoins.elu.idle - statsBefore.elu.idle);
      const machineBusyCores = machineBefore && machineAfter ? round(((machineAfter.busy - machineBefore.busy) / (machineAfter.total - machineBefore.total)) * self.machineCores, 2) : null;
      const ourCores = [serverCpu.cores, ...joinerCpuBefore.map((before, index) => cpu(before, joinerCpuAfter[index] ?? null).cores), ...socketCpuBefore.map((before, index) => cpu(before, socketCpuAfter[index] ?? null).cores), self.postgresCores, self.nodeCores].reduce<number>((sum, cores) => sum + (cores ?? 0), 0);
      const perFiveSeconds: { tS: number; joinsPerS: number; rssMb: number | null; heapUsedMb: number | null; heapTotalMb: number | null; sqlMsPerBatch: Record<string, number> | null }[] = [];
      let previousStatements: QueueServerStats['statements'] = statsBefore.statements;
      for (let index = 4; index < series.length; index += 5) {
        const previous = index >= 5 ? series[index - 5]! : { tS: 0, joined: 0 };
        const point = series[index]!;
        const heap = heapSeries.get(index) ?? { heapUsedMb: null, heapTotalMb: null };
        const statementsNow = statementSeries.get(index);
        let sqlMsPerBatch: Record<string, number> | null = null;
        if (statementsNow !== undefined) {
          sqlMsPerBatch = {};
          const batches = (statementsNow['beginCommit']?.count ?? 0) - (previousStatements['beginCommit']?.count ?? 0);
          for (const [name, entry] of Object.entries(statementsNow)) {
            if (batches > 0) sqlMsPerBatch[name] = round((entry.totalMs - (previousStatements[name]?.totalMs ?? 0)) / batches, 2);
          }
          sqlMsPerBatch['batches'] = batches;
          previousStatements = statementsNow;
        }
        perFiveSeconds.push({ tS: point.tS, joinsPerS: round((point.joined - previous.joined) / (point.tS - previous.tS), 0), rssMb: point.rssMb, ...heap, sqlMsPerBatch });
      }
      const rssGrowthMb = memoryBefore && memoryAfter ? round((memoryAfter.rssKb - memoryBefore.rssKb) / 1024, 1) : null;
      const errorsTotal = Object.values(httpErrors).reduce((sum, count) => sum + count, 0) + Object.values(socketErrors).reduce((sum, count) => sum + count, 0);
      const badReplies = joinResults.reduce((sum, item) => sum + item.badReplies, 0);
      const complete = expected === options.fans;
      const sqlOk = admin === null || (sql['rowsMatch'] === true && sql['countersMatch'] === true && sql['seqsDense'] === true);
      const targets = { rssGrowthMb: 50, broadcastP99Ms: 250 };
      const headline = {
        fans: options.fans,
        joined: expected,
        complete,
        joinsPerSecond,
        joinP50Ms: joinLatency.p50Ms,
        joinP99Ms: joinLatency.p99Ms,
        errors: errorsTotal,
        serverRssGrowthMb: rssGrowthMb,
        serverRssGrowthNoGcMb: memoryBefore && memoryAfterIdleNoGc ? round((memoryAfterIdleNoGc.rssKb - memoryBefore.rssKb) / 1024, 1) : null,
        serverRssPeakGrowthMb: memoryBefore ? round((peakRssKb - memoryBefore.rssKb) / 1024, 1) : null,
        serverHeapGrowthMb: round(mb(statsAfter.memory.heapUsed - statsBefore.memory.heapUsed), 1),
        sqlOk,
        duplicateNumbers,
        sockets: socketsJoined,
        broadcastP50Ms: afterResumeFigures.delay.p50Ms,
        broadcastP99Ms: afterResumeFigures.delay.p99Ms,
        broadcastMaxMs: afterResumeFigures.delay.maxMs,
        socketsMissingBroadcast: afterResumeFigures.socketsMissingAny,
        targets,
        pass:
          complete && errorsTotal === 0 && badReplies === 0 && sqlOk && duplicateNumbers === 0 && numbers.distinct === expected &&
          rssGrowthMb !== null && rssGrowthMb < targets.rssGrowthMb &&
          afterResumeFigures.broadcasts === options.broadcasts && afterResumeFigures.delay.p99Ms < targets.broadcastP99Ms && afterResumeFigures.socketsMissingAny === 0 && duringJoins.socketsMissingAny === 0,
      };
      return {
        headline,
        joins: {
          httpFans,
          httpJoined,
          wallS: round(joinWallS, 2),
          joinsPerSecond,
          latency: joinLatency,
          errors: httpErrors,
          firstError: joinResults.find((item) => item.firstError !== null)?.firstError ?? null,
          phases: httpPhases,
          badReplies,
          perFiveSeconds,
          groupCommits: joinBatches,
          client: options.client,
          connectionsOpened: joinResults.map((item) => item.connectionsOpened),
          joinerEventLoopUtilization: joinResults.map((item) => round(item.eventLoopUtilization, 3)),
        },
        sockets: {
          requested: options.sockets,
          processes: socketProcesses,
          connectedAndJoined: socketsJoined,
          connectWallMs,
          perSocketConnectJoin: summarize(merged(connectReports.map((report) => report.perSocket))),
          errors: socketErrors,
          phases: socketPhases,
          numberRange: { min: Math.min(...connectReports.map((report) => report.numberRange.min)), max: Math.max(...connectReports.map((report) => report.numberRange.max)) },
          disconnected: socketResults.reduce((sum, item) => sum + item.disconnected, 0),
          unknownBroadcasts: socketResults.reduce((sum, item) => sum + item.unknownBroadcasts, 0),
          eventLoopDuringMeasure: socketResults.map((item) => ({ delayP99Ms: round(item.eventLoop.delayP99Ms, 1), delayMaxMs: round(item.eventLoop.delayMaxMs, 1), utilization: round(item.eventLoop.utilization, 3) })),
        },
        broadcasts: {
          afterResume: afterResumeFigures,
          duringJoins,
          resume: { opsCallMs: resumeAckMs - resumeSentMs, ratePerS: options.admitRate, statsAtResume: { serving: resumed['serving'], queue_length: resumed['queue_length'] } },
          admitted,
          serverEventLoopDelayDuringMeasure: { p99Ms: round(statsMeasure.eventLoopDelayP99Ms, 1), maxMs: round(statsMeasure.eventLoopDelayMaxMs, 1) },
          /** Seconds per second the server was runnable but waiting for a CPU during the measurement (0 on an idle machine), and the machine's CPU pressure. */
          serverRunQueueWaitShareDuringMeasure: measureWaitBefore !== null && measureWaitAfter !== null ? round((measureWaitAfter - measureWaitBefore) / measureWallS, 3) : null,
          machineCpuPressureDuringMeasure: measurePressureBefore !== null && measurePressureAfter !== null ? round((measurePressureAfter - measurePressureBefore) / 1e6 / measureWallS, 3) : null,
        },
        memory: {
          serverPid,
          rssMbAtReady: kbToMb(memoryAtReady?.rssKb),
          rssMbBeforeJoins: kbToMb(memoryBefore?.rssKb),
          rssMbEndOfJoinsNoGc: kbToMb(memoryEndNoGc?.rssKb),
          rssMbAfterIdleNoGc: kbToMb(memoryAfterIdleNoGc?.rssKb),
          rssMbAfterJoins: kbToMb(memoryAfter?.rssKb),
          rssMbPeakDuringJoins: kbToMb(peakRssKb),
          rssGrowthMb,
          rssPeakGrowthMb: memoryBefore ? round((peakRssKb - memoryBefore.rssKb) / 1024, 1) : null,
          heapUsedMbBeforeAfterGc: mb(statsBefore.memory.heapUsed),
          heapUsedMbAfterAfterGc: mb(statsAfter.memory.heapUsed),
          externalMbBefore: mb(statsBefore.memory.external),
          externalMbAfter: mb(statsAfter.memory.external),
          arrayBuffersMbAfter: mb(statsAfter.memory.arrayBuffers),
          metricsBefore: scrapeBefore,
          metricsAfterBeforeGc: scrapeAfter,
          note: 'RSS from /proc/<pid>/status VmRSS of the server process (includes the pg client, socket.io with the sockets, V8 code); "before" is with the sockets connected, after a forced full GC; "after" is 2.5 s after the last join (rate-limiter keys expired), after a forced full GC',
        },
        integrity: {
          sql,
          expectedRows: expected,
          distinctTicketNumbers: numbers.distinct,
          duplicateNumbers,
          finalOpsStats: finalStats,
        },
        /** EXPLAIN ANALYZE of the server's existing-ticket lookup at the end of the joins (see the bottleneck notes). */
        existingTicketsQuery,
        load: {
          wallS: round(joinWallS, 2),
          server: { ...serverCpu, eventLoopUtilization: round(serverElu, 3), runQueueWaitS: serverWaitBefore !== null && serverWaitAfter !== null ? round(serverWaitAfter - serverWaitBefore, 2) : null, eventLoopDelayP99Ms: round(statsJoins.eventLoopDelayP99Ms, 1), eventLoopDelayMaxMs: round(statsJoins.eventLoopDelayMaxMs, 1), usPerJoin: serverCpu.cpuS === null ? null : round((serverCpu.cpuS * 1e6) / Math.max(1, httpJoined), 1) },
          joiners: joinerCpuBefore.map((before, index) => cpu(before, joinerCpuAfter[index] ?? null)),
          socketProcesses: socketCpuBefore.map((before, index) => cpu(before, socketCpuAfter[index] ?? null)),
          /** Every postgres process of the machine (other users of this PostgreSQL included). */
          postgres: { cpuS: self.postgresCpuS, cores: self.postgresCores, usPerJoin: self.postgresCpuS === null ? null : round((self.postgresCpuS * 1e6) / Math.max(1, httpJoined), 1) },
          /** Only the backends of the bench server's pool (pg_stat_activity.application_name), read from /proc: WAL writer, checkpointer and autovacuum not included. */
          serverBackends: backendCpuS === null ? null : { cpuS: round(backendCpuS, 2), cores: round(backendCpuS / joinWallS, 2), usPerJoin: round((backendCpuS * 1e6) / Math.max(1, httpJoined), 1) },
          orchestrator: { cpuS: self.nodeCpuS, cores: self.nodeCores },
          machineBusyCores,
          /** Cores busy with work that is none of this bench's processes nor PostgreSQL: the noise. */
          otherCores: machineBusyCores === null ? null : round(Math.max(0, machineBusyCores - ourCores), 2),
          /** Share of the window in which some runnable task waited for a CPU (Linux PSI cpu "some"). */
          machineCpuPressure: pressureBefore !== null && pressureAfter !== null ? round((pressureAfter - pressureBefore) / 1e6 / joinWallS, 3) : null,
          loadAverage1m: { before: loadAverageBefore, after: loadAverageAfter },
        },
        profile,
      };
    } finally {
      await Promise.all([...joiners.map((child) => child.stop({ type: 'close' }, 10_000)), ...socketChildren.map((child) => child.stop({ type: 'close' }, 10_000))]);
      await server.stop({ type: 'close' }, 15_000);
    }
  });

  writeResult('queue', {
    ...result,
    config: {
      fans: options.fans,
      sockets: options.sockets,
      connections: options.connections,
      joiners: options.joiners,
      perProcess: options.perProcess,
      connectConcurrency: options.connectConcurrency,
      waitingRoom: { mode: 'fixed', admission_rate_per_s: options.rate, admission_ttl_s: admissionTtlS, on_sale: 'since 60 s before the run (post-sale: sequence tickets)' },
      admitRate: options.admitRate,
      broadcastsMeasured: options.broadcasts,
      joinBudgetS: options.joinBudgetS,
      serverEnv: redacted(env),
      serverNodeFlags: ['--expose-gc (only used to force a full GC before the memory readings)', ...options.serverFlags],
      joinRequest: `POST /v1/shows/{id}/queue, body {}, Authorization: Bearer <ses token minted by the joiner with TOKEN_SECRET>, ${options.client === 'raw' ? 'minimal HTTP/1.1 keep-alive client on net.Socket' : 'node:http keep-alive Agent'}, one request in flight per connection`,
      socketJoin: "socket.io websocket + msgpack parser, handshake auth.token, emitWithAck('queue:join', { show_id })",
      database: options.connectionString === null ? 'pglite' : 'postgres',
      openFiles: fileLimit,
      quick: options.quick,
    },
    machine,
  });
  if (!result.headline.pass) process.exitCode = 1;
}
