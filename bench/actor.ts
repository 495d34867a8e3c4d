/**
 * `npm run bench -- actor`: durable claims per second of ONE show (the actor's group commit at
 * its natural batch sizes, synchronous_commit on) against the approach most guides recommend,
 * one conditional UPDATE transaction per claim over a 64-connection pool, on the same PostgreSQL;
 * plus recovery time of a 50,000-seat show from a 1,000,000-event journal and memory per active show.
 *
 * Load (same for both sides): `--clients` virtual fans in a closed loop, each asking for 1-4
 * adjacent seats chosen at random from the seat map as the clients see it (updated from every
 * reply, so it is stale by the claims in flight: concurrent fans collide and get
 * seat_unavailable, more so as the show fills). Both outcomes are "claims answered". A round
 * ends when the clients see no free seat (sold out); rounds on fresh shows continue until
 * `--duration` seconds of load have run (preparing a round is not timed).
 *
 * Everything runs in a schema of its own (bench_actor_<random>), dropped at the end.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { fingerprintOf, scopeIdempotencyKey } from '../src/actors/idempotency.js';
import { limits } from '../src/actors/limits.js';
import type { ShowReply } from '../src/actors/messages.js';
import type { ShowDefinition } from '../src/actors/show-definition.js';
import { LocalShowRouter } from '../src/actors/show-router.js';
import { seatStatus } from '../src/actors/show-state.js';
import { connectPostgres, type SqlDatabase } from '../src/persistence/database.js';
import { migrate } from '../src/persistence/migrate.js';
import { resultCodes } from '../src/protocol/result-codes.js';
import { ShowDefinitionStore } from '../src/persistence/show-definitions.js';
import { buildStadiumDefinition } from '../src/seed/stadium.js';
import { systemClock, systemTimers } from '../src/shared/clock.js';
import { newHoldId } from '../src/shared/ids.js';
import { silentLogger } from '../src/shared/logger.js';
import { runMemory } from './support/actor-memory.js';
import { runRecovery } from './support/actor-recovery.js';
import { probeCommitLatency } from './support/commit-latency.js';
import { TimedJournal, timeCorePerClaim, timeSqlFunction, type CommitBreakdown, type CorePerClaim, type SqlFunctionTiming } from './support/commit-analysis.js';
import {
  cpuSample,
  cpuSince,
  Distribution,
  LatencyHistogram,
  machineInfo,
  progress,
  round,
  ticker,
  writeResult,
  type CpuUse,
  type DistributionSummary,
  type LatencySummary,
} from './support/report.js';
import { mulberry32, neighbours, partySize, seatLayout, type SeatLayout } from './support/show-history.js';

const phaseNames = ['baseline', 'actor', 'recovery', 'memory'] as const;
type PhaseName = (typeof phaseNames)[number];

const help = `npm run bench -- actor [flags]
  --duration <s>          seconds of load per side (default 10; --quick 3)
  --clients <n>           concurrent virtual clients, closed loop (default 2000; --quick 500)
  --pool <n>              baseline pg.Pool size (default 64)
  --recovery-events <n>   journal length for the recovery test (default 1000000; --quick 200000)
  --recovery-batch <n>    commands per journal row when writing it (default 250)
  --recovery-runs <n>     timed activations with the snapshot; the median is reported (default 3)
  --no-snapshot-cap <s>   give up timing recovery without the snapshot after this long (default 60)
  --memory-shows <n>      50,000-seat shows activated for the memory figure (default 20; --quick 5)
  --orphan-rule <on|off>  the actor shows' orphan-seat rule (default on, as shows are created;
                          the baseline's UPDATE has no such rule: off compares like for like)
  --phases <list>         comma list of ${phaseNames.join(',')} (default all)
  --seed <n>              seat-choice seed (default 42)
  --quick                 CI-sized run (~30 s)
  --keep-schema           leave the bench schema in place (debugging)
DATABASE_URL defaults to postgres://postgres@127.0.0.1:5432/test.`;

interface Options {
  connectionString: string;
  durationS: number;
  clients: number;
  poolSize: number;
  recoveryEvents: number;
  recoveryBatch: number;
  recoveryRuns: number;
  noSnapshotCapS: number;
  memoryShows: number;
  phases: Set<PhaseName>;
  orphanRule: boolean;
  seed: number;
  quick: boolean;
  keepSchema: boolean;
}

function parseOptions(argv: string[]): Options | null {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: 'string' },
      clients: { type: 'string' },
      pool: { type: 'string' },
      'recovery-events': { type: 'string' },
      'recovery-batch': { type: 'string' },
      'recovery-runs': { type: 'string' },
      'no-snapshot-cap': { type: 'string' },
      'memory-shows': { type: 'string' },
      phases: { type: 'string' },
      'orphan-rule': { type: 'string' },
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
  const number = (name: string, raw: string | undefined, fallback: number): number => {
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number, got "${raw}"`);
    return value;
  };
  const phases = new Set<PhaseName>();
  for (const name of (values.phases ?? phaseNames.join(',')).split(',').map((part) => part.trim()).filter(Boolean)) {
    if (!(phaseNames as readonly string[]).includes(name)) throw new Error(`unknown phase "${name}" (phases: ${phaseNames.join(', ')})`);
    phases.add(name as PhaseName);
  }
  const orphanRule = values['orphan-rule'] ?? 'on';
  if (orphanRule !== 'on' && orphanRule !== 'off') throw new Error(`--orphan-rule must be on or off, got "${orphanRule}"`);
  return {
    connectionString: process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test',
    durationS: number('duration', values.duration, quick ? 3 : 10),
    clients: Math.round(number('clients', values.clients, quick ? 500 : 2_000)),
    poolSize: Math.round(number('pool', values.pool, 64)),
    recoveryEvents: Math.round(number('recovery-events', values['recovery-events'], quick ? 200_000 : 1_000_000)),
    recoveryBatch: Math.round(number('recovery-batch', values['recovery-batch'], 250)),
    recoveryRuns: Math.round(number('recovery-runs', values['recovery-runs'], 3)),
    noSnapshotCapS: number('no-snapshot-cap', values['no-snapshot-cap'], 60),
    memoryShows: Math.round(number('memory-shows', values['memory-shows'], quick ? 5 : 20)),
    phases,
    orphanRule: orphanRule === 'on',
    seed: Math.round(number('seed', values.seed, 42)),
    quick,
    keepSchema: values['keep-schema'] === true,
  };
}

// ---------------------------------------------------------------------------------------------
// Load: the clients' view of the seat map and the closed-loop driver shared by both sides.

/** The seat map as the clients know it: free until some reply said otherwise. O(1) random pick. */
class ClientSeatView {
  private readonly free: Int32Array;
  private readonly position: Int32Array;
  private freeCount: number;

