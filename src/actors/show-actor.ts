import type { Clock, Timers } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import { FencedError, IdempotencyConflictError, type JournalBatch, type ShowJournal } from '../persistence/journal.js';
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
  /** Commands per transaction, and at most this many decided commands wait behind the one in flight. */
  batchCommandsMax: number;
  decideStepCommandsMax: number;
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

/** Commands decided together, waiting for (or in) their commit; answered only after it. */
interface DecidedStep {
  batch: PendingCommand[];
  decided: DecidedBatch;
  /** The committed diff as of this step, computed when it was decided (later steps change the state). */
  diff: SeatMapDiff | null;
}

export type DiffListener = (diff: SeatMapDiff) => void;

/**
 * The single writer of one show. Commands queue in a mailbox and are decided in steps, each in
 * one synchronous turn (check and claim with no await between). Decided steps wait in a
 * pipeline; whenever no commit is in flight, the waiting steps' events and idempotency records
 * are committed in ONE transaction, and only then are their replies sent and their diffs
 * published. The next steps are decided while a commit is in flight (against the state that
 * includes the uncommitted steps), so deciding and committing overlap, but there is never more
 * than one transaction in flight. Reads and snapshots wait for a point where every decided step
 * is committed. Any commit failure is crash-only: every step decided after the last committed
 * one is failed with a retryable error and the state is rebuilt from the journal.
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
  /** Decided steps not yet handed to a commit, in version order. */
  private pipeline: DecidedStep[] = [];
  private pipelineCommands = 0;
  /** The steps of the transaction in flight, or null. */
  private inFlight: DecidedStep[] | null = null;
  /** An invariant broke while a commit was in flight: recover once it settles. */
  private recoverAfterCommit: string | null = null;
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
      decideStepCommandsMax: limits.decideStepCommandsMax,
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

  /** Every decided command is committed (or failed): the state is the committed one. */
  private get settled(): boolean {
    return this.inFlight === null && this.pipeline.length === 0;
  }

  /** Decided commands wait for their commit (or one is in flight): a committed read would wait now. */
  get hasUncommittedDecisions(): boolean {
    return !this.settled;
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
    // One lookup for them all: a recovery under a rush has thousands of commands waiting.
    const found = new Map((await journal.findIdempotencyRecords(showId, keys)).map((record) => [record.scopedKey, record]));
    if ((this.phase as Phase) === 'stopped') {
      await journal.releaseLease(showId, lease.epoch);
      return;
    }
    for (const key of keys) {
      const record = found.get(key);
      if (record !== undefined) this.cache.set(record);
    }
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
      } else if (this.settled) {
        this.drain();
      } else {
        // A commit is in flight: decide the commands that arrive meanwhile together, in a later turn.
        this.drainSoon();
      }
    });
  }

  /** Runs `read` against committed state only (never against a decided step whose commit is pending or in flight). */
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
      if (this.phase === 'running' && this.settled) run();
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

  /** Stops taking commands, lets the decided steps commit, answers the rest `not_owner`, releases the lease. */
  async stop(): Promise<void> {
    if (this.phase === 'stopped' || this.phase === 'fenced') return;
    const wasRunning = this.phase === 'running';
    this.phase = 'stopped';
    this.clearExpiryTimer();
    while (!this.settled) await new Promise<void>((resolve) => this.committedReaders.push(resolve));
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
   * Decides in a later turn of the event loop: after a commit, so callers that answer a reply
   * with a new command (a crowd retrying) join one step instead of forming steps of one; while
   * a commit is in flight, so commands arriving in one turn are decided together and commit
   * replies are handled between steps.
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

  /** A read or a snapshot waits for a committed state: decide nothing more until the pipeline is empty. */
  private get quiescing(): boolean {
    return this.committedReaders.length > 0 || this.snapshotDue;
  }

  private drain(): void {
    if (this.drainScheduled) return;
    const stepMax = Math.max(1, Math.min(this.limits.decideStepCommandsMax, this.limits.batchCommandsMax));
    let steps = 0;
    while (this.phase === 'running' && this.mailbox.length > 0) {
      if (!this.settled && (this.quiescing || this.pipelineCommands >= this.limits.batchCommandsMax)) {
        break; // resumes when the commit in flight settles (afterCommit)
      }
      if (steps > 0 && !this.settled && this.options.timers.defer !== undefined) {
        // Let the commit's I/O run between steps; the next step is decided in a later turn.
        this.drainSoon();
        break;
      }
      const batch = this.mailbox.splice(0, Math.min(stepMax, this.limits.batchCommandsMax - this.pipelineCommands));
      const state = this.state!;
      let decided: DecidedBatch;
      try {
        decided = decideBatch(state, this.cache, batch.map((pending) => pending.envelope), this.options.clock.nowMs());
      } catch (error) {
        // An invariant broke while deciding: a bug. Nothing of this step nor of the steps waiting
        // for their commit is committed; rebuild once the commit in flight (decided earlier) settles.
        this.options.logger.error({ err: error, showId: this.showId }, 'invariant violated while deciding; recovering from journal');
        this.failPending([...this.takePipeline().flatMap((step) => step.batch), ...batch], 'internal_error', 'the show is recovering; retry');
        if (this.inFlight === null) this.recover('invariant');
        else {
          this.phase = 'recovering';
          this.clearExpiryTimer();
          this.recoverAfterCommit = 'invariant';
        }
        return;
      }
      steps += 1;
      if (decided.events.length === 0 && decided.idempotencyRecords.length === 0 && this.settled) {
        this.answer(batch, decided);
        continue;
      }
      this.pipeline.push({ batch, decided, diff: this.diffOf(decided) });
      this.pipelineCommands += batch.length;
      this.startCommit();
    }
    if (this.settled) this.scheduleExpiryTimer();
  }

  private takePipeline(): DecidedStep[] {
    this.pipelineCommands = 0;
    return this.pipeline.splice(0);
  }

  /**
   * Commits the waiting steps in ONE transaction, unless one is in flight. Steps that write
   * nothing are answered as soon as every step before them is committed. A step that voids a
   * sale starts a new transaction after one that sells (the sale rows are applied unsold first).
   */
  private startCommit(): void {
    for (const step of this.startNextCommit()) this.answer(step.batch, step.decided);
  }

  /** startCommit, but the leading steps that write nothing are returned for the caller to answer (in order). */
  private startNextCommit(): DecidedStep[] {
    if (this.inFlight !== null) return [];
    let ready = 0;
    while (ready < this.pipeline.length && isEmptyStep(this.pipeline[ready]!)) ready += 1;
    const answerable = this.pipeline.splice(0, ready);
    for (const step of answerable) this.pipelineCommands -= step.batch.length;
    if (this.pipeline.length === 0) return answerable;
    const steps: DecidedStep[] = [];
    let commands = 0;
    let sells = false;
    for (const step of this.pipeline) {
      const { effects } = step.decided;
      if (steps.length > 0 && (commands + step.batch.length > this.limits.batchCommandsMax || (sells && effects.seatsUnsold.length > 0))) break;
      steps.push(step);
      commands += step.batch.length;
      sells ||= effects.seatsSold.length > 0;
    }
    this.pipeline.splice(0, steps.length);
    this.pipelineCommands -= commands;
    this.inFlight = steps;
    const startedMs = Date.now();
    const batch = journalBatchOf(this.showId, this.epoch, steps.map((step) => step.decided));
    this.options.journal
      .append(batch)
      .then(
        () => {
          this.inFlight = null;
          this.options.observer?.batchCommitted?.(this.showId, commands, batch.events.length, Date.now() - startedMs);
          // The steps decided meanwhile go out first (also while stopping), so the database works
          // while this transaction's callers are answered and come back with their next commands.
          const answerable = this.recoverAfterCommit === null ? this.startNextCommit() : [];
          for (const step of [...steps, ...answerable]) this.answer(step.batch, step.decided);
          this.publish(mergeDiffs(steps.map((step) => step.diff)));
          this.afterCommit();
        },
        (error: unknown) => this.commitFailed(steps, error),
      );
    return answerable;
  }

  private afterCommit(): void {
    if (this.recoverAfterCommit !== null) {
      const reason = this.recoverAfterCommit;
      this.recoverAfterCommit = null;
      if (this.phase === 'recovering') this.recover(reason);
      else this.runCommittedReaders(); // stopped meanwhile
      return;
    }
    if (this.settled && this.phase === 'running') this.maybeSnapshot();
    this.scheduleExpiryTimer();
    this.runCommittedReaders();
    this.drainSoon();
  }

  private answer(batch: PendingCommand[], decided: DecidedBatch): void {
    batch.forEach((pending, index) => {
      const reply = decided.replies[index]!;
      if (!reply.ok) this.options.observer?.commandRejected?.(this.showId, reply.code);
      pending.resolve(reply);
    });
  }

  /**
   * The diff of a step, from the state right after it (published only once it is committed).
   * Computed even with nobody listening yet: a watcher may subscribe before the step commits.
   */
  private diffOf(decided: DecidedBatch): SeatMapDiff | null {
    if (decided.events.length === 0) return null;
    const { effects } = decided;
    return diffOf(this.state!, decided.fromVersion, 0, effects.touchedSeats, effects.touchedPools, effects.offers.map((offer) => offer.holdId));
  }

  private publish(diff: SeatMapDiff | null): void {
    if (diff === null || (this.listeners.size === 0 && this.options.onCommitted === undefined)) return;
    diff.committedAtMs = this.options.clock.nowMs();
    for (const listener of this.options.onCommitted ? [...this.listeners, this.options.onCommitted] : this.listeners) {
      try {
        listener(diff);
      } catch (error) {
        this.options.logger.error({ err: error, showId: this.showId }, 'diff listener failed');
      }
    }
  }

  private commitFailed(steps: DecidedStep[], error: unknown): void {
    this.inFlight = null;
    // Every step decided after the failed one was decided on top of it: none of them may be committed.
    const batch = [...steps, ...this.takePipeline()].flatMap((step) => step.batch);
    this.recoverAfterCommit = null;
    if (this.phase === 'stopped') {
      // stop() is waiting for this commit: never recover (that would take the lease back).
      // Fenced or a key already recorded: nothing was written and the next owner holds the answer,
      // so `not_owner` sends the command there (a retried key gets its stored reply).
      const nothingWritten = error instanceof FencedError || error instanceof IdempotencyConflictError;
      this.failPending(batch, nothingWritten ? 'not_owner' : 'commit_failed', 'the show stopped; retry');
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
      // Some keys were recorded before this activation: nothing was written. Decide the commands again
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
    if (!this.settled) return;
    const readers = this.committedReaders.splice(0);
    for (const read of readers) read();
  }

  private get snapshotDue(): boolean {
    return this.state !== null && !this.snapshotWriting && this.state.version - this.lastSnapshotVersion >= this.limits.snapshotEveryEvents;
  }

  /** Writes a snapshot when one is due; only at a committed state (nothing decided waits for its commit). */
  private maybeSnapshot(): void {
    if (!this.settled || !this.snapshotDue) return;
    const state = this.state!;
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

function isEmptyStep(step: DecidedStep): boolean {
  return step.decided.events.length === 0 && step.decided.idempotencyRecords.length === 0;
}

/** One transaction's worth of decided steps (consecutive versions) as one journal batch. */
function journalBatchOf(showId: string, epoch: number, steps: DecidedBatch[]): JournalBatch {
  const first = steps[0]!;
  const last = steps[steps.length - 1]!;
  const all = <T>(pick: (step: DecidedBatch) => T[]): T[] => (steps.length === 1 ? pick(first) : steps.flatMap(pick));
  return {
    showId,
    epoch,
    fromVersion: first.fromVersion,
    toVersion: last.toVersion,
    events: all((step) => step.events),
    idempotencyRecords: all((step) => step.idempotencyRecords),
    seatsSold: all((step) => step.effects.seatsSold),
    seatsUnsold: all((step) => step.effects.seatsUnsold),
    poolSoldDeltas: all((step) => step.effects.poolSoldDeltas),
    outbox: all((step) => step.effects.outbox),
    attachedWrites: all((step) => step.attachedWrites),
  };
}

/** The diffs of the steps of one transaction as one diff from its first version to its last (later steps' values win). */
function mergeDiffs(diffs: (SeatMapDiff | null)[]): SeatMapDiff | null {
  const present = diffs.filter((diff): diff is SeatMapDiff => diff !== null);
  if (present.length <= 1) return present[0] ?? null;
  const seats = new Map<number, SeatMapDiff['seats'][number][1]>();
  const pools = new Map<number, number>();
  for (const diff of present) {
    for (const [seat, status] of diff.seats) seats.set(seat, status);
    for (const [pool, available] of diff.pools) pools.set(pool, available);
  }
  const last = present[present.length - 1]!;
  return {
    ...last,
    fromVersion: present[0]!.fromVersion,
    seats: [...seats].sort((a, b) => a[0] - b[0]),
    pools: [...pools].sort((a, b) => a[0] - b[0]),
    offers: present.flatMap((diff) => diff.offers),
  };
}
