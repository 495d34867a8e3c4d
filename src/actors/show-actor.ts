import type { Clock, Timers } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import { FencedError, IdempotencyConflictError, type ShowJournal } from '../persistence/journal.js';
import { decideBatch, type CommandEnvelope, type DecidedBatch } from './decide-batch.js';
import { holdView } from './decide.js';
import { evolve } from './evolve.js';
import { IdempotencyCache } from './idempotency.js';
import { Inventory } from './inventory.js';
import { limits } from './limits.js';
import { reject, type HoldView, type ShowReply } from './messages.js';
import { availabilityOf, diffOf, type AvailabilitySnapshot, type SeatMapDiff } from './seat-map-diff.js';
import type { ShowDefinition } from './show-definition.js';
import { checkStateInvariants, createShowState, type ShowState } from './show-state.js';
import { decodeSnapshot, encodeSnapshot } from './snapshot-codec.js';

export interface ShowActorLimits {
  mailboxDepthMax: number;
  batchCommandsMax: number;
  snapshotEveryEvents: number;
  idempotencyCacheEntriesMax: number;
}

/** Hooks for metrics; every field optional so tests pass none. */
export interface ShowActorObserver {
  batchCommitted?(showId: string, commands: number, events: number, commitMs: number): void;
  commandRejected?(showId: string, code: string): void;
  recovered?(showId: string, reason: string, durationMs: number): void;
}

export interface ShowActorOptions {
  showId: string;
  ownerId: string;
  journal: ShowJournal;
  loadDefinition: (showId: string) => Promise<ShowDefinition | null>;
  clock: Clock;
  timers: Timers;
  logger: Logger;
  limits?: Partial<ShowActorLimits>;
  observer?: ShowActorObserver;
  /** Every committed diff of this show, whoever watches (waitlist offers and sold-out news go to fans, not rooms). */
  onCommitted?: DiffListener;
  /** Called once when the journal refuses this actor's epoch: another process owns the show now. */
  onFenced?: (showId: string) => void;
}

export class ShowNotFoundError extends Error {
  override name = 'ShowNotFoundError';
}

/** A read that found no committed state (failed activation, fenced): retryable. */
export class ShowUnavailableError extends Error {
  override name = 'ShowUnavailableError';
}

type Phase = 'idle' | 'activating' | 'running' | 'recovering' | 'stopped' | 'fenced';

interface PendingCommand {
  envelope: CommandEnvelope;
  resolve: (reply: ShowReply) => void;
}

export type DiffListener = (diff: SeatMapDiff) => void;

/**
 * The single writer of one show. Commands queue in a mailbox; whenever no commit is in
 * flight, the queued commands are decided together in one synchronous turn (check and claim
 * with no await between), their events and idempotency records are committed in ONE
 * transaction, and only then are replies sent and the committed diff published.
 * Any commit failure is crash-only: pending callers get a retryable error and the state is
 * rebuilt from the journal.
 */
export class ShowActor {
  readonly showId: string;
  private readonly options: ShowActorOptions;
  private readonly limits: ShowActorLimits;
  private phase: Phase = 'idle';
  private state: ShowState | null = null;
  private inventory: Inventory | null = null;
  private cache: IdempotencyCache;
  private epoch = 0;
  private mailbox: PendingCommand[] = [];
  private committing = false;
  private activation: Promise<void> | null = null;
  private readonly committedReaders: (() => void)[] = [];
  private readonly listeners = new Set<DiffListener>();
  private expiryTimer: unknown = null;
  private expiryTimerAtMs = Number.POSITIVE_INFINITY;
  private lastSnapshotVersion = 0;
  private snapshotWriting = false;
  private lastActivityMs = 0;

  constructor(options: ShowActorOptions) {
    this.showId = options.showId;
    this.options = options;
    this.limits = {
      mailboxDepthMax: limits.mailboxDepthMax,
      batchCommandsMax: limits.batchCommandsMax,
      snapshotEveryEvents: limits.snapshotEveryEvents,
      idempotencyCacheEntriesMax: limits.idempotencyCacheEntriesMax,
      ...options.limits,
    };
    this.cache = new IdempotencyCache(this.limits.idempotencyCacheEntriesMax);
  }

