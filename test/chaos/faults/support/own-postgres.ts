/**
 * A PostgreSQL 15 instance of the test's own (never the machine's shared one, which other tests
 * use meanwhile): initdb into a directory under /tmp, a free port, fsync on, run as the postgres
 * user (initdb and postgres refuse root). `restart` stops it with a pg_ctl shutdown mode, keeps it
 * down for a while and starts it again on the same port and data, as an operator's restart would.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './free-port.js';

const run = promisify(execFile);
const binaries = '/usr/lib/postgresql/15/bin';

export type ShutdownMode = 'immediate' | 'fast';

export interface OwnPostgres {
  port: number;
  /** postgres://postgres@127.0.0.1:<port>/postgres */
  url: string;
  /**
   * Stops with `mode`, stays down `downMs`, starts again; resolves when it accepts connections.
   * Times in ms since the epoch: stop asked, stop done, start asked (nothing can commit between
   * these two), start done (pg_ctl noticed it accepts connections: it may have a little earlier).
   */
  restart(mode: ShutdownMode, downMs: number): Promise<{ requestedAtMs: number; stoppedAtMs: number; startRequestedAtMs: number; startedAtMs: number }>;
  stop(): Promise<void>;
  /** Stops (immediate) and removes the data directory. */
  destroy(): Promise<void>;
}

/** Whether this machine can run a private PostgreSQL (binaries present; root needs runuser). */
export const ownPostgresAvailable = existsSync(join(binaries, 'pg_ctl'));

function asPostgres(command: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  const program = join(binaries, command);
  return userInfo().uid === 0 ? run('runuser', ['-u', 'postgres', '--', program, ...args]) : run(program, args);
}

export async function startOwnPostgres(options: { maxConnections?: number } = {}): Promise<OwnPostgres> {
  const directory = await mkdtemp('/tmp/holdfast-own-pg-');
  const data = join(directory, 'data');
  if (userInfo().uid === 0) await chown(directory, Number((await run('id', ['-u', 'postgres'])).stdout.trim()), Number((await run('id', ['-g', 'postgres'])).stdout.trim()));
  await asPostgres('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  const port = await freePort();
  const serverOptions = `-p ${port} -k ${directory} -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=${options.maxConnections ?? 200}`;
  const start = (): Promise<unknown> => asPostgres('pg_ctl', ['start', '-w', '-t', '60', '-D', data, '-l', join(directory, 'postgres.log'), '-o', serverOptions]);
  const stop = (mode: ShutdownMode): Promise<unknown> => asPostgres('pg_ctl', ['stop', '-w', '-t', '60', '-D', data, '-m', mode]);
  await start();
  let running = true;
  return {
    port,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async restart(mode, downMs) {
      const requestedAtMs = Date.now();
      await stop(mode);
      const stoppedAtMs = Date.now();
      running = false;
      await new Promise((resolve) => setTimeout(resolve, downMs));
      const startRequestedAtMs = Date.now();
      await start();
      running = true;
      return { requestedAtMs, stoppedAtMs, startRequestedAtMs, startedAtMs: Date.now() };
    },
    async stop() {
      if (!running) return;
      await stop('fast');
      running = false;
    },
    async destroy() {
      if (running) await stop('immediate').catch(() => undefined);
      running = false;
      await rm(directory, { recursive: true, force: true });
    },
  };
}
