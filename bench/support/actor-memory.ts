/**
 * The actor bench's memory phase: K busy 50,000-seat shows (and one sold-out show) are stored
 * as snapshots, then activated through a LocalShowRouter in a clean child process
 * (actor-memory-child.ts, run with --expose-gc) that reports what they retain after full GCs.
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { seatStatus } from '../../src/actors/show-state.js';
import { encodeSnapshot } from '../../src/actors/snapshot-codec.js';
import type { SqlDatabase } from '../../src/persistence/database.js';
import { PostgresJournal } from '../../src/persistence/postgres-journal.js';
import { ShowDefinitionStore } from '../../src/persistence/show-definitions.js';
import { buildStadiumDefinition } from '../../src/seed/stadium.js';
import { systemClock } from '../../src/shared/clock.js';
import { progress } from './report.js';
import { mulberry32, ShowHistoryGenerator, writeLease } from './show-history.js';

const here = dirname(fileURLToPath(import.meta.url));

export interface MemoryOptions {
  connectionString: string;
  /** Busy shows activated together; the figures are per show. */
  memoryShows: number;
  seed: number;
}


export interface ShowStateFigures {
  soldSeats: number;
  heldSeats: number;
  activeHolds: number;
  claims: number;
  endedHolds: number;
  version: number;
}

export interface MemoryResult {
  shows: number;
  stateOfEachShow: ShowStateFigures;
  soldOutShow: { state: ShowStateFigures; retainedBytes: number };
  perShowRetainedBytes: number;
  perShowHeapUsedBytes: number;
  perShowExternalBytes: number;
  perShowArrayBuffersBytes: number;
  perShowRssBytes: number;
  /** Of the per-show figure, the immutable catalogue (Inventory); the rest is the show's state and actor. */
  inventoryBytes: number;
  idempotencyCacheAtCapacity: { entries: number; retainedBytes: number };
  processRssMb: number;
}

export async function runMemory(options: MemoryOptions, db: SqlDatabase, schema: string): Promise<MemoryResult> {
  const definitions = new ShowDefinitionStore(db);
  const journal = new PostgresJournal(db);
  /** Stores a show whose state (as a snapshot, as the actor writes them) has `soldSeats` sold and `activeHolds` live holds. */
  const prepare = async (showId: string, soldSeats: number, activeHolds: number, seed: number): Promise<ShowStateFigures> => {
    const definition = buildStadiumDefinition({ showId });
    const generator = new ShowHistoryGenerator(definition, { activeHolds, soldSeats }, mulberry32(seed));
    const step = (): void => {
      if (generator.nextBatch(500, systemClock.nowMs()).events.length === 0) throw new Error(`memory: show ${showId} cannot reach ${soldSeats} sold seats`);
    };
    while (generator.soldSeats < soldSeats) step();
    // A churn of released holds behind them, so the bounded memory of ended holds is full.
    const churnUntil = generator.state.version + 10_000;
    while (generator.state.version < churnUntil) step();
    await definitions.save(definition);
    await writeLease(db, showId, generator.state.version);
    await journal.writeSnapshot(showId, 1, { version: generator.state.version, data: encodeSnapshot(generator.state) });
    let sold = 0;
    let held = 0;
    for (const status of generator.state.seatStatus) {
      if (status === seatStatus.sold) sold += 1;
      if (status === seatStatus.held) held += 1;
    }
    return { soldSeats: sold, heldSeats: held, activeHolds: generator.activeHolds, claims: generator.state.claims.size, endedHolds: generator.state.endedHolds.size, version: generator.state.version };
  };
  // 30% of seats sold, ~1,000 live holds (~5% of seats): a show in the middle of its on-sale.
  const showIds = Array.from({ length: options.memoryShows }, (_, index) => `memory-show-${index + 1}`);
  await prepare('memory-warmup', 15_000, 1_000, options.seed);
  let described: ShowStateFigures | null = null;
  for (const [index, showId] of showIds.entries()) {
    const figures = await prepare(showId, 15_000, 1_000, options.seed + index + 1);
    described ??= figures;
  }
  // And one sold-out show (96% sold): sold holds stay in memory for good, so this is the ceiling.
  const soldOut = await prepare('memory-sold-out', 48_000, 200, options.seed - 1);
  progress(`memory: ${options.memoryShows} shows prepared; measuring in a child process`);
  const params = { connectionString: options.connectionString, schema, warmupShowId: 'memory-warmup', showIds, soldOutShowId: 'memory-sold-out', seed: options.seed };
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', join(here, 'actor-memory-child.ts'), JSON.stringify(params)], {
      cwd: join(here, '..', '..'),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`memory child exited with ${code}`))));
  });
  const measured = JSON.parse(output.trim().split('\n').pop()!) as Omit<MemoryResult, 'stateOfEachShow' | 'soldOutShow'> & { soldOutShowRetainedBytes: number };
  const { soldOutShowRetainedBytes, ...rest } = measured;
  return { ...rest, stateOfEachShow: described!, soldOutShow: { state: soldOut, retainedBytes: soldOutShowRetainedBytes } };
}
