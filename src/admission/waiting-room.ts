import { randomInt } from 'node:crypto';
import type { ShowRouter } from '../actors/show-router.js';
import { ApiError } from '../protocol/api-error.js';
import { Batcher } from '../shared/batcher.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import type { TokenSigner } from '../shared/signed-tokens.js';
import type { AdmissionGate } from './admission-gate.js';
import { isValidProofOfWork } from './proof-of-work.js';
import { advanceServing, etaSeconds, isAdmitted, queuePosition, ticketNumber, type QueuePlace } from './queue-math.js';
import type { QueueStore, RoomCounters } from './queue-store.js';

/** A show's waiting-room settings as the organizer set them, with defaults filled in. */
export interface WaitingRoomSettings {
  enabled: boolean;
  opensAtMs: number;
  onSaleAtMs: number;
  mode: 'fixed' | 'adaptive';
  admissionRatePerS: number;
  activeCap: number;
  admissionTtlMs: number;
  powDifficulty: number;
}

export const waitingRoomDefaults = { admissionRatePerS: 50, activeCap: 1_000, admissionTtlMs: 10 * 60_000, powDifficulty: 0 } as const;

export type QueuePhase = 'pre_queue' | 'queued' | 'admitted';

export interface QueueStatus {
  ticket: string;
  showId: string;
  phase: QueuePhase;
  /** Null while the pre-queue lottery is not drawn (before on-sale). */
  number: number | null;
  position: number | null;
  etaS: number | null;
  serving: number;
  ratePerS: number;
  admissionToken: string | null;
  admissionExpiresAtMs: number | null;
  serverTimeMs: number;
}

export interface ServingUpdate {
  showId: string;
  serving: number;
  ratePerS: number;
  preCount: number;
  paused: boolean;
  soldOut: boolean;
  onSaleAtMs: number;
}

interface TicketClaims {
  show: string;
  sub: string;
  place: QueuePlace;
  exp: number;
}

/** Admissions and first holds count over this window (adaptive mode). */
const arrivalWindowMs = 30_000;

/**
 * How long a fan's first hold is remembered: as long as an admission token lasts, not just the
 * window, or a fan still shopping 30 s after its first hold would count as a new arrival at its
 * next hold and offset another fan's admission (the room would admit past its cap).
 */
const arrivalMemoryMs = (room: Room): number => Math.max(arrivalWindowMs, room.settings.admissionTtlMs);

/** Forgets who arrived before `cutoffMs` (kept in arrival order, so the oldest come first). */
function forgetArrivalsBefore(room: Room, cutoffMs: number): void {
  for (const [userId, arrivedAtMs] of room.arrivedAtMs) {
    if (arrivedAtMs >= cutoffMs) break;
    room.arrivedAtMs.delete(userId);
  }
}

interface AdmissionClaims {
  show: string;
  sub: string;
  exp: number;
}

interface Room {
  settings: WaitingRoomSettings;
  counters: RoomCounters;
  lastTickMs: number;
  /** Serving advances of the last ticks (adaptive mode counts them as admitted but not yet holding). */
  recentAdvances: number[];
  /**
   * Adaptive mode: first holds of admitted fans, per tick over the same window. A fan who has
   * held is counted by the show's active holds (and once it has bought, by nothing): without
   * this, every admitted fan blocked its place for the whole window.
   */
  recentArrivals: number[];
  /** First holds to count at the next tick: seen here (one worker) or, with shared counters, the row's growth. */
  pendingArrivals: number;
  /** Shared counters: the fans whose first hold this worker saw since its last flush to the room's row. */
  pendingArrivalIds: string[];
  /** Who arrived here, by when, for as long as an admission lasts (see arrivalMemoryMs); the row dedupes across workers. */
  arrivedAtMs: Map<string, number>;
  /** The owner: the database's arrivals total at its last read (other workers' first holds come as its growth). */
  storedArrivals: number | null;
  measuredRatePerS: number;
  joins: Batcher<{ userId: string; lottery: number }, QueuePlace>;
}

