import type { WaitingRoomService } from '../../admission/waiting-room.js';
import type { LocalShowRouter } from '../../actors/show-router.js';
import type { SqlDatabase } from '../../persistence/database.js';
import type { OpsShowStatus, OpsStatus } from '../../protocol/ops-schemas.js';
import { QueueStatsResponse } from '../../protocol/queue-schemas.js';
import type { Logger } from '../../shared/logger.js';
import type { CommitWindow } from './commit-window.js';

export interface LocalOpsStatusOptions {
  workerId: string;
  router: LocalShowRouter;
  commits: CommitWindow;
  room: WaitingRoomService;
  db: SqlDatabase;
  logger: Logger;
  nowMs: () => number;
  /** With several workers: the live ones and each show's owner (figures still come from this process's actors). */
  cluster?: { workers(): string[]; ownerOf(showId: string): string | null };
  /** Catalog shows listed besides the active ones (soonest first). */
  showsMax?: number;
}

/**
 * The ops status as one process sees it: its active actors' figures, the catalog's upcoming
 * shows (inactive ones too, so a quiet show is visible), waiting rooms, and the last minute of
 * group commits. Reading it never activates a show actor, except that a waiting room's figures
 * include its active holds (the room reads the show's availability).
 */
export function localOpsStatus(options: LocalOpsStatusOptions): () => Promise<OpsStatus> {
  return async () => {
    const stats = new Map(options.router.stats().filter((entry) => entry.phase === 'running' || entry.phase === 'recovering').map((entry) => [entry.showId, entry]));
    const claims = options.commits.commandsPerSecond();
    const catalog = await options.db.query<{ id: string; queue: boolean | null }>(
      `select id, (settings->'waiting_room'->>'enabled')::boolean as queue from shows order by starts_at, id limit ${Math.max(1, Math.floor(options.showsMax ?? 200))}`,
    );
    const showIds = [...new Set([...stats.keys(), ...catalog.rows.map((row) => row.id)])];
    const hasQueue = new Map(catalog.rows.map((row) => [row.id, row.queue === true]));
    const shows: OpsShowStatus[] = await Promise.all(
      showIds.map(async (showId): Promise<OpsShowStatus> => {
        const entry = stats.get(showId);
        let queue: OpsShowStatus['queue'] = null;
        if (hasQueue.get(showId)) {
          try {
            const room = QueueStatsResponse.parse(await options.room.stats(showId));
            queue = { enabled: true, waiting: room.queue_length, serving: room.serving, paused: room.paused, rate_per_s: room.rate_per_s };
          } catch (error) {
            options.logger.debug({ err: error, showId }, 'ops status: no waiting-room figures');
          }
        }
        const owner = options.cluster ? options.cluster.ownerOf(showId) : entry ? options.workerId : null;
        return {
          show_id: showId,
          owner_worker_id: owner,
          active: entry !== undefined,
          version: entry?.version ?? null,
          claims_per_s: claims.get(showId) ?? 0,
          active_holds: entry?.activeHolds ?? null,
          items_available: entry?.itemsAvailable ?? null,
          mailbox_depth: entry?.mailboxDepth ?? null,
          watchers: entry?.watchers ?? null,
          queue,
        };
      }),
    );
    const localShows = [...stats.keys()].sort();
    const workerIds = options.cluster ? options.cluster.workers() : [options.workerId];
    const percentiles = options.commits.percentiles();
    return {
      generated_at_ms: options.nowMs(),
      workers: workerIds.map((workerId) => ({
        worker_id: workerId,
        pid: workerId === options.workerId ? process.pid : null,
        shows: options.cluster ? shows.filter((show) => show.owner_worker_id === workerId).map((show) => show.show_id) : localShows,
        healthy: true,
        draining: false,
      })),
      sharded: options.cluster !== undefined,
      shows: shows.sort((a, b) => Number(b.active) - Number(a.active) || b.claims_per_s - a.claims_per_s || a.show_id.localeCompare(b.show_id)),
      journal: {
        commit_p50_ms: round(percentiles.commitP50Ms),
        commit_p99_ms: round(percentiles.commitP99Ms),
        batch_size_p50: percentiles.batchP50,
        batch_size_p99: percentiles.batchP99,
        batches_total: options.commits.batchesTotal,
        window_s: options.commits.windowSeconds,
      },
    };
  };
}

function round(value: number | null): number | null {
  return value === null ? null : Math.round(value * 100) / 100;
}
