import cluster, { type Worker } from 'node:cluster';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { setupPrimary as setupClusterAdapterPrimary } from '@socket.io/cluster-adapter';
import type { Config } from '../config.js';
import { createPaymentProvider } from '../payments/provider-factory.js';
import { openDatabase } from '../persistence/database.js';
import { migrate } from '../persistence/migrate.js';
import { seedDemo } from '../seed/demo.js';
import type { Logger } from '../shared/logger.js';
import { IpcHub } from './ipc-hub.js';
import { primaryAddress } from './ipc-protocol.js';
import { pspMethods, servePaymentProvider } from './remote-payment-provider.js';
import { Rpc } from './rpc.js';

export interface PrimaryHandle {
  /** Worker id → pid, for ops and tests. */
  workers(): Map<string, number>;
  stop(): Promise<void>;
}

/**
 * The primary of one machine: migrates and seeds once, forks WORKERS workers (each a full
 * server on the same port; the kernel spreads connections with SO_REUSEPORT), restarts a worker
 * that dies, relays IPC between them, and hosts the simulated PSP that all of them share.
 */
export async function runPrimary(config: Config, logger: Logger): Promise<PrimaryHandle> {
  const db = await openDatabase({ databaseUrl: config.databaseUrl, schema: config.databaseSchema, pgliteDataDir: config.pgliteDataDir, poolSize: 2 });
  const applied = await migrate(db, (message) => logger.info(message));
  if (applied.length > 0) logger.info({ applied }, 'migrations applied');
  if (config.seedDemo) {
    const seeded = await seedDemo(db, { nowMs: Date.now(), onProgress: (message) => logger.info(message) });
    if (seeded.created.length > 0) logger.info({ created: seeded.created }, 'demo seeded');
  }
  await db.close();

  const node = process.env['HOLDFAST_NODE_ID'] ?? hostname().replace(/[^A-Za-z0-9._-]/g, '-');
  const pspSecret = process.env['HOLDFAST_PSP_SECRET'] ?? `whsec_sim_${randomBytes(24).toString('hex')}`;
  const hub = new IpcHub({ logger: logger.child({ component: 'cluster-hub' }), pingIntervalMs: config.clusterHeartbeatMs, livenessTimeoutMs: config.clusterLivenessTimeoutMs });
  const rpc = new Rpc({ workerId: primaryAddress, send: (to, body) => hub.sendFromPrimary(to, body), onDirect: (handler) => hub.onDirect(handler) });
  const byId = new Map<string, Worker>();
  let stopping = false;

  const stripe = Boolean(config.stripeSecretKey && config.stripeWebhookSecret);
  if (!stripe) {
    let next = 0;
    const provider = createPaymentProvider({
      simulated: {
        webhookSecret: pspSecret,
        // Webhooks go to any live worker: the saga's state is in the database.
        deliver: async (rawBody, headers) => {
          const live = hub.view().workers;
          if (live.length === 0) throw new Error('no live worker to deliver the webhook to');
          const target = live[next++ % live.length]!;
          await rpc.call(target, pspMethods.webhook, [new Uint8Array(rawBody), headers], 10_000);
        },
      },
    });
    servePaymentProvider(rpc, provider);
  }

  if (!config.redisUrl) setupClusterAdapterPrimary();
  cluster.setupPrimary({ serialization: 'advanced' });

  const fork = (index: number, attempt: number): void => {
    const workerId = `${node}-w${index}`;
    const worker = cluster.fork({ ...process.env, WORKER_ID: workerId, HOLDFAST_ROLE: 'worker', HOLDFAST_PSP_SECRET: pspSecret, SEED_DEMO: 'false' });
    byId.set(workerId, worker);
    hub.attach(workerId, worker);
    // A send to a worker killed a moment ago fails asynchronously (ERR_IPC_CHANNEL_CLOSED) and is
    // re-emitted on the Worker: without a listener there, it would crash the primary.
    worker.on('error', (error) => logger.warn({ err: error, workerId }, 'worker channel error'));
    worker.on('exit', (code, signal) => {
      hub.detach(workerId);
      if (byId.get(workerId) === worker) byId.delete(workerId);
      if (stopping) return;
      const delayMs = Math.min(200 * 2 ** attempt, 5_000);
      logger.error({ workerId, code, signal, restartInMs: delayMs }, 'worker died; its shows move to the survivors');
      setTimeout(() => fork(index, attempt + 1), delayMs).unref();
    });
    // A worker that stayed up a while has earned a fresh restart budget.
    setTimeout(() => {
      if (byId.get(workerId) === worker) attempt = 0;
    }, 30_000).unref();
  };
  for (let index = 1; index <= config.workers; index += 1) fork(index, 0);
  logger.info({ workers: config.workers, node, transport: config.redisUrl ? 'redis' : 'ipc' }, 'holdfast primary started');

  return {
    workers: () => new Map([...byId].map(([id, worker]) => [id, worker.process.pid ?? 0])),
    async stop() {
      stopping = true;
      const exits = [...byId.values()].map((worker) => new Promise<void>((resolve) => {
        if (worker.isDead()) return resolve();
        worker.once('exit', () => resolve());
        worker.process.kill('SIGTERM');
      }));
      await Promise.all(exits);
      hub.close();
      rpc.close();
    },
  };
}
