import type { SqlDatabase } from '../persistence/database.js';
import type { Logger } from '../shared/logger.js';
import { OutboxStore, type ClaimedEvent, type OutboxEvent } from './outbox-store.js';
import type { OutboxSink } from './sinks.js';

/** Sent events marked delivered by one statement at most; bounds what a crash re-sends. */
const markRunMax = 100;

/** Counters for metrics; every hook is optional and must not throw. */
export interface OutboxObserver {
  delivered?(event: OutboxEvent, latencyMs: number): void;
  failed?(event: OutboxEvent, error: string, attempts: number, retryInMs: number): void;
  deadLettered?(event: OutboxEvent, error: string, attempts: number): void;
}

/**
 * Subscribes to "new outbox rows" notifications: calls `onNotify` on each and returns an
 * unsubscribe function. Optional: without it the relay polls. See ./wake.ts for PostgreSQL
 * (a dedicated LISTEN connection) and PGlite (its listen API).
 */
export type OutboxWake = (onNotify: () => void) => () => void | Promise<void>;

export interface OutboxRelayOptions {
  db: SqlDatabase;
  sinks: OutboxSink[];
  logger: Logger;
  /** Most events claimed per round (default 100). */
  batchSize?: number;
  /** Sleep between rounds when idle (default 1000 ms); a wake-up cuts it short. */
  pollIntervalMs?: number;
  /**
   * After a wake-up, how long the next rows may gather before the round claims them (default
   * 25 ms): under load one round then carries many commits' rows instead of one commit's each.
   */
  gatherMs?: number;
  /** Failed deliveries before an event is dead-lettered (default 10). */
  maxAttempts?: number;
  /** Retry delay: base * 2^(attempts-1), capped at max, with jitter (default 500 ms .. 5 min). */
  backoff?: { baseMs: number; maxMs: number };
  /**
   * How long a claim keeps other relays off the claimed rows (default 60 s). A relay that dies
   * mid-delivery holds them this long; after that another relay redelivers. A relay stops
   * working on a claim once 80% of the lease has passed, so keep it well above the time a sink
   * may take (webhook timeout) times a show's share of the batch.
   */
  leaseMs?: number;
  /** Shows delivered in parallel by one relay (default 8); one show's events are always sequential. */
  concurrency?: number;
  wake?: OutboxWake;
  observer?: OutboxObserver;
  /** Jitter source in [0, 1) (tests). */
  random?: () => number;
  /** Monotonic time for lease bookkeeping (tests). */
  monotonicMs?: () => number;
  /**
   * Test hook for crash scenarios: runs after every sink accepted an event and before the event is
   * marked delivered. If it throws, the round is abandoned as if the process had died there:
   * nothing is marked, no failure is recorded, and the error propagates out of `runOnce`.
   */
  afterSendBeforeMark?: (event: OutboxEvent) => void | Promise<void>;
}

export interface RelayRound {
  claimed: number;
  delivered: number;
  failed: number;
  deadLettered: number;
}

/**
 * Delivers the transactional outbox at least once, in order per show, to every sink.
 *
 * Each round claims rows (see OutboxStore.claim: `for update skip locked` plus a lease, so any
 * number of relays in any number of processes never work on the same show at once), then
 * delivers each claimed show's events one after another to all sinks and marks each delivered.
 * A failure stops that show for the round and schedules a retry with exponential backoff and
 * jitter; the show's later events wait behind it (other shows carry on). After `maxAttempts`
 * failures the event is copied to `outbox_dead_letters` and marked dead: the show's later events
 * then proceed. That trades strict order for liveness: one poisoned event (an endpoint rejecting
 * one payload for good) must not block a show's notifications forever, and the dead letter keeps
 * it for an operator (OutboxStore.retryDeadLetter).
 *
 * An event is marked only after every sink accepted it, so a crash between send and mark (or a
 * failure of another sink) sends it again: receivers dedupe by `eventId` (consumer-dedupe.ts).
 */
