/**
 * Payments in the simulator: the real order saga (OrderService) and the simulated PSP
 * (SimulatedPaymentProvider) on the SQL store under test, run the VOPR way. The saga lives in a
 * "server process" with the show's owner; every SQL statement (a transaction counts as one) and
 * every PSP call it makes is an await point the simulator completes in an order and with an
 * outcome it chooses, and webhooks travel through a network the simulator controls.
 *
 * Faults: saga queries refused; PSP calls that never arrive, that arrive but lose their reply
 * (provider errors after capture) or time out and land later; webhooks duplicated, reordered,
 * late (past the signature tolerance), lost or refused (the PSP retries); the server process
 * crashing at any await point — between capture and confirmation in particular — its in-flight
 * writes and PSP calls landing later or never, after which a fresh OrderService and actor start on
 * the same database and PSP and reconcile; payment-window jumps of the wall clock (a slow card's
 * capture then comes after its hold is gone); fans that mash "Pay" with one key or with several.
 *
 * Time is virtual (the PSP's clock, timers and random source come from the seed), so a seed replays
 * its choices exactly; only the ids the saga and the PSP draw (order, ticket, payment ids) differ.
 */
import type { CommandEnvelope } from '../../src/actors/decide-batch.js';
import type { ShowReply } from '../../src/actors/messages.js';
import type { ShowActor } from '../../src/actors/show-actor.js';
import type { ShowRouter } from '../../src/actors/show-router.js';
import { OrderService } from '../../src/orders/order-service.js';
import { PaymentProviderError } from '../../src/payments/payment-errors.js';
import type { PaymentProvider } from '../../src/payments/payment-provider.js';
import { SimulatedPaymentProvider, simulatedTestCards, type MsRange } from '../../src/payments/simulated-provider.js';
import type { QueryResult, SqlDatabase, SqlExecutor } from '../../src/persistence/database.js';
import { ApiError } from '../../src/protocol/api-error.js';
import type { Clock } from '../../src/shared/clock.js';
import pino from 'pino';
import type { Fan, KnownOrder } from './fans.js';
import { auditPayments } from './payment-audit.js';
import { Prng } from './prng.js';
import type { ReferenceModel } from './reference-model.js';
import type { VirtualTime } from './virtual-time.js';

export type CardName = keyof typeof simulatedTestCards;

/** How hard a seed shakes the saga. Chosen from the seed, like the actors' FaultProfile. */
export interface PaymentProfile {
  /** Per saga statement: refused before it ran. */
  dbFail: number;
  /** Per PSP call: never reached the PSP (provider_unavailable). */
  pspFailBefore: number;
  /** Per mutating PSP call: done, but the reply was lost (processing_error) — e.g. captured, and the saga does not know. */
  pspLostReply: number;
  /** Per mutating PSP call: the saga gives up waiting; the call stays in flight and lands later (or never). */
  pspTimeout: number;
  /** Per-step weight of a server crash (OrderService and the show's owner), raised while a capture is unsettled. */
  crash: number;
  /** Per webhook delivery: acknowledged but never handled / refused with a 5xx (the PSP retries) / delivered again later. */
  webhookLoss: number;
  webhookFail: number;
  webhookDuplicate: number;
  webhookReorder: boolean;
  /** Per-step weight of the reconciliation job. */
  reconcile: number;
  /** Per-step weight of a wall-clock jump past the payment window. */
  windowJump: number;
  /** The order's payment window (OrderService.paymentWindowMs). */
  paymentWindowMs: number;
  provider: { duplicateRate: number; reorder: boolean; delayMs: MsRange; processingDelayMs: number };
  cards: Record<CardName, number>;
}

/** Deliberately broken sagas (built in this harness, never in src): the audit must catch them. */
export type BrokenSaga = 'none' | 'confirm_without_hold' | 'refund_confirmed';

export interface PaymentOptions {
  profile?: Partial<PaymentProfile>;
  broken?: BrokenSaga;
}

