import type { Clock, Timers } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import type { ShowJournal } from '../persistence/journal.js';
import { ApiError } from '../protocol/api-error.js';
import type { CommandEnvelope } from './decide-batch.js';
import { limits } from './limits.js';
import type { HoldView, ShowReply } from './messages.js';
import type { AvailabilitySnapshot } from './seat-map-diff.js';
import { ShowActor, type DiffListener, type ShowActorLimits, type ShowActorObserver } from './show-actor.js';
import type { ShowDefinition } from './show-definition.js';

/**
 * Where a show's commands go. The gateway talks only to this interface; today one process
 * hosts every actor (LocalShowRouter), and sharding puts a cross-worker router behind it.
 */
export interface ShowRouter {
  submit(showId: string, envelope: CommandEnvelope): Promise<ShowReply>;
  availability(showId: string): Promise<AvailabilitySnapshot | null>;
  getHold(showId: string, holdId: string): Promise<HoldView | null>;
  /** Subscribes to committed diffs; resolves once subscribed (the actor is active). */
  watch(showId: string, listener: DiffListener): Promise<() => void>;
  /** Stops every actor: in-flight batches commit, queued commands are answered `not_owner`. */
  stopAll(): Promise<void>;
}

export interface LocalShowRouterOptions {
  ownerId: string;
  journal: ShowJournal;
  loadDefinition: (showId: string) => Promise<ShowDefinition | null>;
  clock: Clock;
  timers: Timers;
  logger: Logger;
  actorLimits?: Partial<ShowActorLimits>;
  observer?: ShowActorObserver;
  idleMs?: number;
  /** Receives every show's committed diffs (the gateway pushes offers and sold-out news from them). */
  onCommitted?: DiffListener;
}

/** Hosts every show's actor in this process; activates on first use, passivates idle ones. */
export class LocalShowRouter implements ShowRouter {
  private readonly actors = new Map<string, ShowActor>();
  private closed = false;
  /** Shows another process took over (our commit was fenced): never re-taken here on our own. */
  private readonly ownedElsewhere = new Set<string>();
  private readonly passivationTimer: NodeJS.Timeout;

  constructor(private readonly options: LocalShowRouterOptions) {
    const idleMs = options.idleMs ?? limits.actorIdleMs;
    this.passivationTimer = setInterval(() => void this.passivateIdle(idleMs), Math.max(1_000, Math.floor(idleMs / 4)));
    this.passivationTimer.unref();
  }

  get activeShowCount(): number {
    return this.actors.size;
  }

  /** Read-only figures of every actor in this process (for the ops page). */
  stats(): ReturnType<ShowActor['stats']>[] {
    return [...this.actors.values()].map((actor) => actor.stats());
  }

  actorOf(showId: string): ShowActor {
    let actor = this.actors.get(showId);
    if (actor === undefined || actor.currentPhase === 'stopped' || actor.currentPhase === 'fenced') {
      actor = new ShowActor({
        showId,
        ownerId: this.options.ownerId,
        journal: this.options.journal,
        loadDefinition: this.options.loadDefinition,
        clock: this.options.clock,
        timers: this.options.timers,
        logger: this.options.logger,
        limits: this.options.actorLimits,
        observer: this.options.observer,
        ...(this.options.onCommitted ? { onCommitted: this.options.onCommitted } : {}),
        onFenced: (fencedShowId) => {
          this.actors.delete(fencedShowId);
          this.ownedElsewhere.add(fencedShowId);
        },
      });
      this.actors.set(showId, actor);
    }
    return actor;
  }

  /** Shows with a live actor in this process. */
  activeShowIds(): string[] {
    return [...this.actors.keys()];
  }

  /**
   * Hands a show off (it moved to another worker): the in-flight batch commits, queued commands
   * are answered `not_owner` (the cluster router retries them at the new owner), the lease is released.
   */
  async release(showId: string): Promise<void> {
    const actor = this.actors.get(showId);
    if (actor === undefined) return;
    this.actors.delete(showId);
    await actor.stop();
  }

  /** Lets this process take a show again after another owner had it (an ops move back). */
  allowOwnership(showId: string): void {
    this.ownedElsewhere.delete(showId);
  }

  async submit(showId: string, envelope: CommandEnvelope): Promise<ShowReply> {
    if (this.closed) return { ok: false, code: 'not_owner', detail: 'this process is shutting down; retry' };
    if (this.ownedElsewhere.has(showId)) return { ok: false, code: 'not_owner', detail: `show ${showId} is served by another process` };
    const reply = await this.actorOf(showId).submit(envelope);
    if (!reply.ok && reply.code === 'not_found') this.actors.delete(showId);
    return reply;
  }

  async availability(showId: string): Promise<AvailabilitySnapshot | null> {
    return this.readOrNull(showId, (actor) => actor.availability());
  }

  async getHold(showId: string, holdId: string): Promise<HoldView | null> {
    return this.readOrNull(showId, (actor) => actor.getHold(holdId));
  }

  async watch(showId: string, listener: DiffListener): Promise<() => void> {
    if (this.closed) throw new Error('the router is closed');
    const actor = this.actorOf(showId);
    await actor.activate();
    return actor.subscribe(listener);
  }

  async stopAll(): Promise<void> {
    this.closed = true;
    clearInterval(this.passivationTimer);
    await Promise.all([...this.actors.values()].map((actor) => actor.stop()));
    this.actors.clear();
  }

  private async readOrNull<T>(showId: string, read: (actor: ShowActor) => Promise<T>): Promise<T | null> {
    if (this.closed) return null;
    const actor = this.actorOf(showId);
    try {
      await actor.activate();
      return await read(actor);
    } catch (error) {
      if (error instanceof Error && error.name === 'ShowNotFoundError') {
        this.actors.delete(showId);
        return null;
      }
      if (error instanceof Error && error.name === 'ShowUnavailableError') throw new ApiError('not_owner', error.message);
      throw error;
    }
  }

  private async passivateIdle(idleMs: number): Promise<void> {
    const nowMs = this.options.clock.nowMs();
    for (const [showId, actor] of this.actors) {
      if (actor.watcherCount === 0 && actor.mailboxDepth === 0 && !actor.hasPendingExpiry && nowMs - actor.idleSinceMs > idleMs) {
        this.actors.delete(showId);
        await actor.stop();
      }
    }
  }
}
