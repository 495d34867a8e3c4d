/**
 * The deterministic simulator (TigerBeetle VOPR style). A seed drives the real ShowActor over a
 * simulated journal whose every call is an await point the simulator completes in an order and
 * with an outcome it chooses; all time is virtual and all randomness comes from the seed, so a
 * failing seed replays exactly (`npm run sim -- --seeds 1 --from SEED --trace`).
 *
 * Faults: commit refused before write, committed but the reply lost, commit/lease/snapshot calls
 * that time out and may still land later, failed reads, process crashes at any await point
 * (their in-flight writes dropped or landing later), a superseded owner that keeps running with
 * a stale epoch, graceful moves (stop + new owner), lost, duplicated and reordered messages,
 * client timeouts and retries with the same key, keys reused with other parameters, wall-clock
 * jumps forward and back, tiny mailboxes.
 *
 * After every step the auditor (auditor.ts) checks the invariants; a safety phase with faults
 * is followed by a liveness phase without them, then a final audit (every intent answered, no
 * hold past its expiry, the owner's state and a fresh rebuild equal to the journal).
 */
import type { CommandEnvelope } from '../../src/actors/decide-batch.js';
import { Inventory } from '../../src/actors/inventory.js';
import type { ShowReply } from '../../src/actors/messages.js';
import { ShowActor, type ShowActorLimits } from '../../src/actors/show-actor.js';
import type { ShowDefinition } from '../../src/actors/show-definition.js';
import type { ShowState } from '../../src/actors/show-state.js';
import { checkStateInvariants } from '../../src/actors/show-state.js';
import { MemoryJournal } from '../../src/persistence/memory-journal.js';
import { silentLogger } from '../../src/shared/logger.js';
import { Auditor, canonicalState, isDefinitive } from './auditor.js';
import { check, fail, SimulationFailure } from './failure.js';
import { Fan, nextIntent, type Intent, type IntentFactoryContext } from './fans.js';
import { PaymentWorld, type PaymentHost, type PaymentOptions, type RoutedActor } from './payments.js';
import { Prng } from './prng.js';
import { buildSimShow, simShowId, type SimShowOptions } from './show.js';
import { SimulatedJournal, type OpFault, type ParkedOp } from './simulated-journal.js';
import { memoryStore, type StoreUnderTest } from './store.js';
import { VirtualTime } from './virtual-time.js';

export const faultKinds = [
  'commit_failed_before_write',
  'commit_failed_after_write',
  'commit_timed_out',
  'journal_read_failed',
  'lease_failed',
  'snapshot_write_failed',
  'crash',
  'orphaned_write',
  'stale_owner',
  'graceful_move',
  'stale_routing',
  'reply_lost',
  'duplicate_delivery',
  'reordered_delivery',
  'client_timeout',
  'key_reuse',
  'clock_jump_forward',
  'clock_jump_back',
  'mailbox_overloaded',
] as const;

export type FaultKind = (typeof faultKinds)[number];

/** How hard a seed shakes the system. Chosen from the seed (swarm testing: each seed enables a different mix). */
export interface FaultProfile {
  /** Per append: refused before anything is written. */
  commitFailBefore: number;
  /** Per append: written, but the acknowledgement is lost (committed but the reply was lost). */
  commitFailAfter: number;
  /** Per write (append, lease, snapshot): the caller times out while the write stays in flight and may land later. */
  writeTimeout: number;
  /** Per read (definition, snapshot, events, idempotency record): the query fails. */
  readFail: number;
  /** Per lease acquisition: fails before, or after taking the epoch. */
  leaseFail: number;
  snapshotFail: number;
  /** Per-step weights of the process-level faults (the regular actions weigh about 20 in all). */
  crash: number;
  staleOwner: number;
  gracefulMove: number;
  clockJump: number;
  /** While an old owner lives, the chance a command is routed to it instead of the current owner. */
  staleRouting: number;
  replyLoss: number;
  duplicate: number;
  reorder: boolean;
  keyReuse: number;
  /** Per-step weight of committed reads (availability), which are checked against the journal. */
  reads: number;
  /** Small mailboxes make the actor answer `overloaded`. */
  smallMailbox: boolean;
}

export interface SimOptions {
  /** Steps of the safety phase (faults on). Default 250. */
  steps?: number;
  /** Fans (plus one box-office client). Default: 2–9 from the seed. */
  fans?: number;
  /** The journal under test; default a fresh MemoryJournal. */
  createJournal?: () => MemoryJournal;
  /** Or any store (the Postgres journal on PGlite or PostgreSQL), empty at the start of the seed. */
  store?: StoreUnderTest;
  /** Overrides of the seed-chosen fault profile. */
  faults?: Partial<FaultProfile>;
  show?: SimShowOptions;
  /**
   * A committed read (availability, getHold) that fails must fail with a proper error, not a
   * programming error such as a TypeError (`reads_fail_cleanly`). Off by default while
   * ShowActor.readCommitted still runs queued readers on a null state after a fence or a failed
   * activation (see simulator.test.ts); the count is in `coverage.reads_failed_with_type_error`.
   */
  strictReads?: boolean;
  /** What the actors load instead of the show's definition (the auditor keeps the real one): broken variants only. */
  actorDefinition?: (definition: ShowDefinition) => ShowDefinition;
  /**
   * Payments: fans check out and pay through the real order saga and the simulated PSP
   * (payments.ts), with their own faults; needs an SQL `store`. Off by default.
   */
  payments?: boolean | PaymentOptions;
  /** Bound on liveness-phase iterations before the run counts as stuck. Default 10,000. */
  livenessIterationsMax?: number;
  /** Receives one line per simulator action (for replaying a failing seed by eye). */
  trace?: (line: string) => void;
}