export function choosePaymentProfile(rng: Prng): PaymentProfile {
  const maybe = (probability: number, low: number, high: number): number => (rng.chance(probability) ? low + rng.float() * (high - low) : 0);
  return {
    dbFail: maybe(0.5, 0.01, 0.05),
    pspFailBefore: maybe(0.6, 0.02, 0.1),
    pspLostReply: maybe(0.6, 0.03, 0.15),
    pspTimeout: maybe(0.4, 0.02, 0.08),
    crash: maybe(0.85, 0.05, 0.25),
    webhookLoss: maybe(0.6, 0.05, 0.25),
    webhookFail: maybe(0.5, 0.05, 0.2),
    webhookDuplicate: maybe(0.7, 0.1, 0.4),
    webhookReorder: rng.chance(0.7),
    reconcile: 0.1 + rng.float() * 0.3,
    windowJump: maybe(0.5, 0.03, 0.08),
    paymentWindowMs: rng.between(5, 30) * 60_000,
    provider: {
      duplicateRate: maybe(0.6, 0.1, 0.5),
      reorder: rng.chance(0.5),
      delayMs: rng.chance(0.8) ? { min: 10, max: rng.between(50, 3_000) } : { min: 5_000, max: rng.between(20_000, 400_000) },
      // Some seeds' slow card captures long after the (30-minute) pin has lapsed.
      processingDelayMs: rng.pick([500, 5_000, 60_000, 600_000, 2_400_000]),
    },
    cards: { success: 5, decline: 1, insufficientFunds: 0.5, slow: 2, lostWebhook: 1.5, duplicatedWebhook: 1, processingError: 2.5 },
  };
}

/** An actor the saga's router can reach (the simulator's actor handles). */
export interface RoutedActor {
  readonly tag: string;
  readonly actor: ShowActor;
  readonly role: string;
}

/** What the payments world needs of the simulation around it. */
export interface PaymentHost {
  readonly rng: Prng;
  readonly time: VirtualTime;
  readonly showId: string;
  faultsOn(): boolean;
  /** Where a command goes now: the show's owner, or (stale routing) an older one. */
  route(): RoutedActor;
  /** The show's owner, for reads. */
  owner(): RoutedActor;
  /** A reply an actor gave the saga: judged like every other reply. */
  observe(handle: RoutedActor, envelope: CommandEnvelope, reply: ShowReply): void;
  /** The server process died: so did the show's owner in it; a new one takes over. */
  crashOwner(): void;
  /** Wall clock jumps (a VM pause, an NTP step). */
  jumpWallClock(deltaMs: number): void;
  reference(): ReferenceModel;
  trace(line: string | (() => string)): void;
}

type SagaOpKind = 'db_read' | 'db_write' | 'db_tx' | 'psp_create' | 'psp_confirm' | 'psp_retrieve' | 'psp_refund';
type SagaFault = 'none' | 'fail_before' | 'lost_reply' | 'timeout';

/** One await point of a server process: a statement, a transaction or a PSP call. */
interface SagaOp {
  readonly id: number;
  readonly process: SagaProcess;
  readonly kind: SagaOpKind;
  readonly what: string;
  /** Its caller crashed or gave up: the call may still run, nobody hears of it. */
  orphaned: boolean;
  execute(fault: SagaFault): Promise<void>;
  abandon(error: Error): void;
}

const mutatingKinds: ReadonlySet<SagaOpKind> = new Set(['db_write', 'db_tx', 'psp_create', 'psp_confirm', 'psp_refund']);

export class InjectedSagaFailure extends Error {
  override name = 'InjectedSagaFailure';
}

type TaskKind = 'checkout' | 'pay' | 'webhook' | 'reconcile';

interface SagaTask {
  readonly id: number;
  readonly kind: TaskKind;
  readonly label: string;
  readonly process: SagaProcess;
  readonly fan: Fan | null;
  readonly deadlineMs: number;
  open: number;
  timedOut: boolean;
  onTimeout: (() => void) | null;
}

interface WebhookDelivery {
  readonly id: number;
  readonly body: Buffer;
  readonly headers: Record<string, string>;
  readonly queuedAtMs: number;
  /** Answers the PSP's delivery attempt (a copy answers nobody). */
  settle(accepted: boolean): void;
}

/** A server process: the order saga with its connection to the database, the PSP and the shows. */
class SagaProcess {
  dead = false;
  readonly service: OrderService;

  constructor(
    readonly tag: string,
    world: PaymentWorld,
  ) {
    this.service = new OrderService({
      db: world.databaseFor(this),
      router: world.routerFor(this),
      provider: world.providerFor(this),
      clock: world.clock,
      // The saga's warnings (a reconciliation that failed, a refund) go to the world, which needs to know.
      logger: pino({ level: 'warn' }, { write: (line: string) => world.sagaLogged(this, line) }),
      paymentWindowMs: world.profile.paymentWindowMs,
    });
  }
}

