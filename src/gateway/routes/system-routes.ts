import { z } from 'zod';
import type { SqlDatabase } from '../../persistence/database.js';
import type { Api } from '../http/api.js';
import type { Metrics } from '../metrics.js';

export interface SystemRouteDeps {
  db: SqlDatabase;
  metrics: Metrics;
  isShuttingDown: () => boolean;
  openApi: () => Record<string, unknown>;
  workerId: string;
}

export function registerSystemRoutes(api: Api, deps: SystemRouteDeps): void {
  api.route(
    { method: 'get', path: '/healthz', tag: 'system', auth: 'none', status: 200, summary: 'Liveness: the process answers', response: z.object({ status: z.literal('ok'), worker_id: z.string() }), errors: [] },
    () => ({ status: 200, body: { status: 'ok', worker_id: deps.workerId } }),
  );
  api.route(
    {
      method: 'get', path: '/readyz', tag: 'system', auth: 'none', status: 200, summary: 'Readiness: the database answers and the process is not draining',
      response: z.object({ status: z.enum(['ready', 'draining', 'database_unavailable']), database: z.string() }), errors: [],
    },
    async () => {
      if (deps.isShuttingDown()) return { status: 503, body: { status: 'draining', database: deps.db.kind } };
      try {
        await deps.db.query('select 1');
        return { status: 200, body: { status: 'ready', database: deps.db.kind } };
      } catch {
        return { status: 503, body: { status: 'database_unavailable', database: deps.db.kind } };
      }
    },
  );
  api.route(
    { method: 'get', path: '/metrics', tag: 'system', auth: 'none', status: 200, summary: 'Prometheus metrics', contentType: 'text/plain', errors: [] },
    async () => ({ status: 200, headers: { 'content-type': deps.metrics.registry.contentType }, body: await deps.metrics.registry.metrics() }),
  );
  api.route(
    { method: 'get', path: '/openapi.json', tag: 'system', auth: 'none', status: 200, summary: 'This document', errors: [] },
    () => ({ status: 200, headers: { 'cache-control': 'public, max-age=60' }, body: deps.openApi() }),
  );
}
