import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SeatMapDiff } from '../../src/actors/seat-map-diff.js';
import type { DiffListener } from '../../src/actors/show-actor.js';
import type { ShowRouter } from '../../src/actors/show-router.js';
import type { SeatStatusCode } from '../../src/actors/show-state.js';
import { SeatMapFanout } from '../../src/gateway/live/seat-map-fanout.js';
import type { SeatMapDiffMessage } from '../../src/protocol/socket-events.js';
import { createLogger } from '../../src/shared/logger.js';

const tickMs = 50;

/** A router with one show whose committed diffs the test pushes by hand. */
function fakeRouter(): { router: ShowRouter; commit: (from: number, seats: [number, SeatStatusCode][]) => void } {
  let listener: DiffListener | null = null;
  const router = {
    watch: (_showId: string, next: DiffListener) => {
      listener = next;
      return Promise.resolve(() => {
        listener = null;
      });
    },
  } as unknown as ShowRouter;
  const commit = (from: number, seats: [number, SeatStatusCode][]): void => {
    const diff: SeatMapDiff = { showId: 's1', fromVersion: from, toVersion: from + 1, committedAtMs: Date.now(), seats, pools: [], itemsAvailable: 1, offers: [], tiersSoldOut: [] };
    listener?.(diff);
  };
  return { router, commit };
}

describe('SeatMapFanout: diffs merged per show, at most one broadcast per tick', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance', 'Date'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('sends a commit at once when the show is quiet, and merges a burst into one contiguous diff at the end of the tick', async () => {
    const { router, commit } = fakeRouter();
    const sent: SeatMapDiffMessage[] = [];
    const fanout = new SeatMapFanout(router, (message) => sent.push(message), tickMs, createLogger('silent'));
    await fanout.addWatcher('s1');

    commit(0, [[1, 1]]);
    expect(sent).toHaveLength(1); // no tick wait for the first change
    expect(sent[0]).toMatchObject({ from_version: 0, to_version: 1, seats: [[1, 1]] });

    commit(1, [[2, 1]]);
    commit(2, [[1, 0]]); // seat 1 released again: its latest status wins
    commit(3, [[3, 1]]);
    expect(sent).toHaveLength(1); // within the tick: held back
    vi.advanceTimersByTime(tickMs);
    expect(sent).toHaveLength(2);
    expect(sent[1]).toMatchObject({ from_version: 1, to_version: 4 });
    expect(new Map(sent[1]!.seats)).toEqual(new Map([[2, 1], [1, 0], [3, 1]]));

    // A commit right after that broadcast waits for the next tick; one a tick later goes at once.
    commit(4, [[4, 1]]);
    expect(sent).toHaveLength(2);
    vi.advanceTimersByTime(tickMs);
    expect(sent).toHaveLength(3);
    vi.advanceTimersByTime(tickMs * 3);
    commit(5, [[5, 1]]);
    expect(sent).toHaveLength(4);
    fanout.close();
  });

  it('never sends more than one broadcast per tick under a steady stream of commits', async () => {
    const { router, commit } = fakeRouter();
    const sent: SeatMapDiffMessage[] = [];
    const fanout = new SeatMapFanout(router, (message) => sent.push(message), tickMs, createLogger('silent'));
    await fanout.addWatcher('s1');
    const commits = 400; // one every 5 ms for 2 s
    for (let version = 0; version < commits; version += 1) {
      commit(version, [[version, 1]]);
      vi.advanceTimersByTime(5);
    }
    vi.advanceTimersByTime(tickMs);
    expect(sent.length).toBeLessThanOrEqual(Math.ceil((commits * 5) / tickMs) + 1);
    // Contiguous and complete: every version exactly once, in order.
    sent.forEach((message, index) => expect(message.from_version).toBe(index === 0 ? 0 : sent[index - 1]!.to_version));
    expect(sent.at(-1)!.to_version).toBe(commits);
    expect(sent.reduce((seats, message) => seats + message.seats.length, 0)).toBe(commits);
    fanout.close();
  });

  it('flushes what is pending when the last watcher leaves, and sends nothing after close', async () => {
    const { router, commit } = fakeRouter();
    const sent: SeatMapDiffMessage[] = [];
    const fanout = new SeatMapFanout(router, (message) => sent.push(message), tickMs, createLogger('silent'));
    await fanout.addWatcher('s1');
    commit(0, [[1, 1]]);
    commit(1, [[2, 1]]);
    fanout.removeWatcher('s1');
    expect(sent.map((message) => message.to_version)).toEqual([1, 2]);
    vi.advanceTimersByTime(tickMs * 2);
    expect(sent).toHaveLength(2);
  });
});
