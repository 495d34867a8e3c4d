import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { connectPostgres } from '../../../src/persistence/database.js';
import { adminToken, serverEnvironment, type ServerLimits } from '../../../load/server/server-process.js';

export interface ClusterProcess {
  url: string;
  databaseUrl: string;
  primary: ChildProcess;
  /** Worker id → pid (read from /proc: each worker's WORKER_ID). */
  workerPids(): Map<string, number>;
  view(): Promise<{ workers: string[]; draining: string[]; pins: Record<string, string>; owners: Record<string, string | null> }>;
  ops(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }>;
  waitForWorkers(count: number, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export const clusterLimits: ServerLimits = {
  userRatePerS: 50, ipRatePerS: 1_000_000, socketEventsPerS: 200, paymentWindowS: 60, poolSize: 6, mailboxDepthMax: 20_000, batchCommandsMax: 2_000,
  diffTickMs: 50, queueTickMs: 100, outboxPollMs: 200, outboxGatherMs: 25, outboxBatchSize: 200, reconcileIntervalMs: 2_000, reconcileIdleMs: 90_000,
};

export interface ClusterProcessOptions {
  workers: number;
  redisUrl?: string;
  /** Extra environment of the primary (and so of its workers), e.g. CLOCK_SKEW_MS_BY_WORKER. */
  env?: Record<string, string>;
  /** Restart on an existing cluster's database and port (kept by stop(): its first start drops it). */
  restartOf?: { databaseUrl: string; port: number };
  /** Node's arguments: the source under tsx (`npm start`) unless given, e.g. a built bundle (`npm run start:prod`). */
  nodeArgs?: string[];
}

/** `npm start` as production runs it: a primary and WORKERS workers on a fresh database, IPC or Redis. */
export async function startClusterProcess(options: ClusterProcessOptions): Promise<ClusterProcess> {
  const base = process.env['DATABASE_URL']!;
  const database = options.restartOf ? new URL(options.restartOf.databaseUrl).pathname.slice(1) : `hf_cluster_${randomBytes(5).toString('hex')}`;
  const admin = connectPostgres({ connectionString: base, poolSize: 1 });
  if (!options.restartOf) await admin.query(`create database ${database}`);
  const databaseUrl = new URL(base);
  databaseUrl.pathname = `/${database}`;
  // Below the kernel's ephemeral range (32768+): a client connection's local port could take it.
  const port = options.restartOf?.port ?? 21_000 + Math.floor(Math.random() * 11_000);
  const env = {
    ...process.env,
    ...serverEnvironment(databaseUrl.toString(), clusterLimits, 'warn'),
    PORT: String(port), WORKERS: String(options.workers), WORKER_ID: '', HOLDFAST_NODE_ID: database,
    REDIS_URL: options.redisUrl ?? '', CLUSTER_KEY_PREFIX: `${database}:`,
    CLUSTER_HEARTBEAT_MS: '250', CLUSTER_LIVENESS_TIMEOUT_MS: '1500', ROUTE_HOP_TIMEOUT_MS: '1000', ROUTE_RETRY_WINDOW_MS: '10000',
    ...options.env,
  };
  delete (env as Record<string, string | undefined>)['WORKER_ID'];
  const primary = spawn(process.execPath, options.nodeArgs ?? ['--import', 'tsx', 'src/main.ts'], { env, stdio: ['ignore', 'inherit', 'inherit'] });
  const url = `http://127.0.0.1:${port}`;
  // A connection may land on a frozen (SIGSTOP) or dying worker: each attempt has a deadline, and a
  // new attempt opens a new connection, which the kernel may give to another worker. Ops calls are
  // idempotent (a move is a pin; a drain a flag), so retrying them is safe.
  const ops = async (method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> => {
    const deadline = Date.now() + 20_000;
    for (;;) {
      try {
        const response = await fetch(`${url}${path}`, {
          method, signal: AbortSignal.timeout(1_500), headers: { authorization: `Bearer ${adminToken}`, connection: 'close', ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
        return { status: response.status, body: await response.json().catch(() => null) };
      } catch (error) {
        if (Date.now() > deadline) throw error;
      }
    }
  };
  const handle: ClusterProcess = {
    url,
    databaseUrl: databaseUrl.toString(),
    primary,
    workerPids() {
      const pids = new Map<string, number>();
      for (const entry of readdirSync('/proc')) {
        if (!/^\d+$/.test(entry)) continue;
        try {
          if (!readFileSync(`/proc/${entry}/stat`, 'utf8').includes(`) `) || Number(readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]) !== primary.pid) continue;
          const workerId = readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0').find((line) => line.startsWith('WORKER_ID='));
          if (workerId) pids.set(workerId.slice('WORKER_ID='.length), Number(entry));
        } catch {
          // exited meanwhile
        }
      }
      return pids;
    },
    async view() {
      return (await ops('GET', '/v1/ops/cluster')).body as Awaited<ReturnType<ClusterProcess['view']>>;
    },
    ops,
    async waitForWorkers(count, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const view = await handle.view().catch(() => null);
        if (view?.workers?.length === count) return;
        if (Date.now() > deadline) throw new Error(`the cluster did not reach ${count} workers: ${JSON.stringify(view)}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    },
    async stop() {
      if (primary.exitCode === null && primary.signalCode === null) {
        primary.kill('SIGTERM');
        await new Promise((resolve) => primary.once('exit', resolve));
      }
      if (!options.restartOf) await admin.query(`drop database if exists ${database} with (force)`).catch(() => undefined);
      await admin.close();
    },
  };
  await handle.waitForWorkers(options.workers);
  return handle;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The show the scenario created (the only one of the fresh database); fails if the load fails first. */
export async function scenarioShow(cluster: Pick<ClusterProcess, 'view'>, load: Promise<unknown>): Promise<string> {
  let failed: unknown = null;
  load.catch((error: unknown) => (failed = error));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (failed !== null) throw failed;
    const owners = (await cluster.view().catch(() => null))?.owners;
    const showIds = Object.keys(owners ?? {});
    if (showIds.length > 0) return showIds[0]!;
    if (Date.now() > deadline) throw new Error('the scenario created no show within 60 s');
    await sleep(100);
  }
}

/** Milliseconds from `sinceMs` until the show's availability is answered 200 (through its owner), or null past `limitMs`. */
export async function servedAgainAfterMs(url: string, showId: string, sinceMs: number, limitMs: number): Promise<number | null> {
  while (Date.now() - sinceMs < limitMs) {
    const read = await fetch(`${url}/v1/shows/${showId}/availability`, { signal: AbortSignal.timeout(2_000) }).catch(() => null);
    await read?.arrayBuffer().catch(() => undefined);
    if (read?.status === 200) return Date.now() - sinceMs;
    await sleep(25);
  }
  return null;
}