export interface SimStats {
  steps: number;
  livenessIterations: number;
  intents: number;
  attempts: number;
  deliveries: number;
  replies: Record<string, number>;
  ghostReplies: number;
  commits: number;
  recoveries: number;
  actors: number;
  reads: number;
  readErrors: number;
  diffs: number;
  activationFailures: number;
  finalVersion: number;
  virtualMs: number;
  snapshotsWritten: number;
  orphanedWritesLanded: number;
  /** Committed events by type. */
  events: Record<string, number>;
  /** Crashes by the await point(s) the process was parked at ('between_calls' if none). */
  crashPoints: Record<string, number>;
  faults: Record<FaultKind, number>;
  /** What the run exercised beyond the basics (waitlist offers, presale channels, payments), by name. */
  coverage: Record<string, number>;
}

export interface SimFailure {
  invariant: string;
  detail: string;
  step: number;
  phase: 'safety' | 'liveness' | 'final';
}

export interface SimResult {
  seed: number;
  ok: boolean;
  steps: number;
  stats: SimStats;
  failure?: SimFailure;
}

interface ActorHandle {
  tag: string;
  actor: ShowActor;
  role: 'primary' | 'old' | 'dead' | 'verifier';
  offset: { skewMs: number };
  /** Committed reads asked of this actor and not yet answered. */
  openReads: number;
}

interface NetMessage {
  intent: Intent;
  envelope: CommandEnvelope;
}

interface NetReply {
  intent: Intent;
  envelope: CommandEnvelope;
  reply: ShowReply;
}

const startMs = Date.UTC(2030, 0, 1);

function describeCommand(envelope: CommandEnvelope): string {
  const { command } = envelope;
  switch (command.type) {
    case 'place_hold':
      return `${command.holdId} ${JSON.stringify(command.request)}`;
    case 'release_hold':
    case 'extend_hold':
      return command.holdId;
    case 'pin_hold':
    case 'confirm_hold':
      return `${command.holdId} ${command.orderId}`;
    case 'void_sale':
      return `${command.orderId} ${command.returnTo}`;
    case 'block_seats':
    case 'unblock_seats':
      return command.seats.join(' ');
    case 'join_waitlist':
      return `${command.entryId} party ${command.partySize}${command.tierId === undefined ? '' : ` tier ${command.tierId}`}`;
    default:
      return JSON.stringify(command);
  }
}

/** A client (fan) with nothing in flight: no command waiting for an answer, no payment call. */
function isIdle(fan: Fan): boolean {
  return fan.current === null && !fan.sagaBusy;
}

function settle(): Promise<void> {
  return new Promise<void>((resolve) => setImmediate(resolve));
}

export function chooseFaultProfile(rng: Prng): FaultProfile {
  const maybe = (probability: number, low: number, high: number): number => (rng.chance(probability) ? low + rng.float() * (high - low) : 0);
  return {
    commitFailBefore: maybe(0.7, 0.02, 0.15),
    commitFailAfter: maybe(0.7, 0.02, 0.15),
    writeTimeout: maybe(0.4, 0.02, 0.1),
    readFail: maybe(0.5, 0.01, 0.08),
    leaseFail: maybe(0.4, 0.05, 0.25),
    snapshotFail: maybe(0.4, 0.05, 0.3),
    crash: maybe(0.7, 0.05, 0.3),
    staleOwner: maybe(0.6, 0.05, 0.3),
    gracefulMove: maybe(0.5, 0.05, 0.2),
    clockJump: maybe(0.5, 0.05, 0.3),
    staleRouting: maybe(0.8, 0.1, 0.5),
    replyLoss: maybe(0.6, 0.02, 0.12),
    duplicate: maybe(0.6, 0.02, 0.15),
    reorder: rng.chance(0.8),
    keyReuse: maybe(0.7, 0.03, 0.12),
    reads: 0.4,
    smallMailbox: rng.chance(0.2),
  };
}

function emptyStats(): SimStats {
  return {
    steps: 0,
    livenessIterations: 0,
    intents: 0,
    attempts: 0,
    deliveries: 0,
    replies: {},
    ghostReplies: 0,
    commits: 0,
    recoveries: 0,
    actors: 0,
    reads: 0,
    readErrors: 0,
    diffs: 0,
    activationFailures: 0,
    finalVersion: 0,
    virtualMs: 0,
    snapshotsWritten: 0,
    orphanedWritesLanded: 0,
    events: {},
    crashPoints: {},
    faults: Object.fromEntries(faultKinds.map((kind) => [kind, 0])) as Record<FaultKind, number>,
    coverage: {},
  };
}

/**
 * One seeded run: a safety phase of `steps` steps with faults, then a liveness phase without
 * them, then the final audit. Every step takes one action (a client starts an intent, the
 * network delivers or loses a message, a parked journal call completes — perhaps with a fault —,
 * time passes, a process crashes or is superseded) and then the auditor checks every invariant.
 */
class Simulation {
  readonly stats = emptyStats();
  private readonly rng: Prng;
  private readonly time = new VirtualTime(startMs);
  private readonly journal: SimulatedJournal;
  private readonly definition: ShowDefinition;
  private readonly inventory: Inventory;
  private readonly seatIds: string[];
  private readonly auditor: Auditor;
  private readonly fans: Fan[];
  private readonly profile: FaultProfile;
  private readonly limits: Partial<ShowActorLimits>;
  private readonly steps: number;
  private readonly livenessIterationsMax: number;
  private readonly timeoutMs: number;
  private network: NetMessage[] = [];
  private replies: NetReply[] = [];
  private readonly handles: ActorHandle[] = [];
  private primary!: ActorHandle;
  private faultsOn = true;
  private step = 0;
  private phase: SimFailure['phase'] = 'safety';
  private holdCounter = 0;
  private entryCounter = 0;
  private intentCounter = 0;
  private actorCounter = 0;
  private definitiveReplies = 0;
  private readonly traceSink: ((line: string) => void) | undefined;
  private readonly payments: PaymentWorld | null;
  private readonly strictReads: boolean;