  get currentPhase(): Phase {
    return this.phase;
  }

  get currentEpoch(): number {
    return this.epoch;
  }

  get idleSinceMs(): number {
    return this.lastActivityMs;
  }

  get mailboxDepth(): number {
    return this.mailbox.length;
  }

  /** True while some hold still waits for its expiry; such a show must stay active so the hold ends on time. */
  get hasPendingExpiry(): boolean {
    return this.state !== null && this.state.expiry.size > 0;
  }

  get watcherCount(): number {
    return this.listeners.size;
  }

  /** Read-only figures for the ops page, from the state as last decided (never activates, never waits). */
  stats(): { showId: string; phase: Phase; version: number | null; activeHolds: number | null; itemsAvailable: number | null; mailboxDepth: number; watchers: number } {
    const availability = this.state === null ? null : availabilityOf(this.state);
    return {
      showId: this.showId, phase: this.phase, version: availability?.version ?? null, activeHolds: availability?.activeHolds ?? null,
      itemsAvailable: availability?.itemsAvailable ?? null, mailboxDepth: this.mailbox.length, watchers: this.listeners.size,
    };
  }

  /** Takes the lease and loads snapshot + journal tail. Idempotent while in progress. */
  activate(): Promise<void> {
    if (this.phase === 'running') return Promise.resolve();
    if (this.activation === null) {
      this.phase = 'activating';
      this.activation = this.load()
        .catch((error: unknown) => {
          this.failActivation(error);
          throw error;
        })
        .finally(() => {
          this.activation = null;
        });
    }
    return this.activation;
  }

  private async load(knownKeys: string[] = []): Promise<void> {
    const startedMs = Date.now();
    const { journal, showId } = this.options;
    if (this.inventory === null) {
      const definition = await this.options.loadDefinition(showId);
      if (definition === null) {
        this.phase = 'stopped';
        throw new ShowNotFoundError(`no show ${showId}`);
      }
      this.inventory = new Inventory(definition);
    }
    if ((this.phase as Phase) === 'stopped') return; // stop() came while the definition loaded
    const lease = await journal.acquireLease(showId, this.options.ownerId);
    const stored = await journal.readSnapshot(showId);
    const state = stored === null ? createShowState(this.inventory) : decodeSnapshot(this.inventory, stored.data);
    for await (const events of journal.readEvents(showId, state.version)) {
      for (const event of events) evolve(state, event);
    }
    if (state.version !== lease.committedVersion) {
      throw new Error(`show ${showId}: journal replay reached version ${state.version}, lease says ${lease.committedVersion}`);
    }
    checkStateInvariants(state);
    if (this.phase === 'stopped') {
      await journal.releaseLease(showId, lease.epoch);
      return;
    }
    this.state = state;
    this.epoch = lease.epoch;
    this.lastSnapshotVersion = stored?.version ?? 0;
    // The cache may hold records of a batch that never committed: start it afresh, seeded with
    // the records whose keys made the last commit conflict.
    this.cache = new IdempotencyCache(this.limits.idempotencyCacheEntriesMax);
    // Every key waiting in the mailbox may have been decided before: load them all, the next
    // batch's keys and the conflicting keys last so that a small cache keeps those.
    const waiting = [...this.mailbox.slice(this.limits.batchCommandsMax), ...this.mailbox.slice(0, this.limits.batchCommandsMax)];
    const ordered = [...waiting.flatMap((pending) => (pending.envelope.scopedKey === undefined ? [] : [pending.envelope.scopedKey])), ...knownKeys];
    const keys = [...new Set([...ordered].reverse())].reverse();
    const records = await Promise.all(keys.map((key) => journal.findIdempotencyRecord(showId, key)));
    if ((this.phase as Phase) === 'stopped') {
      await journal.releaseLease(showId, lease.epoch);
      return;
    }
    for (const record of records) if (record !== null) this.cache.set(record);
    this.phase = 'running';
    this.lastActivityMs = this.options.clock.nowMs();
    this.options.logger.info({ showId, epoch: lease.epoch, version: state.version, loadMs: Date.now() - startedMs }, 'show actor activated');
    this.options.observer?.recovered?.(showId, 'activation', Date.now() - startedMs);
    this.scheduleExpiryTimer();
    this.drain();
    this.runCommittedReaders();
  }

