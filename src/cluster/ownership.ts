import { createHash } from 'node:crypto';

/** Who may own shows right now, as every worker sees it (converges within a heartbeat). */
export interface ClusterView {
  /** Workers alive and answering, sorted. */
  workers: string[];
  /** Workers being drained: alive, but given no shows unless pinned. */
  draining: string[];
  /** Shows ops gave to a named worker (a mega-show on a worker of its own). */
  pins: Record<string, string>;
  /** Bumped by every change, so a worker can tell an old view from a new one. */
  revision: number;
}

export const emptyView: ClusterView = { workers: [], draining: [], pins: {}, revision: 0 };

/**
 * The owner of a show: its pin when the pinned worker is alive, else rendezvous hashing
 * (highest random weight) over the live, non-draining workers. Adding or removing one of N
 * workers moves only the shows whose top-scoring worker changed: about 1/N of them.
 */
export function ownerOf(showId: string, view: ClusterView): string | null {
  const pinned = view.pins[showId];
  if (pinned !== undefined && view.workers.includes(pinned)) return pinned;
  let best: string | null = null;
  let bestScore = -1n;
  for (const worker of view.workers) {
    if (view.draining.includes(worker)) continue;
    const score = weight(showId, worker);
    if (score > bestScore || (score === bestScore && best !== null && worker < best)) {
      best = worker;
      bestScore = score;
    }
  }
  // Every worker draining: keep serving rather than refuse everything.
  if (best === null && view.workers.length > 0) return ownerOf(showId, { ...view, draining: [] });
  return best;
}

/** Shows in `showIds` whose owner differs between two views. */
export function movedShows(showIds: Iterable<string>, before: ClusterView, after: ClusterView): string[] {
  const moved: string[] = [];
  for (const showId of showIds) if (ownerOf(showId, before) !== ownerOf(showId, after)) moved.push(showId);
  return moved;
}

function weight(showId: string, worker: string): bigint {
  return createHash('sha1').update(showId).update('\u0000').update(worker).digest().readBigUInt64BE(0);
}
