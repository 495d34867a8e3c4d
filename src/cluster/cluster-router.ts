import type { CommandEnvelope } from '../actors/decide-batch.js';
import { reject, type HoldView, type ShowReply } from '../actors/messages.js';
import type { AvailabilitySnapshot, SeatMapDiff } from '../actors/seat-map-diff.js';
import type { DiffListener } from '../actors/show-actor.js';
import type { LocalShowRouter, ShowRouter } from '../actors/show-router.js';
import { ApiError } from '../protocol/api-error.js';
import { isResultCode } from '../protocol/result-codes.js';
import type { Logger } from '../shared/logger.js';
import type { ClusterBus } from './cluster-bus.js';
import { ownerOf, type ClusterView } from './ownership.js';
import { RemoteError, RpcTimeoutError, type Rpc } from './rpc.js';

export interface ClusterRouterOptions {
  local: LocalShowRouter;
  bus: ClusterBus;
  rpc: Rpc;
  logger: Logger;
  /** How long one hop to the owner may take before the command is retried (same idempotency key). */
  hopTimeoutMs: number;
  /** How long a command keeps being retried while its show moves or its owner is down. */
  retryWindowMs: number;
  /** Called for every show that leaves or joins this worker (metrics, logs). */
  onMove?: (move: { showId: string; from: string | null; to: string | null }) => void;
  /** Measures each forwarded call (the cross-worker hop). */
  onHop?: (method: string, durationMs: number) => void;
  /**
   * Another way to the workers of this machine (the primary's IPC hub) for when the bus is down
   * (Redis unreachable): their shows keep being served; only other machines' wait for Redis.
   */
  fallback?: { rpc: Rpc; reaches: (workerId: string) => boolean };
}

/** The topic a show's committed diffs are published on, by whichever worker owns it. */
export const diffTopic = (showId: string): string => `diff:${showId}`;

const notOwnerReply = (reply: ShowReply): boolean => !reply.ok && reply.code === 'not_owner';

/**
 * Routes each show's commands to the one worker that owns it (ownership.ts) and serves the
 * shows this worker owns. A command that meets a move (`not_owner`) or a silent owner is
 * retried, with its idempotency key, until the views converge; so a retry can never apply it
 * twice, and the lease epoch refuses a commit by a worker that lost the show meanwhile.
 */
export class ClusterShowRouter implements ShowRouter {
  private readonly owners = new Map<string, string | null>();
  private ownersRevision = -1;
  private closed = false;

  constructor(private readonly options: ClusterRouterOptions) {
    for (const rpc of [options.rpc, ...(options.fallback ? [options.fallback.rpc] : [])]) this.serveOn(rpc);
    options.bus.onViewChange((view, previous) => void this.onViewChange(view, previous));
  }

  /** The calls other workers make of a show's owner. */
  private serveOn(rpc: Rpc): void {
    const { options } = this;
    rpc.handle('submit', ([showId, envelope]) => this.serveOwned(showId as string, () => options.local.submit(showId as string, envelope as CommandEnvelope), (show) => reject('not_owner', `show ${show} is not served here`)));
    rpc.handle('availability', ([showId]) => this.serveOwned(showId as string, () => options.local.availability(showId as string)));
    rpc.handle('getHold', ([showId, holdId]) => this.serveOwned(showId as string, () => options.local.getHold(showId as string, holdId as string)));
    rpc.handle('activate', ([showId]) => this.serveOwned(showId as string, async () => (await options.local.availability(showId as string)) !== null));
  }

  get workerId(): string {
    return this.options.bus.workerId;
  }

  ownerOf(showId: string): string | null {
    const view = this.options.bus.view();
    if (view.revision !== this.ownersRevision) {
      this.owners.clear();
      this.ownersRevision = view.revision;
    }
    let owner = this.owners.get(showId);
    if (owner === undefined) {
      owner = ownerOf(showId, view);
      this.owners.set(showId, owner);
    }
    return owner;
  }

  view(): ClusterView {
    return this.options.bus.view();
  }

  /** Publishes a diff committed here to every worker watching the show (wired to the actors' onCommitted). */
  publishDiff(diff: SeatMapDiff): void {
    this.options.bus.publish(diffTopic(diff.showId), diff);
  }

  submit(showId: string, envelope: CommandEnvelope): Promise<ShowReply> {
    return this.route(showId, 'submit', [showId, envelope], () => this.options.local.submit(showId, envelope), notOwnerReply);
  }

  availability(showId: string): Promise<AvailabilitySnapshot | null> {
    return this.route(showId, 'availability', [showId], () => this.options.local.availability(showId), () => false);
  }

  getHold(showId: string, holdId: string): Promise<HoldView | null> {
    return this.route(showId, 'getHold', [showId, holdId], () => this.options.local.getHold(showId, holdId), () => false);
  }

