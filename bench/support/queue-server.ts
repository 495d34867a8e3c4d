/**
 * Child process of the queue bench: the real Holdfast server (startServer) on 127.0.0.1, alone
 * in its process so its RSS, heap and CPU are its own, not the load generators'.
 *   node --import tsx --expose-gc bench/support/queue-server.ts '<json params>'
 * Every limit comes from the environment (loadConfig: QUEUE_TICK_MS, QUEUE_JOIN_BATCH_MAX,
 * RATE_LIMIT_*, TOKEN_SECRET, ADMIN_TOKEN, SEED_DEMO...), set by bench/queue.ts. Before
 * listening it creates one small show with a fixed-mode waiting room through CatalogService
 * (as the gateway test does), on sale since a minute ago; then it talks to the parent over IPC.
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { build, encodeIntoCompressedBase64 } from 'hdr-histogram-js';
import type { QueueStore } from '../../src/admission/queue-store.js';
import { CatalogService } from '../../src/catalog/catalog-service.js';
import { loadConfig } from '../../src/config.js';
import { connectPostgres, openPglite, type SqlDatabase, type SqlExecutor } from '../../src/persistence/database.js';
import type { QueueServingMessage } from '../../src/protocol/socket-events.js';
import { startServer } from '../../src/server.js';
import { createLogger } from '../../src/shared/logger.js';
import { WindowProfiler } from './profiler.js';

export interface QueueServerParams {
  /** PostgreSQL connection string and schema; null: embedded PGlite in memory. */
  postgres: { connectionString: string; schema: string } | null;
  waitingRoom: { admission_rate_per_s: number; admission_ttl_s: number; mode: 'fixed' };
}

/** One `queue:serving` broadcast as the server emitted it. */
export interface ServerBroadcast {
  serverTimeMs: number;
  serving: number;
  paused: boolean;
  /** How long the io.to(room).emit call took (encoding + writing to every socket of the room). */
  emitMs: number;
  /** Gap since the previous broadcast's server_time_ms (the tick period as it really ran). */
  gapMs: number | null;
}

export interface QueueServerStats {
  pid: number;
  memory: NodeJS.MemoryUsage;
  cpu: NodeJS.CpuUsage;
  elu: { idle: number; active: number };
  eventLoopDelayP50Ms: number;
  eventLoopDelayP99Ms: number;
  eventLoopDelayMaxMs: number;
  sockets: number;
  /** Group commits of joins (QueueStore.issueTickets calls) since the last reset: count, joins per batch and commit time (HDR, compressed base64; batch sizes recorded as-is, times in µs). */
  joinBatches: { count: number; joins: number; sizes: string; commitUs: string };
  /**
   * Time inside the join transactions by statement, cumulative since the start (never reset):
   * lock (SELECT … FOR UPDATE of the room row), existing (SELECT … user_id = any), insert
   * (INSERT … unnest), update (the counters), and beginCommit (the rest of the transaction:
   * pool checkout, BEGIN, COMMIT with its WAL flush).
   */
  statements: Record<string, { count: number; totalMs: number }>;
  /** Broadcasts since the previous stats request with `reset` (all of them otherwise). */
  broadcasts: ServerBroadcast[];
  gcForced: boolean;
}

export type QueueServerToParent =
  | { type: 'ready'; url: string; showId: string; onSaleAt: string }
  | { type: 'stats'; stats: QueueServerStats }
  | { type: 'profiled'; path: string }
  | { type: 'closed' }
  | { type: 'error'; message: string };

/** `gc`: run a full collection (twice) before measuring memory. `reset`: restart the event-loop histogram and the broadcast log. */
export type ParentToQueueServer = { type: 'stats'; gc: boolean; reset: boolean } | { type: 'profile-start' } | { type: 'profile-stop'; path: string } | { type: 'close' };

const send = (message: QueueServerToParent): void => {
  process.send?.(message);
};

