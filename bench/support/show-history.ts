/**
 * Builds realistic show histories with the pure core (decideBatch on an in-memory state), so a
 * bench can write a long, valid journal or a snapshot of a busy show without driving the actor
 * through PostgreSQL. Every event comes out of `decide` and is applied by `evolve`, exactly as
 * in the actor; the generator only chooses commands.
 */
import { decideBatch, type CommandEnvelope } from '../../src/actors/decide-batch.js';
import { IdempotencyCache } from '../../src/actors/idempotency.js';
import { Inventory } from '../../src/actors/inventory.js';
import type { ShowEvent } from '../../src/actors/messages.js';
import type { ShowDefinition } from '../../src/actors/show-definition.js';
import { seatIdOf } from '../../src/actors/show-definition.js';
import { createShowState, seatStatus, type ShowState } from '../../src/actors/show-state.js';
import type { SqlExecutor } from '../../src/persistence/database.js';
import { newHoldId } from '../../src/shared/ids.js';

/** Small fast seeded PRNG: the same seed gives the same seat choices in every phase. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Party sizes fans ask for: mostly pairs, some singles, threes and fours (mean 2.5). */
export function partySize(random: () => number): number {
  const r = random();
  return r < 0.15 ? 1 : r < 0.6 ? 2 : r < 0.75 ? 3 : 4;
}

/** Seat ids in inventory order plus the row structure, for choosing neighbours. */
export interface SeatLayout {
  ids: string[];
  indexById: Map<string, number>;
  seatRow: Uint32Array;
  rowStart: Uint32Array;
  rowLength: Uint32Array;
}

export function seatLayout(definition: ShowDefinition): SeatLayout {
  const ids: string[] = [];
  const rowStarts: number[] = [];
  const rowLengths: number[] = [];
  const seatRows: number[] = [];
  for (const section of definition.sections) {
    for (const row of section.rows) {
      rowStarts.push(ids.length);
      rowLengths.push(row.seats.length);
      for (const seat of row.seats) {
        seatRows.push(rowStarts.length - 1);
        ids.push(seatIdOf(section.id, row.label, seat.label));
      }
    }
  }
  return {
    ids,
    indexById: new Map(ids.map((id, index) => [id, index])),
    seatRow: Uint32Array.from(seatRows),
    rowStart: Uint32Array.from(rowStarts),
    rowLength: Uint32Array.from(rowLengths),
  };
}

/** Up to `want` seats next to `first` in its row (right, then left) that `isFree` accepts; sorted. */
export function neighbours(layout: SeatLayout, first: number, want: number, isFree: (seat: number) => boolean): number[] {
  const seats = [first];
  const row = layout.seatRow[first]!;
  const start = layout.rowStart[row]!;
  const end = start + layout.rowLength[row]!;
  for (let seat = first + 1; seat < end && seats.length < want && isFree(seat); seat += 1) seats.push(seat);
  for (let seat = first - 1; seat >= start && seats.length < want && isFree(seat); seat -= 1) seats.push(seat);
  return seats.sort((a, b) => a - b);
}

export interface HistoryTargets {
  /** Live holds kept; beyond it the oldest hold is sold (while below `soldSeats`) or released. */
  activeHolds: number;
  /** Seats to sell (place, pin, confirm) before holds start being released instead. */
  soldSeats: number;
}

export interface DecidedHistoryBatch {
  fromVersion: number;
  toVersion: number;
  events: ShowEvent[];
}

/**
 * Drives one show's state with place / pin / confirm / release commands through decideBatch.
 * Fans pick 1-4 adjacent free seats; every hold ends up either sold or released, so the
 * journal has the mix of a busy on-sale: hold_placed, hold_released, hold_pinned, hold_confirmed.
 */
export class ShowHistoryGenerator {
  readonly inventory: Inventory;
  readonly state: ShowState;
  readonly layout: SeatLayout;
  soldSeats = 0;
  private readonly cache = new IdempotencyCache(1);
  private readonly active: { holdId: string; userId: string; seats: number }[] = [];
  private activeHead = 0;
  private userCounter = 0;
  private orderCounter = 0;

