import { fileURLToPath } from 'node:url';
import uWS from 'uWebSockets.js';
import type { AdmissionGate } from './admission/admission-gate.js';
import { QueueStore } from './admission/queue-store.js';
import { waitingRoomSettingsOf } from './admission/show-settings.js';
import { WaitingRoomService } from './admission/waiting-room.js';
import { registerQueueRoutes } from './gateway/routes/queue-routes.js';
import { registerOrderRoutes } from './gateway/routes/order-routes.js';
import { OrderService } from './orders/order-service.js';
import { WaitlistController } from './gateway/controllers/waitlist-controller.js';
import { registerWaitlistRoutes } from './gateway/routes/waitlist-routes.js';
import { OutboxRelay } from './outbox/outbox-relay.js';
import { OutboxStore } from './outbox/outbox-store.js';
import { outboxPrometheus } from './outbox/outbox-metrics.js';
import { LogSink, WebhookSink, type OutboxSink } from './outbox/sinks.js';
import { wakeFor } from './outbox/wake.js';
import { TicketService } from './orders/ticket-service.js';
import type { PaymentProvider } from './payments/payment-provider.js';
import { createPaymentProvider } from './payments/provider-factory.js';
import { LocalShowRouter, type ShowRouter } from './actors/show-router.js';
import type { ClusterShowRouter } from './cluster/cluster-router.js';
import type { ClusterRuntime } from './cluster/worker-runtime.js';
import { pspMethods } from './cluster/remote-payment-provider.js';
import type { ServingUpdate } from './admission/waiting-room.js';
import type { Config } from './config.js';
import { Sessions } from './gateway/auth/sessions.js';
import { HoldController } from './gateway/controllers/hold-controller.js';
import { Api } from './gateway/http/api.js';
import { HttpLayer } from './gateway/http/uws-http.js';
import { Metrics } from './gateway/metrics.js';
import { RateLimits } from './gateway/rate-limits.js';
import { registerCatalogRoutes } from './gateway/routes/catalog-routes.js';
import { registerHoldRoutes } from './gateway/routes/hold-routes.js';
import { HttpIdempotency } from './gateway/http/http-idempotency.js';
import { CatalogService } from './catalog/catalog-service.js';
import { seedDemo } from './seed/demo.js';
import { clusterOpsStatus } from './cluster/cluster-ops-status.js';
import { registerClusterOpsRoutes } from './gateway/routes/cluster-ops-routes.js';
import { registerSessionRoutes } from './gateway/routes/session-routes.js';
import { registerSystemRoutes } from './gateway/routes/system-routes.js';
import { registerStaticRoutes } from './gateway/routes/static-routes.js';
import { registerOpsRoutes } from './gateway/routes/ops-routes.js';
import { CommitWindow } from './gateway/ops/commit-window.js';
import { localOpsStatus } from './gateway/ops/local-ops-status.js';
import { SocketGateway } from './gateway/socket/socket-gateway.js';
import { openDatabase, type SqlDatabase } from './persistence/database.js';
import { migrate } from './persistence/migrate.js';
import { PostgresJournal } from './persistence/postgres-journal.js';
import { ShowDefinitionStore } from './persistence/show-definitions.js';
import { systemClock, systemTimers, type Clock } from './shared/clock.js';
import { createLogger, type Logger } from './shared/logger.js';
import { TokenSigner } from './shared/signed-tokens.js';

export interface HoldfastServer {
  port: number;
  url: string;
  db: SqlDatabase;
  router: LocalShowRouter;
  metrics: Metrics;
  logger: Logger;
  sockets: SocketGateway;
  room: WaitingRoomService;
  orders: OrderService;
  provider: PaymentProvider;
  /** Graceful: stop accepting, let in-flight batches commit, close sockets, close the database. */
  close(): Promise<void>;
}

