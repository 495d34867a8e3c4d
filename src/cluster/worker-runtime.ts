import { createAdapter as createClusterAdapter } from '@socket.io/cluster-adapter';
import { createAdapter as createRedisAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import type { ServerOptions } from 'socket.io';
import type { LocalShowRouter } from '../actors/show-router.js';
import type { Config } from '../config.js';
import type { PaymentProvider } from '../payments/payment-provider.js';
import { SimulatedPaymentProvider } from '../payments/simulated-provider.js';
import type { Logger } from '../shared/logger.js';
import type { ClusterBus } from './cluster-bus.js';
import { ClusterShowRouter, type ClusterRouterOptions } from './cluster-router.js';
import { IpcBus, type PrimaryChannel } from './ipc-bus.js';
import { primaryAddress } from './ipc-protocol.js';
import { RedisBus } from './redis-bus.js';
import { RemotePaymentProvider } from './remote-payment-provider.js';
import { Rpc } from './rpc.js';

/** Everything a worker process needs to take part in the cluster; built before the server starts. */
export interface ClusterRuntime {
  workerId: string;
  bus: ClusterBus;
  /** RPC among workers (commands to a show's owner). */
  rpc: Rpc;
  /** RPC with this machine's primary (the simulated PSP and its webhooks). */
  primaryRpc: Rpc;
  socketAdapter: NonNullable<ServerOptions['adapter']>;
  /** The simulated PSP of this machine's primary, or null when Stripe is configured. */
  paymentProvider: PaymentProvider | null;
  router(local: LocalShowRouter, hooks: Pick<ClusterRouterOptions, 'onMove' | 'onHop'>): ClusterShowRouter;
  close(): Promise<void>;
}

/** Joins the cluster: through the primary over IPC, or through Redis when REDIS_URL is set. */
export async function joinCluster(config: Config, logger: Logger, channel: PrimaryChannel = process as PrimaryChannel): Promise<ClusterRuntime> {
  const log = logger.child({ component: 'cluster', workerId: config.workerId });
  const ipc = new IpcBus(config.workerId, channel, log);
  const primaryRpc = new Rpc(ipc);
  let bus: ClusterBus = ipc;
  let rpc = primaryRpc;
  const redisClients: Redis[] = [];
  let socketAdapter: NonNullable<ServerOptions['adapter']>;
  if (config.redisUrl) {
    const redisBus = new RedisBus({
      workerId: config.workerId, redisUrl: config.redisUrl, keyPrefix: config.clusterKeyPrefix,
      heartbeatMs: config.clusterHeartbeatMs, livenessTimeoutMs: config.clusterLivenessTimeoutMs, logger: log,
    });
    await redisBus.start();
    bus = redisBus;
    rpc = new Rpc(redisBus);
    // The socket.io Redis adapter publishes without catching: with ioredis's default of 20 retries
    // a broadcast during a Redis outage of ~10 s rejects unheard and the worker dies. Without a
    // retry limit its commands wait (in memory) for Redis to come back instead.
    const pub = new Redis(config.redisUrl, { maxRetriesPerRequest: null });
    const sub = pub.duplicate();
    redisClients.push(pub, sub);
    for (const client of redisClients) client.on('error', (error: Error) => log.warn({ err: error.message }, 'socket.io redis adapter connection error'));
    socketAdapter = createRedisAdapter(pub, sub, { key: `${config.clusterKeyPrefix}socket.io` });
  } else {
    socketAdapter = createClusterAdapter();
  }
  const stripe = Boolean(config.stripeSecretKey && config.stripeWebhookSecret);
  const pspSecret = process.env['HOLDFAST_PSP_SECRET'];
  const paymentProvider = stripe
    ? null
    : new RemotePaymentProvider(primaryRpc, primaryAddress, new SimulatedPaymentProvider(pspSecret ? { webhookSecret: pspSecret } : {}), config.routeHopTimeoutMs * 5);
  const clusterBus = bus;
  // Worker ids are `<node>-w<n>` (the primary names them): same prefix, same machine.
  const machinePrefix = config.workerId.replace(/w\d+$/, '');
  const clusterRpc = rpc;
  return {
    workerId: config.workerId,
    bus: clusterBus,
    rpc: clusterRpc,
    primaryRpc,
    socketAdapter,
    paymentProvider,
    router: (local, hooks) =>
      new ClusterShowRouter({
        local, bus: clusterBus, rpc: clusterRpc, logger: log,
        hopTimeoutMs: config.routeHopTimeoutMs, retryWindowMs: config.routeRetryWindowMs, ...hooks,
        // Over Redis, the workers of this machine stay reachable through the primary when Redis is down.
        ...(clusterBus !== ipc ? { fallback: { rpc: primaryRpc, reaches: (workerId: string) => workerId.startsWith(machinePrefix) } } : {}),
      }),
    async close() {
      await clusterBus.close();
      if (clusterBus !== ipc) await ipc.close();
      await Promise.all(redisClients.map((client) => client.quit().catch(() => client.disconnect())));
    },
  };
}
