import { z } from 'zod';
import { OpsStatusResponse, type OpsStatus } from '../../protocol/ops-schemas.js';
import { parseInput } from '../../protocol/validate.js';
import { requireAdmin, type Sessions } from '../auth/sessions.js';
import type { Api } from '../http/api.js';

export interface OpsRouteDeps {
  /**
   * The status to show. A single process builds it from its own router and metrics
   * (src/gateway/ops/local-ops-status.ts); a sharded deployment can pass a cluster-wide one.
   */
  status: () => Promise<OpsStatus>;
  sessions: Sessions;
  /** Settles orders whose outcome is unknown (the reconciliation pass, run now instead of on its timer). */
  reconcile: (idleMs: number, batch: number) => Promise<{ checked: number; settled: number }>;
}

const ReconcileRequest = z.strictObject({
  idle_ms: z.number().int().min(0).max(86_400_000).default(0).describe('Only orders untouched this long (0: every open order)'),
  batch: z.number().int().min(1).max(10_000).default(1_000).describe('Orders checked in this call at most'),
});
const ReconcileResponse = z.object({ checked: z.number().int(), settled: z.number().int() });

/**
 * The ops page's read model. Actions live beside the things they act on: pause/resume a waiting
 * room is `POST /v1/ops/shows/{id}/queue` (queue-routes.ts); show moves and drains are the
 * cluster's routes.
 */
export function registerOpsRoutes(api: Api, deps: OpsRouteDeps): void {
  api.route(
    {
      method: 'get', path: '/v1/ops/status', tag: 'ops', auth: 'admin', status: 200,
      summary: 'Workers and their shows, per-show claims/s, holds and queues, journal commit latency and batch sizes',
      response: OpsStatusResponse, errors: ['unauthorized', 'forbidden'],
    },
    async (request) => {
      requireAdmin(deps.sessions.authenticate(request.headers['authorization']));
      return { status: 200, headers: { 'cache-control': 'no-store' }, body: await deps.status() };
    },
  );
  api.route(
    {
      method: 'post', path: '/v1/ops/reconcile', tag: 'ops', auth: 'admin', status: 200,
      summary: 'Run the order reconciliation now: settle open orders against the payment provider (after an incident, or before an audit)',
      body: ReconcileRequest, response: ReconcileResponse, errors: ['unauthorized', 'forbidden', 'validation_failed'],
    },
    async (request) => {
      requireAdmin(deps.sessions.authenticate(request.headers['authorization']));
      const { idle_ms: idleMs, batch } = parseInput(ReconcileRequest, request.body === undefined ? {} : request.body, 'reconcile');
      return { status: 200, body: await deps.reconcile(idleMs, batch) };
    },
  );
}