export interface WaitingRoomOptions {
  store: QueueStore;
  router: ShowRouter;
  signer: TokenSigner;
  clock: Clock;
  logger: Logger;
  settingsOf: (showId: string) => Promise<WaitingRoomSettings | null>;
  onServing: (update: ServingUpdate) => void;
  tickMs: number;
  joinBatchMax: number;
  /**
   * Whether this process advances the show's serving counter. With several workers only the
   * show's owner does; the others learn the counter from its broadcasts (observeServing).
   */
  ticksHere?: (showId: string) => boolean;
  /** Re-read counters and controls from the database each tick (joins and pauses made by other workers). */
  sharedCounters?: boolean;
  /** Uniform draws in [0, 1) for the pre-sale lottery; crypto-strength by default, seeded in tests. */
  random?: () => number;
}

const cryptoUniform = (): number => randomInt(0, 2 ** 47) / 2 ** 47;

const ticketLifetimeMs = 7 * 24 * 3600_000;
const adoptIntervalMs = 2_000;

/**
 * The virtual waiting room (DESIGN.md, Admission): O(1) state per show (counters), tickets
 * signed and self-describing, one serving counter broadcast per tick. Also the AdmissionGate
 * that the hold endpoints consult.
 */
export class WaitingRoomService implements AdmissionGate {
  private readonly rooms = new Map<string, Promise<Room | null>>();
  private readonly timer: NodeJS.Timeout;
  private adoptedAtMs = 0;

  constructor(private readonly options: WaitingRoomOptions) {
    this.timer = setInterval(() => void this.tickAll(), options.tickMs);
    this.timer.unref();
  }

  close(): void {
    clearInterval(this.timer);
  }

  /** The room of a show, or null when the show has none enabled. */
  private room(showId: string): Promise<Room | null> {
    let room = this.rooms.get(showId);
    if (room === undefined) {
      room = this.loadRoom(showId);
      this.rooms.set(showId, room);
      room.catch(() => this.rooms.delete(showId));
    }
    return room;
  }

  private async loadRoom(showId: string): Promise<Room | null> {
    const settings = await this.options.settingsOf(showId);
    if (settings === null || !settings.enabled) return null;
    const counters = await this.options.store.loadRoom(showId);
    const room: Room = {
      settings: {
        ...settings,
        mode: counters.mode ?? settings.mode,
        admissionRatePerS: counters.ratePerS ?? settings.admissionRatePerS,
      },
      counters,
      lastTickMs: this.options.clock.nowMs(),
      recentAdvances: [],
      recentArrivals: [],
      pendingArrivals: 0,
      pendingArrivalIds: [],
      arrivedAtMs: new Map(),
      storedArrivals: null,
      measuredRatePerS: 0,
      joins: new Batcher((joins) => this.issue(showId, joins), this.options.joinBatchMax),
    };
    return room;
  }

  private async issue(showId: string, joins: { userId: string; lottery: number }[]): Promise<QueuePlace[]> {
    const room = (await this.room(showId))!;
    const preSale = this.options.clock.nowMs() < room.settings.onSaleAtMs;
    const { places, counters } = await this.options.store.issueTickets(showId, joins, preSale);
    room.counters = { ...room.counters, preCount: counters.preCount, postCount: counters.postCount };
    return places;
  }

  /** A proof-of-work challenge bound to this fan and show (only when the show asks for one). */
  async challenge(userId: string, showId: string): Promise<{ challenge: string; difficulty: number }> {
    const room = await this.requireRoom(showId);
    const challenge = this.options.signer.sign('pow', { show: showId, sub: userId, exp: this.options.clock.nowMs() + 10 * 60_000 });
    return { challenge, difficulty: room.settings.powDifficulty };
  }

  async join(userId: string, showId: string, proof: { challenge?: string; nonce?: string }): Promise<QueueStatus> {
    const room = await this.requireRoom(showId);
    const nowMs = this.options.clock.nowMs();
    if (nowMs < room.settings.opensAtMs) throw new ApiError('show_not_on_sale', `the waiting room opens at ${new Date(room.settings.opensAtMs).toISOString()}`);
    if (room.settings.powDifficulty > 0) this.checkProof(userId, showId, room.settings.powDifficulty, proof);
    // A uniform draw in [0, 1): fixes this fan's place among all pre-sale arrivals at on-sale.
    const place = await room.joins.add({ userId, lottery: (this.options.random ?? cryptoUniform)() });
    const ticket = this.options.signer.sign('qtk', { show: showId, sub: userId, place, exp: nowMs + ticketLifetimeMs });
    return this.statusOf(room, showId, userId, ticket, place);
  }