  constructor(private readonly layout: SeatLayout) {
    const seats = layout.ids.length;
    this.free = new Int32Array(seats);
    this.position = new Int32Array(seats);
    for (let seat = 0; seat < seats; seat += 1) {
      this.free[seat] = seat;
      this.position[seat] = seat;
    }
    this.freeCount = seats;
  }

  get freeSeats(): number {
    return this.freeCount;
  }

  isFree(seat: number): boolean {
    return this.position[seat]! >= 0;
  }

  markTaken(seat: number): void {
    const at = this.position[seat]!;
    if (at < 0) return;
    const last = this.free[this.freeCount - 1]!;
    this.free[at] = last;
    this.position[last] = at;
    this.position[seat] = -1;
    this.freeCount -= 1;
  }

  /** 1-4 adjacent seats the client believes free, or null when it sees the show sold out. */
  pick(random: () => number): number[] | null {
    if (this.freeCount === 0) return null;
    const first = this.free[Math.floor(random() * this.freeCount)]!;
    return neighbours(this.layout, first, partySize(random), (seat) => this.isFree(seat));
  }
}

interface ClaimOutcome {
  /** 'ok', a refusal code, or 'error:<what>' for a claim that was not answered. */
  code: string;
  /** Seats the reply says are taken (so the client's map learns). */
  unavailable: number[];
}

