import { availableParallelism } from 'node:os';
import { limits } from './actors/limits.js';

/**
 * Every setting the server reads from its environment, with production-fit defaults.
 * The README's configuration table documents each one; keep the two in step.
 */
export interface Config {
  port: number;
  host: string;
  databaseUrl: string | undefined;
  pgliteDataDir: string | undefined;
  /** A PostgreSQL schema of its own (several servers side by side in one database: load runs, tests). */
  databaseSchema: string | undefined;
  databasePoolSize: number;
  /** Connections of the show journals' own pool: group commits never queue behind API queries. */
  journalPoolSize: number;
  /** PostgreSQL cancels a statement running longer (its `statement_timeout`); 0: never. */
  databaseStatementTimeoutMs: number;
  /** A query without an answer this long fails and its connection is discarded (a lost peer); 0: never. */
  databaseQueryTimeoutMs: number;
  redisUrl: string | undefined;
  /** Secret that signs session, queue and admission tokens. */
  tokenSecret: string;
  adminToken: string;
  sessionTtlMs: number;
  seedDemo: boolean;
  logLevel: string;
  httpBodyBytesMax: number;
  /** A REST Idempotency-Key claim without a reply this long is taken to be abandoned (its process died). */
  httpIdempotencyClaimLeaseMs: number;
  /** A request body must arrive within this long of its headers (else 408). */
  httpBodyTimeoutMs: number;
  trustProxy: boolean;
  corsOrigin: string;
  rateLimitPerUserPerSecond: number;
  rateLimitPerIpPerSecond: number;
  socketEventsPerSecondMax: number;
  diffTickMs: number;
  socketParser: 'msgpack' | 'json';
  watchedShowsPerSocketMax: number;
  mailboxDepthMax: number;
  batchCommandsMax: number;
  shutdownGraceMs: number;
  queueTickMs: number;
  paymentWindowMs: number;
  reconcileIntervalMs: number;
  reconcileIdleMs: number;
  stripeSecretKey: string | undefined;
  stripeWebhookSecret: string | undefined;
  /** Stripe API host override (`http://127.0.0.1:12111`) for a local stripe-mock or tests. */
  stripeApiBase: string | undefined;
  outboxEnabled: boolean;
  outboxWebhookUrl: string | undefined;
  outboxWebhookSecret: string | undefined;
  outboxWebhookTimeoutMs: number;
  outboxPollMs: number;
  outboxGatherMs: number;
  outboxBatchSize: number;
  outboxMaxAttempts: number;
  /** How long a relay's claim on a show's events lasts: a relay killed mid-delivery holds them back this long. */
  outboxLeaseMs: number;
  queueJoinBatchMax: number;
  workerId: string;
  /** Worker processes `npm start` runs (1: no primary, the server in this process). */
  workers: number;
  /** Prefix of the cluster's Redis keys and channels (clusters sharing a Redis keep apart). */
  clusterKeyPrefix: string;
  clusterHeartbeatMs: number;
  /** A worker silent this long loses its shows to the others. */
  clusterLivenessTimeoutMs: number;
  /** How long one forwarded command may wait for the owner before it is retried. */
  routeHopTimeoutMs: number;
  /** How long a command keeps being retried while its show moves or its owner is down. */
  routeRetryWindowMs: number;
  /** Test-only: this process's clock runs this far ahead (negative: behind) of the system clock. */
  clockSkewMs: number;
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new Error(`${name} must be an integer >= ${min}, got "${raw}"`);
  if (value > max) throw new Error(`${name} must be at most ${max}, got "${raw}"`);
  return value;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const production = env['NODE_ENV'] === 'production';
  const tokenSecret = env['TOKEN_SECRET'] ?? (production ? '' : 'holdfast-development-secret-change-me');
  if (tokenSecret.length < 16) throw new Error('TOKEN_SECRET must be set (at least 16 characters) in production');
  const adminToken = env['ADMIN_TOKEN'] ?? (production ? '' : 'holdfast-admin');
  if (adminToken.length < 8) throw new Error('ADMIN_TOKEN must be set (at least 8 characters) in production');
  if (env['OUTBOX_WEBHOOK_URL'] && (env['OUTBOX_WEBHOOK_SECRET'] ?? '').length < 16) throw new Error('OUTBOX_WEBHOOK_SECRET (at least 16 characters) must be set with OUTBOX_WEBHOOK_URL');
  return {
    port: integer(env, 'PORT', 3000),
    host: env['HOST'] ?? '0.0.0.0',
    databaseUrl: env['DATABASE_URL'] || undefined,
    pgliteDataDir: env['PGLITE_DATA_DIR'] ?? '.holdfast-data/pglite',
    databaseSchema: env['DATABASE_SCHEMA'] || undefined,
    databasePoolSize: integer(env, 'DATABASE_POOL_SIZE', 16, 2),
    journalPoolSize: integer(env, 'JOURNAL_POOL_SIZE', 4, 1),
    databaseStatementTimeoutMs: integer(env, 'DATABASE_STATEMENT_TIMEOUT_MS', 30_000, 0),
    databaseQueryTimeoutMs: integer(env, 'DATABASE_QUERY_TIMEOUT_MS', 45_000, 0),
    redisUrl: env['REDIS_URL'] || undefined,
    tokenSecret,
    adminToken,
    sessionTtlMs: integer(env, 'SESSION_TTL_S', 12 * 3600, 60) * 1000,
    seedDemo: (env['SEED_DEMO'] ?? 'true') !== 'false',
    logLevel: env['LOG_LEVEL'] ?? 'info',
    httpBodyTimeoutMs: integer(env, 'HTTP_BODY_TIMEOUT_MS', 10_000, 100),
    httpIdempotencyClaimLeaseMs: integer(env, 'HTTP_IDEMPOTENCY_CLAIM_LEASE_MS', 60_000, 1_000),
    httpBodyBytesMax: integer(env, 'HTTP_BODY_BYTES_MAX', 64 * 1024, 1024),
    trustProxy: env['TRUST_PROXY'] === 'true',
    corsOrigin: env['CORS_ORIGIN'] ?? '*',
    rateLimitPerUserPerSecond: integer(env, 'RATE_LIMIT_USER_PER_S', 20, 1),
    rateLimitPerIpPerSecond: integer(env, 'RATE_LIMIT_IP_PER_S', 200, 1),
    socketEventsPerSecondMax: integer(env, 'SOCKET_EVENTS_PER_S', 30, 1),
    diffTickMs: integer(env, 'DIFF_TICK_MS', 100, 0),
    socketParser: env['SOCKET_PARSER'] === 'json' ? 'json' : 'msgpack',
    watchedShowsPerSocketMax: integer(env, 'WATCHED_SHOWS_PER_SOCKET_MAX', 4, 1),
    mailboxDepthMax: integer(env, 'MAILBOX_DEPTH_MAX', limits.mailboxDepthMax, 1),
    batchCommandsMax: integer(env, 'BATCH_COMMANDS_MAX', limits.batchCommandsMax, 1),
    shutdownGraceMs: integer(env, 'SHUTDOWN_GRACE_MS', 10_000, 0),
    queueTickMs: integer(env, 'QUEUE_TICK_MS', 1_000, 10),
    paymentWindowMs: integer(env, 'PAYMENT_WINDOW_S', 600, 60) * 1000,
    reconcileIntervalMs: integer(env, 'RECONCILE_INTERVAL_MS', 30_000, 100),
    reconcileIdleMs: integer(env, 'RECONCILE_IDLE_MS', 60_000, 0),
    stripeSecretKey: env['STRIPE_SECRET_KEY'] || undefined,
    stripeWebhookSecret: env['STRIPE_WEBHOOK_SECRET'] || undefined,
    stripeApiBase: env['STRIPE_API_BASE'] || undefined,
    outboxEnabled: (env['OUTBOX_ENABLED'] ?? 'true') !== 'false',
    outboxWebhookUrl: env['OUTBOX_WEBHOOK_URL'] || undefined,
    outboxWebhookSecret: env['OUTBOX_WEBHOOK_SECRET'] || undefined,
    outboxWebhookTimeoutMs: integer(env, 'OUTBOX_WEBHOOK_TIMEOUT_MS', 10_000, 100),
    outboxPollMs: integer(env, 'OUTBOX_POLL_MS', 1_000, 10),
    // A notified row waits this long before its round: bounded so that a typo cannot hold deliveries back for minutes.
    outboxGatherMs: integer(env, 'OUTBOX_GATHER_MS', 25, 0, 1_000),
    outboxBatchSize: integer(env, 'OUTBOX_BATCH_SIZE', 100, 1),
    outboxMaxAttempts: integer(env, 'OUTBOX_MAX_ATTEMPTS', 10, 1),
    outboxLeaseMs: integer(env, 'OUTBOX_LEASE_MS', 60_000, 1_000),
    queueJoinBatchMax: integer(env, 'QUEUE_JOIN_BATCH_MAX', 2_000, 1),
    workerId: env['WORKER_ID'] ?? `worker-${process.pid}`,
    workers: integer(env, 'WORKERS', env['DATABASE_URL'] ? availableParallelism() : 1, 1),
    clusterKeyPrefix: env['CLUSTER_KEY_PREFIX'] ?? 'holdfast:',
    clusterHeartbeatMs: integer(env, 'CLUSTER_HEARTBEAT_MS', 1_000, 50),
    clusterLivenessTimeoutMs: integer(env, 'CLUSTER_LIVENESS_TIMEOUT_MS', 3_000, 200),
    routeHopTimeoutMs: integer(env, 'ROUTE_HOP_TIMEOUT_MS', 2_000, 50),
    routeRetryWindowMs: integer(env, 'ROUTE_RETRY_WINDOW_MS', 8_000, 0),
    clockSkewMs: clockSkewMs(env),
  };
}