export class OutboxRelay {
  readonly store: OutboxStore;
  private readonly batchSize: number;
  private readonly pollIntervalMs: number;
  private readonly gatherMs: number;
  private readonly maxAttempts: number;
  private readonly backoff: { baseMs: number; maxMs: number };
  private readonly leaseMs: number;
  private readonly concurrency: number;
  private readonly random: () => number;
  private readonly monotonicMs: () => number;
  private running = false;
  private loop: Promise<void> | null = null;
  private unsubscribe: (() => void | Promise<void>) | null = null;
  private woken = false;
  private wakeSleeper: (() => void) | null = null;
  /** Whether a notification ends the current sleep (an idle wait) or not (the gathering pause). */
  private wakeOnNotify = true;
  /**
   * Events leased by a round that failed (the database went away mid-round): the next round hands
   * them back while the lease is surely still ours, instead of leaving the outbox stalled until
   * the lease runs out.
   */
  private unfinished: { events: ClaimedEvent[]; claimedAt: number } | null = null;

  constructor(private readonly options: OutboxRelayOptions) {
    if (options.sinks.length === 0) throw new Error('the outbox relay needs at least one sink');
    this.store = new OutboxStore(options.db);
    this.batchSize = positive(options.batchSize ?? 100, 'batchSize');
    this.pollIntervalMs = positive(options.pollIntervalMs ?? 1_000, 'pollIntervalMs');
    this.gatherMs = options.gatherMs ?? 25;
    if (!Number.isFinite(this.gatherMs) || this.gatherMs < 0) throw new Error(`outbox relay: gatherMs must be zero or more, got ${this.gatherMs}`);
    this.maxAttempts = positive(options.maxAttempts ?? 10, 'maxAttempts');
    this.backoff = options.backoff ?? { baseMs: 500, maxMs: 5 * 60_000 };
    this.leaseMs = positive(options.leaseMs ?? 60_000, 'leaseMs');
    this.concurrency = positive(options.concurrency ?? 8, 'concurrency');
    this.random = options.random ?? Math.random;
    this.monotonicMs = options.monotonicMs ?? (() => performance.now());
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** Starts the delivery loop (and the wake-up subscription, if any). */
  start(): void {
    if (this.running) return;
    this.running = true;
    if (this.options.wake) {
      try {
        this.unsubscribe = this.options.wake(() => this.poke());
      } catch (error) {
        this.options.logger.warn({ err: error }, 'outbox wake-up subscription failed: polling only');
      }
    }
    this.loop = this.run();
  }

  /** Stops the loop; resolves once the round in flight (if any) has finished. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.wakeSleeper?.();
    const unsubscribe = this.unsubscribe;
    this.unsubscribe = null;
    await Promise.all([this.loop, Promise.resolve(unsubscribe?.()).catch((error: unknown) => this.options.logger.warn({ err: error }, 'outbox wake-up unsubscribe failed'))]);
    this.loop = null;
  }

  /** Cuts the current idle sleep short (new rows were notified). */
  poke(): void {
    this.woken = true;
    if (this.wakeOnNotify) this.wakeSleeper?.();
  }

  /** One round: claim, deliver, record. The loop calls it; tests call it directly. */
  async runOnce(): Promise<RelayRound> {
    const round: RelayRound = { claimed: 0, delivered: 0, failed: 0, deadLettered: 0 };
    if (this.unfinished !== null) {
      const { events, claimedAt } = this.unfinished;
      if (this.monotonicMs() - claimedAt < this.leaseMs * 0.8) await this.store.releaseLeases(events);
      this.unfinished = null;
    }
    const claimedAt = this.monotonicMs();
    const shows = await this.store.claim(this.batchSize, this.leaseMs);
    for (const events of shows) round.claimed += events.length;
    if (shows.length === 0) return round;
    let crash: { error: unknown } | null = null;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (crash === null && next < shows.length) {
        const events = shows[next++]!;
        try {
          await this.deliverShow(events, claimedAt, round);
        } catch (error) {
          crash ??= { error };
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, shows.length) }, worker));
    if (crash !== null) {
      this.unfinished = { events: shows.flat(), claimedAt };
      throw (crash as { error: unknown }).error;
    }
    return round;
  }

  /**
   * Sends a show's claimed events in order. Sent events are marked delivered in runs (one UPDATE
   * per run, at most `markRunMax`, and always before a failure is recorded or the lease is given
   * up), not one statement each: a crash between send and mark re-sends the whole unmarked run
   * instead of one event, which at-least-once delivery already allows (consumers dedupe by id).
   */
  private async deliverShow(events: ClaimedEvent[], claimedAt: number, round: RelayRound): Promise<void> {
    const sent: string[] = [];
    const markSent = (): Promise<void> => this.store.markDelivered(sent.splice(0));
    for (const event of events) {
      // Past most of the lease another relay may take the show over: leave the rest to it.
      if (this.monotonicMs() - claimedAt > this.leaseMs * 0.8) return markSent();
      const started = this.monotonicMs();
      let failure: string | null = null;
      for (const sink of this.options.sinks) {
        try {
          await sink.deliver(event);
        } catch (error) {
          failure = `${sink.name}: ${error instanceof Error ? error.message : String(error)}`.slice(0, 2_000);
          break;
        }
      }
      if (failure === null) {
        await this.options.afterSendBeforeMark?.(event);
        sent.push(event.eventId);
        if (sent.length >= markRunMax) await markSent();
        round.delivered++;
        this.observe(() => this.options.observer?.delivered?.(event, this.monotonicMs() - started));
        continue;
      }
      await markSent();
      const retryInMs = this.backoffMs(event.attempts + 1);
      const { attempts, dead } = await this.store.recordFailure(event.eventId, failure, retryInMs, this.maxAttempts);
      if (dead) {
        round.deadLettered++;
        this.options.logger.error({ eventId: event.eventId, showId: event.showId, topic: event.topic, attempts, error: failure }, 'outbox event dead-lettered');
        this.observe(() => this.options.observer?.deadLettered?.(event, failure, attempts));
        continue; // the show's later events are no longer held back
      }
      round.failed++;
      this.options.logger.warn({ eventId: event.eventId, showId: event.showId, topic: event.topic, attempts, retryInMs, error: failure }, 'outbox delivery failed: will retry');
      this.observe(() => this.options.observer?.failed?.(event, failure, attempts, retryInMs));
      return; // keep the show's order: its later events wait for this one
    }
    await markSent();
  }

  /** base * 2^(attempt-1) capped at max, then "equal jitter": between half and all of it. */
  backoffMs(attempt: number): number {
    const exponential = Math.min(this.backoff.maxMs, this.backoff.baseMs * 2 ** Math.min(30, Math.max(0, attempt - 1)));
    return Math.round(exponential / 2 + (exponential / 2) * this.random());
  }

  private observe(hook: () => void): void {
    try {
      hook();
    } catch (error) {
      this.options.logger.warn({ err: error }, 'outbox observer threw');
    }
  }

  private async run(): Promise<void> {
    while (this.running) {
      let claimed = 0;
      try {
        claimed = (await this.runOnce()).claimed;
      } catch (error) {
        this.options.logger.error({ err: error }, 'outbox relay round failed');
      }
      if (!this.running) break;
      // A full batch means more rows are waiting: go on at once. Otherwise wait for rows to be
      // notified (or the poll interval, which also brings back retries that have come due), then
      // let the next commits' rows gather, so a busy show costs a round per gathering, not per commit.
      if (claimed >= this.batchSize) continue;
      const notified = await this.sleep(this.pollIntervalMs);
      if (notified && this.gatherMs > 0 && this.running) {
        await this.sleep(this.gatherMs, { wokenBy: 'stop' });
        this.woken = false; // the round about to claim takes what these notifications announced
      }
    }
  }

  /**
   * Sleeps up to `ms`; returns whether new rows were notified meanwhile (or before). A wake-up cuts
   * the sleep short unless `wokenBy` is 'stop' (the gathering pause ends only by time or stop()).
   */
  private async sleep(ms: number, { wokenBy }: { wokenBy: 'notify' | 'stop' } = { wokenBy: 'notify' }): Promise<boolean> {
    if (wokenBy === 'notify' && this.woken) {
      this.woken = false;
      return true;
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      timer.unref?.();
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wakeSleeper = done;
      this.wakeOnNotify = wokenBy === 'notify';
    });
    this.wakeSleeper = null;
    if (wokenBy === 'stop') return false;
    const notified = this.woken;
    this.woken = false;
    return notified;
  }
}

function positive(value: number, name: string): number {
  if (!Number.isFinite(value) || value <= 0) throw new Error(`outbox relay: ${name} must be positive, got ${value}`);
  return value;
}
