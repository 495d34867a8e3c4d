/**
 * Runs the deterministic simulator over many seeds.
 *
 *   npm run sim -- --seeds 2000               seeds 1..2000
 *   npm run sim -- --seeds 100 --from 5000    seeds 5000..5099
 *   npm run sim -- --seeds 1 --from 42 --trace    replays seed 42, printing every action
 *   --steps K        safety-phase steps per seed (default 250)
 *   --max-failures F stop after F failing seeds (default 10)
 *   --journal J      memory (default), pglite (the Postgres journal on embedded PGlite), or
 *                    postgres (on DATABASE_URL, in a scratch schema dropped afterwards); the SQL
 *                    journals run about 100× slower, so use few seeds
 *   --payments       fans pay through the real order saga and the simulated PSP (needs an SQL
 *                    journal; CI runs these with --steps 400)
 *   --strict-reads   a committed read that fails with a TypeError breaks `reads_fail_cleanly`
 *
 * Exit status 1 if any seed broke an invariant; each failure prints its seed and a replay command.
 */
import { randomBytes } from 'node:crypto';
import { connectPostgres, openPglite, type SqlDatabase } from '../../src/persistence/database.js';
import { migrate } from '../../src/persistence/migrate.js';
import { mergeStats, newStats, runSeed, type SimOptions, type SimResult } from './simulator.js';
import { sqlStore } from './store.js';

interface CliOptions {
  seeds: number;
  from: number;
  steps: number | undefined;
  trace: boolean;
  maxFailures: number;
  journal: 'memory' | 'pglite' | 'postgres';
  payments: boolean;
  strictReads: boolean;
}

function parseArgs(argv: string[]): CliOptions {
  const options: CliOptions = { seeds: 500, from: 1, steps: undefined, trace: false, maxFailures: 10, journal: 'memory', payments: false, strictReads: false };
  for (let index = 0; index < argv.length; index += 1) {
    const arg = argv[index]!;
    const value = (): number => {
      const raw = argv[index + 1];
      index += 1;
      const parsed = Number(raw);
      if (raw === undefined || !Number.isInteger(parsed) || parsed < 0) throw new Error(`${arg} needs a non-negative integer, got ${raw ?? 'nothing'}`);
      return parsed;
    };
    switch (arg) {
      case '--seeds':
        options.seeds = value();
        break;
      case '--from':
      case '--seed':
        options.from = value();
        break;
      case '--steps':
        options.steps = value();
        break;
      case '--max-failures':
        options.maxFailures = Math.max(1, value());
        break;
      case '--trace':
        options.trace = true;
        break;
      case '--payments':
        options.payments = true;
        break;
      case '--strict-reads':
        options.strictReads = true;
        break;
      case '--journal': {
        const journal = argv[index + 1];
        index += 1;
        if (journal !== 'memory' && journal !== 'pglite' && journal !== 'postgres') throw new Error(`--journal takes memory, pglite or postgres, got ${journal ?? 'nothing'}`);
        options.journal = journal;
        break;
      }
      case '--help':
      case '-h':
        console.log('usage: npm run sim -- [--seeds N] [--from S] [--steps K] [--trace] [--max-failures F] [--journal memory|pglite|postgres] [--payments] [--strict-reads]');
        process.exit(0);
        break;
      default:
        throw new Error(`unknown argument ${arg}`);
    }
  }
  if (options.payments && options.journal === 'memory') throw new Error('--payments needs --journal pglite or postgres: the order saga runs on SQL');
  return options;
}

function formatFaults(result: { faults: Record<string, number> }): string {
  return Object.entries(result.faults)
    .map(([kind, count]) => `${kind}=${count}`)
    .join(' ');
}

