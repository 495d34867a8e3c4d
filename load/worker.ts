/**
 * A load worker (forked by load/run-scenario.ts, `--workers` of them), run as an esbuild bundle of
 * this file (load/worker-bundle.ts), or from source with LOAD_WORKER_BUNDLE=false:
 *   node --import tsx load/worker.ts
 * Drives fans [fanFrom, fanTo) of the run, each a HoldfastClient of the SDK (its own session and
 * socket; REST over this worker's keep-alive pool), started at the connect rate. Every second it
 * sends its counters, gauges and the interval's HDR histograms; on `stop` it lets fans finish what
 * they already sent (so every acknowledgement is recorded), then sends what the clients were told
 * (acknowledged holds and orders) for the audit.
 */
import { HoldfastClient } from '../client-sdk/src/client.js';
import type { LiveOptions } from '../client-sdk/src/live.js';
import { mulberry32 } from '../bench/support/show-history.js';
import { emptyAcknowledged, type Acknowledged } from './audit.js';
import { keepAliveFetch } from './client/keep-alive-fetch.js';
import { WorkerMetrics, type IntervalReport } from './metrics.js';
import type { LoadOptions } from './options.js';
import { countError, pause } from './scenarios/fan-actions.js';
import { fetchGeometry } from './scenarios/geometry.js';
import { scenarios } from './scenarios/index.js';
import type { ScenarioPlan, WorkerShared } from './scenarios/scenario.js';

export interface WorkerParams {
  workerIndex: number;
  fanFrom: number;
  fanTo: number;
  url: string;
  plan: ScenarioPlan;
  options: LoadOptions;
  /** Fans of the whole run, and how many of them watch the live seat map. */
  fansTotal: number;
  watchersTotal: number;
  deadlineMs: number;
  /** Run the scenario's driver here (worker 0). */
  driver: boolean;
}

export type WorkerToParent =
  | { type: 'progress'; workerIndex: number; interval: IntervalReport }
  | { type: 'done'; workerIndex: number; interval: IntervalReport; ack: Acknowledged; unfinishedFans: number }
  | { type: 'error'; workerIndex: number; message: string };
export type ParentToWorker = { type: 'start'; params: WorkerParams } | { type: 'stop'; graceMs: number };

const send = (message: WorkerToParent): void => {
  process.send?.(message);
};

/** Spreads watchers evenly over the fans (and so over the workers). */
export function isWatcher(index: number, fans: number, watchers: number): boolean {
  return Math.floor(((index + 1) * watchers) / fans) !== Math.floor((index * watchers) / fans);
}