/** How long a fan's browser waits for a checkout or a payment before giving up (virtual time moves in big steps). */
const fanPatienceMs = 90_000;

const retryableShowCodes = new Set(['overloaded', 'not_owner', 'commit_failed', 'internal_error']);
const hang = <T>(): Promise<T> => new Promise<T>(() => undefined);

function errorCode(error: unknown): string {
  if (error instanceof ApiError || error instanceof PaymentProviderError) return error.code;
  return error instanceof Error ? error.name : 'error';
}

function describeSql(text: string): string {
  return text.replace(/\s+/g, ' ').trim().slice(0, 60);
}

export class PaymentWorld {
  readonly profile: PaymentProfile;
  readonly clock: Clock;
  readonly provider: SimulatedPaymentProvider;
  readonly coverage: Record<string, number> = {};
  private readonly rng: Prng;
  private readonly broken: BrokenSaga;
  private readonly parked: SagaOp[] = [];
  private readonly webhooks: WebhookDelivery[] = [];
  private readonly tasks: SagaTask[] = [];
  private process: SagaProcess;
  private processCounter = 0;
  private opCounter = 0;
  private taskCounter = 0;
  private deliveryCounter = 0;
  /** Rows the saga changed so far (with the PSP's state, what tells a reconcile that found nothing to do). */
  private rowsChanged = 0;
  private reconciledAtMark: string | null = null;
  private reconcileRunning = false;
  /** Orders a reconciliation could not settle (the saga logs each). */
  private reconcileFailures = 0;
  /** Whether anything ran since the last audit read the database back. */
  private dirty = true;
  /** Captured payments whose order was neither confirmed nor refunded at the last audit. */
  private unsettledCaptures = 0;

  constructor(
    private readonly host: PaymentHost,
    private readonly db: SqlDatabase,
    seedRng: Prng,
    options: PaymentOptions,
  ) {
    this.rng = host.rng;
    this.profile = { ...choosePaymentProfile(seedRng), ...options.profile };
    this.broken = options.broken ?? 'none';
    const pspRandom = new Prng(seedRng.nextU32());
    this.clock = host.time.clockFor({ skewMs: 0 });
    this.provider = new SimulatedPaymentProvider({
      clock: this.clock,
      timers: host.time.timersFor('psp'),
      latencyMs: { min: 0, max: 0 },
      processingDelayMs: this.profile.provider.processingDelayMs,
      webhookSecret: 'sim-webhook-secret',
      webhooks: { delayMs: this.profile.provider.delayMs, duplicateRate: this.profile.provider.duplicateRate, reorder: this.profile.provider.reorder },
      deliver: (body, headers) => this.enqueueWebhook(body, headers),
      random: () => pspRandom.float(),
    });
    this.process = this.startProcess();
    host.trace(() => `payments: profile ${JSON.stringify(this.profile)}${this.broken === 'none' ? '' : ` BROKEN saga ${this.broken}`}`);
  }

  private count(name: string, by = 1): void {
    this.coverage[name] = (this.coverage[name] ?? 0) + by;
  }

  private startProcess(): SagaProcess {
    this.processCounter += 1;
    const process = new SagaProcess(`server-${this.processCounter}`, this);
    this.host.trace(`payments: ${process.tag} starts`);
    return process;
  }

  get parkedCount(): number {
    return this.parked.length;
  }

  get webhooksQueued(): number {
    return this.webhooks.length;
  }

  // ---- the process's connections: every call an await point -------------------------------