function printFailure(result: SimResult, options: CliOptions): void {
  const failure = result.failure!;
  console.error(`\nFAIL seed ${result.seed}: invariant ${failure.invariant} broken in the ${failure.phase} phase at step ${failure.step}`);
  console.error(`  ${failure.detail.split('\n').join('\n  ')}`);
  console.error(
    `  replay: npm run sim -- --seeds 1 --from ${result.seed}${options.steps === undefined ? '' : ` --steps ${options.steps}`}${options.journal === 'memory' ? '' : ` --journal ${options.journal}`}${options.payments ? ' --payments' : ''}${options.strictReads ? ' --strict-reads' : ''} --trace`,
  );
}

/** A migrated SQL database for the Postgres journal, and how to dispose of it. */
async function openSqlDatabase(kind: 'pglite' | 'postgres'): Promise<{ db: SqlDatabase; dispose: () => Promise<void> }> {
  if (kind === 'pglite') {
    const db = await openPglite();
    await migrate(db);
    return { db, dispose: () => db.close() };
  }
  const connectionString = process.env['DATABASE_URL'];
  if (!connectionString) throw new Error('--journal postgres needs DATABASE_URL');
  const schema = `hf_sim_${randomBytes(6).toString('hex')}`;
  const admin = connectPostgres({ connectionString, poolSize: 1 });
  await admin.query(`create schema ${schema}`);
  const db = connectPostgres({ connectionString, schema, poolSize: 4 });
  await migrate(db);
  return {
    db,
    dispose: async () => {
      await db.close();
      await admin.query(`drop schema ${schema} cascade`);
      await admin.close();
    },
  };
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const sql = options.journal === 'memory' ? null : await openSqlDatabase(options.journal);
  const store = sql === null ? null : sqlStore(sql.db);
  const total = newStats();
  const failures: SimResult[] = [];
  const startedMs = Date.now();
  let passed = 0;
  let ran = 0;
  const progressEvery = Math.max(1, Math.min(100, Math.ceil(options.seeds / 10)));
  for (let seed = options.from; seed < options.from + options.seeds; seed += 1) {
    const simOptions: SimOptions = {};
    if (options.steps !== undefined) simOptions.steps = options.steps;
    if (options.trace) simOptions.trace = (line) => console.log(line);
    if (options.payments) simOptions.payments = true;
    if (options.strictReads) simOptions.strictReads = true;
    if (store !== null) {
      await store.reset();
      simOptions.store = store;
    }
    const result = await runSeed(seed, simOptions);
    ran += 1;
    mergeStats(total, result.stats);
    if (result.ok) passed += 1;
    else {
      failures.push(result);
      printFailure(result, options);
      if (failures.length >= options.maxFailures) {
        console.error(`\nstopping after ${failures.length} failing seeds`);
        break;
      }
    }
    if (!options.trace && ran % progressEvery === 0) {
      console.log(`  ${ran}/${options.seeds} seeds, ${failures.length} failed, ${((Date.now() - startedMs) / 1000).toFixed(1)}s`);
    }
  }
  await sql?.dispose();
  const seconds = ((Date.now() - startedMs) / 1000).toFixed(1);
  console.log(
    `sim: ${passed}/${ran} seeds passed (from ${options.from}, ${options.journal} journal) in ${seconds}s; ${total.steps} steps, ${total.intents} intents, ${total.deliveries} commands delivered, ${total.commits} commits, ${total.recoveries} recoveries, ${total.actors} actors, ${total.snapshotsWritten} snapshots; events: ${Object.entries(total.events)
      .map(([type, count]) => `${type}=${count}`)
      .join(' ')}; faults: ${formatFaults(total)}; crashes at await points: ${Object.entries(total.crashPoints)
      .map(([point, count]) => `${point}=${count}`)
      .join(' ')}; coverage: ${Object.entries(total.coverage)
      .map(([name, count]) => `${name}=${count}`)
      .join(' ')}`,
  );
  if (failures.length > 0) {
    console.error(`failing seeds: ${failures.map((failure) => `${failure.seed} (${failure.failure!.invariant})`).join(', ')}`);
    process.exit(1);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(2);
});