async function run(params: WorkerParams, stopped: Promise<number>): Promise<void> {
  const { plan, options, url } = params;
  const scenario = scenarios[plan.scenario];
  const metrics = new WorkerMetrics();
  const ack = emptyAcknowledged();
  // Against a server on this machine, spread the generator's TCP connections over loopback source
  // addresses: Linux picks a connect()'s ephemeral port by scanning the range (28,000 ports here,
  // half of them tried first), so with 20,000 sockets from one address every new connection
  // scanned thousands of busy ports — 20–28% of a 10,000-fan worker's CPU was in connect().
  const loopback = new URL(url).hostname === '127.0.0.1';
  const sourceAddress = (slot: number): string | undefined => (loopback ? `127.0.0.${2 + (slot % 64)}` : undefined);
  const http = keepAliveFetch(options.httpConnections, sourceAddress(64 + params.workerIndex));
  let clientCount = 0;
  // Every fan waits on this one signal, through onStop (one listener, however many fans).
  const stop = new AbortController();
  const clients: HoldfastClient[] = [];
  const makeClient = (watcher: boolean, seed: number): HoldfastClient => {
    const localAddress = sourceAddress(params.workerIndex * 31 + clientCount++);
    const client = new HoldfastClient({
      baseUrl: url,
      fetch: http.fetch,
      random: mulberry32(seed),
      // The attempt clock includes the wait in this process's own connection queue — tens of
      // seconds when 10,000 fans share 256 connections, a wait no phone has. With 30 s, requests
      // timed out once on the wire, and each abort closed a pooled connection (a reconnect storm).
      retry: { attemptTimeoutMs: 120_000 },
      live: {
        transports: ['websocket'],
        connectTimeoutMs: 30_000,
        ackTimeoutMs: 30_000,
        // engine.io-client hands localAddress to ws in Node (not in its published option types).
        ...(localAddress ? { extra: { localAddress } as NonNullable<LiveOptions['extra']> } : {}),
      },
      onAttempt: (record) => {
        if (record.attempt > 1) metrics.count('retries');
      },
      onError: (error) => metrics.code('background', error instanceof Error ? error.name : 'unknown'),
      // Observes each diff's commit time (never drops one): delivery latency = receipt − commit, same clock.
      ...(watcher
        ? {
            testHooks: {
              dropDiff: (diff) => {
                metrics.recordMs('diff', Math.max(0, Date.now() - diff.committed_at_ms));
                metrics.count('diffs');
                return false;
              },
            },
          }
        : {}),
    });
    clients.push(client);
    return client;
  };

  const reporter = setInterval(() => {
    metrics.gauges.httpQueued = http.queued();
    send({ type: 'progress', workerIndex: params.workerIndex, interval: metrics.takeInterval() });
  }, 1_000);

  const shared: WorkerShared = { geometry: null, map: null };
  if (plan.scenario === 'onsale' && options.specificShare > 0) {
    // Fans picking specific seats look at a live map: this worker's own watcher of the show.
    shared.geometry = await fetchGeometry(url, plan.showId);
    const mapClient = makeClient(false, params.workerIndex + 7);
    await mapClient.signIn(`map-${plan.runId}-${params.workerIndex}`);
    shared.map = mapClient.watchShow(plan.showId);
  }

  const fans: Promise<void>[] = [];
  const context = { plan, options, metrics, ack, signal: stop.signal, deadlineMs: params.deadlineMs, shared };
  if (params.driver && scenario.driver) {
    fans.push(
      scenario.driver({
        ...context,
        random: mulberry32(options.seed * 7919),
        client: async (n) => {
          const client = makeClient(false, options.seed * 104_729 + n);
          await client.signIn(`driver-${plan.runId}-${n}`);
          return client;
        },
      }).catch((error: unknown) => countError(context, error)),
    );
  }
  const startFan = (index: number): void => {
    const watcher = isWatcher(index, params.fansTotal, params.watchersTotal);
    const client = makeClient(watcher, options.seed * 1_000_003 + index);
    metrics.gauge('fansActive', 1);
    fans.push(
      scenario
        .fan({ ...context, index, client, random: mulberry32(options.seed * 999_983 + index), watcher })
        .catch((error: unknown) => countError(context, error))
        .finally(() => metrics.gauge('fansActive', -1)),
    );
  };
  // The ramp: fans arrive at the connect rate, in small steps.
  const stepMs = 20;
  const perStep = Math.max(1, (options.connectRatePerS * stepMs) / 1000);
  let next = params.fanFrom;
  let budget = 0;
  void stopped.then(() => stop.abort());
  while (next < params.fanTo && !stop.signal.aborted) {
    budget += perStep;
    while (budget >= 1 && next < params.fanTo) {
      budget -= 1;
      startFan(next++);
    }
    await pause(stepMs, stop.signal);
  }
  // LOAD_STOP_GRACE_S caps it: a chaos test whose calls may hang on a killed worker need not wait 30 s.
  const graceCapS = Number(process.env['LOAD_STOP_GRACE_S'] || Infinity);
  const graceMs = Math.min(await stopped, Number.isFinite(graceCapS) && graceCapS >= 0 ? graceCapS * 1000 : Infinity);
  stop.abort();
  // Let fans finish the calls they already sent: their outcomes are acknowledgements to audit.
  let unfinished = fans.length;
  const allDone = Promise.allSettled(fans).then(() => {
    unfinished = 0;
  });
  await Promise.race([allDone, pause(graceMs)]);
  if (unfinished > 0) unfinished = metrics.gauges.fansActive;
  clearInterval(reporter);
  metrics.gauges.httpQueued = http.queued();
  for (const client of clients) client.close();
  http.close();
  // Exit only once the (large) report is handed to the IPC channel.
  await new Promise<void>((resolve) => process.send!({ type: 'done', workerIndex: params.workerIndex, interval: metrics.takeInterval(), ack, unfinishedFans: unfinished } satisfies WorkerToParent, undefined, {}, () => resolve()));
}

if (process.send === undefined) throw new Error('load/worker.ts runs as a child of the load harness (needs an IPC channel)');
let resolveStop: (graceMs: number) => void = () => undefined;
const stopped = new Promise<number>((resolve) => (resolveStop = resolve));
process.on('message', (message: ParentToWorker) => {
  if (message.type === 'start') {
    run(message.params, stopped).then(
      () => setTimeout(() => process.exit(0), 100),
      (error: unknown) => {
        send({ type: 'error', workerIndex: message.params.workerIndex, message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
        setTimeout(() => process.exit(1), 100);
      },
    );
  } else if (message.type === 'stop') {
    resolveStop(message.graceMs);
  }
});
process.on('disconnect', () => process.exit(0));
