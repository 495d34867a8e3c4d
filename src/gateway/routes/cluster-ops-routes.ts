import type { ClusterShowRouter } from '../../cluster/cluster-router.js';
import { ClusterViewResponse, DrainWorkerRequest, MoveShowRequest, MoveShowResponse, WorkerIdParam } from '../../protocol/cluster-schemas.js';
import { ShowIdParam } from '../../protocol/hold-schemas.js';
import { ApiError } from '../../protocol/api-error.js';
import { parseInput } from '../../protocol/validate.js';
import type { Logger } from '../../shared/logger.js';
import { requireAdmin, type Sessions } from '../auth/sessions.js';
import type { Api } from '../http/api.js';

export interface ClusterOpsDeps {
  /** Null in a single-process server: the routes answer `not_found` (there is nothing to move). */
  cluster: ClusterShowRouter | null;
  sessions: Sessions;
  logger: Logger;
  showIds: () => Promise<string[]>;
}

/** Ops over the shards: where each show lives, moving and pinning shows, draining workers. */
export function registerClusterOpsRoutes(api: Api, deps: ClusterOpsDeps): void {
  const { sessions, logger } = deps;
  const clusterOf = (): ClusterShowRouter => {
    if (deps.cluster === null) throw new ApiError('not_found', 'this server runs one process (WORKERS=1): there are no shards to manage');
    return deps.cluster;
  };
  api.route(
    { method: 'get', path: '/v1/ops/cluster', tag: 'ops', auth: 'admin', status: 200, summary: 'Live workers, pins, draining workers and the owner of every show', response: ClusterViewResponse, errors: ['unauthorized', 'forbidden', 'not_found'] },
    async (request) => {
      requireAdmin(sessions.authenticate(request.headers['authorization']));
      const cluster = clusterOf();
      const view = cluster.view();
      const owners: Record<string, string | null> = {};
      for (const showId of await deps.showIds()) owners[showId] = cluster.ownerOf(showId);
      return { status: 200, body: { answered_by: cluster.workerId, workers: view.workers, draining: view.draining, pins: view.pins, revision: view.revision, owners } };
    },
  );
  api.route(
    { method: 'post', path: '/v1/ops/shows/{id}/move', tag: 'ops', auth: 'admin', status: 200, summary: 'Move a show to a worker (pins it there); the old owner finishes its batch and hands off', body: MoveShowRequest, response: MoveShowResponse, errors: ['unauthorized', 'forbidden', 'not_found', 'validation_failed'] },
    async (request) => {
      requireAdmin(sessions.authenticate(request.headers['authorization']));
      const showId = parseInput(ShowIdParam, request.params['id'], 'show id');
      const { worker_id: to } = parseInput(MoveShowRequest, request.body === undefined ? {} : request.body, 'move');
      const cluster = clusterOf();
      const from = cluster.ownerOf(showId);
      await cluster.pin(showId, to);
      logger.info({ showId, from, to, by: 'ops' }, 'show moved');
      return { status: 200, body: { show_id: showId, from_worker_id: from, to_worker_id: to } };
    },
  );
  api.route(
    { method: 'delete', path: '/v1/ops/shows/{id}/pin', tag: 'ops', auth: 'admin', status: 200, summary: 'Unpin a show: it goes back to its place on the hash ring', response: MoveShowResponse, errors: ['unauthorized', 'forbidden', 'not_found'] },
    async (request) => {
      requireAdmin(sessions.authenticate(request.headers['authorization']));
      const showId = parseInput(ShowIdParam, request.params['id'], 'show id');
      const cluster = clusterOf();
      const from = cluster.ownerOf(showId);
      await cluster.pin(showId, null);
      const to = cluster.ownerOf(showId);
      logger.info({ showId, from, to, by: 'ops' }, 'show unpinned');
      return { status: 200, body: { show_id: showId, from_worker_id: from, to_worker_id: to } };
    },
  );
  api.route(
    { method: 'post', path: '/v1/ops/workers/{id}/drain', tag: 'ops', auth: 'admin', status: 200, summary: 'Drain a worker (its unpinned shows move to the others) or undrain it', body: DrainWorkerRequest, response: ClusterViewResponse, errors: ['unauthorized', 'forbidden', 'not_found', 'validation_failed'] },
    async (request) => {
      requireAdmin(sessions.authenticate(request.headers['authorization']));
      const workerId = parseInput(WorkerIdParam, request.params['id'], 'worker id');
      const { draining } = parseInput(DrainWorkerRequest, request.body === undefined ? {} : request.body, 'drain');
      const cluster = clusterOf();
      if (!cluster.view().workers.includes(workerId)) throw new ApiError('not_found', `no live worker ${workerId}`);
      await cluster.drain(workerId, draining);
      logger.info({ workerId, draining, by: 'ops' }, draining ? 'worker draining' : 'worker undrained');
      const view = cluster.view();
      const owners: Record<string, string | null> = {};
      for (const showId of await deps.showIds()) owners[showId] = cluster.ownerOf(showId);
      return { status: 200, body: { answered_by: cluster.workerId, workers: view.workers, draining: view.draining, pins: view.pins, revision: view.revision, owners } };
    },
  );
}
