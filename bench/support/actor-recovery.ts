/**
 * The actor bench's recovery phase: a long journal for one 50,000-seat show, written fast with
 * the pure core (valid events from decideBatch, inserted in bulk exactly as the journal stores
 * them, snapshots by the actor's rule and codec), then timed activations of a fresh actor.
 */
import { performance } from 'node:perf_hooks';
import { evolve } from '../../src/actors/evolve.js';
import { Inventory } from '../../src/actors/inventory.js';
import { limits } from '../../src/actors/limits.js';
import { LocalShowRouter } from '../../src/actors/show-router.js';
import { checkStateInvariants } from '../../src/actors/show-state.js';
import { decodeSnapshot, encodeSnapshot } from '../../src/actors/snapshot-codec.js';
import type { SqlDatabase } from '../../src/persistence/database.js';
import { PostgresJournal } from '../../src/persistence/postgres-journal.js';
import { ShowDefinitionStore } from '../../src/persistence/show-definitions.js';
import { buildStadiumDefinition } from '../../src/seed/stadium.js';
import { systemClock, systemTimers } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';
import { median, progress, round, ticker } from './report.js';
import { insertJournalRows, mulberry32, ShowHistoryGenerator, writeLease } from './show-history.js';

export interface RecoveryOptions {
  /** Journal length to write. */
  recoveryEvents: number;
  /** Commands per journal row (one row per group commit). */
  recoveryBatch: number;
  /** Timed activations with the snapshot; the median is reported. */
  recoveryRuns: number;
  /** Give up timing the full replay (no snapshot) after this many seconds. */
  noSnapshotCapS: number;
  seed: number;
}


export interface RecoveryResult {
  events: number;
  journalRows: number;
  snapshotVersion: number;
  snapshotBytes: number;
  tailEvents: number;
  activeHolds: number;
  soldSeats: number;
  writeSeconds: number;
  withSnapshotMs: { median: number; runs: number[] };
  withSnapshotBreakdownMs: Record<string, number>;
  withoutSnapshotMs: number | { gaveUpAfterMs: number };
}