type Claim = (client: number, sequence: number, seats: number[]) => Promise<ClaimOutcome>;

class LoadStats {
  readonly latency = new LatencyHistogram();
  readonly codes = new Map<string, number>();
  answered = 0;
  successes = 0;
  seatsHeld = 0;
  errors = 0;
  seconds = 0;
  inFlight = 0;

  count(code: string): void {
    this.codes.set(code, (this.codes.get(code) ?? 0) + 1);
  }
}

/** Runs `clients` closed-loop clients until the view is sold out or `deadlineMs` (performance.now) passes. */
async function drive(clients: number, deadlineMs: number, view: ClientSeatView, claim: Claim, stats: LoadStats, random: () => number): Promise<'sold_out' | 'duration'> {
  let hitDeadline = false;
  const client = async (index: number): Promise<void> => {
    for (let sequence = 0; ; sequence += 1) {
      if (performance.now() >= deadlineMs) {
        hitDeadline = true;
        return;
      }
      const seats = view.pick(random);
      if (seats === null) return;
      stats.inFlight += 1;
      const startedMs = performance.now();
      const outcome = await claim(index, sequence, seats);
      stats.latency.recordMs(performance.now() - startedMs);
      stats.inFlight -= 1;
      stats.count(outcome.code);
      if (outcome.code.startsWith('error:')) {
        stats.errors += 1;
        continue;
      }
      stats.answered += 1;
      if (outcome.code === 'ok') {
        stats.successes += 1;
        stats.seatsHeld += seats.length;
        for (const seat of seats) view.markTaken(seat);
      } else {
        for (const seat of outcome.unavailable) view.markTaken(seat);
      }
    }
  };
  await Promise.all(Array.from({ length: clients }, (_, index) => client(index)));
  return hitDeadline ? 'duration' : 'sold_out';
}

interface RoundResult {
  showId: string;
  seconds: number;
  answered: number;
  successes: number;
  seatsHeld: number;
  endedBy: 'sold_out' | 'duration';
}

/** Rounds of load on fresh shows until `durationS` of load has run; `prepare` (untimed) readies each round's show. */
async function runRounds(
  label: string,
  options: Options,
  layout: SeatLayout,
  stats: LoadStats,
  prepare: (round: number) => Promise<{ showId: string; claim: Claim }>,
  afterRound: (result: RoundResult) => Promise<void>,
  extraProgress: () => string,
): Promise<RoundResult[]> {
  const random = mulberry32(options.seed);
  const rounds: RoundResult[] = [];
  let loadMs = 0;
  while (loadMs < options.durationS * 1000) {
    const { showId, claim } = await prepare(rounds.length + 1);
    const view = new ClientSeatView(layout);
    const before = { answered: stats.answered, successes: stats.successes, seatsHeld: stats.seatsHeld };
    let lastAnswered = stats.answered;
    let lastAt = performance.now();
    const stopTicker = ticker(1_000, () => {
      const now = performance.now();
      const rate = ((stats.answered - lastAnswered) * 1000) / (now - lastAt);
      lastAnswered = stats.answered;
      lastAt = now;
      return `${label} round ${rounds.length + 1}: ${stats.answered} answered (${Math.round(rate)}/s now), ${stats.successes} holds, ${view.freeSeats} seats look free, ${stats.inFlight} in flight${extraProgress()}`;
    });
    const startedMs = performance.now();
    const endedBy = await drive(options.clients, startedMs + options.durationS * 1000 - loadMs, view, claim, stats, random);
    const seconds = (performance.now() - startedMs) / 1000;
    stopTicker();
    loadMs += seconds * 1000;
    const result: RoundResult = {
      showId,
      seconds: round(seconds, 3),
      answered: stats.answered - before.answered,
      successes: stats.successes - before.successes,
      seatsHeld: stats.seatsHeld - before.seatsHeld,
      endedBy,
    };
    rounds.push(result);
    progress(`${label} round ${rounds.length}: ${result.answered} answered, ${result.successes} holds (${result.seatsHeld} seats) in ${result.seconds}s, ${endedBy}`);
    await afterRound(result);
    if (result.answered === 0) throw new Error(`${label}: a round answered no claim`);
  }
  stats.seconds = loadMs / 1000;
  return rounds;
}

