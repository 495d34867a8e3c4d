import { isDeepStrictEqual } from 'node:util';
import { evolve } from '../../src/actors/evolve.js';
import type { Inventory } from '../../src/actors/inventory.js';
import type { ShowCommand, ShowEvent, ShowReply } from '../../src/actors/messages.js';
import type { AvailabilitySnapshot, SeatMapDiff } from '../../src/actors/seat-map-diff.js';
import { checkStateInvariants, createShowState, poolAvailable, type ShowState } from '../../src/actors/show-state.js';
import { decodeSnapshot } from '../../src/actors/snapshot-codec.js';
import { resultCodes, type ResultCode } from '../../src/protocol/result-codes.js';
import { check, fail } from './failure.js';
import { ReferenceModel } from './reference-model.js';
import type { JournalViolation, SimulatedJournal } from './simulated-journal.js';

/** A reply some actor produced for a client's command (delivered or not). */
export interface ObservedReply {
  owner: string;
  scopedKey: string;
  fingerprint: string;
  command: ShowCommand;
  reply: ShowReply;
  /** Produced by a process the simulator had already crashed: nobody receives it, but it must still be true. */
  ghost: boolean;
}

interface CommittedView {
  canonical: string;
  seats: Uint8Array;
  pools: number[];
}

interface PendingObservation {
  what: string;
  version: number;
  verify: (view: CommittedView) => void;
}

export function isRetryable(code: ResultCode): boolean {
  return resultCodes[code].retryable;
}

export function isDefinitive(reply: ShowReply): boolean {
  return reply.ok || !isRetryable(reply.code);
}