  async status(userId: string, ticket: string): Promise<QueueStatus> {
    const claims = this.options.signer.verify<TicketClaims>('qtk', ticket, this.options.clock.nowMs());
    if (claims === null) throw new ApiError('not_found', 'unknown or expired queue ticket');
    if (claims.sub !== userId) throw new ApiError('forbidden', 'this queue ticket belongs to another fan');
    const room = await this.requireRoom(claims.show);
    return this.statusOf(room, claims.show, userId, ticket, claims.place);
  }

  /** The ticket number once known (after on-sale for pre-queue tickets), for live pushes. */
  async numberOf(showId: string, place: QueuePlace): Promise<number | null> {
    const room = await this.room(showId);
    if (room === null) return null;
    if (place.kind === 'lottery' && this.options.clock.nowMs() < room.settings.onSaleAtMs) return null;
    return ticketNumber(place, room.counters.preCount);
  }

  async admissionTtlOf(showId: string): Promise<number> {
    return (await this.requireRoom(showId)).settings.admissionTtlMs;
  }

  /** The place a signed ticket of this fan names, or an ApiError. */
  placeOfTicket(userId: string, showId: string, ticket: string): QueuePlace {
    const claims = this.options.signer.verify<TicketClaims>('qtk', ticket, this.options.clock.nowMs());
    if (claims === null || claims.show !== showId) throw new ApiError('not_found', 'unknown or expired queue ticket');
    if (claims.sub !== userId) throw new ApiError('forbidden', 'this queue ticket belongs to another fan');
    return claims.place;
  }

  mintAdmission(userId: string, showId: string, ttlMs: number): { token: string; expiresAtMs: number } {
    const expiresAtMs = this.options.clock.nowMs() + ttlMs;
    return { token: this.options.signer.sign('adm', { show: showId, sub: userId, exp: expiresAtMs }), expiresAtMs };
  }

  private statusOf(room: Room, showId: string, userId: string, ticket: string, place: QueuePlace): QueueStatus {
    const nowMs = this.options.clock.nowMs();
    const serving = Math.floor(room.counters.serving);
    const ratePerS = room.counters.paused ? 0 : room.measuredRatePerS || room.settings.admissionRatePerS;
    const base = { ticket, showId, serving, ratePerS, serverTimeMs: nowMs, admissionToken: null, admissionExpiresAtMs: null };
    if (place.kind === 'lottery' && nowMs < room.settings.onSaleAtMs) {
      return { ...base, phase: 'pre_queue', number: null, position: null, etaS: null };
    }
    const number = ticketNumber(place, room.counters.preCount);
    if (!isAdmitted(number, room.counters.serving)) {
      const position = queuePosition(number, room.counters.serving);
      return { ...base, phase: 'queued', number, position, etaS: etaSeconds(position, ratePerS) };
    }
    const admission = this.mintAdmission(userId, showId, room.settings.admissionTtlMs);
    return { ...base, phase: 'admitted', number, position: 0, etaS: 0, admissionToken: admission.token, admissionExpiresAtMs: admission.expiresAtMs };
  }

  private checkProof(userId: string, showId: string, difficulty: number, proof: { challenge?: string; nonce?: string }): void {
    const claims = this.options.signer.verify<{ show: string; sub: string; exp: number }>('pow', proof.challenge, this.options.clock.nowMs());
    if (claims === null || claims.show !== showId || claims.sub !== userId || typeof proof.nonce !== 'string' || !isValidProofOfWork(proof.challenge!, proof.nonce, difficulty)) {
      throw new ApiError('proof_of_work_required', `solve the challenge from GET /v1/shows/${showId}/queue/challenge (difficulty ${difficulty})`);
    }
  }

  private async requireRoom(showId: string): Promise<Room> {
    const room = await this.room(showId);
    if (room === null) throw new ApiError('not_found', `show ${showId} has no waiting room`);
    return room;
  }

  async checkAdmitted(userId: string, showId: string, admissionToken: string | undefined): Promise<void> {
    // A show the catalog does not know has no waiting room; the actor answers for it.
    const room = await this.room(showId).catch((error: unknown) => {
      if (error instanceof ApiError && error.code === 'not_found') return null;
      throw error;
    });
    if (room === null) return;
    const claims = this.options.signer.verify<AdmissionClaims>('adm', admissionToken, this.options.clock.nowMs());
    if (claims === null || claims.show !== showId || claims.sub !== userId) {
      throw new ApiError('admission_required', 'this show has a waiting room: join the queue and send the admission token you receive');
    }
    if (room.settings.mode === 'adaptive' && !room.arrivedAtMs.has(userId)) {
      room.arrivedAtMs.set(userId, this.options.clock.nowMs());
      if (this.options.sharedCounters) room.pendingArrivalIds.push(userId);
      else room.pendingArrivals += 1;
    }
  }