interface SideResult {
  claimsAnswered: number;
  claimsPerSec: number;
  successes: number;
  successesPerSec: number;
  seatsHeld: number;
  outcomes: Record<string, number>;
  errors: number;
  seconds: number;
  rounds: number;
  roundsSoldOut: number;
  latency: LatencySummary;
  batches: {
    count: number;
    claimsPerBatch: DistributionSummary;
    commitMs?: DistributionSummary;
    eventsCommitted?: number;
  };
  cpu: CpuUse;
  verified: Record<string, boolean | number>;
  /** Actor only: where a claim's time goes (see support/commit-analysis.ts). */
  analysis?: { commitBreakdown: CommitBreakdown; sqlFunction: SqlFunctionTiming | null; corePerClaim: CorePerClaim };
}

function sideResult(stats: LoadStats, rounds: RoundResult[], batchSizes: Distribution, cpu: CpuUse, verified: Record<string, boolean | number>, commitMs?: Distribution): SideResult {
  return {
    claimsAnswered: stats.answered,
    claimsPerSec: round(stats.answered / stats.seconds, 0),
    successes: stats.successes,
    successesPerSec: round(stats.successes / stats.seconds, 0),
    seatsHeld: stats.seatsHeld,
    outcomes: Object.fromEntries([...stats.codes.entries()].sort(([a], [b]) => a.localeCompare(b))),
    errors: stats.errors,
    seconds: round(stats.seconds, 2),
    rounds: rounds.length,
    roundsSoldOut: rounds.filter((result) => result.endedBy === 'sold_out').length,
    latency: stats.latency.summary(),
    batches: { count: batchSizes.count, claimsPerBatch: batchSizes.summary(), ...(commitMs ? { commitMs: commitMs.summary() } : {}) },
    cpu,
    verified,
  };
}

// ---------------------------------------------------------------------------------------------
// Baseline: one conditional UPDATE per claim, all-or-nothing, over a 64-connection pool.

const baselineSchema = `
create table seats (
  show_id text not null,
  seat_id text not null,
  status text not null,
  holder text,
  held_until timestamptz,
  primary key (show_id, seat_id)
)`;

const claimSql = `UPDATE seats SET status = 'held', holder = $1, held_until = now() + interval '8 minutes'
  WHERE show_id = $2 AND seat_id = ANY($3) AND status = 'available' RETURNING seat_id`;

