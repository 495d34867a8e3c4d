import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { expect } from 'vitest';
import { probeCommitLatency } from '../../bench/support/commit-latency.js';
import { databaseKinds, databaseUrl } from '../support/databases.js';
import { onlyWhere } from '../support/only-where.js';

/**
 * The commit-latency probe that the benchmarks print beside every ratio against the
 * one-transaction-per-claim baseline: it measures durable commits or nothing, and leaves no trace.
 */
const postgres = onlyWhere(databaseKinds[1]!.available);

async function schemaExists(schema: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: databaseUrl! });
  await client.connect();
  try {
    return (await client.query('select 1 from pg_namespace where nspname = $1', [schema])).rowCount === 1;
  } finally {
    await client.end();
  }
}

postgres('measures durable single-row commits and drops its schema afterwards', async () => {
  const schema = `commit_probe_test_${randomBytes(4).toString('hex')}`;
  let seenDuring = false;
  const probing = probeCommitLatency(databaseUrl!, { commits: 200, schema });
  // While it runs its schema is there (so the check below is not vacuous)...
  for (let attempt = 0; attempt < 200 && !seenDuring; attempt += 1) {
    seenDuring = await schemaExists(schema);
    if (!seenDuring) await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const latency = await probing;
  expect(seenDuring).toBe(true);
  expect(latency.commits).toBe(200);
  expect(latency.p50Us).toBeGreaterThan(0);
  expect(latency.p90Us).toBeGreaterThanOrEqual(latency.p50Us);
  expect(latency.p99Us).toBeGreaterThanOrEqual(latency.p90Us);
  // ...and afterwards it is gone.
  expect(await schemaExists(schema)).toBe(false);
});

postgres('refuses to time commits that do not wait for the disk', async () => {
  const url = new URL(databaseUrl!);
  url.searchParams.set('options', '-c synchronous_commit=off');
  await expect(probeCommitLatency(url.toString(), { commits: 10 })).rejects.toThrow(/synchronous_commit is off/);
});