  databaseFor(process: SagaProcess): SqlDatabase {
    const inner = this.db;
    const refused = (what: string): Error => new InjectedSagaFailure(`injected: "${what}" refused before it ran`);
    return {
      kind: inner.kind,
      query: <Row = Record<string, unknown>>(text: string, params?: unknown[]): Promise<QueryResult<Row>> => {
        const what = describeSql(text);
        const kind: SagaOpKind = /^\s*select\b/i.test(text) ? 'db_read' : 'db_write';
        return this.park(process, kind, what, async (fault) => {
          if (fault !== 'none') throw refused(what);
          const result = await inner.query<Row>(text, params);
          if (kind === 'db_write') this.rowsChanged += result.rowCount;
          return result;
        });
      },
      exec: (script: string): Promise<void> => this.park(process, 'db_write', describeSql(script), (fault) => (fault === 'none' ? inner.exec(script) : Promise.reject(refused(script)))),
      // A transaction is one await point: parking inside it would hold the database's only connection.
      transaction: <T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> =>
        this.park(process, 'db_tx', 'transaction', async (fault) => {
          if (fault !== 'none') throw refused('transaction');
          const value = await inner.transaction(work);
          this.rowsChanged += 1;
          return value;
        }),
      close: async () => undefined,
    };
  }

  providerFor(process: SagaProcess): PaymentProvider {
    const inner = this.provider;
    const call = <T>(kind: SagaOpKind, what: string, paymentId: string | null, run: () => Promise<T>): Promise<T> =>
      this.park(process, kind, what, async (fault) => {
        if (fault === 'fail_before') throw new PaymentProviderError('provider_unavailable', 'injected: the PSP was not reached', 'simulated');
        const capturesBefore = paymentId === null ? 0 : inner.captures(paymentId);
        let value: T;
        try {
          value = await run();
        } catch (error) {
          if (kind === 'psp_confirm' && paymentId !== null && inner.captures(paymentId) > capturesBefore) this.count('psp_errors_after_capture');
          throw error;
        }
        if (fault === 'lost_reply') {
          if (kind === 'psp_confirm' && paymentId !== null && inner.captures(paymentId) > capturesBefore) this.count('psp_errors_after_capture');
          throw new PaymentProviderError('processing_error', 'injected: the PSP acted, its reply was lost', 'simulated');
        }
        return value;
      });
    return {
      name: 'simulated',
      createPayment: (request) => call('psp_create', `createPayment ${request.orderId}`, null, () => inner.createPayment(request)),
      confirmPayment: (request) => call('psp_confirm', `confirmPayment ${request.paymentId} ${request.paymentMethod} key ${request.idempotencyKey}`, request.paymentId, () => inner.confirmPayment(request)),
      retrievePayment: (paymentId) => call('psp_retrieve', `retrievePayment ${paymentId}`, null, () => inner.retrievePayment(paymentId)),
      refundPayment: (paymentId, key, reason) => call('psp_refund', `refundPayment ${paymentId} key ${key}`, null, () => inner.refundPayment(paymentId, key, reason)),
      parseWebhook: (rawBody, headers) => inner.parseWebhook(rawBody, headers),
    };
  }

  /** The router a server process uses: its commands reach the owner (or, with stale routing, an older one). */
  routerFor(process: SagaProcess): ShowRouter {
    return {
      submit: async (_showId, envelope) => {
        if (process.dead) return hang();
        const handle = this.host.route();
        const reply = await handle.actor.submit(envelope);
        this.host.observe(handle, envelope, reply);
        if (process.dead) return hang();
        if (this.broken === 'confirm_without_hold' && envelope.command.type === 'confirm_hold' && !reply.ok && !retryableShowCodes.has(reply.code)) {
          // BROKEN: the hold is gone, but the order is confirmed anyway (its writes applied without the journal).
          for (const write of envelope.attachedWrites ?? []) await this.db.query(write.sql, write.params);
          this.count('broken_confirmations');
          return { ok: true, version: 0 };
        }
        if (this.broken === 'refund_confirmed' && envelope.command.type === 'confirm_hold' && reply.ok) {
          // BROKEN: a saga that refunds the order it has just confirmed (whichever path confirmed it).
          const { rows } = await this.db.query<{ payment_id: string | null }>('select payment_id from orders where id = $1', [envelope.command.orderId]);
          const paymentId = rows[0]?.payment_id;
          if (paymentId !== null && paymentId !== undefined) {
            this.count('broken_refunds');
            await this.provider.refundPayment(paymentId, `broken-refund:${paymentId}`, 'broken').catch(() => undefined);
          }
        }
        return reply;
      },
      availability: async () => (process.dead ? hang() : this.host.owner().actor.availability()),
      getHold: async (_showId, holdId) => (process.dead ? hang() : this.host.owner().actor.getHold(holdId)),
      watch: async (_showId, listener) => this.host.owner().actor.subscribe(listener),
      stopAll: async () => undefined,
    };
  }

