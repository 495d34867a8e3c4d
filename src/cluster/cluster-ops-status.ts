import type { OpsShowStatus, OpsStatus } from '../protocol/ops-schemas.js';
import type { Logger } from '../shared/logger.js';
import type { ClusterShowRouter } from './cluster-router.js';
import type { Rpc } from './rpc.js';

const statusMethod = 'ops.status';

/**
 * The ops status of the whole cluster: every live worker answers with what its own actors see
 * (`local`), and the answers are merged — per-show figures from the show's owner, each worker's
 * pid and active shows, journal figures as the worst p50/p99 of any worker and the sum of commits.
 * A worker that does not answer within `timeoutMs` is listed as unhealthy.
 */
export function clusterOpsStatus(options: { router: ClusterShowRouter; rpc: Rpc; local: () => Promise<OpsStatus>; logger: Logger; timeoutMs: number }): () => Promise<OpsStatus> {
  options.rpc.handle(statusMethod, async () => options.local());
  return async () => {
    const view = options.router.view();
    const workers = view.workers;
    const answers = await Promise.all(
      workers.map(async (workerId) => {
        try {
          const status = workerId === options.router.workerId ? await options.local() : ((await options.rpc.call(workerId, statusMethod, [], options.timeoutMs)) as OpsStatus);
          return { workerId, status };
        } catch (error) {
          options.logger.warn({ err: error, workerId }, 'ops status: a worker did not answer');
          return { workerId, status: null };
        }
      }),
    );
    // Per show: the owner's answer (its actor has the figures), else any worker where it is active, else any.
    const shows = new Map<string, { show: OpsShowStatus; rank: number }>();
    for (const { workerId, status } of answers) {
      for (const show of status?.shows ?? []) {
        const owner = options.router.ownerOf(show.show_id);
        const rank = workerId === owner ? 2 : show.active ? 1 : 0;
        const known = shows.get(show.show_id);
        if (known === undefined || rank > known.rank) shows.set(show.show_id, { show: { ...show, owner_worker_id: owner }, rank });
      }
    }
    const journals = answers.flatMap(({ status }) => (status ? [status.journal] : []));
    const worst = (pick: (journal: OpsStatus['journal']) => number | null): number | null => {
      const values = journals.map(pick).filter((value): value is number => value !== null);
      return values.length === 0 ? null : Math.max(...values);
    };
    return {
      generated_at_ms: Date.now(),
      workers: answers.map(({ workerId, status }) => {
        const own = status?.workers.find((worker) => worker.worker_id === workerId && worker.pid !== null);
        return {
          worker_id: workerId,
          pid: own?.pid ?? null,
          shows: status?.shows.filter((show) => show.active).map((show) => show.show_id) ?? [],
          healthy: status !== null,
          draining: view.draining.includes(workerId),
        };
      }),
      sharded: true,
      shows: [...shows.values()].map((entry) => entry.show).sort((a, b) => Number(b.active) - Number(a.active) || b.claims_per_s - a.claims_per_s || a.show_id.localeCompare(b.show_id)),
      journal: {
        commit_p50_ms: worst((journal) => journal.commit_p50_ms),
        commit_p99_ms: worst((journal) => journal.commit_p99_ms),
        batch_size_p50: worst((journal) => journal.batch_size_p50),
        batch_size_p99: worst((journal) => journal.batch_size_p99),
        batches_total: journals.reduce((sum, journal) => sum + journal.batches_total, 0),
        window_s: journals[0]?.window_s ?? 60,
      },
    };
  };
}