  /** Queues a command; resolves with its reply once the decision is durable. Never rejects. */
  submit(envelope: CommandEnvelope): Promise<ShowReply> {
    if (this.phase === 'stopped' || this.phase === 'fenced') return Promise.resolve(reject('not_owner', `show ${this.showId} is not served here`));
    if (this.mailbox.length >= this.limits.mailboxDepthMax) {
      this.options.observer?.commandRejected?.(this.showId, 'overloaded');
      return Promise.resolve(reject('overloaded', `show ${this.showId} has ${this.mailbox.length} commands waiting`));
    }
    this.lastActivityMs = this.options.clock.nowMs();
    return new Promise<ShowReply>((resolve) => {
      this.mailbox.push({ envelope, resolve });
      if (this.phase === 'idle') {
        this.activate().catch(() => undefined);
      } else {
        this.drain();
      }
    });
  }

  /** Runs `read` against committed state only (never against a batch whose commit is in flight). */
  readCommitted<T>(read: (state: ShowState) => T): Promise<T> {
    return new Promise<T>((resolve, reject_) => {
      const run = (): void => {
        if (this.state === null) {
          // Activation failed or the show moved: nothing committed to read here.
          reject_(new ShowUnavailableError(`show ${this.showId} is not served here right now; retry`));
          return;
        }
        try {
          resolve(read(this.state));
        } catch (error) {
          reject_(error);
        }
      };
      if (this.phase === 'running' && !this.committing) run();
      else {
        this.committedReaders.push(run);
        if (this.phase === 'idle') this.activate().catch(() => undefined);
      }
    });
  }

  availability(): Promise<AvailabilitySnapshot> {
    return this.readCommitted((state) => availabilityOf(state));
  }

  getHold(holdId: string): Promise<HoldView | null> {
    return this.readCommitted((state) => {
      const claim = state.claims.get(holdId);
      return claim === undefined ? null : holdView(state, claim);
    });
  }