  private park<T>(process: SagaProcess, kind: SagaOpKind, what: string, run: (fault: SagaFault) => Promise<T>): Promise<T> {
    if (process.dead) return hang();
    return new Promise<T>((resolve, reject) => {
      this.opCounter += 1;
      const op: SagaOp = {
        id: this.opCounter,
        process,
        kind,
        what,
        orphaned: false,
        execute: async (fault) => {
          try {
            const value = await run(fault);
            if (!op.orphaned && !process.dead) resolve(value);
          } catch (error) {
            if (!op.orphaned && !process.dead) reject(error);
          }
        },
        abandon: (error) => reject(error),
      };
      this.parked.push(op);
    });
  }

  private chooseFault(op: SagaOp): SagaFault {
    if (!this.host.faultsOn()) return 'none';
    const { rng, profile } = this;
    if (op.kind.startsWith('db_')) return rng.chance(profile.dbFail) ? 'fail_before' : 'none';
    const mutating = mutatingKinds.has(op.kind);
    if (mutating && !op.orphaned && rng.chance(profile.pspTimeout)) return 'timeout';
    const roll = rng.float();
    if (roll < profile.pspFailBefore) return 'fail_before';
    if (mutating && !op.orphaned && roll < profile.pspFailBefore + profile.pspLostReply) return 'lost_reply';
    return 'none';
  }

  /** Completes one parked await point of a server process (perhaps with a fault). */
  async completeOp(index: number): Promise<void> {
    const op = this.parked[index]!;
    const fault = this.chooseFault(op);
    this.host.trace(() => `payments: complete ${op.process.tag} ${op.kind} ${op.what}${op.orphaned ? ' (orphaned)' : ''}${fault === 'none' ? '' : ` with ${fault}`}`);
    this.dirty = true;
    if (fault === 'timeout') {
      this.count('psp_timeouts');
      op.orphaned = true;
      op.abandon(new PaymentProviderError('provider_unavailable', 'injected: the PSP call timed out; it may still land', 'simulated'));
      return;
    }
    this.parked.splice(index, 1);
    if (op.orphaned && op.process.dead && mutatingKinds.has(op.kind)) this.count('orphaned_saga_calls_landed');
    await op.execute(fault);
  }

  // ---- webhooks --------------------------------------------------------------------------