function sortedEntries<V>(map: ReadonlyMap<string, V>): [string, V][] {
  return [...map.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Everything two states built from the same committed events must agree on, as one string. */
export function canonicalState(state: ShowState): string {
  return JSON.stringify({
    version: state.version,
    seatStatus: Array.from(state.seatStatus),
    rowFree: Array.from(state.rowFree),
    poolHeld: Array.from(state.poolHeld),
    poolSold: Array.from(state.poolSold),
    claims: sortedEntries(state.claims),
    holdIdByOrder: sortedEntries(state.holdIdByOrder),
    activeHoldsByUser: sortedEntries(state.activeHoldsByUser),
    endedHolds: [...state.endedHolds.entries()],
    nextExpiryMs: state.expiry.peekMs() ?? null,
    // Join order matters (offers go first come, first served), so the waitlist keeps its order.
    waitlist: [...state.waitlist.values()],
    waitlistEntryByUser: sortedEntries(state.waitlistEntryByUser),
    channelPoolUsed: state.channelPoolUsed.map((used) => Array.from(used)),
  });
}

function firstDifference(a: string, b: string): string {
  let index = 0;
  while (index < a.length && a[index] === b[index]) index += 1;
  const from = Math.max(0, index - 80);
  return `…${a.slice(from, index + 120)}… vs …${b.slice(from, index + 120)}…`;
}

/**
 * The auditor: an independent check of every invariant after every simulator step. It folds
 * the journal's committed events (read back through the journal's own read path) into a
 * reference model and into the real `evolve`, keeps the committed view at every commit
 * boundary, and judges every reply, read and published diff against them.
 */
export class Auditor {
  readonly reference: ReferenceModel;
  private readonly fold: ShowState;
  private readonly history = new Map<number, CommittedView>();
  private readonly eventsByHold = new Map<string, ShowEvent[]>();
  private readonly voidedOrders = new Set<string>();
  /** The presale key hash each place_hold command was sent with (by hold id), for the channel checks. */
  private readonly holdKeys = new Map<string, string>();
  /** Waitlist entries committed (entry id → user), and users whose entry was committed as left. */
  private readonly joinedEntries = new Map<string, string>();
  private readonly leftUsers = new Set<string>();
  /** Offer holds committed since the simulator last asked (it tells their fans, as a push would). */
  private newOffers: { holdId: string; userId: string }[] = [];
  private readonly decidedFingerprint = new Map<string, string>();
  private readonly firstReply = new Map<string, ShowReply>();
  private readonly pending: PendingObservation[] = [];
  private readonly lastDiffTo = new Map<string, number>();
  private lastSnapshotVersion = -1;
  /** Committed events by type (coverage). */
  readonly eventCounts: Record<string, number> = {};
  private replyQueue: ObservedReply[] = [];
  private observationQueue: (() => void)[] = [];
  private readonly violations: JournalViolation[] = [];

  constructor(
    private readonly journal: SimulatedJournal,
    private readonly inventory: Inventory,
  ) {
    this.reference = new ReferenceModel(inventory, (holdId) => this.holdKeys.get(holdId));
    this.fold = createShowState(inventory);
    this.rememberBoundary();
  }

  get version(): number {
    return this.fold.version;
  }

  get headCanonical(): string {
    return this.history.get(this.fold.version)!.canonical;
  }

  get foldState(): ShowState {
    return this.fold;
  }

  get pendingObservations(): number {
    return this.pending.length;
  }

  reply(observed: ObservedReply): void {
    this.replyQueue.push(observed);
  }

  /** A place_hold is about to be sent with this presale key (sha256); the channel checks judge its hold by it. */
  noteHoldKey(holdId: string, keyHash: string | undefined): void {
    if (keyHash !== undefined) this.holdKeys.set(holdId, keyHash);
  }

  /** Offer holds committed since the last call. */
  takeNewOffers(): { holdId: string; userId: string }[] {
    const offers = this.newOffers;
    this.newOffers = [];
    return offers;
  }

  /** A violation seen by the simulator itself (raised at the next audit, so callbacks inside the actor cannot swallow it). */
  violation(invariant: string, message: string): void {
    this.violations.push({ invariant, message });
  }

  /** A committed read (availability) some actor answered; judged at the next audit. */
  read(owner: string, snapshot: AvailabilitySnapshot): void {
    this.observationQueue.push(() => this.checkRead(owner, snapshot));
  }

  /** A diff an actor published to its subscribers; judged at the next audit (listener errors are swallowed by the actor). */
  diff(owner: string, diff: SeatMapDiff): void {
    this.observationQueue.push(() => this.checkDiff(owner, diff));
  }

  private checkRead(owner: string, snapshot: AvailabilitySnapshot): void {
    this.observe(`read by ${owner}`, snapshot.version, (view) => {
      check(isDeepStrictEqual(Array.from(snapshot.seatStatus), Array.from(view.seats)), 'read_committed_only', () => `read by ${owner} at v${snapshot.version}: seat map differs from the committed one`);
      check(isDeepStrictEqual(snapshot.poolAvailable, view.pools), 'read_committed_only', () => `read by ${owner} at v${snapshot.version}: pools ${JSON.stringify(snapshot.poolAvailable)} vs committed ${JSON.stringify(view.pools)}`);
    });
  }

  private checkDiff(owner: string, diff: SeatMapDiff): void {
    const previous = this.lastDiffTo.get(owner) ?? -1;
    check(diff.toVersion > diff.fromVersion && diff.fromVersion >= previous, 'publish_committed_only', () => `${owner} published v${diff.fromVersion}..v${diff.toVersion} after v${previous}`);
    this.lastDiffTo.set(owner, diff.toVersion);
    this.observe(`diff by ${owner}`, diff.toVersion, (view) => {
      for (const [seat, status] of diff.seats) {
        check(view.seats[seat] === status, 'publish_committed_only', () => `${owner} published seat ${this.inventory.seatId(seat)} as ${status} at v${diff.toVersion}, committed ${view.seats[seat]}`);
      }
      for (const [pool, available] of diff.pools) {
        check(view.pools[pool] === available, 'publish_committed_only', () => `${owner} published pool ${pool} available ${available} at v${diff.toVersion}, committed ${view.pools[pool]}`);
      }
    });
  }

  /** A running actor's committed state (read when no commit is in flight). */
  liveState(owner: string, state: ShowState): void {
    try {
      checkStateInvariants(state);
    } catch (error) {
      fail('state_invariants', `${owner} at v${state.version}: ${(error as Error).message}`);
    }
    const view = this.history.get(state.version);
    check(view !== undefined, 'live_state_committed', () => `${owner} runs on v${state.version}, which is not a committed version (journal head v${this.fold.version})`);
    const canonical = canonicalState(state);
    check(canonical === view.canonical, 'live_state_committed', () => `${owner} state at v${state.version} differs from the journal: ${firstDifference(canonical, view.canonical)}`);
  }

  /** Reads newly committed events back from the journal and checks everything observed since the last step. */
  async audit(): Promise<void> {
    await this.sync();
    this.raiseViolations();
    const replies = this.replyQueue;
    this.replyQueue = [];
    for (const observed of replies) await this.checkReply(observed);
    const observations = this.observationQueue;
    this.observationQueue = [];
    for (const judge of observations) judge();
    for (let index = this.pending.length - 1; index >= 0; index -= 1) {
      const observation = this.pending[index]!;
      if (observation.version > this.fold.version) continue;
      this.pending.splice(index, 1);
      this.verifyAt(observation);
    }
  }

  private raiseViolations(): void {
    const violation = this.journal.violations[0] ?? this.violations[0];
    if (violation !== undefined) fail(violation.invariant, violation.message);
  }

  /** At the end of a run: nothing anyone observed may remain unexplained by the journal. */
  finalCheck(): void {
    const stale = this.pending[0];
    if (stale !== undefined) fail('read_committed_only', `${stale.what} saw v${stale.version}, never committed (journal head v${this.fold.version})`);
  }

  private observe(what: string, version: number, verify: (view: CommittedView) => void): void {
    const observation = { what, version, verify };
    if (version > this.fold.version) this.pending.push(observation);
    else this.verifyAt(observation);
  }

  private verifyAt(observation: PendingObservation): void {
    const view = this.history.get(observation.version);
    check(view !== undefined, 'read_committed_only', () => `${observation.what} saw v${observation.version}, which is not a commit boundary`);
    observation.verify(view);
  }

  /** Folds what the journal committed since the last call (cheap when nothing is new). */
  async sync(): Promise<void> {
    if (!this.journal.takeDirty()) return;
    const { store } = this.journal;
    const inner = store.journal;
    const showId = this.inventory.showId;
    for await (const batch of inner.readEvents(showId, this.fold.version)) {
      const events = structuredClone(batch);
      for (const event of events) {
        const version = this.fold.version + 1;
        this.reference.apply(event, version);
        try {
          evolve(this.fold, event);
        } catch (error) {
          fail('journal_replay', `event v${version} ${event.type} does not apply: ${(error as Error).message}`);
        }
        this.index(event);
        this.eventCounts[event.type] = (this.eventCounts[event.type] ?? 0) + 1;
      }
      this.rememberBoundary();
    }
    const committedVersion = await store.committedVersion(showId);
    check(committedVersion === this.fold.version, 'acknowledged_durable', () => `journal says committed v${committedVersion}, its events add up to v${this.fold.version}`);
    const sold = this.reference.soldSeats();
    const journalSold = await store.soldSeats(showId);
    check(sold.size === journalSold.size && [...sold].every(([seat, order]) => journalSold.get(seat) === order), 'no_oversell', () => `sold seats in the journal ${JSON.stringify([...journalSold])} differ from the events' ${JSON.stringify([...sold])}`);
    const snapshot = await inner.readSnapshot(showId);
    if (snapshot !== null && snapshot.version !== this.lastSnapshotVersion) {
      this.lastSnapshotVersion = snapshot.version;
      const view = this.history.get(snapshot.version);
      check(view !== undefined, 'snapshot_committed_only', () => `snapshot at v${snapshot.version} is not at a commit boundary`);
      let decoded: ShowState;
      try {
        decoded = decodeSnapshot(this.inventory, snapshot.data);
        checkStateInvariants(decoded);
      } catch (error) {
        fail('snapshot_committed_only', `snapshot v${snapshot.version} does not decode: ${(error as Error).message}`);
      }
      const canonical = canonicalState(decoded);
      check(canonical === view.canonical, 'snapshot_committed_only', () => `snapshot v${snapshot.version} differs from the journal: ${firstDifference(canonical, view.canonical)}`);
    }
  }

  private rememberBoundary(): void {
    const state = this.fold;
    try {
      checkStateInvariants(state);
    } catch (error) {
      fail('state_invariants', `journal fold at v${state.version}: ${(error as Error).message}`);
    }
    const seats = state.seatStatus.slice();
    const pools = state.inventory.pools.map((_, pool) => poolAvailable(state, pool));
    const referenceSeats = this.reference.seatCodes();
    check(isDeepStrictEqual(Array.from(seats), referenceSeats), 'reference_model', () => `at v${state.version} evolve's seat map ${Array.from(seats).join('')} differs from the reference model's ${referenceSeats.join('')}`);
    check(isDeepStrictEqual(pools, this.reference.poolAvailable()), 'reference_model', () => `at v${state.version} evolve's pools ${JSON.stringify(pools)} differ from the reference model's ${JSON.stringify(this.reference.poolAvailable())}`);
    this.history.set(state.version, { canonical: canonicalState(state), seats, pools });
  }

  private index(event: ShowEvent): void {
    if ('holdId' in event) {
      let list = this.eventsByHold.get(event.holdId);
      if (list === undefined) {
        list = [];
        this.eventsByHold.set(event.holdId, list);
      }
      list.push(event);
    }
    if (event.type === 'sale_voided') this.voidedOrders.add(event.orderId);
    if (event.type === 'waitlist_joined') this.joinedEntries.set(event.entryId, event.userId);
    if (event.type === 'waitlist_left') this.leftUsers.add(this.joinedEntries.get(event.entryId) ?? '');
    if (event.type === 'hold_placed' && event.offerFor !== undefined) this.newOffers.push({ holdId: event.holdId, userId: event.userId });
  }

  private async checkReply(observed: ObservedReply): Promise<void> {
    const { reply, scopedKey, fingerprint, owner } = observed;
    const who = `${owner}${observed.ghost ? ' (crashed)' : ''} answered ${observed.command.type} key ${JSON.stringify(scopedKey)}`;
    if (!isDefinitive(reply)) return;

    // (4) One key, one reply: every definitive answer to one key and one set of parameters is the same.
    const reused = !reply.ok && reply.code === 'idempotency_key_reused';
    const decided = this.decidedFingerprint.get(scopedKey);
    if (reused) {
      check(decided !== fingerprint, 'one_key_one_reply', () => `${who}: idempotency_key_reused for the parameters the key was first decided with`);
    } else {
      check(decided === undefined || decided === fingerprint, 'one_key_one_reply', () => `${who}: decided for new parameters, but the key was already decided with others`);
      this.decidedFingerprint.set(scopedKey, fingerprint);
      const first = this.firstReply.get(scopedKey);
      if (first === undefined) this.firstReply.set(scopedKey, structuredClone(reply));
      else check(isDeepStrictEqual(first, reply), 'one_key_one_reply', () => `${who}: ${JSON.stringify(reply)} but first answered ${JSON.stringify(first)}`);
    }

    // (3) Acknowledged means durable: the key's record, and for a success its events, are committed.
    const record = await this.journal.store.journal.findIdempotencyRecord(this.inventory.showId, scopedKey);
    check(record !== null, 'acknowledged_durable', () => `${who} ${JSON.stringify(reply)}, but the journal has no record of the key`);
    if (reused) {
      check(record.fingerprint !== fingerprint, 'one_key_one_reply', () => `${who}: idempotency_key_reused, but the journal recorded these same parameters`);
      return;
    }
    check(record.fingerprint === fingerprint, 'one_key_one_reply', () => `${who}: the journal recorded the key with other parameters`);
    check(isDeepStrictEqual(record.reply, reply), 'one_key_one_reply', () => `${who} ${JSON.stringify(reply)}, the journal recorded ${JSON.stringify(record.reply)}`);
    if (reply.ok) this.checkCommittedEffect(observed, reply, who);
  }

  private checkCommittedEffect(observed: ObservedReply, reply: Extract<ShowReply, { ok: true }>, who: string): void {
    const { command } = observed;
    check(reply.version <= this.fold.version, 'acknowledged_durable', () => `${who} ok at v${reply.version}, journal head is v${this.fold.version}`);
    const events = (holdId: string): ShowEvent[] => this.eventsByHold.get(holdId) ?? [];
    const missing = (what: string): string => `${who} ok, but the journal has no ${what}`;
    switch (command.type) {
      case 'place_hold': {
        const hold = reply.hold;
        check(hold !== undefined, 'acknowledged_durable', () => `${who} ok without a hold`);
        const placed = events(hold.holdId).find((event) => event.type === 'hold_placed');
        check(placed !== undefined, 'acknowledged_durable', () => missing(`hold_placed for ${hold.holdId}`));
        const seats = placed.seats.map((seat) => this.inventory.seatId(seat));
        check(
          placed.userId === command.userId && isDeepStrictEqual(seats, hold.seats) && placed.expiresAtMs === hold.expiresAtMs && placed.totalCents === hold.totalCents,
          'acknowledged_durable',
          () => `${who}: acknowledged hold ${JSON.stringify(hold)} differs from the committed ${JSON.stringify(placed)}`,
        );
        break;
      }
      case 'release_hold':
        check(events(command.holdId).some((event) => event.type === 'hold_released'), 'acknowledged_durable', () => missing(`hold_released for ${command.holdId}`));
        break;
      case 'extend_hold':
        check(
          events(command.holdId).some((event) => event.type === 'hold_extended' && event.expiresAtMs === reply.hold?.expiresAtMs),
          'acknowledged_durable',
          () => missing(`hold_extended for ${command.holdId} to ${reply.hold?.expiresAtMs}`),
        );
        break;
      case 'pin_hold':
        check(events(command.holdId).some((event) => event.type === 'hold_pinned' && event.orderId === command.orderId), 'acknowledged_durable', () => missing(`hold_pinned for ${command.holdId}/${command.orderId}`));
        break;
      case 'confirm_hold':
        check(events(command.holdId).some((event) => event.type === 'hold_confirmed' && event.orderId === command.orderId), 'acknowledged_durable', () => missing(`hold_confirmed for ${command.holdId}/${command.orderId}`));
        break;
      case 'void_sale':
        check(this.voidedOrders.has(command.orderId), 'acknowledged_durable', () => missing(`sale_voided for ${command.orderId}`));
        break;
      case 'join_waitlist': {
        const entry = reply.waitlist;
        check(entry !== undefined && entry.userId === command.userId, 'acknowledged_durable', () => `${who} ok without the fan's waitlist entry: ${JSON.stringify(entry)}`);
        check(this.joinedEntries.get(entry.entryId) === command.userId, 'acknowledged_durable', () => missing(`waitlist_joined for ${entry.entryId}`));
        break;
      }
      case 'leave_waitlist':
        check(this.leftUsers.has(command.userId), 'acknowledged_durable', () => missing(`waitlist_left for ${command.userId}`));
        break;
      case 'block_seats':
      case 'unblock_seats':
      case 'expire_due':
      case 'make_offers':
        break;
    }
  }
}