  async stats(showId: string): Promise<Record<string, unknown>> {
    const room = await this.requireRoom(showId);
    const availability = await this.options.router.availability(showId);
    const issued = room.counters.preCount + room.counters.postCount;
    return {
      show_id: showId,
      mode: room.settings.mode,
      paused: room.counters.paused,
      rate_per_s: room.settings.admissionRatePerS,
      measured_rate_per_s: room.measuredRatePerS,
      active_cap: room.settings.activeCap,
      serving: Math.floor(room.counters.serving),
      pre_count: room.counters.preCount,
      post_count: room.counters.postCount,
      queue_length: Math.max(0, issued - Math.floor(room.counters.serving)),
      admitted: Math.min(issued, Math.floor(room.counters.serving)),
      active_holds: availability?.activeHolds ?? 0,
      on_sale_at: new Date(room.settings.onSaleAtMs).toISOString(),
    };
  }

  async control(showId: string, change: { paused?: boolean; ratePerS?: number; mode?: 'fixed' | 'adaptive' }): Promise<Record<string, unknown>> {
    const room = await this.requireRoom(showId);
    if (change.paused !== undefined) room.counters = { ...room.counters, paused: change.paused };
    if (change.ratePerS !== undefined) room.settings = { ...room.settings, admissionRatePerS: change.ratePerS };
    if (change.mode !== undefined) room.settings = { ...room.settings, mode: change.mode };
    await this.options.store.saveControls(showId, { paused: room.counters.paused, ratePerS: room.settings.admissionRatePerS, mode: room.settings.mode });
    this.options.logger.info({ showId, ...change }, 'waiting room changed');
    return this.stats(showId);
  }

  /** Loads the rooms of shows this worker owns, so that their counters advance even if no fan joined here. */
  private async adoptOwnedRooms(owned: (showId: string) => boolean): Promise<void> {
    for (const showId of await this.options.store.roomShowIds()) {
      if (owned(showId) && !this.rooms.has(showId)) await this.room(showId).catch(() => null);
    }
  }

  /** A serving counter another worker (the show's owner) advanced and broadcast. */
  observeServing(update: ServingUpdate): void {
    const pending = this.rooms.get(update.showId);
    if (pending === undefined) return;
    void pending.then((room) => {
      if (room === null) return;
      room.counters = {
        ...room.counters,
        serving: Math.max(room.counters.serving, update.serving),
        preCount: Math.max(room.counters.preCount, update.preCount),
        paused: update.paused,
      };
      room.measuredRatePerS = update.ratePerS;
    }, () => undefined);
  }

  private async refreshCounters(showId: string, room: Room): Promise<void> {
    const stored = await this.options.store.loadRoom(showId);
    room.counters = {
      ...room.counters,
      preCount: Math.max(room.counters.preCount, stored.preCount),
      postCount: Math.max(room.counters.postCount, stored.postCount),
      serving: Math.max(room.counters.serving, stored.serving),
      paused: stored.paused,
    };
    room.settings = { ...room.settings, mode: stored.mode ?? room.settings.mode, admissionRatePerS: stored.ratePerS ?? room.settings.admissionRatePerS };
    // Other workers' first holds since the last read (none counted from before this worker owned the room).
    if (room.storedArrivals !== null) room.pendingArrivals += Math.max(0, stored.arrivals - room.storedArrivals);
    room.storedArrivals = stored.arrivals;
  }

  /** Advances every loaded room's serving counter and broadcasts it. */
  async tickAll(): Promise<void> {
    const nowMs = this.options.clock.nowMs();
    if (this.options.ticksHere !== undefined && nowMs - this.adoptedAtMs >= adoptIntervalMs) {
      this.adoptedAtMs = nowMs;
      await this.adoptOwnedRooms(this.options.ticksHere).catch((error: unknown) => this.options.logger.warn({ err: error }, 'adopting owned waiting rooms failed'));
    }
    for (const [showId, pending] of this.rooms) {
      if (this.options.ticksHere !== undefined && !this.options.ticksHere(showId)) {
        await this.passArrivalsOn(showId, pending, nowMs);
        continue;
      }
      const room = await pending.catch(() => null);
      if (room === null) continue;
      try {
        if (this.options.sharedCounters) {
          // The first read sets the baseline (arrivals from before this worker owned the room are not
          // its to offset); this worker's own first holds then come back as the row's growth, with
          // every other worker's, each fan once.
          if (room.storedArrivals === null) await this.refreshCounters(showId, room);
          await this.flushArrivals(showId, room);
          await this.refreshCounters(showId, room);
        }
        await this.tick(showId, room, nowMs);
      } catch (error) {
        this.options.logger.warn({ err: error, showId }, 'waiting room tick failed');
      }
    }
  }

