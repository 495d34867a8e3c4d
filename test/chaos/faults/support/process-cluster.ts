/**
 * What the process-fault tests share: an onsale load against a `npm start` cluster, the show it
 * created, how long until that show is served again, and kill -9 of a worker or of the whole server.
 */
import { loadOptions, runScenario, type LoadOptions, type LoadReport } from '../../../../load/index.js';
import { adminToken } from '../../../../load/server/server-process.js';
import type { ClusterProcess } from '../../../cluster/support/cluster-process.js';

export { scenarioShow, servedAgainAfterMs } from '../../../cluster/support/cluster-process.js';

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Fault tests need PostgreSQL: they skip without it, except under CI=true where skipping fails. */
export function requirePostgres(): string | undefined {
  const databaseUrl = process.env['DATABASE_URL'];
  if (process.env['CI'] === 'true' && !databaseUrl) throw new Error('CI=true needs DATABASE_URL for the process-fault tests');
  return databaseUrl;
}

/** An onsale load run by the load harness against `url` (audited against `databaseUrl`). */
export function onsaleLoad(target: { url: string; databaseUrl: string }, overrides: Partial<LoadOptions>): Promise<LoadReport> {
  return runScenario(loadOptions('onsale', {
    url: target.url, databaseUrl: target.databaseUrl, adminToken, workers: 1, settleS: 20, leadS: 4, admitRatePerS: 100, watchers: 50,
    progress: process.env['CHAOS_PROGRESS'] === '1', resultName: 'chaos-process-faults',
    ...overrides,
  }), { onProgress: (line) => process.env['CHAOS_PROGRESS'] === '1' && console.error(line) });
}

/** kill -9 of the primary and every worker, at once: the primary is frozen first so it cannot fork replacements. */
export async function killWholeServer(cluster: ClusterProcess): Promise<void> {
  const primaryPid = cluster.primary.pid!;
  const exited = new Promise((resolve) => cluster.primary.once('exit', resolve));
  process.kill(primaryPid, 'SIGSTOP');
  const workers = [...cluster.workerPids().values()];
  for (const pid of workers) process.kill(pid, 'SIGKILL');
  process.kill(primaryPid, 'SIGKILL');
  await exited;
  // The workers are the primary's children: wait until the kernel has reaped them (their port is free then).
  const deadline = Date.now() + 10_000;
  while (workers.some((pid) => alive(pid)) && Date.now() < deadline) await sleep(20);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function median(values: number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : Math.round((sorted[middle - 1]! + sorted[middle]!) / 2);
}
