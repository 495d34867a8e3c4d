import type { SqlDatabase, SqlExecutor } from '../persistence/database.js';

/** One outbox row as the sinks see it. `eventId` is the row id: stable across redeliveries. */
export interface OutboxEvent {
  eventId: string;
  showId: string;
  topic: string;
  payload: unknown;
  createdAtMs: number;
}

/** A claimed event and how many deliveries of it have failed before. */
export interface ClaimedEvent extends OutboxEvent {
  attempts: number;
}

interface OutboxRow {
  id: number | string;
  show_id: string;
  topic: string;
  payload: unknown;
  created_at: Date | string;
  attempts: number | string;
}

const ms = (value: Date | string): number => (value instanceof Date ? value.getTime() : Date.parse(value));

function toClaimed(row: OutboxRow): ClaimedEvent {
  return {
    eventId: String(row.id),
    showId: row.show_id,
    topic: row.topic,
    payload: typeof row.payload === 'string' ? (JSON.parse(row.payload) as unknown) : row.payload,
    createdAtMs: ms(row.created_at),
    attempts: Number(row.attempts),
  };
}

export interface DeadLetter extends OutboxEvent {
  attempts: number;
  lastError: string | null;
  failedAtMs: number;
}

export interface OutboxBacklog {
  /** Rows not yet delivered and not dead. */
  pending: number;
  /** Age of the oldest pending row (0 when none). */
  oldestPendingAgeMs: number;
  deadLetters: number;
}

/** The outbox's SQL: claims, delivery marks, failures and the dead-letter table. */
export class OutboxStore {
  constructor(private readonly db: SqlDatabase) {}

  /**
   * Claims work in one short transaction. The head of a show is its oldest row that is neither
   * delivered nor dead; a show is claimable only when its head is due (`next_attempt_at` null or
   * past), so a show whose head is backing off, or leased by another relay, waits as a whole.
   * Due heads are locked with `for update skip locked` (a head another relay is claiming right
   * now is skipped), then up to `perShow` consecutive pending rows of each claimed show are leased
   * (`next_attempt_at = now + leaseMs`), at most `limit` rows in all. Returns the events grouped
   * by show, each group in id order.
   */
  async claim(limit: number, leaseMs: number): Promise<ClaimedEvent[][]> {
    return this.db.transaction(async (tx) => {
      const heads = await tx.query<{ show_id: string }>(
        `select o.show_id from outbox o
         where o.delivered_at is null and not o.dead
           and (o.next_attempt_at is null or o.next_attempt_at <= now())
           and not exists (select 1 from outbox e where e.show_id = o.show_id and e.id < o.id and e.delivered_at is null and not e.dead)
         order by o.id
         limit $1
         for update of o skip locked`,
        [limit],
      );
      if (heads.rows.length === 0) return [];
      // One relay per show at a time (another relay's claim of the same show skips it), and rows
      // locked in id order, as releaseLeases does: two relays' multi-row updates on one busy show
      // deadlocked otherwise (seen with two server workers under an on-sale).
      const { rows: mine } = await tx.query<{ show_id: string }>(
        `select show_id from unnest($1::text[]) as heads(show_id) where pg_try_advisory_xact_lock(hashtextextended('holdfast-outbox:' || show_id, 0))`,
        [heads.rows.map((row) => row.show_id)],
      );
      const shows = mine.map((row) => row.show_id);
      if (shows.length === 0) return [];
      const claimed = await tx.query<OutboxRow>(
        `with chosen as (
           select id from (
             select id, row_number() over (partition by show_id order by id) as position
             from outbox where show_id = any ($1::text[]) and delivered_at is null and not dead
           ) as ranked
           order by position, id
           limit $2
         ), locked as (
           select o.id from outbox o where o.id in (select id from chosen) order by o.id for update of o
         )
         update outbox set next_attempt_at = now() + $3::float8 * interval '1 millisecond'
         where id in (select id from locked)
         returning id, show_id, topic, payload, created_at, attempts`,
        [shows, limit, leaseMs],
      );
      const byShow = new Map<string, ClaimedEvent[]>(shows.map((show) => [show, []]));
      for (const row of claimed.rows) byShow.get(row.show_id)?.push(toClaimed(row));
      const groups = [...byShow.values()].filter((events) => events.length > 0);
      for (const events of groups) events.sort((a, b) => Number(a.eventId) - Number(b.eventId));
      return groups;
    });
  }

  /**
   * Hands back leases of this relay's own claim (due again at once): only rows still undelivered,
   * not dead, and with the attempts they were claimed with (a recorded failure keeps its backoff).
   */
  async releaseLeases(events: ClaimedEvent[]): Promise<void> {
    if (events.length === 0) return;
    // Rows locked in id order, as claim() does, so the two never wait on each other in a cycle.
    await this.db.query(
      `with locked as (select id from outbox where id = any ($1::bigint[]) order by id for update)
       update outbox o set next_attempt_at = null
       from unnest($1::bigint[], $2::int[]) as claimed(id, attempts)
       where o.id = claimed.id and o.id in (select id from locked) and o.attempts = claimed.attempts and o.delivered_at is null and not o.dead`,
      [events.map((event) => Number(event.eventId)), events.map((event) => event.attempts)],
    );
  }