  constructor(
    readonly definition: ShowDefinition,
    private readonly targets: HistoryTargets,
    private readonly random: () => number,
  ) {
    this.inventory = new Inventory(definition);
    this.state = createShowState(this.inventory);
    this.layout = seatLayout(definition);
  }

  get activeHolds(): number {
    return this.active.length - this.activeHead;
  }

  /** Decides about `commands` commands (sale paths count 2) at `nowMs`; returns the events, already applied. */
  nextBatch(commands: number, nowMs: number): DecidedHistoryBatch {
    const envelopes: CommandEnvelope[] = [];
    const placed = new Map<number, { holdId: string; userId: string; seats: number }>();
    const taken = new Set<number>();
    while (envelopes.length < commands) {
      if (this.activeHolds > this.targets.activeHolds) {
        const hold = this.active[this.activeHead]!;
        this.activeHead += 1;
        if (this.soldSeats < this.targets.soldSeats && envelopes.length + 2 <= commands) {
          const orderId = `order-${(this.orderCounter += 1)}`;
          envelopes.push({ command: { type: 'pin_hold', userId: hold.userId, holdId: hold.holdId, orderId } });
          envelopes.push({ command: { type: 'confirm_hold', holdId: hold.holdId, orderId } });
          this.soldSeats += hold.seats;
        } else {
          envelopes.push({ command: { type: 'release_hold', userId: hold.userId, holdId: hold.holdId } });
        }
        continue;
      }
      const seats = this.pickFreeSeats(taken);
      if (seats === null) break;
      for (const seat of seats) taken.add(seat);
      const userId = `fan-${(this.userCounter += 1)}`;
      const holdId = newHoldId(this.inventory.showId);
      envelopes.push({ command: { type: 'place_hold', userId, holdId, request: { seats: seats.map((seat) => this.layout.ids[seat]!) } } });
      placed.set(envelopes.length - 1, { holdId, userId, seats: seats.length });
    }
    if (this.activeHead > 65_536) {
      this.active.splice(0, this.activeHead);
      this.activeHead = 0;
    }
    const decided = decideBatch(this.state, this.cache, envelopes, nowMs);
    decided.replies.forEach((reply, index) => {
      const hold = placed.get(index);
      if (reply.ok) {
        if (hold !== undefined) this.active.push(hold);
        return;
      }
      // Holds in one batch can together strand a single seat: the show's orphan-seat rule refuses
      // the later one, as it would a fan's. Anything else refused is a generator bug.
      if (hold !== undefined && (reply.code === 'orphan_seat' || reply.code === 'seat_unavailable')) return;
      throw new Error(`history generator: a command was refused: ${JSON.stringify(reply)}`);
    });
    return { fromVersion: decided.fromVersion, toVersion: decided.toVersion, events: decided.events };
  }

  private pickFreeSeats(taken: Set<number>): number[] | null {
    const { seatCount } = this.inventory;
    const isFree = (seat: number): boolean => this.state.seatStatus[seat] === seatStatus.free && !taken.has(seat);
    for (let attempt = 0; attempt < 1_000; attempt += 1) {
      const first = Math.floor(this.random() * seatCount);
      if (isFree(first)) return neighbours(this.layout, first, partySize(this.random), isFree);
    }
    return null;
  }
}

/** Creates or moves the show's lease row to `version` under epoch 1, with no owner (as after a clean stop). */
export async function writeLease(db: SqlExecutor, showId: string, version: number): Promise<void> {
  await db.query(
    `insert into show_leases (show_id, epoch, owner_id, version) values ($1, 1, '', $2)
     on conflict (show_id) do update set version = excluded.version, owner_id = ''`,
    [showId, version],
  );
}

/** Inserts journal rows in one statement, exactly as holdfast_append_batch stores them (epoch 1). */
export async function insertJournalRows(db: SqlExecutor, showId: string, rows: { fromVersion: number; toVersion: number; eventsJson: string }[]): Promise<void> {
  if (rows.length === 0) return;
  await db.query(
    `insert into journal (show_id, from_version, to_version, epoch, events)
     select $1, f, t, 1, e::jsonb from unnest($2::bigint[], $3::bigint[], $4::text[]) as x(f, t, e)`,
    [showId, rows.map((row) => row.fromVersion), rows.map((row) => row.toVersion), rows.map((row) => row.eventsJson)],
  );
}