async function runBaseline(options: Options, schema: string, layout: SeatLayout): Promise<SideResult> {
  const pool = new pg.Pool({ connectionString: options.connectionString, max: options.poolSize, options: `-c search_path=${schema}`, application_name: 'holdfast-bench-baseline' });
  pool.on('error', () => undefined);
  try {
    await pool.query(baselineSchema);
    const syncCommit = (await pool.query<{ synchronous_commit: string }>('show synchronous_commit')).rows[0]!.synchronous_commit;
    if (syncCommit !== 'on') throw new Error(`baseline connections run with synchronous_commit=${syncCommit}`);
    // Open every connection before the clock starts: connection setup is not a claim's cost.
    const warm = await Promise.all(Array.from({ length: options.poolSize }, () => pool.connect()));
    for (const connection of warm) connection.release();

    const stats = new LoadStats();
    const batchSizes = new Distribution();
    const verified: Record<string, boolean | number> = {};
    let cpuStart = cpuSample();
    let cpuTotal: CpuUse | null = null;
    const rounds = await runRounds(
      'baseline',
      options,
      layout,
      stats,
      async (roundNumber) => {
        const showId = `baseline-r${roundNumber}`;
        await pool.query(`insert into seats (show_id, seat_id, status) select $1, unnest($2::text[]), 'available'`, [showId, layout.ids]);
        await pool.query('analyze seats');
        await pool.query('checkpoint');
        cpuStart = cpuSample();
        const claim: Claim = async (client, sequence, seats) => {
          const seatIds = seats.map((seat) => layout.ids[seat]!);
          const holder = `fan-${roundNumber}-${client}-${sequence}`;
          let connection: pg.PoolClient | undefined;
          try {
            connection = await pool.connect();
            await connection.query('BEGIN');
            const { rows } = await connection.query<{ seat_id: string }>(claimSql, [holder, showId, seatIds]);
            batchSizes.record(1);
            if (rows.length < seatIds.length) {
              await connection.query('ROLLBACK');
              const got = new Set(rows.map((row) => row.seat_id));
              return { code: 'seat_unavailable', unavailable: seats.filter((seat) => !got.has(layout.ids[seat]!)) };
            }
            await connection.query('COMMIT');
            return { code: 'ok', unavailable: [] };
          } catch (error) {
            await connection?.query('ROLLBACK').catch(() => undefined);
            const code = typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : 'unknown';
            return { code: `error:${code}`, unavailable: [] };
          } finally {
            connection?.release();
          }
        };
        return { showId, claim };
      },
      async (result) => {
        const used = cpuSince(cpuStart);
        cpuTotal = cpuTotal === null ? used : addCpu(cpuTotal, used);
        const { rows } = await pool.query<{ held: number; holders: number }>(
          `select count(*) filter (where status = 'held')::int as held, count(distinct holder)::int as holders from seats where show_id = $1`,
          [result.showId],
        );
        const ok = rows[0]!.held === result.seatsHeld && rows[0]!.holders === result.successes;
        verified[`round${Object.keys(verified).length + 1}`] = ok;
        if (!ok) throw new Error(`baseline lost or invented claims in ${result.showId}: table has ${rows[0]!.held} seats held by ${rows[0]!.holders} holders, clients saw ${result.seatsHeld} seats in ${result.successes} holds`);
      },
      () => `, ${pool.waitingCount} waiting for a connection`,
    );
    return sideResult(stats, rounds, batchSizes, cpuTotal!, { ...verified, allRounds: Object.values(verified).every(Boolean) });
  } finally {
    await pool.query('drop table if exists seats').catch(() => undefined);
    await pool.end();
  }
}

function addCpu(a: CpuUse, b: CpuUse): CpuUse {
  const wallS = a.wallS + b.wallS;
  const nodeCpuS = a.nodeCpuS + b.nodeCpuS;
  const postgresCpuS = a.postgresCpuS === null || b.postgresCpuS === null ? null : a.postgresCpuS + b.postgresCpuS;
  return {
    wallS: round(wallS, 2),
    nodeCpuS: round(nodeCpuS, 2),
    nodeCores: round(nodeCpuS / wallS, 2),
    nodeEventLoopUtilization: round((a.nodeEventLoopUtilization * a.wallS + b.nodeEventLoopUtilization * b.wallS) / wallS, 3),
    postgresCpuS: postgresCpuS === null ? null : round(postgresCpuS, 2),
    postgresCores: postgresCpuS === null ? null : round(postgresCpuS / wallS, 2),
    otherCores: a.otherCores === null || b.otherCores === null ? null : round((a.otherCores * a.wallS + b.otherCores * b.wallS) / wallS, 2),
    machineCores: a.machineCores,
  };
}

// ---------------------------------------------------------------------------------------------
// Actor: one show, LocalShowRouter + PostgresJournal, group commit at natural batch sizes.

/** The actor side's 50,000-seat show; `--orphan-rule off` turns the policy's orphan-seat rule off. */
function actorShowDefinition(showId: string, options: Options): ShowDefinition {
  return buildStadiumDefinition(options.orphanRule ? { showId } : { showId, policy: { orphanSeatRule: false } });
}

