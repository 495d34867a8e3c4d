/**
 * `npm run bench -- fanout`: live seat-map fanout. N socket.io watchers of one 50,000-seat show
 * receive the coalesced `seatmap:diff` broadcasts while a driver places a steady stream of holds;
 * measures delivery delay (receipt − committed_at_ms), diffs delivered per second, connect time,
 * server CPU and memory, and checks that no watcher missed a change.
 *
 * Processes (one run = one watcher count × one parser, each on a fresh server):
 *   - this process: orchestration and the hold driver (REST, one user per 20 active holds,
 *     an Idempotency-Key per hold, 1-2 random seats each from a shuffled list so holds never
 *     collide: every hold changes seats, and the count of changed seats is known);
 *   - bench/support/fanout-server.ts: the real server (startServer) with the limits set in its
 *     environment, alone in its process so its CPU/RSS are its own, not the load generators';
 *   - bench/fanout-client.ts ×ceil(N / --per-process): the watchers.
 * All on 127.0.0.1, same machine, same clock. Everything runs in a PostgreSQL schema of its own
 * (bench_fanout_<random>), dropped at the end; --pglite uses embedded PGlite in the server process.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build, decodeFromCompressedBase64, type Histogram } from 'hdr-histogram-js';
import { keepAliveFetch } from '../load/client/keep-alive-fetch.js';
import { seatIdOf } from '../src/actors/show-definition.js';
import { connectPostgres } from '../src/persistence/database.js';
import { buildStadiumDefinition } from '../src/seed/stadium.js';
import type { ClientResult, ClientToParent, ConnectReport, FanoutClientParams, ParentToClient, Parser, VersionReceipt, WatcherClient } from './fanout-client.js';
import { cpuSample, cpuSince, LatencyHistogram, machineInfo, progress, resultsDir, round, ticker, writeResult, type LatencySummary } from './support/report.js';
import type { FanoutServerParams, ParentToServer, ServerStats, ServerToParent } from './support/fanout-server.js';
import { mulberry32 } from './support/show-history.js';
import { Child, forkTs } from './support/child.js';
import { summarizeProfile, type ProfileSummary } from './support/profile-summary.js';

const here = dirname(fileURLToPath(import.meta.url));
const parsers: readonly Parser[] = ['msgpack', 'json'];
const watcherClients: readonly WatcherClient[] = ['lean', 'socketio'];
const holdsPerUser = 20; // limits.activeHoldsPerUserMax: the show's policy is set to it

const help = `npm run bench -- fanout [flags]
  --watchers <list>        watcher counts, one run each (default 1000,5000; --quick 200)
  --parsers <list>         msgpack,json (default both)
  --clients <list>         lean,socketio: how watchers connect (default both). socketio is socket.io-client,
                           as the SDK runs it; lean speaks the same protocol over a bare ws with the same
                           parsers, about 3x cheaper per message, so the watchers' own decoding takes less
                           of the 2 cores the server needs. The headline is the lean run.
  --rate <holds/s>         driver hold rate (default 300; --quick 200)
  --duration <s>           seconds of holds per run (default 15; --quick 3)
  --tick <ms>              DIFF_TICK_MS of the server (default 100, the server's own default)
  --per-process <n>        watchers per client process (default 2500)
  --connect-concurrency <n> connections being opened at once per client process (default 50)
  --max-in-flight <n>      driver's cap on unanswered holds; beyond it a due hold is skipped (default 256)
  --prof                   V8 CPU profiles of the server and the first client process during each load
                           window (bench-results/fanout-prof/*.cpuprofile; top functions in the result)
  --pglite                 embedded PGlite instead of PostgreSQL
  --seed <n>               seat-choice seed (default 42)
  --quick                  CI-sized run (~30 s): 200 watchers, both parsers
  --keep-schema            leave the bench schemas in place (debugging)
DATABASE_URL defaults to postgres://postgres@127.0.0.1:5432/test.`;

interface Options {
  connectionString: string | null;
  watchers: number[];
  parsers: Parser[];
  clients: WatcherClient[];
  rate: number;
  durationS: number;
  tickMs: number;
  perProcess: number;
  connectConcurrency: number;
  maxInFlight: number;
  prof: boolean;
  seed: number;
  quick: boolean;
  keepSchema: boolean;
}

function parseOptions(argv: string[]): Options | null {
  const { values } = parseArgs({
    args: argv,
    options: {
      watchers: { type: 'string' },
      parsers: { type: 'string' },
      clients: { type: 'string' },
      rate: { type: 'string' },
      duration: { type: 'string' },
      tick: { type: 'string' },
      'per-process': { type: 'string' },
      'connect-concurrency': { type: 'string' },
      'max-in-flight': { type: 'string' },
      prof: { type: 'boolean', default: false },
      pglite: { type: 'boolean', default: false },
      seed: { type: 'string' },
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
  const number = (name: string, raw: string | undefined, fallback: number, min = 1): number => {
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < min) throw new Error(`--${name} must be a number >= ${min}, got "${raw}"`);
    return value;
  };
  const watchers = (values.watchers ?? (quick ? '200' : '1000,5000')).split(',').map((part) => Math.round(number('watchers', part.trim(), 0)));
  const parserList = (values.parsers ?? parsers.join(',')).split(',').map((part) => part.trim());
  for (const parser of parserList) if (!(parsers as readonly string[]).includes(parser)) throw new Error(`unknown parser "${parser}" (msgpack, json)`);
  const clientList = (values.clients ?? watcherClients.join(',')).split(',').map((part) => part.trim());
  for (const client of clientList) if (!(watcherClients as readonly string[]).includes(client)) throw new Error(`unknown client "${client}" (lean, socketio)`);
  const options: Options = {
    connectionString: values.pglite ? null : (process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test'),
    watchers,
    parsers: parserList as Parser[],
    clients: clientList as WatcherClient[],
    rate: number('rate', values.rate, quick ? 200 : 300),
    durationS: number('duration', values.duration, quick ? 3 : 15),
    tickMs: Math.round(number('tick', values.tick, 100, 0)),
    perProcess: Math.round(number('per-process', values['per-process'], 2_500)),
    connectConcurrency: Math.round(number('connect-concurrency', values['connect-concurrency'], 50)),
    maxInFlight: Math.round(number('max-in-flight', values['max-in-flight'], 256)),
    prof: values.prof === true,
    seed: Math.round(number('seed', values.seed, 42, 0)),
    quick,
    keepSchema: values['keep-schema'] === true,
  };
  if (options.rate * options.durationS * 1.1 * 2 > 45_000) throw new Error('--rate × --duration would need more than the 50,000 seats of the show (each hold takes up to 2)');
  return options;
}

/** The server's limits for the bench, as environment variables (loadConfig reads them). */
function serverEnv(options: Options, parser: Parser): Record<string, string> {
  return {
    SOCKET_PARSER: parser,
    DIFF_TICK_MS: String(options.tickMs),
    SOCKET_EVENTS_PER_S: '100',
    RATE_LIMIT_USER_PER_S: '1000',
    RATE_LIMIT_IP_PER_S: '1000000',
    WATCHED_SHOWS_PER_SOCKET_MAX: '4',
    DATABASE_POOL_SIZE: '16',
    JOURNAL_POOL_SIZE: '4',
    DATABASE_STATEMENT_TIMEOUT_MS: '30000',
    DATABASE_QUERY_TIMEOUT_MS: '45000',
    LOG_LEVEL: 'warn',
    SEED_DEMO: 'false',
  };
}