  private enqueueWebhook(body: Buffer, headers: Record<string, string>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let answered = false;
      this.deliveryCounter += 1;
      this.webhooks.push({
        id: this.deliveryCounter,
        body,
        headers,
        queuedAtMs: this.host.time.monotonicMs,
        settle: (accepted) => {
          if (answered) return;
          answered = true;
          if (accepted) resolve();
          else reject(new Error('the webhook endpoint did not accept the delivery'));
        },
      });
    });
  }

  /** Delivers one queued webhook (in order, or any of them when reordering), perhaps losing, refusing or duplicating it. */
  deliverWebhook(): void {
    const faults = this.host.faultsOn();
    const index = faults && this.profile.webhookReorder ? this.rng.int(this.webhooks.length) : 0;
    const delivery = this.webhooks.splice(index, 1)[0]!;
    if (index > 0) this.count('webhooks_reordered');
    if (faults && this.rng.chance(this.profile.webhookDuplicate)) {
      this.count('webhooks_duplicated');
      this.webhooks.push({ ...delivery, settle: () => undefined });
    }
    if (faults && this.rng.chance(this.profile.webhookLoss)) {
      this.count('webhooks_lost');
      this.host.trace(`payments: webhook ${delivery.id} lost (acknowledged, never handled)`);
      delivery.settle(true);
      return;
    }
    if (faults && this.rng.chance(this.profile.webhookFail)) {
      this.count('webhooks_refused');
      this.host.trace(`payments: webhook ${delivery.id} refused (the PSP retries)`);
      delivery.settle(false);
      return;
    }
    if (this.host.time.monotonicMs - delivery.queuedAtMs > 60_000) this.count('webhooks_late');
    const process = this.process;
    this.host.trace(() => `payments: webhook ${delivery.id} → ${process.tag}: ${delivery.body.toString('utf8').slice(0, 120)}`);
    this.startTask('webhook', `webhook ${delivery.id}`, null, 10_000, [
      () =>
        process.service.handleWebhook(delivery.body, delivery.headers).then(
          ({ duplicate }) => {
            this.count(duplicate ? 'webhooks_deduplicated' : 'webhooks_handled');
            delivery.settle(true);
          },
          (error: unknown) => {
            this.count('webhooks_failed');
            this.host.trace(`payments: webhook ${delivery.id} failed: ${errorCode(error)}`);
            delivery.settle(false);
          },
        ),
    ], () => delivery.settle(false));
  }

  // ---- tasks -------------------------------------------------------------------------------

  private startTask(kind: TaskKind, label: string, fan: Fan | null, timeoutMs: number, calls: (() => Promise<void>)[], onTimeout: (() => void) | null = null): void {
    this.taskCounter += 1;
    const task: SagaTask = { id: this.taskCounter, kind, label, process: this.process, fan, deadlineMs: this.host.time.monotonicMs + timeoutMs, open: calls.length, timedOut: false, onTimeout };
    this.tasks.push(task);
    if (fan !== null) fan.sagaBusy = true;
    this.host.trace(`payments: task ${task.id} ${label} on ${task.process.tag}`);
    for (const call of calls) {
      let pending: Promise<void>;
      try {
        pending = call();
      } catch (error) {
        pending = Promise.reject(error);
      }
      pending
        .catch((error: unknown) => this.host.trace(`payments: task ${task.id} call failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`))
        .finally(() => {
          task.open -= 1;
          if (task.open > 0) return;
          const index = this.tasks.indexOf(task);
          if (index >= 0) this.tasks.splice(index, 1);
          if (fan !== null && !task.timedOut) fan.sagaBusy = false;
          if (kind === 'reconcile') this.reconcileRunning = false;
        });
    }
  }

  /** Clients give up on calls that take too long (a task of a dead process never ends). */
  tick(): void {
    const now = this.host.time.monotonicMs;
    for (let index = this.tasks.length - 1; index >= 0; index -= 1) {
      const task = this.tasks[index]!;
      if (task.timedOut || now < task.deadlineMs) continue;
      task.timedOut = true;
      this.count('saga_calls_timed_out');
      if (task.fan !== null) task.fan.sagaBusy = false;
      if (task.kind === 'reconcile') this.reconcileRunning = false;
      task.onTimeout?.();
      if (task.process.dead) this.tasks.splice(index, 1);
    }
  }

  /** Whether a fan has something to do with the saga: check out a hold, or pay for an open order. */
  canStartFor(fan: Fan): boolean {
    return this.checkoutCandidates(fan).length > 0 || this.payCandidates(fan).length > 0;
  }

  private checkoutCandidates(fan: Fan): string[] {
    return [...fan.holds].filter(([holdId, hold]) => hold.status === 'held' && !fan.orders.has(holdId)).map(([holdId]) => holdId);
  }

  private payCandidates(fan: Fan): [string, KnownOrder][] {
    return [...fan.orders].filter(([, order]) => order.status !== 'confirmed' && order.status !== 'refunded');
  }

  /** The fan checks out a hold (creates its order and payment), checks out again, or pays — once, or mashing "Pay". */
  startFanTask(fan: Fan): void {
    const { rng } = this;
    const checkouts = this.checkoutCandidates(fan);
    const payable = this.payCandidates(fan);
    const choice = rng.weighted({ checkout: checkouts.length > 0 ? 3 : 0, pay: payable.length > 0 ? 5 : 0, checkout_again: payable.length > 0 ? 0.4 : 0 });
    const process = this.process;
    if (choice === 'checkout' || choice === 'checkout_again') {
      const holdId = choice === 'checkout' ? rng.pick(checkouts) : rng.pick(payable)[0];
      this.count('checkouts');
      this.startTask('checkout', `${fan.userId} checks out ${holdId}`, fan, fanPatienceMs, [
        () =>
          process.service.createOrder(fan.userId, holdId).then(
            ({ order, payment }) => {
              this.count('checkouts_ok');
              const known = fan.orders.get(holdId);
              fan.orders.set(holdId, { orderId: order.id, paymentId: payment.id, status: order.status, lastKey: known?.lastKey ?? null, lastCard: known?.lastCard ?? null });
              const hold = fan.holds.get(holdId);
              if (hold !== undefined && hold.status === 'held') fan.holds.set(holdId, { status: 'pinned', orderId: order.id });
            },
            (error: unknown) => {
              const code = errorCode(error);
              this.count(`checkout_${code}`);
              this.host.trace(() => `payments: ${fan.userId}'s checkout of ${holdId} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
              // The hold is gone; some fans click again anyway (an order may exist, expired, with a payment to come).
              if (['hold_not_found', 'hold_expired', 'hold_not_active', 'forbidden'].includes(code) && this.rng.chance(0.7)) fan.holds.delete(holdId);
            },
          ),
      ]);
      return;
    }
    if (choice !== 'pay') return;
    const [holdId, known] = rng.pick(payable);
    const again = known.lastKey !== null && known.lastCard !== null && rng.chance(0.4);
    const card = again ? known.lastCard! : simulatedTestCards[rng.weighted(this.profile.cards) ?? 'success'];
    const key = again ? known.lastKey! : fan.nextKey();
    known.lastKey = key;
    known.lastCard = card;
    const mode = rng.weighted({ once: 5, mash_one_key: 2, mash_many_keys: 2 })!;
    const calls = mode === 'once' ? 1 : rng.between(2, 3);
    if (mode !== 'once') this.count(`confirm_${mode}`);
    this.count('pay_attempts');
    const keys = Array.from({ length: calls }, (_, index) => (mode === 'mash_many_keys' && index > 0 ? fan.nextKey() : key));
    this.startTask('pay', `${fan.userId} pays ${known.paymentId} (order ${known.orderId}) with ${card} keys ${keys.join(',')}`, fan, fanPatienceMs,
      keys.map((callKey) => () =>
        process.service.confirmPayment(fan.userId, known.paymentId, card, callKey).then(
          ({ order, outcome }) => {
            known.status = order.status;
            this.count(`pay_${outcome}`);
            if (order.status === 'confirmed') fan.holds.set(holdId, { status: 'sold', orderId: order.id });
            if (order.status === 'refunded') fan.holds.delete(holdId);
          },
          (error: unknown) => {
            const code = errorCode(error);
            this.count(`pay_${code}`);
            if (code === 'hold_expired') known.status = 'expired';
          },
        ),
      ),
    );
  }

  /** The reconciliation job (on a timer, and when a server starts): settles what webhooks did not. */
  startReconcile(idleMs: number): void {
    if (this.reconcileRunning) return;
    this.reconcileRunning = true;
    this.count('reconciles');
    const mark = this.mark();
    const failures = this.reconcileFailures;
    const faultless = !this.host.faultsOn();
    const process = this.process;
    this.startTask('reconcile', `reconcile (idle ${idleMs} ms)`, null, 60_000, [
      () =>
        process.service.reconcile(idleMs, 50).then(({ checked, settled }) => {
          this.host.trace(`payments: reconcile on ${process.tag} checked ${checked}, settled ${settled}, failed ${this.reconcileFailures - failures}`);
          if (settled > 0) this.count('reconcile_settled', settled);
          // The last one: after the faults stopped, nothing failed and nothing changed while it ran.
          this.reconciledAtMark = faultless && failures === this.reconcileFailures && mark === this.mark() ? mark : null;
        }),
    ]);
  }

  /** Changes so far: saga rows, and each payment's state at the PSP. */
  private mark(): string {
    return `${this.rowsChanged}/${this.provider
      .allPayments()
      .map((payment) => `${payment.status}${payment.captures}${payment.refunds.length}`)
      .join(',')}`;
  }

  // ---- process faults ------------------------------------------------------------------------

  /** Weight of a server crash this step: higher while a captured payment is not settled yet. */
  crashWeight(): number {
    if (this.profile.crash === 0) return 0;
    return this.profile.crash + (this.unsettledCaptures > 0 ? 0.6 : 0);
  }

  /**
   * The server process dies at whatever await points it is parked at: its reads are gone, each
   * in-flight write or PSP call either dies with it or lands later, its clients get a reset
   * connection. Its show actor dies too; a fresh process (OrderService + actor) starts on the same
   * database and PSP and runs the reconciliation job.
   */
  async crash(): Promise<void> {
    const old = this.process;
    const settled = new Set(
      (await this.db.query<{ payment_id: string }>("select payment_id from orders where status in ('confirmed', 'refunded') and payment_id is not null")).rows.map((row) => row.payment_id),
    );
    const unsettled = this.provider.allPayments().filter((payment) => payment.captures > 0 && !settled.has(payment.id)).length;
    this.count('server_crashes');
    if (unsettled > 0) this.count('crashes_between_capture_and_confirm');
    old.dead = true;
    let orphaned = 0;
    for (let index = this.parked.length - 1; index >= 0; index -= 1) {
      const op = this.parked[index]!;
      if (op.process !== old || op.orphaned) continue;
      if (mutatingKinds.has(op.kind) && this.rng.chance(0.5)) {
        op.orphaned = true;
        orphaned += 1;
      } else {
        this.parked.splice(index, 1);
      }
    }
    for (let index = this.tasks.length - 1; index >= 0; index -= 1) {
      const task = this.tasks[index]!;
      if (task.process !== old) continue;
      this.tasks.splice(index, 1);
      if (task.fan !== null && !task.timedOut) task.fan.sagaBusy = false;
      if (task.kind === 'reconcile') this.reconcileRunning = false;
      task.onTimeout?.();
    }
    this.host.trace(`payments: ${old.tag} crashes (${unsettled} captured payments unsettled, ${orphaned} calls in flight)`);
    this.host.crashOwner();
    this.process = this.startProcess();
    this.startReconcile(0);
  }

  /** A wall-clock jump past the payment window: pins lapse, and a capture still to come finds its hold gone. */
  jumpPastWindow(): void {
    this.count('payment_window_jumps');
    this.host.jumpWallClock(30 * 60_000 + this.rng.between(1_000, 120_000));
  }

  // ---- liveness and audit ------------------------------------------------------------------

  /**
   * After the faults stop: true once nothing is left to do — no live call running, no PSP work
   * pending, and a reconcile has run that saw nothing change; otherwise starts that reconcile.
   */
  quiet(): boolean {
    if (this.tasks.some((task) => !task.timedOut && !task.process.dead)) return false;
    if (this.provider.pendingWork > 0) return false;
    if (this.reconciledAtMark !== null && this.reconciledAtMark === this.mark()) return true;
    this.startReconcile(-60_000);
    return false;
  }

  /** Reads the database and the PSP back and checks the money invariants (every step; `final` adds never-neither). */
  async audit(final: boolean): Promise<void> {
    if (!this.dirty && !final) return;
    this.dirty = false;
    const figures = await auditPayments(this.db, this.provider, this.host.showId, this.host.reference(), final);
    this.unsettledCaptures = figures.captured - figures.confirmed - figures.refunded;
    if (final) {
      this.coverage['payments_created'] = figures.payments;
      this.coverage['payments_captured'] = figures.captured;
      this.coverage['orders_confirmed'] = figures.confirmed;
      this.coverage['payments_refunded'] = figures.refunded;
      this.coverage['tickets_issued'] = figures.ticketsIssued;
    }
  }

  /** A warning the saga logged (e.g. an order reconciliation failed, a refund was issued). */
  sagaLogged(process: SagaProcess, line: string): void {
    // Only the message and the error: the line's time, pid and host would make traces differ between runs.
    let message = line.trim();
    let cause = '';
    try {
      const entry = JSON.parse(line) as { msg?: unknown; err?: { message?: unknown } };
      message = String(entry.msg);
      if (entry.err?.message !== undefined) cause = `: ${String(entry.err.message)}`;
    } catch {
      // not JSON: keep the line
    }
    if (message.startsWith('reconciliation of an order failed')) this.reconcileFailures += 1;
    this.host.trace(() => `payments: ${process.tag} logs: ${message}${cause}`.slice(0, 300));
  }

  /** The faults stop: only a reconciliation that runs from now on can be the last. */
  startLiveness(): void {
    this.reconciledAtMark = null;
  }

  /** Something (a journal commit, time passing) may have changed what the audit reads. */
  markDirty(): void {
    this.dirty = true;
  }

  describe(): string {
    const live = this.tasks.filter((task) => !task.timedOut && !task.process.dead);
    return `payments: ${this.process.tag}, parked ${this.parked.length}, webhooks queued ${this.webhooks.length}, PSP work ${this.provider.pendingWork}, live calls ${live.length}${live.length > 0 ? ` (e.g. ${live[0]!.label})` : ''}`;
  }

  /** The PSP sends nothing more once the run is over. */
  close(): void {
    this.provider.close();
  }
}