export async function runRecovery(options: RecoveryOptions, db: SqlDatabase): Promise<RecoveryResult> {
  const showId = 'recovery-show';
  const definition = buildStadiumDefinition({ showId });
  const definitions = new ShowDefinitionStore(db);
  const journal = new PostgresJournal(db);
  await definitions.save(definition);
  await writeLease(db, showId, 0);
  const generator = new ShowHistoryGenerator(definition, { activeHolds: 8_000, soldSeats: 15_000 }, mulberry32(options.seed));
  const writeStarted = performance.now();
  let pendingRows: { fromVersion: number; toVersion: number; eventsJson: string }[] = [];
  const inserts = new Set<Promise<void>>();
  let journalRows = 0;
  let lastSnapshotVersion = 0;
  let snapshotBytes = 0;
  const flush = async (): Promise<void> => {
    const rows = pendingRows;
    pendingRows = [];
    journalRows += rows.length;
    const insert = insertJournalRows(db, showId, rows).finally(() => inserts.delete(insert));
    inserts.add(insert);
    while (inserts.size >= 2) await Promise.race(inserts);
  };
  const stopTicker = ticker(2_000, () => `recovery: journal at ${generator.state.version} of ${options.recoveryEvents} events, ${journalRows} rows written`);
  try {
    while (generator.state.version < options.recoveryEvents) {
      const want = Math.min(options.recoveryBatch, options.recoveryEvents - generator.state.version);
      const batch = generator.nextBatch(want, systemClock.nowMs());
      if (batch.events.length === 0) continue;
      pendingRows.push({ fromVersion: batch.fromVersion, toVersion: batch.toVersion, eventsJson: JSON.stringify(batch.events) });
      // The actor's snapshot rule (after a commit, once snapshotEveryEvents have passed since the
      // last one) until snapshotEveryEvents before the end, where one last snapshot is taken: the
      // journal then ends with a full interval's tail, the longest a crash can leave behind.
      const finalAt = options.recoveryEvents - limits.snapshotEveryEvents;
      const version = generator.state.version;
      const due = version < finalAt ? version - lastSnapshotVersion >= limits.snapshotEveryEvents : lastSnapshotVersion < finalAt;
      if (due) {
        await flush();
        await Promise.all(inserts);
        const data = encodeSnapshot(generator.state);
        snapshotBytes = data.byteLength;
        await journal.writeSnapshot(showId, 1, { version: generator.state.version, data });
        lastSnapshotVersion = generator.state.version;
      }
      if (pendingRows.length >= 100) await flush();
    }
    await flush();
    await Promise.all(inserts);
  } finally {
    stopTicker();
  }
  const events = generator.state.version;
  await writeLease(db, showId, events);
  await db.query('vacuum analyze journal');
  await db.query('checkpoint');
  const writeSeconds = (performance.now() - writeStarted) / 1000;
  progress(`recovery: ${events} events in ${journalRows} journal rows written in ${writeSeconds.toFixed(1)}s; snapshot at ${lastSnapshotVersion} (${snapshotBytes} bytes)`);

  const activate = async (ownerId: string): Promise<number> => {
    const router = new LocalShowRouter({ ownerId, journal, loadDefinition: (id) => definitions.load(id), clock: systemClock, timers: systemTimers, logger: silentLogger });
    try {
      const startedMs = performance.now();
      const availability = await router.availability(showId);
      const ms = performance.now() - startedMs;
      if (availability?.version !== events) throw new Error(`recovered version ${availability?.version}, journal has ${events}`);
      const expected = generator.state.seatStatus;
      for (let seat = 0; seat < expected.length; seat += 1) {
        if (availability.seatStatus[seat] !== expected[seat]) throw new Error(`recovered seat ${seat} is ${availability.seatStatus[seat]}, generator says ${expected[seat]}`);
      }
      return ms;
    } finally {
      await router.stopAll();
    }
  };
  const runs: number[] = [];
  for (let run = 1; run <= options.recoveryRuns; run += 1) {
    runs.push(round(await activate(`bench-recovery-${run}`), 1));
    progress(`recovery with snapshot, run ${run}: ${runs[runs.length - 1]} ms`);
  }

  // Where the time goes: the steps of ShowActor.load, one by one.
  const breakdown: Record<string, number> = {};
  const step = async <T>(name: string, work: () => Promise<T> | T): Promise<T> => {
    const startedMs = performance.now();
    const value = await work();
    breakdown[name] = round(performance.now() - startedMs, 1);
    return value;
  };
  const loaded = await step('loadDefinition', () => definitions.load(showId));
  const inventory = await step('buildInventory', () => new Inventory(loaded!));
  await step('acquireLease', () => journal.acquireLease(showId, 'bench-breakdown'));
  const stored = await step('readSnapshot', () => journal.readSnapshot(showId));
  const state = await step('decodeSnapshot', () => decodeSnapshot(inventory, stored!.data));
  await step('replayTail', async () => {
    for await (const batch of journal.readEvents(showId, state.version)) for (const event of batch) evolve(state, event);
  });
  await step('checkStateInvariants', () => checkStateInvariants(state));
  await writeLease(db, showId, events);

  progress('recovery without the snapshot (the whole journal)...');
  await db.query('delete from snapshots where show_id = $1', [showId]);
  const capMs = options.noSnapshotCapS * 1000;
  let timer: NodeJS.Timeout | undefined;
  const fullReplay = activate('bench-recovery-nosnap');
  fullReplay.catch(() => undefined); // if we give up on it, its late end must not crash the bench
  const withoutSnapshot = await Promise.race([
    fullReplay,
    new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), capMs);
    }),
  ]);
  clearTimeout(timer);
  progress(`recovery without snapshot: ${withoutSnapshot === null ? `gave up after ${capMs} ms` : `${round(withoutSnapshot, 1)} ms`}`);
  return {
    events,
    journalRows,
    snapshotVersion: lastSnapshotVersion,
    snapshotBytes,
    tailEvents: events - lastSnapshotVersion,
    activeHolds: generator.activeHolds,
    soldSeats: generator.soldSeats,
    writeSeconds: round(writeSeconds, 1),
    withSnapshotMs: { median: median(runs), runs },
    withSnapshotBreakdownMs: breakdown,
    withoutSnapshotMs: withoutSnapshot === null ? { gaveUpAfterMs: capMs } : round(withoutSnapshot, 1),
  };
}
