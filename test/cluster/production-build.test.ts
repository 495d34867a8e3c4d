import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { buildServer } from '../../scripts/build-server.js';
import { ensureWebBuilt } from '../browser/support/browser.js';
import { databaseKinds } from '../support/databases.js';
import { onlyWhere } from '../support/only-where.js';
import { startClusterProcess } from './support/cluster-process.js';

const postgres = onlyWhere(databaseKinds[1]!.available);
const projectRoot = fileURLToPath(new URL('../..', import.meta.url));

/**
 * `npm run build` then `npm run start:prod`: the server as one bundle on plain Node. It must do all
 * `npm start` does — here a primary and two workers on PostgreSQL: migrate, serve the API,
 * the fan page and ops — with no tsx in any process, and stop cleanly on SIGTERM.
 */
postgres('the production bundle runs a two-worker cluster without tsx and stops cleanly', async () => {
  await ensureWebBuilt();
  // One level below the project, as dist/ is: the bundle finds web/dist and node_modules from there.
  const buildDir = mkdtempSync(join(projectRoot, '.build-test-'));
  try {
    const bundle = await buildServer(join(buildDir, 'holdfast.mjs'));
    const cluster = await startClusterProcess({ workers: 2, nodeArgs: ['--enable-source-maps', bundle] });
    try {
      expect((await cluster.view()).workers).toHaveLength(2);
      const health = await fetch(`${cluster.url}/healthz`);
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({ status: 'ok' });
      // The API, through the migrated catalog: a search answers (nothing to find in a fresh database).
      const events = await fetch(`${cluster.url}/v1/events`);
      expect(events.status).toBe(200);
      expect(await events.json()).toMatchObject({ items: [] });
      const page = await fetch(`${cluster.url}/`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toContain('text/html');
      const pids = [cluster.primary.pid!, ...cluster.workerPids().values()];
      expect(pids).toHaveLength(3);
      for (const pid of pids) {
        const commandLine = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
        expect(commandLine).toContain(bundle);
        expect(commandLine.join(' ')).not.toContain('tsx');
      }
    } finally {
      await cluster.stop();
    }
    expect(cluster.primary.exitCode).toBe(0);
  } finally {
    rmSync(buildDir, { recursive: true, force: true });
  }
}, 120_000);