  constructor(
    readonly seed: number,
    options: SimOptions,
  ) {
    this.rng = new Prng(seed);
    const setup = this.rng.fork();
    // Channels and the offer TTL draw from a generator of their own, so the draws of `setup` stay as they were.
    this.definition = buildSimShow(setup, options.show, { rng: new Prng((seed ^ 0x5eed_c4a7) >>> 0), startMs });
    this.inventory = new Inventory(this.definition);
    this.seatIds = Array.from({ length: this.inventory.seatCount }, (_, seat) => this.inventory.seatId(seat));
    this.journal = new SimulatedJournal(options.store ?? memoryStore(options.createJournal?.() ?? new MemoryJournal()), options.actorDefinition?.(structuredClone(this.definition)) ?? this.definition);
    this.auditor = new Auditor(this.journal, this.inventory);
    this.profile = { ...chooseFaultProfile(setup), ...options.faults };
    const batchCommandsMax = setup.between(1, 8);
    this.limits = {
      batchCommandsMax,
      mailboxDepthMax: this.profile.smallMailbox ? setup.between(2, 6) : 10_000,
      snapshotEveryEvents: setup.between(2, 30),
      idempotencyCacheEntriesMax: setup.chance(0.4) ? setup.between(2 * batchCommandsMax, 4 * batchCommandsMax) : 4_096,
    };
    const fanCount = options.fans ?? setup.between(2, 9);
    this.fans = Array.from({ length: fanCount }, (_, index) => new Fan(`fan${index + 1}`));
    this.fans.push(new Fan('admin'));
    this.steps = options.steps ?? 250;
    this.livenessIterationsMax = options.livenessIterationsMax ?? 10_000;
    this.timeoutMs = setup.between(2_000, 8_000);
    this.traceSink = options.trace;
    this.strictReads = options.strictReads ?? false;
    this.trace(`seed ${seed}: profile ${JSON.stringify(this.profile)} limits ${JSON.stringify(this.limits)} fans ${fanCount} timeout ${this.timeoutMs}ms`);
    const payments = options.payments === true ? {} : options.payments === false ? undefined : options.payments;
    if (payments === undefined) this.payments = null;
    else {
      const sql = this.journal.store.sql;
      if (sql === null) throw new Error('payments need an SQL store: the order saga runs on it');
      this.payments = new PaymentWorld(this.paymentHost(), sql, new Prng((seed ^ 0x0a9e_5a6a) >>> 0), payments);
    }
  }

  /** What the payments world sees of this simulation. */
  private paymentHost(): PaymentHost {
    return {
      rng: this.rng,
      time: this.time,
      showId: simShowId,
      faultsOn: () => this.faultsOn,
      route: () => this.route(),
      owner: () => {
        const phase = this.primary.actor.currentPhase;
        if (phase === 'fenced' || phase === 'stopped') this.replacePrimary(false);
        return this.primary;
      },
      observe: (handle, envelope, reply) => this.onSagaReply(handle, envelope, reply),
      crashOwner: () => this.kill(this.primary, true),
      jumpWallClock: (deltaMs) => {
        this.trace(`clock jump ${deltaMs}ms everywhere (past the payment window)`);
        this.time.jumpWallClock(deltaMs);
      },
      reference: () => this.auditor.reference,
      trace: (line) => this.trace(line),
    };
  }

  private trace(line: string | (() => string)): void {
    if (this.traceSink === undefined) return;
    this.traceSink(`[${this.phase} ${this.step} t+${this.time.monotonicMs - startMs}] ${typeof line === 'string' ? line : line()}`);
  }

  async run(): Promise<SimResult> {
    try {
      this.primary = this.spawn('primary', true);
      for (this.step = 0; this.step < this.steps; this.step += 1) {
        await this.safetyStep();
        await this.afterStep();
      }
      this.stats.steps = this.steps;
      this.phase = 'liveness';
      await this.liveness();
      this.phase = 'final';
      await this.finalChecks();
      return this.result();
    } catch (error) {
      const failure =
        error instanceof SimulationFailure
          ? { invariant: error.invariant, detail: error.detail }
          : { invariant: 'simulator_error', detail: error instanceof Error ? (error.stack ?? error.message) : String(error) };
      return this.result({ ...failure, step: this.step, phase: this.phase });
    }
  }

  private result(failure?: SimFailure): SimResult {
    this.stats.finalVersion = this.auditor.version;
    this.stats.virtualMs = this.time.monotonicMs - startMs;
    this.stats.actors = this.actorCounter;
    this.stats.snapshotsWritten = this.journal.stats.snapshotsWritten;
    this.stats.orphanedWritesLanded = this.journal.stats.orphanedWritesLanded;
    this.stats.events = { ...this.auditor.eventCounts };
    if (this.payments !== null) Object.assign(this.stats.coverage, this.payments.coverage);
    if (this.auditor.reference.poolSalesVoided > 0) this.stats.events['sale_voided_with_pools'] = this.auditor.reference.poolSalesVoided;
    const coverage = this.stats.coverage;
    coverage['waitlist_joins'] = this.auditor.eventCounts['waitlist_joined'] ?? 0;
    coverage['offers_made'] = this.auditor.reference.offersMade;
    coverage['channel_holds_with_key'] = this.auditor.reference.channelHoldsKeyed;
    coverage['channel_holds_after_release'] = this.auditor.reference.channelHoldsReleased;
    coverage['channel_refusals'] = (this.stats.replies['channel_restricted'] ?? 0) + (this.stats.replies['channel_key_invalid'] ?? 0);
    const result: SimResult = { seed: this.seed, ok: failure === undefined, steps: this.step, stats: this.stats };
    if (failure !== undefined) result.failure = failure;
    return result;
  }

  // ---- processes -------------------------------------------------------------------------