  /** Listens to committed diffs, in version order, from the moment of subscription. */
  subscribe(listener: DiffListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Stops taking commands, lets the in-flight commit finish, answers the rest `not_owner`, releases the lease. */
  async stop(): Promise<void> {
    if (this.phase === 'stopped' || this.phase === 'fenced') return;
    const wasRunning = this.phase === 'running';
    this.phase = 'stopped';
    this.clearExpiryTimer();
    while (this.committing) await new Promise<void>((resolve) => this.committedReaders.push(resolve));
    while (this.activation !== null) await this.activation.catch(() => undefined);
    this.failPending(this.mailbox.splice(0), 'not_owner', `show ${this.showId} moved or stopped; retry`);
    if (wasRunning) await this.options.journal.releaseLease(this.showId, this.epoch).catch(() => undefined);
    this.options.logger.info({ showId: this.showId, epoch: this.epoch }, 'show actor stopped');
  }

  private failActivation(error: unknown): void {
    const notFound = error instanceof ShowNotFoundError;
    if (!notFound) this.options.logger.error({ err: error, showId: this.showId }, 'show activation failed');
    this.failPending(this.mailbox.splice(0), notFound ? 'not_found' : 'commit_failed', notFound ? `no show ${this.showId}` : 'show could not be loaded; retry');
    this.runCommittedReaders();
    if (!notFound && this.phase !== 'stopped') this.phase = 'idle';
  }

  private failPending(pending: PendingCommand[], code: 'not_owner' | 'commit_failed' | 'not_found' | 'internal_error', detail: string): void {
    for (const { resolve } of pending) resolve(reject(code, detail));
  }

  private drainScheduled = false;

  /**
   * After a commit, wait one turn of the event loop before forming the next batch, so callers
   * that answer a reply with a new command (a crowd retrying) join that batch instead of
   * forming a batch of one ahead of it.
   */
  private drainSoon(): void {
    const defer = this.options.timers.defer;
    if (defer === undefined) return this.drain();
    if (this.drainScheduled) return;
    this.drainScheduled = true;
    defer(() => {
      this.drainScheduled = false;
      this.drain();
    });
  }

  private drain(): void {
    if (this.drainScheduled) return;
    while (this.phase === 'running' && !this.committing && this.mailbox.length > 0) {
      const batch = this.mailbox.splice(0, this.limits.batchCommandsMax);
      const state = this.state!;
      let decided: DecidedBatch;
      try {
        decided = decideBatch(state, this.cache, batch.map((pending) => pending.envelope), this.options.clock.nowMs());
      } catch (error) {
        // An invariant broke while deciding: a bug. Nothing of this batch is committed; rebuild.
        this.options.logger.error({ err: error, showId: this.showId }, 'invariant violated while deciding; recovering from journal');
        this.failPending(batch, 'internal_error', 'the show is recovering; retry');
        this.recover('invariant');
        return;
      }
      if (decided.events.length === 0 && decided.idempotencyRecords.length === 0) {
        this.answer(batch, decided);
        continue;
      }
      this.commit(batch, decided);
    }
    if (!this.committing) this.scheduleExpiryTimer();
  }

  private commit(batch: PendingCommand[], decided: DecidedBatch): void {
    this.committing = true;
    const startedMs = Date.now();
    const { effects } = decided;
    this.options.journal
      .append({
        showId: this.showId,
        epoch: this.epoch,
        fromVersion: decided.fromVersion,
        toVersion: decided.toVersion,
        events: decided.events,
        idempotencyRecords: decided.idempotencyRecords,
        seatsSold: effects.seatsSold,
        seatsUnsold: effects.seatsUnsold,
        poolSoldDeltas: effects.poolSoldDeltas,
        outbox: effects.outbox,
        attachedWrites: decided.attachedWrites,
      })
      .then(
        () => {
          this.committing = false;
          this.options.observer?.batchCommitted?.(this.showId, batch.length, decided.events.length, Date.now() - startedMs);
          this.answer(batch, decided);
          this.publish(decided);
          this.maybeSnapshot();
          this.scheduleExpiryTimer();
          this.runCommittedReaders();
          this.drainSoon();
        },
        (error: unknown) => this.commitFailed(batch, error),
      );
  }

  private answer(batch: PendingCommand[], decided: DecidedBatch): void {
    batch.forEach((pending, index) => {
      const reply = decided.replies[index]!;
      if (!reply.ok) this.options.observer?.commandRejected?.(this.showId, reply.code);
      pending.resolve(reply);
    });
  }

  private publish(decided: DecidedBatch): void {
    if (decided.events.length === 0 || (this.listeners.size === 0 && this.options.onCommitted === undefined)) return;
    const diff: SeatMapDiff = diffOf(this.state!, decided.fromVersion, this.options.clock.nowMs(), decided.effects.touchedSeats, decided.effects.touchedPools, decided.effects.offers.map((offer) => offer.holdId));
    for (const listener of this.options.onCommitted ? [...this.listeners, this.options.onCommitted] : this.listeners) {
      try {
        listener(diff);
      } catch (error) {
        this.options.logger.error({ err: error, showId: this.showId }, 'diff listener failed');
      }
    }
  }

  private commitFailed(batch: PendingCommand[], error: unknown): void {
    this.committing = false;
    if (this.phase === 'stopped') {
      // stop() is waiting for this commit: never recover (that would take the lease back).
      this.failPending(batch, error instanceof FencedError ? 'not_owner' : 'commit_failed', 'the show stopped; retry');
      this.state = null;
      this.runCommittedReaders();
      return;
    }
    if (error instanceof FencedError) {
      this.phase = 'fenced';
      this.clearExpiryTimer();
      this.options.logger.warn({ showId: this.showId, epoch: this.epoch }, 'show actor fenced: another process owns the show');
      this.failPending([...batch, ...this.mailbox.splice(0)], 'not_owner', `show ${this.showId} moved; retry`);
      this.state = null; // it holds the refused batch: no reader may see it
      this.runCommittedReaders();
      this.options.onFenced?.(this.showId);
      return;
    }
    if (error instanceof IdempotencyConflictError) {
      // Some keys were recorded before this activation: nothing was written. Decide the batch again
      // once the state is rebuilt and those records are loaded, so their callers get the stored replies.
      this.mailbox.unshift(...batch);
      this.recover('idempotency_conflict', error.scopedKeys);
      return;
    }
    this.options.logger.error({ err: error, showId: this.showId }, 'commit failed; recovering from journal');
    this.failPending(batch, 'commit_failed', 'the change may not have been saved; retry with the same Idempotency-Key');
    this.recover('commit_failed');
  }

  /** Crash-only recovery: drop in-memory state, reload from the journal, then serve the mailbox again. */
  private recover(reason: string, knownKeys: string[] = []): void {
    this.phase = 'recovering';
    this.clearExpiryTimer();
    this.state = null;
    const startedMs = Date.now();
    const attempt = async (): Promise<void> => {
      await this.load(knownKeys);
      this.options.observer?.recovered?.(this.showId, reason, Date.now() - startedMs);
    };
    this.activation = attempt()
      .catch((error: unknown) => {
        if (error instanceof FencedError) return;
        this.options.logger.error({ err: error, showId: this.showId }, 'recovery failed; will retry on the next command');
        if (this.phase !== 'stopped') this.phase = 'idle';
        this.failPending(this.mailbox.splice(0), 'commit_failed', 'the show is recovering; retry');
      })
      .finally(() => {
        this.activation = null;
        this.runCommittedReaders();
      });
  }

  private runCommittedReaders(): void {
    if (this.committing) return;
    const readers = this.committedReaders.splice(0);
    for (const read of readers) read();
  }

  private maybeSnapshot(): void {
    const state = this.state!;
    if (this.snapshotWriting || state.version - this.lastSnapshotVersion < this.limits.snapshotEveryEvents) return;
    this.snapshotWriting = true;
    const snapshot = { version: state.version, data: encodeSnapshot(state) };
    this.options.journal
      .writeSnapshot(this.showId, this.epoch, snapshot)
      .then(
        () => {
          this.lastSnapshotVersion = snapshot.version;
        },
        (error: unknown) => this.options.logger.warn({ err: error, showId: this.showId }, 'snapshot not written'),
      )
      .finally(() => {
        this.snapshotWriting = false;
      });
  }

  /** One live timer per show, for the nearest hold expiry; firing it runs a batch that expires what is due. */
  private scheduleExpiryTimer(): void {
    const nextMs = this.state?.expiry.peekMs();
    if (nextMs === undefined || this.phase !== 'running') {
      this.clearExpiryTimer();
      return;
    }
    if (nextMs === this.expiryTimerAtMs && this.expiryTimer !== null) return;
    this.clearExpiryTimer();
    this.expiryTimerAtMs = nextMs;
    const delayMs = Math.max(0, nextMs - this.options.clock.nowMs());
    this.expiryTimer = this.options.timers.setTimeout(() => {
      this.expiryTimer = null;
      this.expiryTimerAtMs = Number.POSITIVE_INFINITY;
      if (this.phase !== 'running') return;
      void this.submit({ command: { type: 'expire_due' } });
    }, delayMs);
  }

  private clearExpiryTimer(): void {
    if (this.expiryTimer !== null) this.options.timers.clearTimeout(this.expiryTimer);
    this.expiryTimer = null;
    this.expiryTimerAtMs = Number.POSITIVE_INFINITY;
  }
}

