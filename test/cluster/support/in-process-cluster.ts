import { EventEmitter } from 'node:events';
import { LocalShowRouter } from '../../../src/actors/show-router.js';
import { ClusterShowRouter } from '../../../src/cluster/cluster-router.js';
import { IpcBus, type PrimaryChannel } from '../../../src/cluster/ipc-bus.js';
import { IpcHub, type WorkerChannel } from '../../../src/cluster/ipc-hub.js';
import { Rpc } from '../../../src/cluster/rpc.js';
import type { SqlDatabase } from '../../../src/persistence/database.js';
import type { JournalBatch } from '../../../src/persistence/journal.js';
import { PostgresJournal } from '../../../src/persistence/postgres-journal.js';
import { ShowDefinitionStore } from '../../../src/persistence/show-definitions.js';
import { systemClock, systemTimers } from '../../../src/shared/clock.js';
import { silentLogger } from '../../../src/shared/logger.js';

/** A journal whose commits can be held back, as if its process were paused mid-commit (SIGSTOP). */
export class PausableJournal extends PostgresJournal {
  private gate: Promise<void> | null = null;
  private open: (() => void) | null = null;
  appendsWaiting = 0;

  pause(): void {
    this.gate ??= new Promise<void>((resolve) => (this.open = resolve));
  }

  resume(): void {
    this.open?.();
    this.gate = null;
    this.open = null;
  }

  override async append(batch: JournalBatch): Promise<void> {
    if (this.gate) {
      this.appendsWaiting += 1;
      await this.gate;
      this.appendsWaiting -= 1;
    }
    await super.append(batch);
  }
}

/** One worker's IPC link, delivered asynchronously and structured-cloned like node:cluster's. */
class Link {
  private readonly toWorker = new EventEmitter();
  private readonly toHub = new EventEmitter();
  /** While severed, messages both ways are held (a paused process) and delivered on restore. */
  private held: (() => void)[] | null = null;

  readonly workerSide: PrimaryChannel = {
    send: (message) => this.deliver(() => this.toHub.emit('message', structuredClone(message))),
    on: (_event, listener) => this.toWorker.on('message', listener),
    off: (_event, listener) => this.toWorker.off('message', listener),
  };

  readonly hubSide: WorkerChannel = {
    send: (message) => this.deliver(() => this.toWorker.emit('message', structuredClone(message))),
    on: (_event, listener) => this.toHub.on('message', listener),
  };

  sever(): void {
    this.held ??= [];
  }

  restore(): void {
    const held = this.held ?? [];
    this.held = null;
    for (const deliver of held) deliver();
  }

  private deliver(emit: () => void): void {
    if (this.held) this.held.push(emit);
    else setImmediate(emit);
  }
}

export interface InProcessWorker {
  id: string;
  router: ClusterShowRouter;
  local: LocalShowRouter;
  bus: IpcBus;
  journal: PausableJournal;
  link: Link;
}

/**
 * N workers in one process on one database, joined by a real IpcHub over in-memory links:
 * the routing, hand-off, retry and fencing code is the production code; only the process
 * boundary is simulated (so a test can pause one worker's messages and commits).
 */
export class InProcessCluster {
  readonly hub = new IpcHub({ logger: silentLogger, pingIntervalMs: 100, livenessTimeoutMs: 600 });
  readonly workers: InProcessWorker[] = [];
  private readonly dead: InProcessWorker[] = [];

  constructor(
    private readonly db: SqlDatabase,
    private readonly options: { hopTimeoutMs?: number; retryWindowMs?: number } = {},
  ) {}

  async addWorker(id: string): Promise<InProcessWorker> {
    const definitions = new ShowDefinitionStore(this.db);
    const journal = new PausableJournal(this.db);
    const link = new Link();
    this.hub.attach(id, link.hubSide);
    const bus = new IpcBus(id, link.workerSide, silentLogger);
    let router: ClusterShowRouter | null = null;
    // The actors publish committed diffs on the show's topic, as server.ts wires them.
    const local = new LocalShowRouter({ ownerId: id, journal, loadDefinition: (showId) => definitions.load(showId), clock: systemClock, timers: systemTimers, logger: silentLogger, onCommitted: (diff) => router?.publishDiff(diff) });
    router = new ClusterShowRouter({ local, bus, rpc: new Rpc(bus), logger: silentLogger, hopTimeoutMs: this.options.hopTimeoutMs ?? 3_000, retryWindowMs: this.options.retryWindowMs ?? 15_000 });
    await bus.announceReady();
    const worker: InProcessWorker = { id, router, local, bus, journal, link };
    this.workers.push(worker);
    await this.settle();
    return worker;
  }

  worker(id: string): InProcessWorker {
    return this.workers.find((worker) => worker.id === id)!;
  }

  /** Waits until every worker holds the hub's current view. */
  async settle(): Promise<void> {
    for (let i = 0; i < 400; i += 1) {
      const view = this.hub.view();
      const joined = this.workers.every((worker) => view.workers.includes(worker.id));
      if (joined && this.workers.every((worker) => worker.bus.view().revision === view.revision)) return;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  /** The process died (kill -9: no hand-off, no lease release); the primary sees the exit. */
  async kill(id: string): Promise<void> {
    const worker = this.worker(id);
    worker.link.sever();
    this.hub.detach(id);
    this.workers.splice(this.workers.indexOf(worker), 1);
    this.dead.push(worker);
    await this.settle();
  }

  async close(): Promise<void> {
    this.hub.close();
    for (const worker of this.workers) {
      worker.link.restore();
      worker.journal.resume();
    }
    await Promise.all([...this.workers, ...this.dead].map((worker) => worker.router.stopAll()));
    await Promise.all(this.workers.map((worker) => worker.bus.close()));
  }
}
