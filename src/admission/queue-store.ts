import type { SqlDatabase } from '../persistence/database.js';
import type { QueuePlace } from './queue-math.js';

export interface RoomCounters {
  preCount: number;
  postCount: number;
  serving: number;
  admittedTotal: number;
  paused: boolean;
  ratePerS: number | null;
  mode: 'fixed' | 'adaptive' | null;
  /** First holds of admitted fans, summed over every worker (adaptive admission). */
  arrivals: number;
}

interface RoomRow {
  pre_count: number;
  post_count: number;
  serving: number;
  admitted_total: number;
  paused: boolean;
  rate_per_s: number | null;
  mode: 'fixed' | 'adaptive' | null;
  arrivals: number;
}

const toCounters = (row: RoomRow): RoomCounters => ({
  preCount: Number(row.pre_count),
  postCount: Number(row.post_count),
  serving: Number(row.serving),
  admittedTotal: Number(row.admitted_total),
  paused: row.paused,
  ratePerS: row.rate_per_s === null ? null : Number(row.rate_per_s),
  mode: row.mode,
  arrivals: Number(row.arrivals),
});

/** SQL of the waiting room: one counter row per show, one ticket row per fan. */
export class QueueStore {
  constructor(private readonly db: SqlDatabase) {}

  /** Every show that has a waiting room row (a worker adopts the ones it owns). */
  async roomShowIds(): Promise<string[]> {
    const { rows } = await this.db.query<{ show_id: string }>('select show_id from waiting_rooms');
    return rows.map((row) => row.show_id);
  }

  async loadRoom(showId: string): Promise<RoomCounters> {
    await this.db.query('insert into waiting_rooms (show_id) values ($1) on conflict do nothing', [showId]);
    const { rows } = await this.db.query<RoomRow>('select pre_count, post_count, serving, admitted_total, paused, rate_per_s, mode, arrivals from waiting_rooms where show_id = $1', [showId]);
    return toCounters(rows[0]!);
  }

  /**
   * Gives each fan of the batch their ticket: the one they already have, or a new one (a lottery
   * draw before on-sale, the next sequence numbers after). One transaction per batch.
   */
  async issueTickets(showId: string, joins: { userId: string; lottery: number }[], preSale: boolean): Promise<{ places: QueuePlace[]; counters: RoomCounters }> {
    return this.db.transaction(async (tx) => {
      const userIds = [...new Set(joins.map((join) => join.userId))];
      const counterRow = await tx.query<RoomRow>('select pre_count, post_count, serving, admitted_total, paused, rate_per_s, mode, arrivals from waiting_rooms where show_id = $1 for update', [showId]);
      // Driven from the batch's user ids, so each is one primary-key probe whatever the planner's
      // statistics say (a long queue must not turn this into a scan of the show's tickets).
      const existing = await tx.query<{ user_id: string; lottery: number | null; seq: number | null }>(
        'select q.user_id, q.lottery, q.seq from unnest($2::text[]) as u(user_id) join queue_tickets q on q.show_id = $1 and q.user_id = u.user_id',
        [showId, userIds],
      );
      const places = new Map<string, QueuePlace>();
      for (const row of existing.rows) places.set(row.user_id, row.seq === null ? { kind: 'lottery', lottery: Number(row.lottery) } : { kind: 'seq', seq: Number(row.seq) });
      let counters = toCounters(counterRow.rows[0]!);
      // A fan listed twice in one batch (two tabs) gets one ticket.
      const fresh = [...new Map(joins.filter((join) => !places.has(join.userId)).map((join) => [join.userId, join])).values()];
      if (fresh.length > 0) {
        if (preSale) {
          await tx.query('insert into queue_tickets (show_id, user_id, lottery) select $1, u, l from unnest($2::text[], $3::float8[]) as t(u, l)', [showId, fresh.map((join) => join.userId), fresh.map((join) => join.lottery)]);
          for (const join of fresh) places.set(join.userId, { kind: 'lottery', lottery: join.lottery });
          counters = { ...counters, preCount: counters.preCount + fresh.length };
          await tx.query('update waiting_rooms set pre_count = $2, updated_at = now() where show_id = $1', [showId, counters.preCount]);
        } else {
          const base = counters.postCount;
          await tx.query('insert into queue_tickets (show_id, user_id, seq) select $1, u, s from unnest($2::text[], $3::int[]) as t(u, s)', [showId, fresh.map((join) => join.userId), fresh.map((_, index) => base + index)]);
          fresh.forEach((join, index) => places.set(join.userId, { kind: 'seq', seq: base + index }));
          counters = { ...counters, postCount: base + fresh.length };
          await tx.query('update waiting_rooms set post_count = $2, updated_at = now() where show_id = $1', [showId, counters.postCount]);
        }
      }
      return { places: joins.map((join) => places.get(join.userId)!), counters };
    });
  }

  async saveServing(showId: string, serving: number, admittedTotal: number): Promise<void> {
    await this.db.query('update waiting_rooms set serving = greatest(serving, $2), admitted_total = greatest(admitted_total, $3), updated_at = now() where show_id = $1', [showId, serving, admittedTotal]);
  }

  /**
   * Adds the first holds of admitted fans seen by this worker to the room's arrivals (adaptive
   * admission; migrations 009 and 010), each fan once across every worker: a fan counts only if
   * no worker counted it in the last `memoryMs` (by the database's clock, which every worker
   * shares). Returns how many fans it added.
   */
  async addArrivals(showId: string, userIds: string[], memoryMs: number): Promise<number> {
    const { rows } = await this.db.query<{ added: number }>(
      `with counted as (
         update queue_tickets set arrived_at = now()
         where show_id = $1 and user_id = any($2::text[])
           and (arrived_at is null or arrived_at < now() - make_interval(secs => $3::float8 / 1000))
         returning 1
       ), added as (select count(*)::int as n from counted)
       update waiting_rooms set arrivals = arrivals + added.n from added where show_id = $1 and added.n > 0 returning added.n as added`,
      [showId, userIds, memoryMs],
    );
    return Number(rows[0]?.added ?? 0);
  }

  async saveControls(showId: string, controls: { paused: boolean; ratePerS: number | null; mode: 'fixed' | 'adaptive' | null }): Promise<void> {
    await this.db.query('update waiting_rooms set paused = $2, rate_per_s = $3, mode = $4, updated_at = now() where show_id = $1', [showId, controls.paused, controls.ratePerS, controls.mode]);
  }
}
