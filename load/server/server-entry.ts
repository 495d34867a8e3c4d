/**
 * The server a load run starts for itself (forked by load/server/server-process.ts):
 *   node --import tsx load/server/server-entry.ts '<json ServerEntryParams>'
 * The real Holdfast server (startServer) on 127.0.0.1 over PostgreSQL in the run's own schema,
 * configured from its environment (every limit the run depends on is set there explicitly by the
 * parent). Two things are not environment settings and come as params: the simulated PSP's
 * memory bound (so a 50,000-order on-sale keeps every payment for the audit) and the engine
 * (`baseline` puts the conditional-UPDATE router in front of the actors, `gateway` one that refuses
 * every hold unseen). Talks to the parent
 * over IPC: `ready`, the PSP's ledger for the audit, `close`.
 */
import { loadConfig } from '../../src/config.js';
import { connectPostgres } from '../../src/persistence/database.js';
import { ShowDefinitionStore } from '../../src/persistence/show-definitions.js';
import { SimulatedPaymentProvider } from '../../src/payments/simulated-provider.js';
import { startServer, type HoldfastServer } from '../../src/server.js';
import { createLogger } from '../../src/shared/logger.js';
import { ConditionalUpdateRouter } from '../baseline/conditional-update-router.js';
import { GatewayOnlyRouter } from '../baseline/gateway-only-router.js';

/** holdfast: the show actors; baseline: conditional UPDATEs; gateway: every hold refused before any actor or database (the floor). */
export type Engine = 'holdfast' | 'baseline' | 'gateway';

export interface ServerEntryParams {
  connectionString: string;
  schema: string;
  engine: Engine;
  /** Payments the simulated PSP keeps in memory (its default, 50,000, would evict during a stadium on-sale). */
  providerPaymentsMax: number;
  /** Connections of the baseline's own pool (the Foundation's baseline used 64). */
  baselinePoolSize: number;
  /**
   * Payment window in ms. PAYMENT_WINDOW_S cannot go below 60 s; short CI runs that test late
   * payments (captured after the window, refunded) need a window of seconds, which the order
   * saga itself accepts (limits.paymentWindowMsMin).
   */
  paymentWindowMs: number;
}

/** One payment as the PSP itself saw it: how many times money was taken and refunded. */
export interface ProviderLedgerEntry {
  paymentId: string;
  orderId: string;
  status: string;
  captures: number;
  refunds: number;
}

export type ServerToParent =
  | { type: 'ready'; url: string; pid: number; engine: Engine }
  | { type: 'ledger'; entries: ProviderLedgerEntry[]; pendingWork: number }
  | { type: 'baseline-holds'; holds: { holdId: string; seatId: string }[] }
  | { type: 'closed' }
  | { type: 'error'; message: string };
export type ParentToServer = { type: 'ledger' } | { type: 'baseline-holds'; showIds: string[] } | { type: 'close' };

const send = (message: ServerToParent): void => {
  process.send?.(message);
};

async function main(): Promise<void> {
  if (process.send === undefined) throw new Error('server-entry runs as a child of the load harness (needs an IPC channel)');
  const params = JSON.parse(process.argv[2] ?? '{}') as ServerEntryParams;
  const config = { ...loadConfig(process.env), host: '127.0.0.1', paymentWindowMs: params.paymentWindowMs };
  const db = connectPostgres({ connectionString: params.connectionString, schema: params.schema, poolSize: config.databasePoolSize, applicationName: 'holdfast-load-server' });
  let server: HoldfastServer | null = null;
  const provider = new SimulatedPaymentProvider({
    maxPayments: params.providerPaymentsMax,
    // Webhooks go to the saga as in startServer's own wiring; one arriving before the server is up is retried by the PSP.
    deliver: async (rawBody, headers) => {
      if (server === null) throw new Error('server not started yet');
      await server.orders.handleWebhook(rawBody, headers);
    },
  });
  let baseline: ConditionalUpdateRouter | null = null;
  const definitions = new ShowDefinitionStore(db);
  server = await startServer(config, {
    db,
    paymentProvider: provider,
    logger: createLogger(config.logLevel),
    ...(params.engine === 'baseline'
      ? {
          wrapRouter: (local) => {
            baseline = new ConditionalUpdateRouter({
              connectionString: params.connectionString, schema: params.schema, poolSize: params.baselinePoolSize,
              loadDefinition: (showId) => definitions.load(showId), delegate: local,
            });
            return baseline;
          },
        }
      : params.engine === 'gateway'
        ? { wrapRouter: (local) => new GatewayOnlyRouter(local) }
        : {}),
  });
  const running = server;
  let closing = false;
  const close = async (): Promise<void> => {
    if (closing) return;
    closing = true;
    provider.close();
    await running.close();
    await db.close();
    send({ type: 'closed' });
    // As src/main.ts: idle keep-alive connections would keep uWS alive for seconds.
    setTimeout(() => process.exit(0), 50);
  };
  process.on('message', (message: ParentToServer) => {
    if (message.type === 'ledger') {
      const entries = provider.allPayments().map((payment) => ({ paymentId: payment.id, orderId: payment.orderId, status: payment.status, captures: payment.captures, refunds: payment.refunds.length }));
      send({ type: 'ledger', entries, pendingWork: provider.pendingWork });
    } else if (message.type === 'baseline-holds') {
      const router = baseline as ConditionalUpdateRouter | null;
      void (router === null ? Promise.resolve([]) : router.heldSeats(message.showIds)).then((holds) => send({ type: 'baseline-holds', holds }));
    } else if (message.type === 'close') {
      void close().catch((error: unknown) => {
        console.error(error);
        process.exit(1);
      });
    }
  });
  // The parent gone (crashed, killed): do not linger holding the port.
  process.on('disconnect', () => {
    if (!closing) void close().finally(() => process.exit(0));
  });
  send({ type: 'ready', url: running.url, pid: process.pid, engine: params.engine });
}

main().catch((error: unknown) => {
  console.error(error);
  send({ type: 'error', message: error instanceof Error ? error.message : String(error) });
  process.exit(1);
});