async function createShow(db: SqlDatabase, waitingRoom: QueueServerParams['waitingRoom']): Promise<{ showId: string; onSaleAt: string }> {
  const catalog = new CatalogService(db);
  const venue = await catalog.createVenue({
    name: 'Queue Bench Hall', city: 'Benchville', kind: 'arena',
    seat_map: { sections: [{ id: 'A', name: 'A', rows: [{ label: '1', seats: Array.from({ length: 20 }, (_, seat) => ({ label: String(seat + 1), x: seat, y: 0, tier: 'std' })) }] }], ga_areas: [] },
  });
  const event = await catalog.createEvent({ name: 'Queue Bench Night', performer: 'The Million', category: 'concert', venue_id: venue.id });
  const onSaleAtMs = Date.now() - 60_000;
  const show = await catalog.createShow(event.id, {
    starts_at: new Date(onSaleAtMs + 30 * 86_400_000).toISOString(),
    on_sale_at: new Date(onSaleAtMs).toISOString(),
    price_tiers: [{ id: 'std', name: 'Standard', price_cents: 1_000 }],
    waiting_room: { enabled: true, ...waitingRoom },
  });
  return { showId: show.id, onSaleAt: show.on_sale_at };
}

/** Which statement of QueueStore.issueTickets a query is. */
function statementOf(text: string): string {
  const sql = text.trimStart().toLowerCase();
  if (sql.startsWith('select pre_count')) return 'lock';
  if (sql.startsWith('select user_id')) return 'existing';
  if (sql.startsWith('insert into queue_tickets')) return 'insert';
  if (sql.startsWith('update waiting_rooms')) return 'update';
  return sql.split(/\s+/).slice(0, 2).join(' ');
}