  /**
   * Watching is a subscription to the show's diff topic, which survives moves: whichever worker
   * owns the show publishes there. The owner is asked to activate the show so that it publishes.
   */
  async watch(showId: string, listener: DiffListener): Promise<() => void> {
    if (this.closed) throw new Error('the router is closed');
    const unsubscribe = this.options.bus.subscribe(diffTopic(showId), (payload) => listener(payload as SeatMapDiff));
    try {
      const exists = await this.route(showId, 'activate', [showId], async () => (await this.options.local.availability(showId)) !== null, () => false);
      if (!exists) throw new ApiError('not_found', `no show ${showId}`);
    } catch (error) {
      unsubscribe();
      throw error;
    }
    return unsubscribe;
  }

  async stopAll(): Promise<void> {
    this.closed = true;
    this.options.rpc.close();
    await this.options.local.stopAll();
  }

  /** Ops: give a show to a worker (a pin), or back to the hash ring (null). */
  async pin(showId: string, workerId: string | null): Promise<void> {
    if (workerId !== null && !this.options.bus.view().workers.includes(workerId)) throw new ApiError('not_found', `no live worker ${workerId}`);
    await this.options.bus.setPin(showId, workerId);
  }

  async drain(workerId: string, draining: boolean): Promise<void> {
    await this.options.bus.setDraining(workerId, draining);
  }

  /** Answers for a show only while this worker's view says it owns it; else the caller retries. */
  private async serveOwned<T>(showId: string, serve: () => Promise<T>, refusal?: (showId: string) => T): Promise<T> {
    if (this.closed || this.ownerOf(showId) !== this.workerId) {
      if (refusal) return refusal(showId);
      throw new ApiError('not_owner', `show ${showId} is not served here`);
    }
    this.options.local.allowOwnership(showId);
    return serve();
  }

  private async route<T>(showId: string, method: string, args: unknown[], runLocally: () => Promise<T>, isNotOwner: (result: T) => boolean): Promise<T> {
    const deadline = Date.now() + this.options.retryWindowMs;
    for (let attempt = 0; ; attempt += 1) {
      const owner = this.closed ? null : this.ownerOf(showId);
      let outcome: { result: T } | { retry: string };
      if (owner === null) outcome = { retry: this.closed ? 'shutting down' : 'no live worker' };
      else if (owner === this.workerId) outcome = await this.attemptLocally(showId, runLocally, isNotOwner);
      else outcome = await this.attemptRemotely(owner, method, args, isNotOwner);
      if ('result' in outcome) return outcome.result;
      if (Date.now() >= deadline) throw new ApiError('not_owner', `show ${showId} is moving between workers (${outcome.retry}); retry`);
      await sleep(Math.min(20 * 2 ** attempt, 250));
    }
  }

  private async attemptLocally<T>(showId: string, runLocally: () => Promise<T>, isNotOwner: (result: T) => boolean): Promise<{ result: T } | { retry: string }> {
    this.options.local.allowOwnership(showId);
    try {
      const result = await runLocally();
      return isNotOwner(result) ? { retry: 'fenced or handing off' } : { result };
    } catch (error) {
      if (error instanceof ApiError && error.code === 'not_owner') return { retry: error.message };
      throw error;
    }
  }

  private async attemptRemotely<T>(owner: string, method: string, args: unknown[], isNotOwner: (result: T) => boolean): Promise<{ result: T } | { retry: string }> {
    const startedAt = performance.now();
    try {
      const fallback = this.options.fallback;
      const rpc = fallback && !this.options.bus.connected() && fallback.reaches(owner) ? fallback.rpc : this.options.rpc;
      const result = (await rpc.call(owner, method, args, this.options.hopTimeoutMs)) as T;
      this.options.onHop?.(method, performance.now() - startedAt);
      return isNotOwner(result) ? { retry: `${owner} no longer owns it` } : { result };
    } catch (error) {
      if (error instanceof RpcTimeoutError) return { retry: error.message };
      if (error instanceof RemoteError) {
        if (error.code === 'not_owner') return { retry: error.message };
        if (error.code !== undefined && isResultCode(error.code)) throw new ApiError(error.code, error.message);
        throw new Error(`${owner}: ${error.message}`);
      }
      throw error;
    }
  }

  private async onViewChange(view: ClusterView, previous: ClusterView): Promise<void> {
    const self = this.workerId;
    for (const showId of this.options.local.activeShowIds()) {
      const owner = ownerOf(showId, view);
      if (owner === self) continue;
      this.options.logger.info({ showId, from: self, to: owner, revision: view.revision }, 'show moves away; handing off');
      this.options.onMove?.({ showId, from: self, to: owner });
      await this.options.local.release(showId).catch((error: unknown) => this.options.logger.error({ err: error, showId }, 'hand-off failed'));
    }
    for (const [showId, pinned] of Object.entries(view.pins)) {
      if (pinned === self && previous.pins[showId] !== self) this.options.local.allowOwnership(showId);
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
