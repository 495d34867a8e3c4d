/**
 * Starts the server of a load run in a child process, in a fresh PostgreSQL schema of its own
 * (`load_<random>`, like the tests' isolated schemas), so runs never collide with tests or each
 * other; `stop()` closes it and drops the schema. Every limit the run depends on is set
 * explicitly in the child's environment (see `serverEnvironment`), whatever the caller's
 * environment says.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRunSchema } from './run-schema.js';
import type { Engine, ParentToServer, ProviderLedgerEntry, ServerEntryParams, ServerToParent } from './server-entry.js';

const entryPath = join(dirname(fileURLToPath(import.meta.url)), 'server-entry.ts');

export interface ServerLimits {
  /** Mutating calls per fan per second. */
  userRatePerS: number;
  /** Every fan comes from 127.0.0.1, so the per-IP limit is set out of the way. */
  ipRatePerS: number;
  socketEventsPerS: number;
  /** Seconds an order's hold stays pinned for payment (below 60 only through the entry's param). */
  paymentWindowS: number;
  poolSize: number;
  mailboxDepthMax: number;
  batchCommandsMax: number;
  diffTickMs: number;
  queueTickMs: number;
  outboxPollMs: number;
  outboxGatherMs: number;
  outboxBatchSize: number;
  reconcileIntervalMs: number;
  /** Orders untouched this long are reconciled (long enough that a late payer still gets to pay, and is refunded). */
  reconcileIdleMs: number;
}

export const adminToken = 'holdfast-load-admin';
const tokenSecret = 'holdfast-load-token-secret-0123456789';

/** The child's complete configuration environment (src/config.ts reads each of these). */
export function serverEnvironment(connectionString: string, limits: ServerLimits, logLevel: string): Record<string, string> {
  return {
    NODE_ENV: 'production',
    TOKEN_SECRET: tokenSecret,
    ADMIN_TOKEN: adminToken,
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: connectionString,
    DATABASE_POOL_SIZE: String(limits.poolSize),
    JOURNAL_POOL_SIZE: '4',
    DATABASE_STATEMENT_TIMEOUT_MS: '30000',
    DATABASE_QUERY_TIMEOUT_MS: '45000',
    REDIS_URL: '',
    SESSION_TTL_S: '7200',
    SEED_DEMO: 'false',
    LOG_LEVEL: logLevel,
    HTTP_BODY_BYTES_MAX: '65536',
    CORS_ORIGIN: '*',
    TRUST_PROXY: 'false',
    RATE_LIMIT_USER_PER_S: String(limits.userRatePerS),
    RATE_LIMIT_IP_PER_S: String(limits.ipRatePerS),
    SOCKET_EVENTS_PER_S: String(limits.socketEventsPerS),
    DIFF_TICK_MS: String(limits.diffTickMs),
    SOCKET_PARSER: 'msgpack',
    WATCHED_SHOWS_PER_SOCKET_MAX: '4',
    MAILBOX_DEPTH_MAX: String(limits.mailboxDepthMax),
    BATCH_COMMANDS_MAX: String(limits.batchCommandsMax),
    QUEUE_TICK_MS: String(limits.queueTickMs),
    QUEUE_JOIN_BATCH_MAX: '2000',
    PAYMENT_WINDOW_S: String(Math.max(60, Math.round(limits.paymentWindowS))),
    RECONCILE_INTERVAL_MS: String(limits.reconcileIntervalMs),
    RECONCILE_IDLE_MS: String(limits.reconcileIdleMs),
    STRIPE_SECRET_KEY: '',
    STRIPE_WEBHOOK_SECRET: '',
    STRIPE_API_BASE: '',
    OUTBOX_ENABLED: 'true',
    OUTBOX_WEBHOOK_URL: '',
    OUTBOX_WEBHOOK_SECRET: '',
    OUTBOX_POLL_MS: String(limits.outboxPollMs),
    OUTBOX_GATHER_MS: String(limits.outboxGatherMs),
    OUTBOX_BATCH_SIZE: String(limits.outboxBatchSize),
    OUTBOX_MAX_ATTEMPTS: '10',
    SHUTDOWN_GRACE_MS: '10000',
    WORKER_ID: 'load-server',
  };
}