  private spawn(role: 'primary' | 'verifier', activateNow: boolean): ActorHandle {
    this.actorCounter += 1;
    const tag = `owner-${this.actorCounter}`;
    const view = this.journal.viewFor(tag);
    const offset = { skewMs: this.profile.clockJump > 0 && role === 'primary' ? this.rng.between(-3_000, 3_000) : 0 };
    const actor = new ShowActor({
      showId: simShowId,
      ownerId: tag,
      journal: view.journal,
      loadDefinition: view.loadDefinition,
      clock: this.time.clockFor(offset),
      timers: this.time.timersFor(tag),
      logger: silentLogger,
      limits: this.limits,
      observer: {
        batchCommitted: () => {
          this.stats.commits += 1;
        },
        recovered: (_showId, reason) => {
          if (reason !== 'activation') this.stats.recoveries += 1;
        },
      },
    });
    const handle: ActorHandle = { tag, actor, role, offset, openReads: 0 };
    actor.subscribe((diff) => {
      this.stats.diffs += 1;
      this.auditor.diff(tag, diff);
    });
    this.handles.push(handle);
    this.trace(`spawn ${tag} as ${role}${activateNow ? ', activating' : ''}`);
    if (activateNow) this.activate(handle);
    return handle;
  }

  /** What the owner of a moved show does: take the lease and load (the actor's own activate()). */
  private activate(handle: ActorHandle): void {
    handle.actor.activate().catch((error: unknown) => {
      this.stats.activationFailures += 1;
      this.trace(`${handle.tag}.activate() failed: ${String(error)}`);
    });
  }

  /** The router picks a new owner for the show; the old primary (if alive) lingers as an old owner. */
  private replacePrimary(activateNow: boolean): ActorHandle {
    if (this.primary.role === 'primary') this.primary.role = 'old';
    this.primary = this.spawn('primary', activateNow);
    return this.primary;
  }

  private get oldOwners(): ActorHandle[] {
    return this.handles.filter((handle) => handle.role === 'old');
  }

  /** A process dies: its parked calls never answer (writes may still land), its timers stop. */
  private kill(handle: ActorHandle, countFault: boolean): void {
    const wasPrimary = handle === this.primary;
    if (countFault) {
      const points = this.journal.parkedOps.filter((op) => op.owner === handle.tag && !op.orphaned).map((op) => op.kind);
      for (const point of points.length > 0 ? points : ['between_calls']) this.stats.crashPoints[point] = (this.stats.crashPoints[point] ?? 0) + 1;
    }
    handle.role = 'dead';
    const orphaned = this.journal.kill(handle.tag, () => this.faultsOn && this.rng.chance(0.5));
    this.time.killOwner(handle.tag);
    this.trace(`kill ${handle.tag} (was ${wasPrimary ? 'primary' : 'old'}, ${handle.actor.currentPhase}); ${orphaned} writes orphaned`);
    if (countFault) {
      this.stats.faults.crash += 1;
      this.stats.faults.orphaned_write += orphaned;
    }
    if (wasPrimary) this.replacePrimary(this.rng.chance(0.7));
  }

  private route(): ActorHandle {
    const phase = this.primary.actor.currentPhase;
    if (phase === 'fenced' || phase === 'stopped') this.replacePrimary(false);
    const olds = this.oldOwners;
    if (this.faultsOn && olds.length > 0 && this.rng.chance(this.profile.staleRouting)) {
      this.stats.faults.stale_routing += 1;
      return this.rng.pick(olds);
    }
    return this.primary;
  }

  // ---- clients and network ---------------------------------------------------------------

  private intentContext(): IntentFactoryContext {
    return {
      rng: this.rng,
      inventory: this.inventory,
      seatIds: this.seatIds,
      showId: simShowId,
      newHoldId: () => {
        this.holdCounter += 1;
        return `${simShowId}.h${this.holdCounter}`;
      },
      nextIntentId: () => {
        this.intentCounter += 1;
        return this.intentCounter;
      },
      soldOrders: () =>
        this.fans.flatMap((fan) => [...fan.holds].filter(([, hold]) => hold.status === 'sold').map(([holdId, hold]) => ({ orderId: hold.orderId!, holdId, fan }))),
      foreignHold: (fan) => {
        const others = this.fans.filter((other) => other !== fan).flatMap((other) => [...other.holds.keys()]);
        return others.length > 0 ? this.rng.pick(others) : null;
      },
      // Offer holds are `<show>.h` + the entry id without its 'w': 'wq…' keeps them apart from the fans' `h<n>`.
      newEntryId: () => {
        this.entryCounter += 1;
        return `wq${this.entryCounter}`;
      },
      nowMs: this.time.monotonicMs,
    };
  }

  private startIntent(): void {
    const idle = this.fans.filter(isIdle);
    if (idle.length === 0) return;
    const fan = this.rng.pick(idle);
    if (this.payments !== null && fan.userId !== 'admin' && this.payments.canStartFor(fan) && this.rng.chance(0.85)) {
      this.stats.intents += 1;
      this.payments.startFanTask(fan);
      return;
    }
    const intent = nextIntent(this.intentContext(), fan, { keyReuse: this.faultsOn ? this.profile.keyReuse : 0, sagaPayments: this.payments !== null });
    if (intent.reuse) this.stats.faults.key_reuse += 1;
    fan.current = intent;
    this.stats.intents += 1;
    this.send(intent);
  }

  private send(intent: Intent): void {
    const envelope: CommandEnvelope = { command: intent.commandFor(intent.attempts), scopedKey: intent.scopedKey, fingerprint: intent.fingerprint };
    if (envelope.command.type === 'place_hold') this.auditor.noteHoldKey(envelope.command.holdId, envelope.command.channelKeyHash);
    intent.attempts += 1;
    intent.deadlineMs = this.time.monotonicMs + this.timeoutMs;
    intent.nextRetryAtMs = null;
    this.stats.attempts += 1;
    this.network.push({ intent, envelope });
  }

  private backoffMs(): number {
    return this.rng.between(100, 2_000);
  }

