import cluster from 'node:cluster';
import { runPrimary } from './cluster/primary.js';
import { joinCluster } from './cluster/worker-runtime.js';
import { loadConfig } from './config.js';
import { startServer, type HoldfastServer } from './server.js';
import { skewedClock } from './shared/clock.js';
import { createLogger } from './shared/logger.js';

/**
 * `npm start`: migrate, seed the demo, serve on PORT. With WORKERS > 1 (the default with
 * DATABASE_URL: one per core) a primary forks the workers; each show lives on one of them.
 * SIGTERM/SIGINT drain gracefully.
 */
const config = loadConfig();
const logger = createLogger(config.logLevel);

if (cluster.isPrimary && config.workers > 1 && !config.databaseUrl) {
  logger.warn({ workers: config.workers }, 'the embedded database serves one process: set DATABASE_URL to run several workers; running one');
}

if (cluster.isPrimary && config.workers > 1 && config.databaseUrl) {
  const primary = await runPrimary(config, logger);
  onSignal(config.shutdownGraceMs * 2, () => primary.stop());
} else {
  const runtime = cluster.isWorker ? await joinCluster(config, logger) : undefined;
  const server: HoldfastServer = await startServer(config, { logger, ...(runtime ? { cluster: runtime } : {}), ...(config.clockSkewMs !== 0 ? { clock: skewedClock(config.clockSkewMs) } : {}) });
  onSignal(config.shutdownGraceMs, () => server.close());
  // The primary is gone (killed): a worker without it cannot be reached for moves; stop cleanly.
  if (cluster.isWorker) process.on('disconnect', () => process.kill(process.pid, 'SIGTERM'));
}

function onSignal(graceMs: number, stop: () => Promise<void>): void {
  let stopping = false;
  const handle = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), graceMs);
    force.unref();
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => handle('SIGTERM'));
  process.on('SIGINT', () => handle('SIGINT'));
}