// ---------------------------------------------------------------------------------------------
// /proc accounting: CPU seconds and RSS of any process, busy share of the whole machine.

const clockTicksPerSecond = 100; // USER_HZ on Linux

/** User and system CPU seconds of a process (utime, stime from /proc/<pid>/stat). */
function procCpu(pid: number | undefined): { userS: number; systemS: number } | null {
  if (pid === undefined) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { userS: Number(fields[11]) / clockTicksPerSecond, systemS: Number(fields[12]) / clockTicksPerSecond };
  } catch {
    return null;
  }
}

function procRssMb(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? round(Number(match[1]) / 1024, 1) : null;
  } catch {
    return null;
  }
}

/** Seconds the process's threads spent runnable but waiting for a CPU (schedstat field 2, summed over threads). */
function procRunQueueWaitS(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    let waitNs = 0;
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      const fields = readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').trim().split(' ');
      waitNs += Number(fields[1] ?? 0);
    }
    return waitNs / 1e9;
  } catch {
    return null;
  }
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

function machineTicks(): { busy: number; total: number } | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const ticks = line.trim().split(/\s+/).slice(1).map(Number);
    const total = ticks.reduce((sum, value) => sum + value, 0);
    const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0); // idle + iowait
    return { busy: total - idle, total };
  } catch {
    return null;
  }
}

function openFileLimit(): { soft: number | null; hard: number | null } {
  try {
    const match = /Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/.exec(readFileSync('/proc/self/limits', 'utf8'));
    const parse = (value: string | undefined): number | null => (value === undefined || value === 'unlimited' ? null : Number(value));
    return { soft: parse(match?.[1]), hard: parse(match?.[2]) };
  } catch {
    return { soft: null, hard: null };
  }
}