  /** Clients act on their own (monotonic) clocks: retry what is due, give up on what timed out. */
  private clientTick(): void {
    const now = this.time.monotonicMs;
    for (const fan of this.fans) {
      const intent = fan.current;
      if (intent === null || intent.result !== null) continue;
      if (intent.nextRetryAtMs !== null) {
        if (now >= intent.nextRetryAtMs) this.send(intent);
      } else if (now >= intent.deadlineMs) {
        this.stats.faults.client_timeout += 1;
        intent.nextRetryAtMs = now + this.backoffMs();
      }
    }
  }

  private deliverMessage(): void {
    const index = this.faultsOn && this.profile.reorder ? this.rng.int(this.network.length) : 0;
    if (index !== 0) this.stats.faults.reordered_delivery += 1;
    const message = this.network[index]!;
    if (this.faultsOn && this.rng.chance(this.profile.duplicate)) this.stats.faults.duplicate_delivery += 1;
    else this.network.splice(index, 1);
    const handle = this.route();
    this.stats.deliveries += 1;
    this.trace(() => `deliver ${message.envelope.command.type} key ${message.intent.scopedKey.replace('\u001f', '/')} (${describeCommand(message.envelope)}) to ${handle.tag} (${handle.actor.currentPhase})`);
    handle.actor.submit(message.envelope).then(
      (reply) => this.onReply(handle, message, reply),
      (error: unknown) => this.auditor.violation('submit_never_rejects', `${handle.tag} rejected a command: ${String(error)}`),
    );
  }

  private onReply(handle: ActorHandle, message: NetMessage, reply: ShowReply): void {
    const ghost = handle.role === 'dead';
    const copy = structuredClone(reply);
    const code = copy.ok ? 'ok' : copy.code;
    this.trace(() => `${handle.tag} answers key ${message.intent.scopedKey.replace('\u001f', '/')}: ${copy.ok ? `ok v${copy.version}${copy.hold ? ` ${copy.hold.holdId} ${copy.hold.status} [${copy.hold.seats.join(' ')}] exp ${copy.hold.expiresAtMs}` : ''}` : `${copy.code} (${copy.detail})`}${ghost ? ' (ghost)' : ''}`);
    this.stats.replies[code] = (this.stats.replies[code] ?? 0) + 1;
    if (!copy.ok && copy.code === 'overloaded') this.stats.faults.mailbox_overloaded += 1;
    if (isDefinitive(copy)) this.definitiveReplies += 1;
    this.auditor.reply({ owner: handle.tag, scopedKey: message.intent.scopedKey, fingerprint: message.intent.fingerprint, command: message.envelope.command, reply: copy, ghost });
    if (ghost) this.stats.ghostReplies += 1;
    else this.replies.push({ intent: message.intent, envelope: message.envelope, reply: copy });
  }

  /** A reply an actor gave the order saga: counted and judged like a client's. */
  private onSagaReply(handle: RoutedActor, envelope: CommandEnvelope, reply: ShowReply): void {
    const ghost = handle.role === 'dead';
    const copy = structuredClone(reply);
    const code = copy.ok ? 'ok' : copy.code;
    this.trace(() => `${handle.tag} answers the saga's ${envelope.command.type} (${describeCommand(envelope)}): ${copy.ok ? `ok v${copy.version}` : `${copy.code} (${copy.detail})`}${ghost ? ' (ghost)' : ''}`);
    this.stats.replies[code] = (this.stats.replies[code] ?? 0) + 1;
    if (!copy.ok && copy.code === 'overloaded') this.stats.faults.mailbox_overloaded += 1;
    if (isDefinitive(copy)) this.definitiveReplies += 1;
    if (ghost) this.stats.ghostReplies += 1;
    this.auditor.reply({ owner: handle.tag, scopedKey: envelope.scopedKey ?? '', fingerprint: envelope.fingerprint ?? '', command: envelope.command, reply: copy, ghost });
  }

  private deliverReply(): void {
    const index = this.faultsOn && this.profile.reorder ? this.rng.int(this.replies.length) : 0;
    const [delivered] = this.replies.splice(index, 1);
    const { intent, envelope, reply } = delivered!;
    if (this.faultsOn && this.rng.chance(this.profile.replyLoss)) {
      this.stats.faults.reply_lost += 1;
      this.trace(`reply to ${intent.scopedKey.replace('\u001f', '/')} lost`);
      return;
    }
    if (intent.result !== null) return;
    if (isDefinitive(reply)) {
      intent.result = reply;
      intent.fan.learn(envelope.command, reply);
      intent.fan.current = null;
      intent.fan.finished.push(intent);
    } else if (intent.nextRetryAtMs === null) {
      intent.nextRetryAtMs = this.time.monotonicMs + this.backoffMs();
    }
  }

  private read(): void {
    const candidates = this.handles.filter((handle) => handle.role === 'primary' || handle.role === 'old');
    this.readFrom(this.rng.pick(candidates));
  }

  /** A committed read (what GET /availability does); an idle actor activates for it. */
  private readFrom(handle: ActorHandle): void {
    this.stats.reads += 1;
    handle.openReads += 1;
    this.trace(`read availability from ${handle.tag} (${handle.actor.currentPhase})`);
    handle.actor.availability().then(
      (snapshot) => {
        handle.openReads -= 1;
        this.trace(`${handle.tag} read answered at v${snapshot.version}`);
        this.auditor.read(handle.tag, snapshot);
      },
      (error: unknown) => {
        handle.openReads -= 1;
        this.stats.readErrors += 1;
        this.trace(() => `${handle.tag} read failed (${handle.actor.currentPhase}): ${String(error)}`);
        if (error instanceof TypeError || error instanceof ReferenceError || error instanceof RangeError) {
          this.stats.coverage['reads_failed_with_type_error'] = (this.stats.coverage['reads_failed_with_type_error'] ?? 0) + 1;
          if (this.strictReads) this.auditor.violation('reads_fail_cleanly', `a committed read of ${handle.tag} (now ${handle.actor.currentPhase}) failed with ${error.name}: ${error.message}`);
        }
      },
    );
  }

  // ---- journal -------------------------------------------------------------------------

