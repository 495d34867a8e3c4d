/**
 * How long one durable commit takes on this machine's PostgreSQL: single-row INSERTs, each its
 * own transaction, one after another on one connection. With synchronous_commit on each waits
 * for its WAL flush, so the median is the disk's flush time plus a round trip — the figure that
 * bounds a one-claim-per-transaction baseline and moves it from host to host (on one host of
 * this kind fsync took ~1 ms and the actor bench's baseline answered 1,787 claims/s; on another,
 * 0.09 ms and 7,569/s). Benchmarks print it beside every ratio against such a baseline.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { round } from './report.js';

export interface CommitLatency {
  commits: number;
  p50Us: number;
  p90Us: number;
  p99Us: number;
}

/** Runs in a schema of its own (commit_probe_<random>), dropped at the end. */
export async function probeCommitLatency(connectionString: string, commits = 300): Promise<CommitLatency> {
  const client = new pg.Client({ connectionString, application_name: 'holdfast-commit-probe' });
  await client.connect();
  const schema = `commit_probe_${randomBytes(4).toString('hex')}`;
  const table = `${schema}.probe`;
  try {
    const synchronousCommit = (await client.query<{ synchronous_commit: string }>('show synchronous_commit')).rows[0]!.synchronous_commit;
    if (synchronousCommit !== 'on') throw new Error(`synchronous_commit is ${synchronousCommit}: a commit would not wait for the disk`);
    await client.query(`create schema ${schema}`);
    await client.query(`create table ${table} (id bigserial primary key, at timestamptz not null default now())`);
    const insert = { name: 'commit-latency-probe', text: `insert into ${table} default values` };
    for (let warmup = 0; warmup < 10; warmup += 1) await client.query(insert);
    const samplesUs: number[] = [];
    for (let commit = 0; commit < commits; commit += 1) {
      const startedMs = performance.now();
      await client.query(insert);
      samplesUs.push((performance.now() - startedMs) * 1_000);
    }
    samplesUs.sort((a, b) => a - b);
    const at = (quantile: number): number => round(samplesUs[Math.min(samplesUs.length - 1, Math.floor(quantile * samplesUs.length))]!, 0);
    return { commits, p50Us: at(0.5), p90Us: at(0.9), p99Us: at(0.99) };
  } finally {
    await client.query(`drop schema if exists ${schema} cascade`).catch(() => undefined);
    await client.end();
  }
}
