import type { ShowActorObserver } from '../../actors/show-actor.js';

interface CommitSample {
  atMs: number;
  showId: string;
  commands: number;
  commitMs: number;
}

/**
 * The last minute of group commits, for the ops page: commit latency and batch-size
 * percentiles, and commands per second per show. A bounded ring (at most `capacity` commits),
 * so a rush costs fixed memory; Prometheus keeps the long-run histograms.
 */
export class CommitWindow {
  private readonly samples: (CommitSample | undefined)[];
  private next = 0;
  private total = 0;

  constructor(
    private readonly nowMs: () => number = Date.now,
    private readonly windowMs = 60_000,
    private readonly capacity = 20_000,
  ) {
    this.samples = new Array<CommitSample | undefined>(capacity);
  }

  get batchesTotal(): number {
    return this.total;
  }

  get windowSeconds(): number {
    return this.windowMs / 1000;
  }

  record(showId: string, commands: number, commitMs: number): void {
    this.samples[this.next] = { atMs: this.nowMs(), showId, commands, commitMs };
    this.next = (this.next + 1) % this.capacity;
    this.total += 1;
  }

  /** Passes every callback on to `inner` and records commits here. */
  observe(inner: ShowActorObserver = {}): ShowActorObserver {
    return {
      ...inner,
      batchCommitted: (showId, commands, events, commitMs) => {
        this.record(showId, commands, commitMs);
        inner.batchCommitted?.(showId, commands, events, commitMs);
      },
    };
  }

  /** Commands decided per second per show over the last `spanMs`. */
  commandsPerSecond(spanMs = 10_000): Map<string, number> {
    const since = this.nowMs() - spanMs;
    const counts = new Map<string, number>();
    for (const sample of this.recent(since)) counts.set(sample.showId, (counts.get(sample.showId) ?? 0) + sample.commands);
    for (const [showId, count] of counts) counts.set(showId, Math.round((count / (spanMs / 1000)) * 10) / 10);
    return counts;
  }

  percentiles(): { commitP50Ms: number | null; commitP99Ms: number | null; batchP50: number | null; batchP99: number | null } {
    const samples = [...this.recent(this.nowMs() - this.windowMs)];
    if (samples.length === 0) return { commitP50Ms: null, commitP99Ms: null, batchP50: null, batchP99: null };
    const commits = samples.map((sample) => sample.commitMs).sort((a, b) => a - b);
    const batches = samples.map((sample) => sample.commands).sort((a, b) => a - b);
    return { commitP50Ms: quantile(commits, 0.5), commitP99Ms: quantile(commits, 0.99), batchP50: quantile(batches, 0.5), batchP99: quantile(batches, 0.99) };
  }

  private *recent(sinceMs: number): Generator<CommitSample> {
    for (const sample of this.samples) if (sample !== undefined && sample.atMs >= sinceMs) yield sample;
  }
}

/** Nearest-rank quantile of sorted values. */
function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}