/**
 * CLOCK_SKEW_MS (signed), or for a cluster worker its entry in CLOCK_SKEW_MS_BY_WORKER
 * ("w1:-2000,w2:0,w3:1500": the primary names its workers `<node>-w<n>` and forks them all with
 * one environment, so each picks its own entry by its WORKER_ID's suffix).
 */
function clockSkewMs(env: NodeJS.ProcessEnv): number {
  const signed = (name: string, raw: string): number => {
    const value = Number(raw);
    if (raw.trim() === '' || !Number.isInteger(value)) throw new Error(`${name} must be an integer of milliseconds, got "${raw}"`);
    return value;
  };
  const fallback = env['CLOCK_SKEW_MS'] ? signed('CLOCK_SKEW_MS', env['CLOCK_SKEW_MS']) : 0;
  const byWorker = env['CLOCK_SKEW_MS_BY_WORKER'];
  if (!byWorker) return fallback;
  const entries = new Map<string, number>();
  for (const entry of byWorker.split(',')) {
    const match = /^\s*(w\d+)\s*:\s*(\S+)\s*$/.exec(entry);
    if (match === null) throw new Error(`CLOCK_SKEW_MS_BY_WORKER entries are "w<n>:<ms>", got "${entry}"`);
    entries.set(match[1]!, signed('CLOCK_SKEW_MS_BY_WORKER', match[2]!));
  }
  const suffix = /-(w\d+)$/.exec(env['WORKER_ID'] ?? '')?.[1];
  return (suffix === undefined ? undefined : entries.get(suffix)) ?? fallback;
}