// ---------------------------------------------------------------------------------------------
// Children.

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

type ServerChild = Child<ParentToServer, ServerToParent>;
type ClientChild = Child<ParentToClient, ClientToParent>;


// ---------------------------------------------------------------------------------------------
// The hold driver.

interface DriverResult {
  attempted: number;
  ok: number;
  skipped: number;
  failures: Record<string, number>;
  seatsHeld: number;
  lastVersion: number;
  wallS: number;
  holdsPerSecond: number;
  latency: LatencySummary;
}

async function createSessions(url: string, users: number, runTag: string): Promise<string[]> {
  const tokens: string[] = new Array<string>(users);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < users) {
      const index = next;
      next += 1;
      const response = await fetch(`${url}/v1/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user_id: `bench-${runTag}-${index}` }) });
      if (response.status !== 201) throw new Error(`POST /v1/sessions: ${response.status} ${await response.text()}`);
      tokens[index] = ((await response.json()) as { token: string }).token;
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  return tokens;
}

async function driveHolds(options: Options, url: string, showId: string, tokens: string[], seats: string[], runTag: string): Promise<DriverResult> {
  const random = mulberry32(options.seed);
  const latency = new LatencyHistogram();
  const failures: Record<string, number> = {};
  const durationMs = options.durationS * 1000;
  let issued = 0;
  let skipped = 0;
  let ok = 0;
  let inFlight = 0;
  let seatCursor = 0;
  let seatsHeld = 0;
  let lastVersion = 0;
  const pending = new Set<Promise<void>>();
  // node:http over a bounded keep-alive pool: the global fetch costs the driver ~1 ms of CPU per
  // hold, CPU the server and the watchers share on this machine.
  const http = keepAliveFetch(64);
  const place = async (index: number, seatIds: string[]): Promise<void> => {
    const t0 = performance.now();
    try {
      const response = await http.fetch(`${url}/v1/shows/${showId}/holds`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tokens[index % tokens.length]!}`, 'content-type': 'application/json', 'idempotency-key': `fanout-${runTag}-${index}` },
        body: JSON.stringify({ seat_ids: seatIds }),
      });
      const body = JSON.parse(await response.text()) as { version?: number; code?: string };
      latency.recordMs(performance.now() - t0);
      if (response.status === 201) {
        ok += 1;
        seatsHeld += seatIds.length;
        lastVersion = Math.max(lastVersion, body.version ?? 0);
      } else {
        const code = body.code ?? `http_${response.status}`;
        failures[code] = (failures[code] ?? 0) + 1;
      }
    } catch (error) {
      const code = error instanceof Error ? error.name : 'error';
      failures[code] = (failures[code] ?? 0) + 1;
    }
  };
  const stopTicker = ticker(2_000, () => `  holds: ${ok} ok, ${issued - ok - inFlight - skipped} failed, ${inFlight} in flight, ${skipped} skipped`);
  const startedAt = performance.now();
  for (;;) {
    const elapsed = performance.now() - startedAt;
    if (elapsed >= durationMs) break;
    const due = Math.floor((elapsed / 1000) * options.rate);
    while (issued < due) {
      if (inFlight >= options.maxInFlight) {
        skipped += due - issued;
        issued = due;
        break;
      }
      const count = random() < 0.5 ? 1 : 2;
      const seatIds = seats.slice(seatCursor, seatCursor + count);
      seatCursor += count;
      const index = issued;
      issued += 1;
      inFlight += 1;
      const promise = place(index, seatIds).finally(() => {
        inFlight -= 1;
        pending.delete(promise);
      });
      pending.add(promise);
    }
    await sleep(2);
  }
  await Promise.all(pending);
  stopTicker();
  http.close();
  const wallS = (performance.now() - startedAt) / 1000;
  return {
    attempted: issued - skipped,
    ok,
    skipped,
    failures,
    seatsHeld,
    lastVersion,
    wallS: round(wallS, 2),
    holdsPerSecond: round(ok / options.durationS, 1),
    latency: latency.summary(),
  };
}

// ---------------------------------------------------------------------------------------------
// Figures.