  private chooseFault(op: ParkedOp): OpFault {
    if (!this.faultsOn) return 'none';
    const { rng, profile } = this;
    if (!op.orphaned && (op.kind === 'append' || op.kind === 'acquire_lease' || op.kind === 'write_snapshot') && rng.chance(profile.writeTimeout)) {
      this.stats.faults.commit_timed_out += 1;
      return 'timeout';
    }
    switch (op.kind) {
      case 'append': {
        const roll = rng.float();
        if (roll < profile.commitFailBefore) {
          this.stats.faults.commit_failed_before_write += 1;
          return 'fail_before_write';
        }
        if (roll < profile.commitFailBefore + profile.commitFailAfter) {
          this.stats.faults.commit_failed_after_write += 1;
          return 'fail_after_write';
        }
        return 'none';
      }
      case 'acquire_lease':
        if (!rng.chance(profile.leaseFail)) return 'none';
        this.stats.faults.lease_failed += 1;
        return rng.chance(0.5) ? 'fail_before_write' : 'fail_after_write';
      case 'write_snapshot':
        if (!rng.chance(profile.snapshotFail)) return 'none';
        this.stats.faults.snapshot_write_failed += 1;
        return rng.chance(0.5) ? 'fail_before_write' : 'fail_after_write';
      case 'release_lease':
        return 'none';
      default:
        if (!rng.chance(profile.readFail)) return 'none';
        this.stats.faults.journal_read_failed += 1;
        return 'fail_before_write';
    }
  }

  private async completeOp(index: number): Promise<void> {
    const op = this.journal.parkedOps[index]!;
    const fault = this.chooseFault(op);
    this.trace(() => `complete ${op.owner} ${op.kind}${op.batch ? ` v${op.batch.fromVersion}..v${op.batch.toVersion} epoch ${op.batch.epoch} [${op.batch.events.map((event) => event.type).join(',')}] keys ${op.batch.idempotencyRecords.length}` : ''}${op.orphaned ? ' (orphaned)' : ''}${fault === 'none' ? '' : ` with ${fault}`}`);
    await this.journal.complete(op, fault);
    this.payments?.markDirty();
    const error = this.journal.lastError;
    if (error !== null) this.trace(() => `  → ${error instanceof Error ? `${error.name}: ${error.message}${'scopedKeys' in error ? ` ${JSON.stringify(error.scopedKeys)}` : ''}` : String(error)}`);
  }

  // ---- steps -----------------------------------------------------------------------------

  private async safetyStep(): Promise<void> {
    const { rng, profile } = this;
    const olds = this.oldOwners;
    const payments = this.payments;
    const action = rng.weighted({
      start_intent: this.fans.some(isIdle) ? 3 : 0,
      deliver_message: this.network.length > 0 ? 5 : 0,
      deliver_reply: this.replies.length > 0 ? 4 : 0,
      complete_op: this.journal.parkedOps.length > 0 ? 7 : 0,
      advance_time: 2,
      read: profile.reads,
      crash: profile.crash,
      stale_owner: profile.staleOwner,
      graceful_move: profile.gracefulMove,
      kill_old: olds.length > 0 ? 0.3 : 0,
      clock_jump: profile.clockJump,
      saga_op: payments !== null && payments.parkedCount > 0 ? 12 : 0,
      deliver_webhook: payments !== null && payments.webhooksQueued > 0 ? 3 : 0,
      reconcile: payments?.profile.reconcile ?? 0,
      server_crash: payments?.crashWeight() ?? 0,
      window_jump: payments?.profile.windowJump ?? 0,
    });
    switch (action) {
      case 'start_intent':
        this.startIntent();
        break;
      case 'deliver_message':
        this.deliverMessage();
        break;
      case 'deliver_reply':
        this.deliverReply();
        break;
      case 'complete_op':
        await this.completeOp(rng.int(this.journal.parkedOps.length));
        break;
      case 'advance_time': {
        const delta = rng.chance(0.85) ? rng.between(20, 3_000) : rng.chance(0.75) ? rng.between(3_000, 60_000) : rng.between(60_000, 400_000);
        this.trace(`advance ${delta}ms`);
        await this.time.advanceTo(this.time.monotonicMs + delta, settle);
        this.payments?.markDirty();
        break;
      }
      case 'read':
        this.read();
        break;
      case 'crash': {
        const victims = [this.primary, ...olds];
        this.kill(rng.pick(victims), true);
        break;
      }
      case 'stale_owner':
        // The show moves without the old owner knowing (a partition or a long pause): it keeps
        // running, its timers keep firing, some clients still reach it; the new owner takes epoch+1.
        this.stats.faults.stale_owner += 1;
        this.trace(`stale owner: ${this.primary.tag} keeps running, a new owner takes over`);
        this.replacePrimary(true);
        break;
      case 'graceful_move':
        this.gracefulMove();
        break;
      case 'kill_old':
        this.kill(rng.pick(olds), false);
        break;
      case 'clock_jump': {
        const forward = rng.chance(0.5);
        const delta = forward ? rng.between(1_000, 300_000) : -rng.between(1_000, 120_000);
        this.stats.faults[forward ? 'clock_jump_forward' : 'clock_jump_back'] += 1;
        const global = rng.chance(0.7);
        this.trace(`clock jump ${delta}ms ${global ? 'everywhere' : `on ${this.primary.tag}`}`);
        if (global) this.time.jumpWallClock(delta);
        else this.primary.offset.skewMs += delta;
        break;
      }
      case 'saga_op':
        await payments!.completeOp(rng.int(payments!.parkedCount));
        break;
      case 'deliver_webhook':
        payments!.deliverWebhook();
        break;
      case 'reconcile':
        payments!.startReconcile(0);
        break;
      case 'server_crash':
        await payments!.crash();
        break;
      case 'window_jump':
        payments!.jumpPastWindow();
        break;
      case null:
        break;
    }
    await settle();
  }

