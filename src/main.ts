import { loadConfig } from './config.js';
import { startServer } from './server.js';

/** `npm start`: migrate, seed the demo, serve on PORT; SIGTERM/SIGINT drain gracefully. */
const config = loadConfig();
const server = await startServer(config);
let stopping = false;
const stop = (signal: string): void => {
  if (stopping) return;
  stopping = true;
  server.logger.info({ signal }, 'shutting down');
  const force = setTimeout(() => process.exit(1), config.shutdownGraceMs);
  force.unref();
  server.close().then(
    () => process.exit(0),
    (error: unknown) => {
      server.logger.error({ err: error }, 'shutdown failed');
      process.exit(1);
    },
  );
};
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