export interface ServerProcessOptions {
  connectionString: string;
  engine: Engine;
  limits: ServerLimits;
  providerPaymentsMax: number;
  baselinePoolSize: number;
  logLevel: string;
  keepSchema?: boolean;
  startTimeoutMs?: number;
}

export interface ServerProcess {
  url: string;
  pid: number;
  schema: string;
  engine: Engine;
  env: Record<string, string>;
  /** The simulated PSP's own ledger (captures and refunds per payment); empty when `hasLedger` is false. */
  ledger(): Promise<{ entries: ProviderLedgerEntry[]; pendingWork: number }>;
  /** False when the PSP lives out of reach (a sharded server's primary): the audit then checks payments against the database only. */
  readonly hasLedger: boolean;
  baselineHolds(showIds: string[]): Promise<{ holdId: string; seatId: string }[]>;
  /** Resolves when the process exits by itself (a crash), with its exit code. */
  readonly exited: Promise<number | null>;
  stop(): Promise<void>;
}

export async function startServerProcess(options: ServerProcessOptions): Promise<ServerProcess> {
  const runSchema = await createRunSchema(options.connectionString, options.keepSchema);
  const schema = runSchema.name;
  const params: ServerEntryParams = { connectionString: options.connectionString, schema, engine: options.engine, providerPaymentsMax: options.providerPaymentsMax, baselinePoolSize: options.baselinePoolSize, paymentWindowMs: Math.round(options.limits.paymentWindowS * 1000) };
  const env = serverEnvironment(options.connectionString, options.limits, options.logLevel);
  const child: ChildProcess = fork(entryPath, [JSON.stringify(params)], {
    // LOAD_SERVER_CPU_PROF=<dir>: a V8 CPU profile of the server process, written there when it stops.
    execArgv: ['--import', 'tsx', ...(process.env['LOAD_SERVER_CPU_PROF'] ? ['--cpu-prof', `--cpu-prof-dir=${process.env['LOAD_SERVER_CPU_PROF']}`] : [])],
    // Only what Node needs from the caller's environment; the server's settings are all ours.
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const waiters = new Map<string, (message: ServerToParent) => void>();
  child.on('message', (message: ServerToParent) => {
    const waiter = waiters.get(message.type);
    if (waiter) {
      waiters.delete(message.type);
      waiter(message);
    }
  });
  const next = <T extends ServerToParent['type']>(type: T, timeoutMs: number): Promise<Extract<ServerToParent, { type: T }>> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`load server: no "${type}" within ${timeoutMs} ms`)), timeoutMs);
      waiters.set(type, (message) => {
        clearTimeout(timer);
        resolve(message as Extract<ServerToParent, { type: T }>);
      });
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`load server exited (code ${code}) while waiting for "${type}"`));
      });
    });
  const send = (message: ParentToServer): void => {
    if (child.connected) child.send(message);
  };
  const dropSchema = runSchema.drop;
  let ready: Extract<ServerToParent, { type: 'ready' }>;
  try {
    ready = await next('ready', options.startTimeoutMs ?? 60_000);
  } catch (error) {
    child.kill('SIGKILL');
    await dropSchema().catch(() => undefined);
    throw error;
  }
  let stopped = false;
  return {
    url: ready.url,
    pid: ready.pid,
    schema,
    engine: options.engine,
    env,
    exited,
    hasLedger: true,
    async ledger() {
      const reply = next('ledger', 30_000);
      send({ type: 'ledger' });
      const { entries, pendingWork } = await reply;
      return { entries, pendingWork };
    },
    async baselineHolds(showIds) {
      const reply = next('baseline-holds', 30_000);
      send({ type: 'baseline-holds', showIds });
      return (await reply).holds;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      send({ type: 'close' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
      await dropSchema();
    },
  };
}