  private gracefulMove(): void {
    this.stats.faults.graceful_move += 1;
    const old = this.primary;
    this.trace(`graceful move: ${old.tag}.stop()`);
    this.replacePrimary(this.rng.chance(0.5));
    old.actor.stop().then(
      () => {
        this.trace(`${old.tag}.stop() resolved (${old.actor.currentPhase})`);
        this.journal.markStopped(old.tag);
        const phase = old.actor.currentPhase;
        if (phase !== 'stopped' && phase !== 'fenced') this.auditor.violation('stopped_actor_stays_stopped', `${old.tag} is ${phase} after its stop() resolved`);
      },
      (error: unknown) => this.auditor.violation('stop_never_rejects', `${old.tag}.stop() rejected: ${String(error)}`),
    );
  }

  private async afterStep(): Promise<void> {
    this.clientTick();
    this.payments?.tick();
    await this.auditor.sync();
    this.checkLiveActors();
    await this.auditor.audit();
    this.tellOffers();
    await this.payments?.audit(false);
  }

  /** Fans hear of the offers made to them (as the gateway pushes them), now and then not at all. */
  private tellOffers(): void {
    for (const offer of this.auditor.takeNewOffers()) {
      const fan = this.fans.find((candidate) => candidate.userId === offer.userId);
      if (fan === undefined) continue;
      fan.waitlisted = false;
      if (this.rng.chance(0.85)) fan.holds.set(offer.holdId, { status: 'held', orderId: null });
    }
  }

  /** The committed state of an actor that is running with no commit in flight, read synchronously; else null. */
  private committedStateOf(handle: ActorHandle): ShowState | null {
    // A read queued behind uncommitted decisions would pause the actor's pipeline: look only when settled.
    if (handle.actor.currentPhase !== 'running' || handle.actor.hasUncommittedDecisions) return null;
    const box: { state: ShowState | null; sync: boolean } = { state: null, sync: true };
    handle.actor
      .readCommitted((state) => {
        if (box.sync) box.state = state;
        return null;
      })
      .catch(() => undefined);
    box.sync = false;
    return box.state;
  }

  private checkLiveActors(): void {
    for (const handle of this.handles) {
      if (handle.role === 'dead') continue;
      const state = this.committedStateOf(handle);
      if (state !== null) this.auditor.liveState(handle.tag, state);
    }
  }

  // ---- liveness ----------------------------------------------------------------------------

  private unresolvedIntents(): Intent[] {
    return this.fans.flatMap((fan) => (fan.current !== null && fan.current.result === null ? [fan.current] : []));
  }

  /** What operations would do for a show whose owner is gone or lost its lease: give it a live owner that loads. */
  private ensurePrimary(): void {
    const phase = this.primary.actor.currentPhase;
    if (this.primary.role !== 'primary' || phase === 'fenced' || phase === 'stopped') {
      this.replacePrimary(true);
      return;
    }
    if (phase === 'idle') {
      this.activate(this.primary);
      return;
    }
    const quiet = this.journal.parkedOps.length === 0 && this.network.length === 0;
    if (quiet && phase === 'running' && this.journal.leaseHolder !== this.primary.tag) this.replacePrimary(true);
  }

  private describe(): string {
    const unresolved = this.unresolvedIntents();
    const owners = this.handles
      .filter((handle) => handle.role !== 'dead')
      .map((handle) => `${handle.tag}(${handle.role}, ${handle.actor.currentPhase}, mailbox ${handle.actor.mailboxDepth})`);
    return [
      `${unresolved.length} unresolved intents${unresolved.length > 0 ? ` (e.g. ${unresolved[0]!.kind} key ${JSON.stringify(unresolved[0]!.scopedKey)} after ${unresolved[0]!.attempts} attempts)` : ''}`,
      `${this.auditor.reference.liveHolds} live holds (overdue: ${this.auditor.reference.overdueHolds(this.wallNow(this.primary)).slice(0, 3).join(', ') || 'none'})`,
      `owners: ${owners.join(', ')}; lease holder ${this.journal.leaseHolder ?? 'nobody'}`,
      `parked ${this.journal.parkedOps.length}, network ${this.network.length}, replies ${this.replies.length}, timers ${this.time.pendingTimers}`,
      ...(this.payments === null ? [] : [this.payments.describe()]),
    ].join('; ');
  }

  private wallNow(handle: ActorHandle): number {
    return this.time.monotonicMs + this.time.skewMs + handle.offset.skewMs;
  }

  private async liveness(): Promise<void> {
    this.faultsOn = false;
    this.payments?.startLiveness();
    for (const handle of this.oldOwners) this.kill(handle, false);
    const deadlineMs = this.time.monotonicMs + 6 * 3_600_000;
    // A recovery livelock: the actor keeps rebuilding while nothing commits and no command gets a definitive answer.
    let progressMark = -1;
    let recoveriesAtProgress = this.stats.recoveries;
    for (let iteration = 0; ; iteration += 1) {
      this.stats.livenessIterations = iteration;
      if (iteration >= this.livenessIterationsMax || this.time.monotonicMs > deadlineMs) {
        fail('liveness', `the system did not settle after the faults stopped: ${this.describe()}`);
      }
      const progress = this.stats.commits + this.definitiveReplies;
      if (progress !== progressMark) {
        progressMark = progress;
        recoveriesAtProgress = this.stats.recoveries;
      }
      const recoveries = this.stats.recoveries - recoveriesAtProgress;
      if (recoveries > 50) fail('liveness', `${recoveries} recoveries in a row after the faults stopped without any commit or definitive answer (a recovery livelock): ${this.describe()}`);
      this.ensurePrimary();
      const payments = this.payments;
      if (this.journal.parkedOps.length > 0) {
        await this.completeOp(0);
      } else if (payments !== null && payments.parkedCount > 0) {
        await payments.completeOp(0);
      } else if (this.network.length > 0) {
        this.deliverMessage();
      } else if (this.replies.length > 0) {
        this.deliverReply();
      } else if (payments !== null && payments.webhooksQueued > 0) {
        payments.deliverWebhook();
      } else {
        const unresolved = this.unresolvedIntents();
        // Payments settle too: no call running, no PSP work pending, and a last reconcile that found nothing to do.
        const paymentsQuiet = payments === null || payments.quiet();
        if (unresolved.length === 0 && this.auditor.reference.liveHolds === 0 && this.primary.actor.currentPhase === 'running' && paymentsQuiet) break;
        if (payments !== null && payments.parkedCount > 0) {
          await settle();
          await this.afterStep();
          continue;
        }
        const now = this.time.monotonicMs;
        let target = now + 60_000;
        const nextTimer = this.time.nextTimerAtMs();
        if (nextTimer !== undefined) target = Math.min(target, nextTimer);
        for (const intent of unresolved) target = Math.min(target, intent.nextRetryAtMs ?? intent.deadlineMs);
        await this.time.advanceTo(Math.max(now + 1, target), settle);
        this.payments?.markDirty();
      }
      await settle();
      await this.afterStep();
    }
  }

