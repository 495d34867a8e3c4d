/**
 * How long one durable commit takes on this machine's PostgreSQL: single-row INSERTs, each its
 * own transaction, one after another on one connection. Each waits for its WAL flush, so the
 * median is the disk's flush time plus a round trip — the figure that bounds a
 * one-claim-per-transaction baseline and moves it from host to host (the actor bench's baseline
 * answered 1,787 claims/s on one host of this kind and 6,693/s on another, whose fdatasync took
 * 92 µs). Benchmarks print it beside every ratio against such a baseline.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { LatencyHistogram, round } from './report.js';

export interface CommitLatency {
  commits: number;
  p50Us: number;
  p90Us: number;
  p99Us: number;
}

/** Settings under which a commit returns only once its WAL is flushed on this server. */
const flushingSynchronousCommit = new Set(['on', 'local', 'remote_write', 'remote_apply']);

/** Runs in a schema of its own (`schema`, default commit_probe_<random>), dropped at the end; refuses to time commits that are not durable. */
export async function probeCommitLatency(connectionString: string, { commits = 300, schema = `commit_probe_${randomBytes(4).toString('hex')}` }: { commits?: number; schema?: string } = {}): Promise<CommitLatency> {
  const client = new pg.Client({ connectionString, application_name: 'holdfast-commit-probe' });
  await client.connect();
  const table = `${schema}.probe`;
  try {
    const setting = async (name: string): Promise<string> => (await client.query<{ setting: string }>('select setting from pg_settings where name = $1', [name])).rows[0]!.setting;
    const synchronousCommit = await setting('synchronous_commit');
    if (!flushingSynchronousCommit.has(synchronousCommit)) throw new Error(`synchronous_commit is ${synchronousCommit}: a commit would not wait for the disk`);
    if ((await setting('fsync')) !== 'on') throw new Error('fsync is off: a commit would not reach the disk');
    await client.query(`create schema ${schema}`);
    await client.query(`create table ${table} (id bigserial primary key, at timestamptz not null default now())`);
    const insert = { name: 'commit-latency-probe', text: `insert into ${table} default values` };
    for (let warmup = 0; warmup < 10; warmup += 1) await client.query(insert);
    const latency = new LatencyHistogram();
    for (let commit = 0; commit < commits; commit += 1) {
      const startedMs = performance.now();
      await client.query(insert);
      latency.recordMs(performance.now() - startedMs);
    }
    const us = (percentile: number): number => round(latency.percentileMs(percentile) * 1_000, 0);
    return { commits, p50Us: us(50), p90Us: us(90), p99Us: us(99) };
  } finally {
    await client.query(`drop schema if exists ${schema} cascade`).catch(() => undefined);
    await client.end();
  }
}