function summarizeHistogram(histogram: Histogram): LatencySummary {
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

function sumOf<T>(items: T[], pick: (item: T) => number): number {
  return items.reduce((sum, item) => sum + pick(item), 0);
}

interface CpuFigures {
  cpuS: number | null;
  cores: number | null;
}

function cpuFigures(before: number | null, after: number | null, wallS: number): CpuFigures {
  if (before === null || after === null) return { cpuS: null, cores: null };
  return { cpuS: round(after - before, 2), cores: round((after - before) / wallS, 2) };
}

interface RunResult {
  watchers: number;
  parser: Parser;
  client: WatcherClient;
  clientProcesses: number;
  connect: { wallMs: number; connected: number; failures: number; firstError: string | null; perSocket: LatencySummary[]; snapshotEncoding: string };
  holds: DriverResult;
  diffs: {
    delivered: number;
    deliveredPerSecond: number;
    broadcasts: number;
    broadcastsPerSecond: number;
    versionsNotReachingEveryWatcher: number;
    seatsHeld: number;
    seatsChangedPerWatcher: { min: number; max: number };
    staleDiffs: number;
  };
  /** receipt − committed_at_ms over every (watcher, diff); committed_at_ms is the earliest commit merged into the diff. */
  delay: LatencySummary;
  /** Measured in the server: broadcast call time − committed_at_ms (the tick wait plus any event-loop lag), and the call's own duration. */
  serverPublishDelay: LatencySummary;
  serverPublishCall: LatencySummary;
  serverEventLoopDelay: { p99Ms: number; maxMs: number };
  /** Per diff: the LAST watcher's receipt − committed_at_ms (the whole room served). */
  lastWatcherDelay: LatencySummary;
  /** Per diff: last watcher's receipt − first watcher's receipt (how long one broadcast takes to reach everyone). */
  broadcastSpread: LatencySummary;
  integrity: { badWatchers: number; gapWatchers: number; overlapWatchers: number; mismatchWatchers: number; behindWatchers: number; disconnected: number; referenceVersion: number; driverLastVersion: number; convergeMs: number };
  load: {
    wallS: number;
    server: CpuFigures & { userS: number; systemS: number; usPerDelivery: number; runQueueWaitS: number | null; eventLoopUtilization: number; rssMbIdle: number; rssMbConnected: number; rssMbEnd: number; heapUsedMbEnd: number; externalMbEnd: number };
    clients: CpuFigures & { systemS: number; usPerDelivery: number | null; runQueueWaitS: (number | null)[]; eventLoopUtilization: number[]; eventLoopDelayP99Ms: number[]; rssMb: (number | null)[] };
    driver: CpuFigures;
    postgres: CpuFigures;
    machineBusyCores: number | null;
    /** Share of the window in which some runnable task on the machine waited for a CPU (PSI cpu "some"). */
    machineCpuPressure: number | null;
  };
  profiles: { server: ProfileSummary; client: ProfileSummary | null } | null;
}

// ---------------------------------------------------------------------------------------------
// One run.

async function withSchema<T>(options: Options, work: (postgres: FanoutServerParams['postgres']) => Promise<T>): Promise<T> {
  if (options.connectionString === null) return work(null);
  const schema = `bench_fanout_${randomBytes(4).toString('hex')}`;
  const admin = connectPostgres({ connectionString: options.connectionString, poolSize: 1, applicationName: 'holdfast-bench' });
  await admin.query(`create schema ${schema}`);
  try {
    return await work({ connectionString: options.connectionString, schema });
  } finally {
    if (options.keepSchema) progress(`schema ${schema} kept`);
    else await admin.query(`drop schema ${schema} cascade`).catch((error: unknown) => progress(`could not drop schema ${schema}: ${String(error)}`));
    await admin.close();
  }
}

async function runOne(options: Options, watchers: number, parser: Parser, client: WatcherClient, runIndex: number): Promise<RunResult> {
  const label = `[${watchers} × ${parser} × ${client}]`;
  const runTag = `${randomBytes(3).toString('hex')}${runIndex}`;
  const showId = `fanout-${runTag}`;
  const definition = buildStadiumDefinition({ showId });
  const seats = definition.sections.flatMap((section) => section.rows.flatMap((row) => row.seats.map((seat) => seatIdOf(section.id, row.label, seat.label))));
  const random = mulberry32(options.seed + runIndex);
  for (let i = seats.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [seats[i], seats[j]] = [seats[j]!, seats[i]!];
  }
  const maxHolds = Math.ceil(options.rate * options.durationS * 1.1) + 16;
  const users = Math.ceil(maxHolds / holdsPerUser) + 4;

  return withSchema(options, async (postgres) => {
    const serverParams: FanoutServerParams = { showId, maxActiveHoldsPerUser: holdsPerUser, postgres };
    const server: ServerChild = new Child('server', forkTs(join(here, 'support/fanout-server.ts'), serverParams, serverEnv(options, parser)));
    const processCount = Math.ceil(watchers / options.perProcess);
    const clients: ClientChild[] = Array.from({ length: processCount }, (_, index) => {
      const share = Math.floor(watchers / processCount) + (index < watchers % processCount ? 1 : 0);
      const params: FanoutClientParams = { index, showId, watchers: share, parser, client, connectConcurrency: options.connectConcurrency, convergeTimeoutMs: 15_000 };
      return new Child(`client-${index}`, forkTs(join(here, 'fanout-client.ts'), params, {}));
    });
    try {
      const ready = await server.next('ready', 60_000);
      await Promise.all(clients.map((client) => client.next('booted', 60_000)));
      progress(`${label} server ${ready.url} (pid ${server.pid}), show ${showId} (${ready.seats} seats, version ${ready.version}); ${processCount} client process(es)`);
      const stats = async (reset = false): Promise<ServerStats> => {
        server.send({ type: 'stats', reset });
        return (await server.next('stats', 10_000)).stats;
      };
      const idle = await stats();
      const tokens = await createSessions(ready.url, users, runTag);

      // Connect every watcher (handshake + show:watch snapshot).
      const connectStart = performance.now();
      for (const client of clients) client.send({ type: 'connect', url: ready.url });
      const reports: ConnectReport[] = (await Promise.all(clients.map((client) => client.next('connected', 180_000)))).map((message) => message.report);
      const connectWallMs = round(performance.now() - connectStart, 1);
      const connected = sumOf(reports, (report) => report.connected);
      const connectFailures = sumOf(reports, (report) => report.failures);
      progress(`${label} ${connected}/${watchers} watchers connected in ${connectWallMs} ms (${connectFailures} failed${reports.find((r) => r.firstError)?.firstError ? `: ${reports.find((r) => r.firstError)!.firstError}` : ''})`);
      const afterConnect = await stats();
      await sleep(500); // let the connect burst's garbage and timers settle before measuring

      // Load window.
      const profileDir = join(resultsDir, 'fanout-prof');
      const serverProfile = join(profileDir, `server-${watchers}-${parser}-${client}.cpuprofile`);
      const clientProfile = join(profileDir, `client-${watchers}-${parser}-${client}.cpuprofile`);
      if (options.prof) {
        mkdirSync(profileDir, { recursive: true });
        server.send({ type: 'profile-start' });
        await sleep(50);
      }
      clients.forEach((client, index) => client.send({ type: 'load-start', profilePath: options.prof && index === 0 ? clientProfile : null }));
      const serverBefore = await stats(true);
      const serverWaitBefore = procRunQueueWaitS(server.pid);
      const clientWaitBefore = clients.map((client) => procRunQueueWaitS(client.pid));
      const pressureBefore = cpuPressureUs();
      const clientCpuBefore = clients.map((client) => procCpu(client.pid));
      const selfBefore = cpuSample();
      const machineBefore = machineTicks();
      const loadStartMs = performance.timeOrigin + performance.now();
      const holds = await driveHolds(options, ready.url, showId, tokens, seats, runTag);
      await sleep(options.tickMs + 50); // the last diff's tick
      const serverAfter = await stats();
      const serverWaitAfter = procRunQueueWaitS(server.pid);
      const clientWaitAfter = clients.map((client) => procRunQueueWaitS(client.pid));
      const pressureAfter = cpuPressureUs();
      const self = cpuSince(selfBefore);
      const machineAfter = machineTicks();
      const clientRss = clients.map((client) => procRssMb(client.pid));
      let serverProfiled = false;
      if (options.prof) {
        server.send({ type: 'profile-stop', path: serverProfile });
        await server.next('profiled', 30_000);
        serverProfiled = true;
      }
      const wallS = self.wallS;

      // Integrity: every watcher against a fresh snapshot.
      for (const client of clients) client.send({ type: 'finish' });
      const results: ClientResult[] = (await Promise.all(clients.map((client) => client.next('result', 60_000)))).map((message) => message.result);
      // The watchers may still be draining a backlog when the driver stops: their CPU counts until they have it all.
      const clientCpuAfter = clients.map((client) => procCpu(client.pid));
      const clientWallS = (performance.timeOrigin + performance.now() - loadStartMs) / 1000;
      const clientProfiled = options.prof && (await clients[0]!.next('profiled', 1_000).then(() => true, () => false));
      const profiles = serverProfiled ? { server: summarizeProfile(serverProfile), client: clientProfiled ? summarizeProfile(clientProfile) : null } : null;

      const delays = build({ numberOfSignificantValueDigits: 3 });
      for (const result of results) delays.add(decodeFromCompressedBase64(result.delayHistogram));
      const versions = new Map<number, VersionReceipt>();
      for (const result of results) {
        for (const receipt of result.versions) {
          const known = versions.get(receipt[0]);
          if (known === undefined) versions.set(receipt[0], [...receipt]);
          else {
            known[2] = Math.min(known[2], receipt[2]);
            known[3] = Math.max(known[3], receipt[3]);
            known[4] += receipt[4];
          }
        }
      }
      const lastWatcher = new LatencyHistogram();
      const spread = new LatencyHistogram();
      let partial = 0;
      for (const [, committedAtMs, firstMs, lastMs, receivers] of versions.values()) {
        lastWatcher.recordMs(lastMs - committedAtMs);
        spread.recordMs(lastMs - firstMs);
        if (receivers < connected) partial += 1;
      }
      const delivered = sumOf(results, (result) => result.diffs);
      const lastDiffAtMs = Math.max(...results.map((result) => result.lastDiffAtMs ?? loadStartMs));
      const deliverySpanS = Math.max(0.001, (lastDiffAtMs - loadStartMs) / 1000);
      const broadcasts = serverAfter.diffsBroadcast - serverBefore.diffsBroadcast;
      const serverCpuS = (serverAfter.cpu.user + serverAfter.cpu.system - serverBefore.cpu.user - serverBefore.cpu.system) / 1e6;
      const serverElu = (serverAfter.elu.active - serverBefore.elu.active) / (serverAfter.elu.active - serverBefore.elu.active + serverAfter.elu.idle - serverBefore.elu.idle);
      const mb = (bytes: number): number => round(bytes / 2 ** 20, 1);
      const changed = results.map((result) => result.seatsChangedPerWatcher);
      const total = (cpu: { userS: number; systemS: number } | null): number | null => (cpu === null ? null : cpu.userS + cpu.systemS);
      const clientCpu = clientCpuBefore.map((before, index) => cpuFigures(total(before), total(clientCpuAfter[index] ?? null), clientWallS));
      const clientSystemS = clientCpuBefore.reduce((sum, before, index) => sum + ((clientCpuAfter[index]?.systemS ?? 0) - (before?.systemS ?? 0)), 0);

      const run: RunResult = {
        watchers,
        parser,
        client,
        clientProcesses: processCount,
        connect: {
          wallMs: connectWallMs,
          connected,
          failures: connectFailures,
          firstError: reports.find((report) => report.firstError !== null)?.firstError ?? null,
          perSocket: reports.map((report) => report.perSocket),
          snapshotEncoding: reports[0]?.snapshotEncoding ?? 'none',
        },
        holds,
        diffs: {
          delivered,
          deliveredPerSecond: round(delivered / deliverySpanS, 0),
          broadcasts,
          broadcastsPerSecond: round(broadcasts / wallS, 1),
          versionsNotReachingEveryWatcher: partial,
          seatsHeld: holds.seatsHeld,
          seatsChangedPerWatcher: { min: Math.min(...changed.map((c) => c.min)), max: Math.max(...changed.map((c) => c.max)) },
          staleDiffs: sumOf(results, (result) => result.staleDiffs),
        },
        delay: summarizeHistogram(delays),
        serverPublishDelay: summarizeHistogram(decodeFromCompressedBase64(serverAfter.publishDelay)),
        serverPublishCall: summarizeHistogram(decodeFromCompressedBase64(serverAfter.publishCall)),
        serverEventLoopDelay: { p99Ms: round(serverAfter.eventLoopDelayP99Ms, 2), maxMs: round(serverAfter.eventLoopDelayMaxMs, 2) },
        lastWatcherDelay: lastWatcher.summary(),
        broadcastSpread: spread.summary(),
        integrity: {
          badWatchers: sumOf(results, (result) => result.badWatchers) + (watchers - connected),
          gapWatchers: sumOf(results, (result) => result.gapWatchers),
          overlapWatchers: sumOf(results, (result) => result.overlapWatchers),
          mismatchWatchers: sumOf(results, (result) => result.mismatchWatchers),
          behindWatchers: sumOf(results, (result) => result.behindWatchers),
          disconnected: sumOf(results, (result) => result.disconnected),
          referenceVersion: Math.max(...results.map((result) => result.referenceVersion)),
          driverLastVersion: holds.lastVersion,
          convergeMs: Math.max(...results.map((result) => result.convergeMs)),
        },
        load: {
          wallS,
          server: {
            cpuS: round(serverCpuS, 2),
            cores: round(serverCpuS / wallS, 2),
            userS: round((serverAfter.cpu.user - serverBefore.cpu.user) / 1e6, 2),
            systemS: round((serverAfter.cpu.system - serverBefore.cpu.system) / 1e6, 2),
            usPerDelivery: round((serverCpuS * 1e6) / Math.max(1, delivered), 1),
            runQueueWaitS: serverWaitBefore !== null && serverWaitAfter !== null ? round(serverWaitAfter - serverWaitBefore, 2) : null,
            eventLoopUtilization: round(serverElu, 3),
            rssMbIdle: mb(idle.memory.rss),
            rssMbConnected: mb(afterConnect.memory.rss),
            rssMbEnd: mb(serverAfter.memory.rss),
            heapUsedMbEnd: mb(serverAfter.memory.heapUsed),
            externalMbEnd: mb(serverAfter.memory.external),
          },
          clients: {
            cpuS: clientCpu.every((c) => c.cpuS !== null) ? round(sumOf(clientCpu, (c) => c.cpuS ?? 0), 2) : null,
            cores: clientCpu.every((c) => c.cores !== null) ? round(sumOf(clientCpu, (c) => c.cores ?? 0), 2) : null,
            systemS: round(clientSystemS, 2),
            usPerDelivery: clientCpu.every((c) => c.cpuS !== null) ? round((sumOf(clientCpu, (c) => c.cpuS ?? 0) * 1e6) / Math.max(1, delivered), 1) : null,
            runQueueWaitS: clientWaitBefore.map((before, index) => {
              const after = clientWaitAfter[index] ?? null;
              return before !== null && after !== null ? round(after - before, 2) : null;
            }),
            eventLoopUtilization: results.map((result) => result.eventLoop.utilization),
            eventLoopDelayP99Ms: results.map((result) => result.eventLoop.delayP99Ms),
            rssMb: clientRss,
          },
          driver: { cpuS: self.nodeCpuS, cores: self.nodeCores },
          // Summed over the postgres processes alive at each end: a backend that exits in between
          // (any tenant's) takes its CPU with it, so a negative total means "unknown", not zero.
          postgres: self.postgresCpuS !== null && self.postgresCpuS >= 0 ? { cpuS: self.postgresCpuS, cores: self.postgresCores } : { cpuS: null, cores: null },
          machineBusyCores: machineBefore && machineAfter ? round(((machineAfter.busy - machineBefore.busy) / (machineAfter.total - machineBefore.total)) * self.machineCores, 2) : null,
          machineCpuPressure: pressureBefore !== null && pressureAfter !== null ? round((pressureAfter - pressureBefore) / 1e6 / wallS, 3) : null,
        },
        profiles,
      };
      const bad = run.integrity.badWatchers;
      progress(
        `${label} ${holds.ok} holds (${holds.holdsPerSecond}/s), ${delivered} diffs delivered (${run.diffs.deliveredPerSecond}/s, ${broadcasts} broadcasts); ` +
          `delay p50 ${run.delay.p50Ms} ms p99 ${run.delay.p99Ms} ms max ${run.delay.maxMs} ms (server-side publish p99 ${run.serverPublishDelay.p99Ms} ms); server ${run.load.server.cores} cores (ELU ${run.load.server.eventLoopUtilization}), ` +
          `(${run.load.server.usPerDelivery} µs/delivery, waited ${run.load.server.runQueueWaitS} s for a CPU), clients ${run.load.clients.cores} cores (${run.load.clients.usPerDelivery} µs/delivery), ` +
          `machine ${run.load.machineBusyCores} cores busy, CPU pressure ${run.load.machineCpuPressure}; bad watchers ${bad}`,
      );
      return run;
    } finally {
      const stopStart = performance.now();
      await Promise.all(clients.map((client) => client.stop({ type: 'close' }, 10_000)));
      const clientsStoppedMs = performance.now() - stopStart;
      await server.stop({ type: 'close' }, 15_000);
      progress(`${label} stopped: clients in ${round(clientsStoppedMs, 0)} ms, server in ${round(performance.now() - stopStart - clientsStoppedMs, 0)} ms`);
    }
  });
}

// ---------------------------------------------------------------------------------------------

export async function run(argv: string[]): Promise<void> {
  const options = parseOptions(argv);
  if (options === null) return;
  const fileLimit = openFileLimit();
  const largest = Math.max(...options.watchers);
  // The server holds one descriptor per watcher; each client process one per its watchers.
  const needed = largest + 256;
  if (fileLimit.soft !== null && needed > fileLimit.soft) {
    throw new Error(`ulimit -n is ${fileLimit.soft}: ${largest} watchers need about ${needed} descriptors in the server process; raise it (ulimit -n ${needed}) or lower --watchers`);
  }
  let postgresVersion: string | null = null;
  if (options.connectionString !== null) {
    const admin = connectPostgres({ connectionString: options.connectionString, poolSize: 1, applicationName: 'holdfast-bench' });
    postgresVersion = (await admin.query<{ server_version: string }>('show server_version')).rows[0]?.server_version ?? null;
    await admin.close();
  }
  const machine = machineInfo(postgresVersion);
  progress(
    `fanout: watchers ${options.watchers.join(',')} × parsers ${options.parsers.join(',')} × clients ${options.clients.join(',')}; ${options.rate} holds/s for ${options.durationS} s; DIFF_TICK_MS ${options.tickMs}; ` +
      `${options.connectionString === null ? 'PGlite' : `PostgreSQL ${postgresVersion}`}; ulimit -n ${fileLimit.soft}; ${machine.cpus} cpus, load ${machine.loadAverage1m}`,
  );
  const runs: RunResult[] = [];
  let index = 0;
  for (const watchers of options.watchers) {
    for (const parser of options.parsers) {
      for (const client of options.clients) {
        runs.push(await runOne(options, watchers, parser, client, index));
        index += 1;
      }
    }
  }
  const targetMs = 250;
  const atLargest = runs.filter((r) => r.watchers === largest);
  const headlineRun = atLargest.find((r) => r.parser === 'msgpack' && r.client === 'lean') ?? atLargest.find((r) => r.parser === 'msgpack') ?? atLargest[0]!;
  const socketIoRun = atLargest.find((r) => r.parser === headlineRun.parser && r.client === 'socketio');
  const headline = {
    watchers: headlineRun.watchers,
    parser: headlineRun.parser,
    client: headlineRun.client,
    p99DelayMs: headlineRun.delay.p99Ms,
    targetP99Ms: targetMs,
    serverPublishP99Ms: headlineRun.serverPublishDelay.p99Ms,
    badWatchers: headlineRun.integrity.badWatchers,
    machineCpuPressure: headlineRun.load.machineCpuPressure,
    /** The same watchers through socket.io-client, whose own decoding competes with the server for the 2 cores. */
    socketIoClientP99DelayMs: socketIoRun?.delay.p99Ms ?? null,
    pass: headlineRun.delay.p99Ms < targetMs && headlineRun.integrity.badWatchers === 0,
  };
  const table = runs.map((r) => ({
    watchers: r.watchers,
    parser: r.parser,
    client: r.client,
    connectMs: r.connect.wallMs,
    holdsPerS: r.holds.holdsPerSecond,
    diffsPerS: r.diffs.deliveredPerSecond,
    p50Ms: r.delay.p50Ms,
    p99Ms: r.delay.p99Ms,
    maxMs: r.delay.maxMs,
    serverPublishP99Ms: r.serverPublishDelay.p99Ms,
    badWatchers: r.integrity.badWatchers,
    serverCores: r.load.server.cores,
    clientCores: r.load.clients.cores,
    serverRssMb: r.load.server.rssMbEnd,
    cpuPressure: r.load.machineCpuPressure,
  }));
  writeResult('fanout', {
    headline,
    table,
    config: {
      watchers: options.watchers,
      parsers: options.parsers,
      clients: options.clients,
      rate: options.rate,
      durationS: options.durationS,
      diffTickMs: options.tickMs,
      serverEnv: serverEnv(options, 'msgpack'),
      showPolicy: { maxActiveHoldsPerUser: holdsPerUser },
      holdRequest: 'REST POST /v1/shows/{id}/holds, 1-2 random seat_ids (shuffled, never colliding), Idempotency-Key per hold',
      perProcess: options.perProcess,
      connectConcurrency: options.connectConcurrency,
      maxInFlight: options.maxInFlight,
      database: options.connectionString === null ? 'pglite' : 'postgres',
      openFiles: fileLimit,
      quick: options.quick,
    },
    machine,
    definitions: {
      delay: 'per (watcher, diff): receipt time in the watcher process − committed_at_ms (the EARLIEST commit merged into that diff, so the tick wait of up to DIFF_TICK_MS is included)',
      serverPublishDelay: 'per diff, measured in the server: when the room broadcast (RoomPublisher.publish) starts − committed_at_ms (tick wait + server event-loop lag)',
      broadcastSpread: 'per diff: last watcher receipt − first watcher receipt (time for one broadcast to reach the whole room, incl. client backlog)',
      deliveredPerSecond: 'diffs received, summed over watchers, from the first hold to the last receipt',
      badWatchers: 'watchers with a version gap, a final seat map different from a fresh snapshot, a dropped connection, or that never connected (must be 0)',
      usPerDelivery: 'process CPU in the load window / diffs delivered: the cost of one diff to one watcher (the server figure includes the hold path)',
      runQueueWaitS: 'seconds the process threads were runnable but waiting for a CPU (schedstat): > wall time means it was starved',
      machineCpuPressure: 'PSI cpu some: share of the window in which some task on the machine waited for a CPU (other tenants included)',
    },
    runs,
  });
  if (!runs.every((r) => r.integrity.badWatchers === 0)) process.exitCode = 1;
}