  // ---- final audit -----------------------------------------------------------------------

  private async finalChecks(): Promise<void> {
    await this.auditor.audit();
    this.auditor.finalCheck();
    await this.payments?.audit(true);
    this.payments?.close();
    const unresolved = this.unresolvedIntents();
    check(unresolved.length === 0, 'liveness', () => `unresolved intents at the end: ${this.describe()}`);

    // (5) Holds end by themselves: past every expiry, nothing held or pinned remains.
    const overdue = this.auditor.reference.overdueHolds(this.wallNow(this.primary));
    check(overdue.length === 0, 'holds_end_by_themselves', () => `holds past their expiry: ${overdue.join(', ')}`);

    // (6) The live owner's committed state is the journal's, and so is a fresh rebuild's.
    const live = this.committedStateOf(this.primary);
    check(live !== null, 'liveness', () => `the owner is not serving at the end: ${this.describe()}`);
    check(live.version === this.auditor.version, 'rebuild_matches', () => `the owner is at v${live.version}, the journal at v${this.auditor.version}`);
    this.auditor.liveState(this.primary.tag, live);

    check(this.primary.openReads === 0, 'reads_answer', () => `${this.primary.openReads} committed reads to the running owner ${this.primary.tag} were never answered`);

    // A fresh actor rebuilds from the journal. In some seeds a read activates it (an idle actor
    // activates on first use), and that read must be answered.
    const readActivated = this.profile.reads > 0 && this.rng.chance(1 / 3);
    const verifier = this.spawn('verifier', !readActivated);
    if (readActivated) this.readFrom(verifier);
    for (let guard = 0; verifier.actor.currentPhase !== 'running'; guard += 1) {
      check(guard < 1_000 && this.journal.parkedOps.length > 0, 'rebuild_matches', () => `a fresh actor could not load the journal (${verifier.actor.currentPhase})`);
      await this.completeOp(0);
      await settle();
    }
    await settle();
    await this.auditor.audit();
    check(verifier.openReads === 0, 'reads_answer', () => `a read that activated the idle actor ${verifier.tag} was never answered (the actor is ${verifier.actor.currentPhase})`);
    const rebuilt = this.committedStateOf(verifier);
    check(rebuilt !== null, 'rebuild_matches', () => 'a fresh actor loaded but serves no state');
    try {
      checkStateInvariants(rebuilt);
    } catch (error) {
      fail('rebuild_matches', `the rebuilt state breaks an invariant: ${(error as Error).message}`);
    }
    const canonical = canonicalState(rebuilt);
    check(canonical === canonicalState(live), 'rebuild_matches', () => `a rebuild from the journal differs from the last live owner's state`);
    check(canonical === this.auditor.headCanonical, 'rebuild_matches', () => `a rebuild from the journal differs from the auditor's fold`);
    await this.auditor.audit();
  }
}

/** Runs one seed; never throws: a broken invariant comes back as `failure`. */
export async function runSeed(seed: number, options: SimOptions = {}): Promise<SimResult> {
  const simulation = new Simulation(seed, options);
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => {
    unhandled.push(reason);
  };
  process.on('unhandledRejection', onUnhandled);
  try {
    const result = await simulation.run();
    await settle();
    if (result.ok && unhandled.length > 0) {
      const reason = unhandled[0];
      return { ...result, ok: false, failure: { invariant: 'no_unhandled_errors', detail: reason instanceof Error ? (reason.stack ?? reason.message) : String(reason), step: result.steps, phase: 'final' } };
    }
    return result;
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
}

/** Sums the stats of many runs. */
export function mergeStats(total: SimStats, one: SimStats): SimStats {
  total.steps += one.steps;
  total.livenessIterations += one.livenessIterations;
  total.intents += one.intents;
  total.attempts += one.attempts;
  total.deliveries += one.deliveries;
  total.ghostReplies += one.ghostReplies;
  total.commits += one.commits;
  total.recoveries += one.recoveries;
  total.actors += one.actors;
  total.reads += one.reads;
  total.readErrors += one.readErrors;
  total.diffs += one.diffs;
  total.activationFailures += one.activationFailures;
  total.finalVersion += one.finalVersion;
  total.virtualMs += one.virtualMs;
  total.snapshotsWritten += one.snapshotsWritten;
  total.orphanedWritesLanded += one.orphanedWritesLanded;
  for (const [type, count] of Object.entries(one.events)) total.events[type] = (total.events[type] ?? 0) + count;
  for (const [point, count] of Object.entries(one.crashPoints)) total.crashPoints[point] = (total.crashPoints[point] ?? 0) + count;
  for (const [code, count] of Object.entries(one.replies)) total.replies[code] = (total.replies[code] ?? 0) + count;
  for (const kind of faultKinds) total.faults[kind] += one.faults[kind];
  for (const [name, count] of Object.entries(one.coverage)) total.coverage[name] = (total.coverage[name] ?? 0) + count;
  return total;
}

export function newStats(): SimStats {
  return emptyStats();
}