async function main(): Promise<void> {
  if (process.send === undefined) throw new Error('queue-server runs as a child of bench/queue.ts (needs an IPC channel)');
  const params = JSON.parse(process.argv[2] ?? '{}') as QueueServerParams;
  const config = { ...loadConfig(process.env), host: '127.0.0.1', port: 0 };
  const db: SqlDatabase = params.postgres
    ? connectPostgres({ connectionString: params.postgres.connectionString, schema: params.postgres.schema, poolSize: config.databasePoolSize, applicationName: 'holdfast-bench-queue' })
    : await openPglite();
  // Time every statement of the join transactions. QueueStore.issueTickets opens its transaction
  // synchronously as it starts, so the wrapper below flags the next db.transaction call as a
  // join batch (no AsyncLocalStorage: its promise hooks would slow the server down); other
  // transactions of the server are left alone.
  let nextTransactionIsJoinBatch = false;
  const statements: Record<string, { count: number; totalMs: number }> = {};
  const record = (name: string, ms: number): void => {
    const entry = (statements[name] ??= { count: 0, totalMs: 0 });
    entry.count += 1;
    entry.totalMs += ms;
  };
  const transaction = db.transaction.bind(db);
  db.transaction = <T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> => {
    if (!nextTransactionIsJoinBatch) return transaction(work);
    nextTransactionIsJoinBatch = false;
    const startedAt = performance.now();
    let inStatements = 0;
    return transaction((tx) => {
      const timed: SqlExecutor = {
        query: async <Row>(text: string, params?: unknown[]) => {
          const t0 = performance.now();
          try {
            return await tx.query<Row>(text, params);
          } finally {
            const ms = performance.now() - t0;
            inStatements += ms;
            record(statementOf(text), ms);
          }
        },
        exec: (script: string) => tx.exec(script),
      };
      return work(timed);
    }).finally(() => record('beginCommit', performance.now() - startedAt - inStatements));
  };
  let created: { showId: string; onSaleAt: string } | null = null;
  const server = await startServer(config, {
    db,
    logger: createLogger(config.logLevel),
    beforeListen: async (database) => {
      created = await createShow(database, params.waitingRoom);
    },
  });
  const show = created as { showId: string; onSaleAt: string } | null;
  if (show === null) throw new Error('the bench show was not created');

  // Server-side view of each queue:serving broadcast, without touching src/: wrap io.to(room).emit.
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  let broadcasts: ServerBroadcast[] = [];
  let lastBroadcastMs: number | null = null;
  const io = server.sockets.io;
  const originalTo = io.to.bind(io);
  io.to = (room) => {
    const operator = originalTo(room);
    const emitter = operator as unknown as { emit: (event: string, ...args: unknown[]) => boolean };
    const originalEmit = emitter.emit.bind(operator);
    emitter.emit = (event, ...args) => {
      if (event !== 'queue:serving') return originalEmit(event, ...args);
      const message = args[0] as QueueServingMessage;
      const startedAt = performance.now();
      const result = originalEmit(event, ...args);
      broadcasts.push({
        serverTimeMs: message.server_time_ms,
        serving: message.serving,
        paused: message.paused,
        emitMs: performance.now() - startedAt,
        gapMs: lastBroadcastMs === null ? null : message.server_time_ms - lastBroadcastMs,
      });
      lastBroadcastMs = message.server_time_ms;
      return result;
    };
    return operator;
  };

  // Server-side view of the join group commits, again without touching src/: wrap the room's
  // QueueStore.issueTickets (one call = one transaction for a batch of joins).
  const batchSizes = build({ numberOfSignificantValueDigits: 3 });
  const batchCommitUs = build({ numberOfSignificantValueDigits: 3 });
  let batchJoins = 0;
  const store = (server.room as unknown as { options: { store: QueueStore } }).options.store;
  const issueTickets = store.issueTickets.bind(store);
  store.issueTickets = async (showId, joins, preSale) => {
    const startedAt = performance.now();
    nextTransactionIsJoinBatch = true;
    const pending = issueTickets(showId, joins, preSale);
    nextTransactionIsJoinBatch = false;
    const issued = await pending;
    batchCommitUs.recordValue(Math.max(1, Math.round((performance.now() - startedAt) * 1000)));
    batchSizes.recordValue(joins.length);
    batchJoins += joins.length;
    return issued;
  };

  const profiler = new WindowProfiler();
  let closing = false;
  const close = async (): Promise<void> => {
    if (closing) return;
    closing = true;
    await server.close();
    await db.close();
    send({ type: 'closed' });
    // Idle keep-alive HTTP connections (the joiners') would keep uWS alive for seconds.
    setTimeout(() => process.exit(0), 50);
  };
  const gc = (globalThis as { gc?: () => void }).gc;
  process.on('message', (message: ParentToQueueServer) => {
    if (message.type === 'stats') {
      if (message.gc && gc !== undefined) {
        gc();
        gc();
      }
      const elu = performance.eventLoopUtilization();
      send({
        type: 'stats',
        stats: {
          pid: process.pid,
          memory: process.memoryUsage(),
          cpu: process.cpuUsage(),
          elu: { idle: elu.idle, active: elu.active },
          eventLoopDelayP50Ms: loopDelay.percentile(50) / 1e6,
          eventLoopDelayP99Ms: loopDelay.percentile(99) / 1e6,
          eventLoopDelayMaxMs: loopDelay.max / 1e6,
          sockets: io.engine.clientsCount,
          statements,
          joinBatches: { count: batchSizes.totalCount, joins: batchJoins, sizes: encodeIntoCompressedBase64(batchSizes), commitUs: encodeIntoCompressedBase64(batchCommitUs) },
          broadcasts,
          gcForced: message.gc && gc !== undefined,
        },
      });
      if (message.reset) {
        loopDelay.reset();
        broadcasts = [];
        batchSizes.reset();
        batchCommitUs.reset();
        batchJoins = 0;
      }
    } else if (message.type === 'profile-start') {
      void profiler.start().catch((error: unknown) => console.error(error));
    } else if (message.type === 'profile-stop') {
      void profiler.stop(message.path).then(
        () => send({ type: 'profiled', path: message.path }),
        (error: unknown) => console.error(error),
      );
    } else if (message.type === 'close') {
      void close().catch((error: unknown) => {
        console.error(error);
        process.exit(1);
      });
    }
  });
  // The parent gone (crashed, killed): do not linger holding the port and the schema.
  process.on('disconnect', () => {
    if (!closing) void close().finally(() => process.exit(0));
  });
  send({ type: 'ready', url: server.url, showId: show.showId, onSaleAt: show.onSaleAt });
}

main().catch((error: unknown) => {
  send({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  console.error(error);
  process.exit(1);
});
