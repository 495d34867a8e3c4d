/**
 * The server as `npm start` runs it with several workers: a primary and `workers` workers
 * (`src/main.ts`, WORKERS=k) in a fresh schema, every limit set in the environment as for the
 * single-process server. The simulated PSP lives in the primary, so its own ledger is not
 * reachable from here: the audit checks payments against the database only.
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { createRunSchema } from './run-schema.js';
import { adminToken, serverEnvironment, type ServerLimits, type ServerProcess } from './server-process.js';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export async function startClusterServerProcess(options: { connectionString: string; workers: number; limits: ServerLimits; logLevel: string; keepSchema?: boolean; startTimeoutMs?: number }): Promise<ServerProcess> {
  const runSchema = await createRunSchema(options.connectionString, options.keepSchema);
  const schema = runSchema.name;
  const port = await freePort();
  const env: Record<string, string> = {
    ...serverEnvironment(options.connectionString, options.limits, options.logLevel),
    DATABASE_SCHEMA: schema, PORT: String(port), WORKERS: String(options.workers), HOLDFAST_NODE_ID: schema, CLUSTER_KEY_PREFIX: `${schema}:`,
  };
  delete env['WORKER_ID'];
  // LOAD_SERVER_CPU_PROF=<dir>: a V8 CPU profile of the primary and of each worker (node:cluster
  // passes the primary's execArgv on), written there when they stop.
  const profileDir = process.env['LOAD_SERVER_CPU_PROF'];
  const profileArgs = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  const child = spawn(process.execPath, [...profileArgs, '--import', 'tsx', 'src/main.ts'], {
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', ...env },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  const dropSchema = runSchema.drop;
  const deadline = Date.now() + (options.startTimeoutMs ?? 120_000);
  for (;;) {
    const view = await fetch(`${url}/v1/ops/cluster`, { headers: { authorization: `Bearer ${adminToken}` }, signal: AbortSignal.timeout(2_000) })
      .then(async (response) => (response.ok ? ((await response.json()) as { workers: string[] }) : null))
      .catch(() => null);
    if (view?.workers.length === options.workers) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      await dropSchema().catch(() => undefined);
      throw new Error(`the ${options.workers}-worker server did not come up`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  let stopped = false;
  return {
    url,
    pid: child.pid ?? 0,
    schema,
    engine: 'holdfast',
    env,
    exited,
    ledger: async () => ({ entries: [], pendingWork: 0 }),
    hasLedger: false,
    baselineHolds: async () => {
      throw new Error('the baseline engine runs in the single-process server only');
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
      await dropSchema();
    },
  };
}
