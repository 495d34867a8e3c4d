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

async function probeSchemas(): Promise<string[]> {
  const client = new pg.Client({ connectionString: databaseUrl! });
  await client.connect();
  try {
    const { rows } = await client.query<{ nspname: string }>(`select nspname from pg_namespace where nspname like 'commit_probe_%'`);
    return rows.map((row) => row.nspname);
  } finally {
    await client.end();
  }
}

postgres('measures durable single-row commits and drops its schema afterwards', async () => {
  const before = await probeSchemas();
  const latency = await probeCommitLatency(databaseUrl!, 50);
  expect(latency.commits).toBe(50);
  expect(latency.p50Us).toBeGreaterThan(0);
  expect(latency.p90Us).toBeGreaterThanOrEqual(latency.p50Us);
  expect(latency.p99Us).toBeGreaterThanOrEqual(latency.p90Us);
  expect(await probeSchemas()).toEqual(before);
});

postgres('refuses to time commits that do not wait for the disk', async () => {
  const url = new URL(databaseUrl!);
  url.searchParams.set('options', '-c synchronous_commit=off');
  await expect(probeCommitLatency(url.toString(), 10)).rejects.toThrow(/synchronous_commit is off/);
});