  /** A worker that does not tick a room passes the first holds it saw on to the room's row, where the owner picks them up (refreshCounters). */
  private async passArrivalsOn(showId: string, pending: Promise<Room | null>, nowMs: number): Promise<void> {
    const room = await pending.catch(() => null);
    if (room === null) return;
    forgetArrivalsBefore(room, nowMs - arrivalMemoryMs(room));
    if (this.options.sharedCounters) await this.flushArrivals(showId, room);
  }

  /**
   * Shared counters: adds the fans whose first hold this worker saw to the room's row, each fan
   * once across every worker within the arrival memory (a fan's REST and socket holds may land on
   * two workers); kept for the next try if the database refuses.
   */
  private async flushArrivals(showId: string, room: Room): Promise<void> {
    if (room.pendingArrivalIds.length === 0) return;
    const userIds = room.pendingArrivalIds;
    room.pendingArrivalIds = [];
    await this.options.store.addArrivals(showId, userIds, arrivalMemoryMs(room)).catch((error: unknown) => {
      room.pendingArrivalIds.push(...userIds);
      this.options.logger.warn({ err: error, showId }, 'passing waiting-room arrivals on failed');
    });
  }

  private async tick(showId: string, room: Room, nowMs: number): Promise<void> {
    const elapsedMs = Math.max(0, nowMs - room.lastTickMs);
    room.lastTickMs = nowMs;
    const before = room.counters.serving;
    const onSale = nowMs >= room.settings.onSaleAtMs;
    const availability = onSale ? await this.options.router.availability(showId) : null;
    // Sold out (every item sold or held): admitting more fans would only make them wait at an empty shop.
    const soldOut = availability !== null && availability.itemsAvailable === 0;
    const windowTicks = Math.max(1, Math.round(arrivalWindowMs / Math.max(1, this.options.tickMs)));
    // This tick's first holds count at once: those fans are in activeHolds already.
    room.recentArrivals.push(room.pendingArrivals);
    room.pendingArrivals = 0;
    if (room.recentArrivals.length > windowTicks) room.recentArrivals.shift();
    if (!room.counters.paused && onSale && !soldOut) {
      const issued = room.counters.preCount + room.counters.postCount;
      room.counters = {
        ...room.counters,
        serving: advanceServing({
          serving: room.counters.serving,
          issued,
          elapsedMs,
          mode: room.settings.mode,
          ratePerS: room.settings.admissionRatePerS,
          activeHolds: availability?.activeHolds ?? 0,
          admittedRecently: Math.max(0, room.recentAdvances.reduce((sum, step) => sum + step, 0) - room.recentArrivals.reduce((sum, step) => sum + step, 0)),
          activeCap: room.settings.activeCap,
        }),
      };
    }
    const advanced = room.counters.serving - before;
    room.recentAdvances.push(advanced);
    if (room.recentAdvances.length > windowTicks) room.recentAdvances.shift();
    forgetArrivalsBefore(room, nowMs - arrivalMemoryMs(room));
    const perSecond = elapsedMs > 0 ? (advanced * 1000) / elapsedMs : 0;
    room.measuredRatePerS = room.measuredRatePerS === 0 ? perSecond : room.measuredRatePerS * 0.7 + perSecond * 0.3;
    if (advanced > 0) {
      room.counters = { ...room.counters, admittedTotal: Math.floor(room.counters.serving) };
      await this.options.store.saveServing(showId, room.counters.serving, room.counters.admittedTotal);
    }
    this.options.onServing({
      showId,
      serving: Math.floor(room.counters.serving),
      ratePerS: room.counters.paused ? 0 : Math.round(room.measuredRatePerS * 10) / 10,
      preCount: room.counters.preCount,
      paused: room.counters.paused,
      soldOut,
      onSaleAtMs: room.settings.onSaleAtMs,
    });
  }
}