export interface ServerOverrides {
  db?: SqlDatabase;
  clock?: Clock;
  logger?: Logger;
  admission?: AdmissionGate;
  /** A payment provider to use instead of the one the environment selects (tests keep one across restarts). */
  paymentProvider?: PaymentProvider;
  /** This process is one worker of several (src/cluster): commands route to each show's owner. */
  cluster?: ClusterRuntime;
  /** Puts another router in front of this process's actors (load baselines, fault injection in tests). */
  wrapRouter?: (local: LocalShowRouter) => ShowRouter;
  /** Runs after migrations, before listening (the demo seed). */
  beforeListen?: (db: SqlDatabase, logger: Logger) => Promise<void>;
}

/** The composition root: wires persistence, actors and the gateway into one uWS app. */
export async function startServer(config: Config, overrides: ServerOverrides = {}): Promise<HoldfastServer> {
  const logger = overrides.logger ?? createLogger(config.logLevel);
  const clock = overrides.clock ?? systemClock;
  const ownsDb = overrides.db === undefined;
  const db = overrides.db ?? (await openDatabase({ databaseUrl: config.databaseUrl, schema: config.databaseSchema, pgliteDataDir: config.pgliteDataDir, poolSize: config.databasePoolSize, statementTimeoutMs: config.databaseStatementTimeoutMs, queryTimeoutMs: config.databaseQueryTimeoutMs }));
  // Migrations may run long (an index on a big table): on PostgreSQL they get a connection without the statement and query timeouts.
  const migrationDb = ownsDb && config.databaseUrl ? await openDatabase({ databaseUrl: config.databaseUrl, schema: config.databaseSchema, poolSize: 1 }) : db;
  const applied = await migrate(migrationDb, (message) => logger.info({ database: db.kind }, message)).finally(() => (migrationDb === db ? undefined : migrationDb.close()));
  if (applied.length > 0) logger.info({ applied }, 'migrations applied');
  if (config.seedDemo) {
    const seeded = await seedDemo(db, { nowMs: clock.nowMs(), onProgress: (message) => logger.info(message) });
    if (seeded.created.length > 0) logger.info({ created: seeded.created }, 'demo seeded');
  }
  await overrides.beforeListen?.(db, logger);

  const metrics = new Metrics();
  const definitions = new ShowDefinitionStore(db);
  const commitWindow = new CommitWindow(() => clock.nowMs());
  let sockets: SocketGateway | null = null;
  const cluster = overrides.cluster;
  let clusterRouter: ClusterShowRouter | null = null;
  // Group commits on a pool of their own: under an on-sale's API load (orders, payments, the
  // waiting room) a show's commit would otherwise wait in the shared pool's queue, and every
  // seat claim of the batch with it.
  const journalDb = db.sibling?.(config.journalPoolSize, 'holdfast-journal') ?? db;
  const localRouter = new LocalShowRouter({
    ownerId: config.workerId,
    journal: new PostgresJournal(journalDb),
    loadDefinition: (showId) => definitions.load(showId),
    clock,
    timers: systemTimers,
    logger,
    observer: commitWindow.observe(metrics.actorObserver()),
    actorLimits: { mailboxDepthMax: config.mailboxDepthMax, batchCommandsMax: config.batchCommandsMax },
    onCommitted: (diff) => {
      clusterRouter?.publishDiff(diff);
      sockets?.notices.onCommitted(diff);
    },
  });
  if (cluster) {
    clusterRouter = cluster.router(localRouter, {
      onMove: () => metrics.showMoves.inc(),
      onHop: (method, durationMs) => metrics.routingHop.observe({ method }, durationMs / 1000),
    });
  }
  const routed: ShowRouter = clusterRouter ?? localRouter;
  const router: ShowRouter = overrides.wrapRouter?.(localRouter) ?? routed;
  
  const rateLimits = new RateLimits({ perUserPerSecond: config.rateLimitPerUserPerSecond, perIpPerSecond: config.rateLimitPerIpPerSecond });
  const catalog = new CatalogService(db, { clock });
  const signer = new TokenSigner(config.tokenSecret);
  const sessions = new Sessions(signer, clock, config.sessionTtlMs, config.adminToken);
  const room = new WaitingRoomService({
    store: new QueueStore(db),
    router,
    signer,
    clock,
    logger,
    settingsOf: (showId) => waitingRoomSettingsOf(catalog, showId),
    // With several workers the show's owner advances the counter and every worker hears it.
    onServing: (update) => (cluster ? cluster.bus.publish(servingTopic, update) : void sockets?.queueFanout.onServing(update)),
    ...(clusterRouter ? { ticksHere: (showId: string) => clusterRouter.ownerOf(showId) === cluster!.workerId, sharedCounters: true } : {}),
    tickMs: config.queueTickMs,
    joinBatchMax: config.queueJoinBatchMax,
  });
  const holds = new HoldController({ router, admission: overrides.admission ?? room, rateLimits, clock });
  let orders: OrderService | null = null;
  const provider = overrides.paymentProvider ?? cluster?.paymentProvider ?? createPaymentProvider({
    stripeSecretKey: config.stripeSecretKey,
    stripeWebhookSecret: config.stripeWebhookSecret,
    stripeApiBase: config.stripeApiBase,
    clock,
    // The simulated PSP delivers its webhooks straight to the saga, late, twice or out of order.
    simulated: { deliver: async (rawBody, headers) => void (await orders?.handleWebhook(rawBody, headers)) },
  });
  orders = new OrderService({ db, router, provider, clock, logger, paymentWindowMs: config.paymentWindowMs });
  const orderService = orders;
  cluster?.primaryRpc.handle(pspMethods.webhook, async ([rawBody, headers]) => orderService.handleWebhook(Buffer.from(rawBody as Uint8Array), headers as Record<string, string>));
  const tickets = new TicketService(db, signer);
  const reconcileTimer = setInterval(() => {
    orderService.reconcile(config.reconcileIdleMs, 200).catch((error: unknown) => logger.warn({ err: error }, 'reconciliation failed'));
  }, config.reconcileIntervalMs);
  reconcileTimer.unref();

  const app = uWS.App();
  let shuttingDown = false;
  const http = new HttpLayer(app, {
    logger,
    bodyBytesMax: config.httpBodyBytesMax,
    bodyTimeoutMs: config.httpBodyTimeoutMs,
    trustProxy: config.trustProxy,
    corsOrigin: config.corsOrigin,
    isClosing: () => shuttingDown,
    staticHeaders: { 'x-holdfast-worker': config.workerId },
    onResponse: (request, status, durationMs) => {
      metrics.httpRequests.inc({ method: request.method, route: request.route, status: String(status) });
      metrics.httpDuration.observe({ method: request.method, route: request.route }, durationMs / 1000);
    },
  });
  const api = new Api(http, async (request) => {
    if (request.route.startsWith('/v1/')) await rateLimits.checkIp(request.ip);
  });
  registerSystemRoutes(api, { db, metrics, isShuttingDown: () => shuttingDown, openApi: () => api.openApiDocument({ title: 'Holdfast', version: '0.1.0' }), workerId: config.workerId });
  registerSessionRoutes(api, sessions);
  registerHoldRoutes(api, holds, sessions);
  registerQueueRoutes(api, { room, sessions, rateLimits });
  const waitlist = new WaitlistController({ router, rateLimits });
  registerWaitlistRoutes(api, waitlist, sessions);
  const httpIdempotency = new HttpIdempotency(db, 15_000, config.httpIdempotencyClaimLeaseMs);
  registerCatalogRoutes(api, { catalog, router, sessions, idempotency: httpIdempotency });
  registerClusterOpsRoutes(api, {
    cluster: clusterRouter, sessions, logger,
    showIds: async () => (await db.query<{ id: string }>('select id from shows order by id limit 1000')).rows.map((row) => row.id),
  });
  const localStatus = localOpsStatus({
    workerId: config.workerId, router: localRouter, commits: commitWindow, room, db, logger, nowMs: () => clock.nowMs(),
    ...(clusterRouter ? { cluster: { workers: () => clusterRouter!.view().workers, ownerOf: (showId: string) => clusterRouter!.ownerOf(showId) } } : {}),
  });
  registerOpsRoutes(api, {
    sessions,
    reconcile: (idleMs, batch) => orderService.reconcile(idleMs, batch),
    status: clusterRouter && cluster ? clusterOpsStatus({ router: clusterRouter, rpc: cluster.rpc, local: localStatus, logger, timeoutMs: config.routeHopTimeoutMs }) : localStatus,
  });
  registerOrderRoutes(api, { orders: orderService, tickets, sessions, idempotency: httpIdempotency, rateLimits, clock });
  sockets = new SocketGateway({
    app, router, holds, sessions, clock, logger, metrics, room, rateLimits, waitlist,
    diffTickMs: config.diffTickMs,
    parser: config.socketParser,
    eventsPerSecondMax: config.socketEventsPerSecondMax,
    watchedShowsPerSocketMax: config.watchedShowsPerSocketMax,
    frameBytesMax: config.httpBodyBytesMax,
    ...(cluster ? { cluster: { adapter: cluster.socketAdapter } } : {}),
  });
  const socketGateway = sockets;
  const stopServing = cluster?.bus.subscribe(servingTopic, (payload) => {
    const update = payload as ServingUpdate;
    room.observeServing(update);
    void socketGateway.queueFanout.onServing(update);
  });
  const sinks: OutboxSink[] = [new LogSink(logger.child({ component: 'outbox' }), { includePayload: false })];
  if (config.outboxWebhookUrl) sinks.push(new WebhookSink({ url: config.outboxWebhookUrl, secret: config.outboxWebhookSecret!, timeoutMs: config.outboxWebhookTimeoutMs }));
  const relay = new OutboxRelay({
    db, sinks, logger, pollIntervalMs: config.outboxPollMs, gatherMs: config.outboxGatherMs, batchSize: config.outboxBatchSize, maxAttempts: config.outboxMaxAttempts, leaseMs: config.outboxLeaseMs,
    wake: config.outboxEnabled ? wakeFor(db, { ...(config.databaseUrl ? { connectionString: config.databaseUrl } : {}), logger }) : undefined,
    observer: outboxPrometheus(metrics.registry, new OutboxStore(db)),
  });
  if (config.outboxEnabled) relay.start();
  registerStaticRoutes(http, { distDir: fileURLToPath(new URL('../web/dist/', import.meta.url)) });
  http.fallback();
  const activeShowsTimer = setInterval(() => metrics.activeShows.set(localRouter.activeShowCount), 5_000);
  activeShowsTimer.unref();

  const listenSocket = await new Promise<uWS.us_listen_socket>((resolve, reject) => {
    app.listen(config.host, config.port, (socket) => (socket ? resolve(socket) : reject(new Error(`cannot listen on ${config.host}:${config.port}`))));
  });
  const port = uWS.us_socket_local_port(listenSocket as unknown as uWS.us_socket);
  const url = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port}`;
  logger.info({ url, database: db.kind, workerId: config.workerId }, 'holdfast listening');
  // Only now may shows be routed here.
  await cluster?.bus.announceReady();

  return {
    port, url, db, router: localRouter, metrics, logger, sockets, room, orders: orderService, provider,
    async close() {
      if (shuttingDown) return;
      shuttingDown = true;
      clearInterval(activeShowsTimer);
      uWS.us_listen_socket_close(listenSocket);
      // Leave the view first: the other workers take this worker's shows while its batches finish.
      await cluster?.bus.leave().catch((error: unknown) => logger.warn({ err: error }, 'leaving the cluster failed'));
      stopServing?.();
      room.close();
      clearInterval(reconcileTimer);
      await relay.stop();
      await router.stopAll();
      if (router !== localRouter) await localRouter.stopAll();
      await sockets?.close();
      await cluster?.close();
      if (journalDb !== db) await journalDb.close();
      if (ownsDb) await db.close();
      logger.info('holdfast stopped');
    },
  };
}

/** Serving-counter broadcasts of every show's waiting room, from its owner to every worker. */
const servingTopic = 'serving';