  /** One statement for a run of events sent in a row (rows locked in id order, as claim() does). */
  async markDelivered(eventIds: string[]): Promise<void> {
    if (eventIds.length === 0) return;
    await this.db.query(
      `with locked as (select id from outbox where id = any ($1::bigint[]) and delivered_at is null order by id for update)
       update outbox set delivered_at = now(), next_attempt_at = null where id in (select id from locked)`,
      [eventIds.map(Number)],
    );
  }

  /**
   * Records a failed delivery: attempts + 1 and the error, then either a retry after `backoffMs`
   * or, once attempts reach `maxAttempts`, a copy in `outbox_dead_letters` and `dead = true`.
   * One transaction; returns the attempts so far and whether the event is now dead.
   */
  async recordFailure(eventId: string, error: string, backoffMs: number, maxAttempts: number): Promise<{ attempts: number; dead: boolean }> {
    return this.db.transaction(async (tx) => {
      const { rows } = await tx.query<{ attempts: number | string }>(
        `update outbox set attempts = attempts + 1, last_error = $2, next_attempt_at = now() + $3::float8 * interval '1 millisecond'
         where id = $1 and delivered_at is null and not dead returning attempts`,
        [Number(eventId), error, backoffMs],
      );
      const row = rows[0];
      // Already delivered or dead-lettered by another relay (a lease that ran out): nothing to do.
      if (row === undefined) return { attempts: 0, dead: false };
      const attempts = Number(row.attempts);
      if (attempts < maxAttempts) return { attempts, dead: false };
      await deadLetter(tx, eventId);
      return { attempts, dead: true };
    });
  }

  async deadLetters(limit = 100, showId?: string): Promise<DeadLetter[]> {
    const { rows } = await this.db.query<{ event_id: string; show_id: string; topic: string; payload: unknown; attempts: number | string; last_error: string | null; created_at: Date | string; failed_at: Date | string }>(
      `select event_id, show_id, topic, payload, attempts, last_error, created_at, failed_at from outbox_dead_letters
       where $2::text is null or show_id = $2 order by failed_at, event_id limit $1`,
      [limit, showId ?? null],
    );
    return rows.map((row) => ({
      eventId: row.event_id, showId: row.show_id, topic: row.topic,
      payload: typeof row.payload === 'string' ? (JSON.parse(row.payload) as unknown) : row.payload,
      createdAtMs: ms(row.created_at), attempts: Number(row.attempts), lastError: row.last_error, failedAtMs: ms(row.failed_at),
    }));
  }

  /**
   * Puts a dead-lettered event back in the queue (an operator fixed the endpoint): it is
   * delivered next for its show, after the later events that went ahead while it was dead.
   */
  async retryDeadLetter(eventId: string): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const { rowCount } = await tx.query('delete from outbox_dead_letters where event_id = $1', [eventId]);
      if (rowCount === 0) return false;
      await tx.query('update outbox set dead = false, attempts = 0, last_error = null, next_attempt_at = null where id = $1 and delivered_at is null', [Number(eventId)]);
      return true;
    });
  }

  async backlog(): Promise<OutboxBacklog> {
    const { rows } = await this.db.query<{ pending: number | string; oldest_ms: number | string | null; dead: number | string }>(
      `select (select count(*) from outbox where delivered_at is null and not dead) as pending,
              (select extract(epoch from now() - min(created_at)) * 1000 from outbox where delivered_at is null and not dead) as oldest_ms,
              (select count(*) from outbox_dead_letters) as dead`,
    );
    const row = rows[0]!;
    return { pending: Number(row.pending), oldestPendingAgeMs: row.oldest_ms === null ? 0 : Math.max(0, Number(row.oldest_ms)), deadLetters: Number(row.dead) };
  }

  /** Deletes delivered rows older than `olderThanMs` (retention); returns how many. */
  async pruneDelivered(olderThanMs: number): Promise<number> {
    const { rowCount } = await this.db.query(
      `delete from outbox where delivered_at is not null and delivered_at < now() - $1::float8 * interval '1 millisecond'`,
      [olderThanMs],
    );
    return rowCount;
  }
}

async function deadLetter(tx: SqlExecutor, eventId: string): Promise<void> {
  await tx.query(
    `insert into outbox_dead_letters (event_id, show_id, topic, payload, attempts, last_error, created_at)
     select id::text, show_id, topic, payload, attempts, last_error, created_at from outbox where id = $1
     on conflict (event_id) do update set attempts = excluded.attempts, last_error = excluded.last_error, failed_at = now()`,
    [Number(eventId)],
  );
  await tx.query('update outbox set dead = true, next_attempt_at = null where id = $1', [Number(eventId)]);
}
