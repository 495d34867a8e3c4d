import { OpsStatusResponse, type OpsStatus } from '../../protocol/ops-schemas.js';
import { requireAdmin, type Sessions } from '../auth/sessions.js';
import type { Api } from '../http/api.js';

export interface OpsRouteDeps {
  /**
   * The status to show. A single process builds it from its own router and metrics
   * (src/gateway/ops/local-ops-status.ts); a sharded deployment can pass a cluster-wide one.
   */
  status: () => Promise<OpsStatus>;
  sessions: Sessions;
}

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
}