async function runActor(options: Options, db: SqlDatabase, layout: SeatLayout): Promise<SideResult> {
  const definitions = new ShowDefinitionStore(db);
  const batchSizes = new Distribution();
  const commitMs = new Distribution();
  let recording = false;
  let lastBatch = 0;
  let eventsCommitted = 0;
  const journal = new TimedJournal(db);
  const router = new LocalShowRouter({
    ownerId: 'bench-actor',
    journal,
    loadDefinition: (showId) => definitions.load(showId),
    clock: systemClock,
    timers: systemTimers,
    logger: silentLogger,
    observer: {
      batchCommitted: (_showId, commands, events, ms) => {
        if (!recording) return;
        batchSizes.record(commands);
        commitMs.record(ms);
        lastBatch = commands;
        eventsCommitted += events;
      },
    },
  });
  const stats = new LoadStats();
  const verified: Record<string, boolean | number> = {};
  let cpuStart = cpuSample();
  let cpuTotal: CpuUse | null = null;
  try {
    const rounds = await runRounds(
      'actor',
      options,
      layout,
      stats,
      async (roundNumber) => {
        const showId = `actor-r${roundNumber}`;
        await definitions.save(actorShowDefinition(showId, options));
        await router.availability(showId); // activation is not a claim's cost
        await db.query('checkpoint');
        cpuStart = cpuSample();
        recording = true;
        journal.recording = true;
        const claim: Claim = async (client, sequence, seats) => {
          const userId = `fan-${roundNumber}-${client}-${sequence}`;
          const request = { seats: seats.map((seat) => layout.ids[seat]!) };
          const reply: ShowReply = await router.submit(showId, {
            command: { type: 'place_hold', userId, holdId: newHoldId(showId), request },
            scopedKey: scopeIdempotencyKey(userId, `claim-${sequence}`),
            fingerprint: fingerprintOf({ type: 'place_hold', request }),
          });
          if (reply.ok) return { code: 'ok', unavailable: [] };
          if (reply.code === 'seat_unavailable') return { code: reply.code, unavailable: (reply.seats ?? []).map((id) => layout.indexById.get(id)!) };
          // Other final refusals (orphan_seat: the hold would strand a single seat...) are answers too,
          // recorded under their key; retryable ones (overloaded, commit_failed...) are not.
          if (!resultCodes[reply.code].retryable) return { code: reply.code, unavailable: [] };
          return { code: `error:${reply.code}`, unavailable: [] };
        };
        return { showId, claim };
      },
      async (result) => {
        recording = false;
        journal.recording = false;
        const used = cpuSince(cpuStart);
        cpuTotal = cpuTotal === null ? used : addCpu(cpuTotal, used);
        // In memory: the actor's committed state holds exactly the seats the clients were told they got.
        const availability = await router.availability(result.showId);
        let heldInMemory = 0;
        for (const status of availability!.seatStatus) if (status === seatStatus.held) heldInMemory += 1;
        // Durable: the journal has one hold_placed per successful claim, and a record per answered claim.
        const placed = await db.query<{ holds: number; seats: number }>(
          `select count(*)::int as holds, coalesce(sum(jsonb_array_length(e->'seats')), 0)::int as seats
           from journal j cross join lateral jsonb_array_elements(j.events) e
           where j.show_id = $1 and e->>'type' = 'hold_placed'`,
          [result.showId],
        );
        const records = await db.query<{ n: number }>('select count(*)::int as n from idempotency_keys where show_id = $1', [result.showId]);
        const lease = await db.query<{ version: number; events: number }>(
          `select l.version, (select coalesce(sum(jsonb_array_length(events)), 0)::int from journal where show_id = $1) as events
           from show_leases l where l.show_id = $1`,
          [result.showId],
        );
        const row = placed.rows[0]!;
        const ok =
          row.holds === result.successes &&
          row.seats === result.seatsHeld &&
          heldInMemory === result.seatsHeld &&
          records.rows[0]!.n === result.answered &&
          Number(lease.rows[0]!.version) === lease.rows[0]!.events;
        verified[`round${Object.keys(verified).length + 1}`] = ok;
        if (!ok) {
          throw new Error(
            `actor journal disagrees with the clients in ${result.showId}: journal ${row.holds} hold_placed / ${row.seats} seats, memory ${heldInMemory} seats held, ` +
              `${records.rows[0]!.n} idempotency records, lease version ${lease.rows[0]!.version} vs ${lease.rows[0]!.events} events; clients saw ${result.successes} holds / ${result.seatsHeld} seats / ${result.answered} answered`,
          );
        }
        await router.release(result.showId); // stop it and let its state go: rounds must not pile up memory
      },
      () => `, last batch ${lastBatch} claims, ${batchSizes.count} batches`,
    );
    const result = sideResult(stats, rounds, batchSizes, cpuTotal!, { ...verified, allRounds: Object.values(verified).every(Boolean) }, commitMs);
    progress('actor: timing the largest batch\'s SQL call in isolation and the pure core per claim');
    const sqlFunction = journal.largest === null ? null : await timeSqlFunction(db, journal.largest);
    const view = new ClientSeatView(layout);
    const random = mulberry32(options.seed);
    const corePerClaim = timeCorePerClaim(
      actorShowDefinition('core-per-claim', options),
      Math.min(options.clients, limits.batchCommandsMax),
      40_000,
      () => view.pick(random)?.map((seat) => layout.ids[seat]!) ?? null,
      (seatIds) => seatIds.forEach((id) => view.markTaken(layout.indexById.get(id)!)),
    );
    return { ...result, batches: { ...result.batches, eventsCommitted }, analysis: { commitBreakdown: journal.breakdown(), sqlFunction, corePerClaim } };
  } finally {
    await router.stopAll();
  }
}

