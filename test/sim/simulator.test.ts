import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { databaseKinds } from '../support/databases.js';
import { brokenJournals } from './broken-journals.js';
import { faultKinds, mergeStats, newStats, runSeed, type FaultProfile, type SimResult } from './simulator.js';
import { sqlStore } from './store.js';

/** CI runs at least 500 seeds; SIM_SEEDS raises it (npm run sim -- --seeds N runs any number outside vitest). */
const seedCount = Math.max(500, Number(process.env['SIM_SEEDS'] ?? 500));

/**
 * Seeds replayed on the real Postgres journal (embedded PGlite, and PostgreSQL when DATABASE_URL
 * is set): a few plain ones and a few that void a sale of pool units (npm run sim -- --journal
 * pglite runs more).
 */
const sqlSeeds = [1, 2, 3, 16, 117, 141];

function describeFailure(result: SimResult): string {
  const failure = result.failure!;
  return `seed ${result.seed}: ${failure.invariant} (${failure.phase} phase, step ${failure.step}): ${failure.detail.split('\n')[0]!.slice(0, 400)}\n    replay: npm run sim -- --seeds 1 --from ${result.seed} --trace`;
}

describe('deterministic simulator', () => {
  it(`keeps every invariant over ${seedCount} seeds of injected faults`, async () => {
    const total = newStats();
    const failures: SimResult[] = [];
    const startedMs = Date.now();
    for (let seed = 1; seed <= seedCount; seed += 1) {
      const result = await runSeed(seed);
      mergeStats(total, result.stats);
      if (!result.ok) failures.push(result);
    }
    const seconds = ((Date.now() - startedMs) / 1000).toFixed(1);
    console.log(
      `simulator: ${seedCount - failures.length}/${seedCount} seeds passed in ${seconds}s; ${total.steps} steps, ${total.intents} intents, ` +
        `${total.deliveries} commands, ${total.commits} commits, ${total.recoveries} recoveries, ${total.actors} actors\n` +
        `committed events: ${Object.entries(total.events)
          .map(([type, count]) => `${type}=${count}`)
          .join(', ')}; snapshots written ${total.snapshotsWritten}, orphaned writes that landed ${total.orphanedWritesLanded}\n` +
        `crashes at await points: ${Object.entries(total.crashPoints)
          .map(([point, count]) => `${point}=${count}`)
          .join(', ')}\n` +
        `faults injected: ${faultKinds.map((kind) => `${kind}=${total.faults[kind]}`).join(', ')}\n` +
        `replies: ${Object.entries(total.replies)
          .sort(([a], [b]) => (a < b ? -1 : 1))
          .map(([code, count]) => `${code}=${count}`)
          .join(', ')}`,
    );
    // The run must really shake the system: every kind of fault was injected somewhere.
    for (const kind of faultKinds) expect(total.faults[kind], `no ${kind} fault was injected`).toBeGreaterThan(0);
    expect(total.commits).toBeGreaterThan(seedCount);
    expect(total.replies['ok'] ?? 0).toBeGreaterThan(seedCount);
    expect(total.replies['idempotency_key_reused'] ?? 0).toBeGreaterThan(0);
    const report = failures.slice(0, 15).map(describeFailure).join('\n  ');
    expect(failures.length, `${failures.length} of ${seedCount} seeds broke an invariant:\n  ${report}`).toBe(0);
  }, 300_000);

  it('replays a seed exactly: same seed, same run', async () => {
    const digest = async (seed: number): Promise<string> => {
      const hash = createHash('sha256');
      const result = await runSeed(seed, { trace: (line) => hash.update(line).update('\n') });
      hash.update(JSON.stringify(result));
      return hash.digest('hex');
    };
    for (const seed of [7, 123, 4_242]) {
      const first = await digest(seed);
      expect(await digest(seed)).toBe(first);
    }
    expect(await digest(8)).not.toBe(await digest(9));
  });

  for (const kind of databaseKinds) {
    it.skipIf(!kind.available)(`keeps every invariant on the Postgres journal (${kind.name}), ${sqlSeeds.length} seeds`, async () => {
      const db = await kind.open();
      const failures: SimResult[] = [];
      try {
        const store = sqlStore(db);
        for (const seed of sqlSeeds) {
          await store.reset();
          const result = await runSeed(seed, { store });
          if (!result.ok) failures.push(result);
        }
      } finally {
        await db.close();
      }
      const report = failures.map((result) => `${describeFailure(result)} --journal ${kind.name}`).join('\n  ');
      expect(failures.length, `${failures.length} of ${sqlSeeds.length} seeds broke an invariant on ${kind.name}:\n  ${report}`).toBe(0);
    }, 120_000);
  }

  // Proof that the checks can fail: journals that each break one guarantee are caught.
  // Each runs with only the faults it needs (and no reads), so that it fails for its own flaw.
  const quiet: Partial<FaultProfile> = { commitFailBefore: 0, commitFailAfter: 0, writeTimeout: 0, readFail: 0, leaseFail: 0, snapshotFail: 0, crash: 0, staleOwner: 0, gracefulMove: 0, reads: 0 };
  const cases: { name: keyof typeof brokenJournals; faults: Partial<FaultProfile>; caughtAs: string[] }[] = [
    // Acknowledges commits it never stored: acknowledged-but-not-durable, and live state ahead of the journal.
    { name: 'lying', faults: quiet, caughtAs: ['acknowledged_durable', 'live_state_committed', 'one_key_one_reply', 'journal_continuity'] },
    // Accepts commits from superseded owners: a second writer.
    { name: 'fenceless', faults: { ...quiet, staleOwner: 0.6, staleRouting: 0.5 }, caughtAs: ['one_writer'] },
    // Drops idempotency records: a retried key is no longer answered the same.
    { name: 'forgetful', faults: quiet, caughtAs: ['acknowledged_durable', 'one_key_one_reply'] },
  ];
  for (const { name, faults, caughtAs } of cases) {
    it(`catches a ${name} journal`, async () => {
      const caught: SimResult[] = [];
      for (let seed = 1; seed <= 20; seed += 1) {
        const result = await runSeed(seed, { createJournal: brokenJournals[name], faults, steps: 200 });
        if (!result.ok) caught.push(result);
      }
      expect(caught.length, `the ${name} journal went unnoticed in 20 seeds`).toBeGreaterThanOrEqual(10);
      for (const result of caught) expect(caughtAs, describeFailure(result)).toContain(result.failure!.invariant);
    });
  }
});