// ---------------------------------------------------------------------------------------------

export async function run(argv: string[]): Promise<void> {
  const options = parseOptions(argv);
  if (options === null) return;
  const schema = `bench_actor_${randomBytes(4).toString('hex')}`;
  const admin = connectPostgres({ connectionString: options.connectionString, poolSize: 1, applicationName: 'holdfast-bench-admin' });
  await admin.query(`create schema ${schema}`);
  const db = connectPostgres({ connectionString: options.connectionString, schema, poolSize: 16, applicationName: 'holdfast-bench' });
  try {
    await migrate(db);
    const settings = (await db.query<{ name: string; setting: string }>(
      `select name, setting from pg_settings where name in ('synchronous_commit', 'fsync', 'wal_sync_method', 'commit_delay', 'shared_buffers', 'max_connections', 'full_page_writes')`,
    )).rows;
    const setting = (name: string): string => settings.find((row) => row.name === name)?.setting ?? '?';
    const synchronousCommit = (await db.query<{ synchronous_commit: string }>('show synchronous_commit')).rows[0]!.synchronous_commit;
    if (synchronousCommit !== 'on') throw new Error(`synchronous_commit is ${synchronousCommit}: commits would not be durable, refusing to benchmark`);
    const serverVersion = (await db.query<{ server_version: string }>('show server_version')).rows[0]!.server_version;
    const machine = machineInfo(serverVersion);
    progress(`schema ${schema}; PostgreSQL ${serverVersion}, synchronous_commit=${synchronousCommit}, fsync=${setting('fsync')}; ${machine.cpus} cpus, load ${machine.loadAverage1m}`);
    // The baseline is bound by this: the same code gives very different ratios on hosts whose disks flush at different speeds.
    const commitLatency = await probeCommitLatency(options.connectionString);
    progress(`one durable single-row commit: p50 ${commitLatency.p50Us} µs, p99 ${commitLatency.p99Us} µs (${commitLatency.commits} in a row)`);

    const definition = buildStadiumDefinition({ showId: 'layout' });
    const layout = seatLayout(definition);
    const figures: Record<string, unknown> = {
      params: {
        seatsPerShow: layout.ids.length,
        clients: options.clients,
        durationS: options.durationS,
        baselinePoolSize: options.poolSize,
        seatsPerClaim: '1-4 adjacent (15% 1, 45% 2, 15% 3, 25% 4)',
        actorOrphanSeatRule: options.orphanRule,
        batchCommandsMax: limits.batchCommandsMax,
        recoveryEvents: options.recoveryEvents,
        recoveryEventsPerJournalRow: options.recoveryBatch,
        snapshotEveryEvents: limits.snapshotEveryEvents,
        memoryShows: options.memoryShows,
        seed: options.seed,
        quick: options.quick,
        phases: [...options.phases],
      },
      machine,
      postgres: {
        version: serverVersion,
        synchronousCommit,
        fsync: setting('fsync'),
        walSyncMethod: setting('wal_sync_method'),
        commitDelay: setting('commit_delay'),
        fullPageWrites: setting('full_page_writes'),
        commitLatency,
      },
    };

    const targets: Record<string, boolean> = {};
    let baseline: SideResult | null = null;
    let actor: SideResult | null = null;
    if (options.phases.has('baseline')) {
      progress(`baseline: ${options.clients} clients, UPDATE ... WHERE status='available' per claim over ${options.poolSize} connections, ${options.durationS}s`);
      baseline = await runBaseline(options, schema, layout);
      figures['baseline'] = baseline;
      progress(`baseline: ${baseline.claimsPerSec} claims/s, p50 ${baseline.latency.p50Ms} ms, p99 ${baseline.latency.p99Ms} ms`);
    }
    if (options.phases.has('actor')) {
      progress(`actor: ${options.clients} clients, one show, group commit, ${options.durationS}s`);
      actor = await runActor(options, db, layout);
      figures['actor'] = actor;
      progress(`actor: ${actor.claimsPerSec} claims/s, p50 ${actor.latency.p50Ms} ms, p99 ${actor.latency.p99Ms} ms, mean batch ${actor.batches.claimsPerBatch.mean}`);
    }
    if (baseline !== null && actor !== null) {
      const ratio = actor.claimsPerSec / baseline.claimsPerSec;
      figures['ratio'] = {
        claimsPerSec: round(ratio, 2),
        successesPerSec: round(actor.successesPerSec / baseline.successesPerSec, 2),
        p50: round(actor.latency.p50Ms / baseline.latency.p50Ms, 3),
        p99: round(actor.latency.p99Ms / baseline.latency.p99Ms, 3),
      };
      targets['claimsPerSecAtLeast50x'] = ratio >= 50;
      targets['lowerP99'] = actor.latency.p99Ms < baseline.latency.p99Ms;
    }
    if (options.phases.has('recovery')) {
      progress(`recovery: writing a ${options.recoveryEvents}-event journal for a ${layout.ids.length}-seat show`);
      const recovery = await runRecovery(options, db);
      figures['recovery'] = recovery;
      targets['recoveryUnder2s'] = recovery.withSnapshotMs.median < 2_000;
    }
    if (options.phases.has('memory')) {
      progress(`memory: preparing ${options.memoryShows} busy ${layout.ids.length}-seat shows`);
      const memory = await runMemory(options, db, schema);
      figures['memory'] = memory;
      // "Under 5 MB" read strictly: 5,000,000 bytes.
      targets['memoryUnder5MB'] = memory.perShowRetainedBytes < 5e6;
      targets['memoryRssUnder5MB'] = memory.perShowRssBytes < 5e6;
      targets['memoryWithFullIdempotencyCacheUnder5MB'] = memory.perShowRetainedBytes + memory.idempotencyCacheAtCapacity.retainedBytes < 5e6;
      progress(`memory: ${(memory.perShowRetainedBytes / 1e6).toFixed(2)} MB retained per show (RSS ${(memory.perShowRssBytes / 1e6).toFixed(2)} MB), +${(memory.idempotencyCacheAtCapacity.retainedBytes / 1e6).toFixed(1)} MB with a full idempotency cache`);
    }
    figures['targets'] = targets;
    figures['machine'] = { ...machine, loadAverage1mAtEnd: round(os.loadavg()[0] ?? 0, 2) };
    writeResult('actor', figures);
  } finally {
    await db.close();
    if (options.keepSchema) progress(`schema ${schema} kept`);
    else await admin.query(`drop schema ${schema} cascade`).catch((error: unknown) => progress(`could not drop schema ${schema}: ${String(error)}`));
    await admin.close();
  }
}
