/**
 * The hot-seats baseline behind the real gateway: a ShowRouter whose seat holds are one
 * conditional `UPDATE … WHERE status = 'available'` per claim in a table of its own, all or
 * nothing, over a pool of its own — the Foundation's baseline (bench/actor.ts) moved behind the
 * same HTTP layer, sessions, validation and rate limits as the show actor, so `hot-seats` compares
 * the two engines and nothing else. Like the Foundation's baseline it stores no idempotency
 * record: that favours the baseline (one statement fewer per claim).
 *
 * Served: place_hold with specific seats, release_hold, getHold. Everything else (best-available,
 * pools, orders, waitlist, live seat maps) is delegated to the real actors, which know nothing of
 * the baseline's holds — the hot-seats scenario uses only what is served here.
 */
import pg from 'pg';
import type { CommandEnvelope } from '../../src/actors/decide-batch.js';
import type { HoldView, ShowReply } from '../../src/actors/messages.js';
import { reject } from '../../src/actors/messages.js';
import type { DiffListener } from '../../src/actors/show-actor.js';
import type { ShowRouter } from '../../src/actors/show-router.js';
import type { AvailabilitySnapshot } from '../../src/actors/seat-map-diff.js';
import type { ShowDefinition } from '../../src/actors/show-definition.js';
import { seatIdOf } from '../../src/actors/show-definition.js';

export interface ConditionalUpdateRouterOptions {
  /** Connection string and schema of the run (the table lives beside the server's own). */
  connectionString: string;
  schema: string;
  poolSize: number;
  loadDefinition: (showId: string) => Promise<ShowDefinition | null>;
  /** The real router: reads and commands the baseline does not serve go there. */
  delegate: ShowRouter;
  nowMs?: () => number;
}

const tableSql = `
create table if not exists baseline_seats (
  show_id text not null,
  seat_id text not null,
  status text not null,
  hold_id text,
  user_id text,
  held_until timestamptz,
  primary key (show_id, seat_id)
)`;

const claimSql = `update baseline_seats set status = 'held', hold_id = $1, user_id = $2, held_until = now() + make_interval(secs => $4)
  where show_id = $3 and seat_id = any($5) and status = 'available' returning seat_id`;

export class ConditionalUpdateRouter implements ShowRouter {
  private readonly pool: pg.Pool;
  private readonly loaded = new Map<string, Promise<ShowDefinition | null>>();
  private readonly nowMs: () => number;
  private version = 0;

  constructor(private readonly options: ConditionalUpdateRouterOptions) {
    this.pool = new pg.Pool({ connectionString: options.connectionString, max: options.poolSize, options: `-c search_path=${options.schema}`, application_name: 'holdfast-load-baseline' });
    this.pool.on('error', () => undefined);
    this.nowMs = options.nowMs ?? Date.now;
  }

  /** Creates the table (once per process) and fills it with the show's seats on first use. */
  private definition(showId: string): Promise<ShowDefinition | null> {
    let loading = this.loaded.get(showId);
    if (loading === undefined) {
      loading = (async () => {
        const definition = await this.options.loadDefinition(showId);
        if (definition === null) return null;
        await this.pool.query(tableSql);
        const seatIds = definition.sections.flatMap((section) => section.rows.flatMap((row) => row.seats.map((seat) => seatIdOf(section.id, row.label, seat.label))));
        await this.pool.query(`insert into baseline_seats (show_id, seat_id, status) select $1, unnest($2::text[]), 'available' on conflict do nothing`, [showId, seatIds]);
        await this.pool.query('analyze baseline_seats');
        return definition;
      })();
      this.loaded.set(showId, loading);
      loading.catch(() => this.loaded.delete(showId));
    }
    return loading;
  }

  async submit(showId: string, envelope: CommandEnvelope): Promise<ShowReply> {
    const command = envelope.command;
    if (command.type === 'place_hold' && command.request.seats !== undefined && command.request.pools === undefined && command.request.bestAvailable === undefined) {
      const definition = await this.definition(showId);
      if (definition === null) return reject('not_found', `no show ${showId}`);
      return this.claim(showId, definition, command.holdId, command.userId, command.request.seats);
    }
    if (command.type === 'release_hold') {
      const definition = await this.definition(showId);
      if (definition === null) return reject('not_found', `no show ${showId}`);
      const { rows } = await this.pool.query<{ seat_id: string }>(
        `update baseline_seats set status = 'available', hold_id = null, user_id = null, held_until = null where show_id = $1 and hold_id = $2 and user_id = $3 returning seat_id`,
        [showId, command.holdId, command.userId],
      );
      if (rows.length === 0) return reject('hold_not_found', `no live hold ${command.holdId}`);
      return { ok: true, version: ++this.version, decidedAtMs: this.nowMs(), hold: this.view(definition, showId, command.holdId, command.userId, rows.map((row) => row.seat_id), 0) };
    }
    return this.options.delegate.submit(showId, envelope);
  }

  private async claim(showId: string, definition: ShowDefinition, holdId: string, userId: string, seats: string[]): Promise<ShowReply> {
    const ttlS = definition.policy.holdTtlMs / 1000;
    let connection: pg.PoolClient | undefined;
    try {
      connection = await this.pool.connect();
      await connection.query('BEGIN');
      const { rows } = await connection.query<{ seat_id: string }>(claimSql, [holdId, userId, showId, ttlS, seats]);
      if (rows.length < new Set(seats).size) {
        await connection.query('ROLLBACK');
        const got = new Set(rows.map((row) => row.seat_id));
        return reject('seat_unavailable', 'some requested seats are no longer available', { seats: seats.filter((seat) => !got.has(seat)) });
      }
      await connection.query('COMMIT');
      return { ok: true, version: ++this.version, decidedAtMs: this.nowMs(), hold: this.view(definition, showId, holdId, userId, seats, this.nowMs() + definition.policy.holdTtlMs) };
    } catch (error) {
      await connection?.query('ROLLBACK').catch(() => undefined);
      return reject('commit_failed', `baseline claim failed: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      connection?.release();
    }
  }

  private view(definition: ShowDefinition, showId: string, holdId: string, userId: string, seats: string[], expiresAtMs: number): HoldView {
    return {
      holdId, showId, userId, status: 'held', seats, pools: [], expiresAtMs, totalCents: 0, currency: definition.currency,
      extensionsLeft: 0, orderId: null, split: false, offer: false,
    };
  }

  async getHold(showId: string, holdId: string): Promise<HoldView | null> {
    const definition = await this.definition(showId);
    if (definition === null) return null;
    const { rows } = await this.pool.query<{ seat_id: string; user_id: string; held_until: Date }>(
      `select seat_id, user_id, held_until from baseline_seats where show_id = $1 and hold_id = $2`,
      [showId, holdId],
    );
    if (rows.length === 0) return this.options.delegate.getHold(showId, holdId);
    return this.view(definition, showId, holdId, rows[0]!.user_id, rows.map((row) => row.seat_id), rows[0]!.held_until.getTime());
  }

  availability(showId: string): Promise<AvailabilitySnapshot | null> {
    return this.options.delegate.availability(showId);
  }

  watch(showId: string, listener: DiffListener): Promise<() => void> {
    return this.options.delegate.watch(showId, listener);
  }

  /** Seats held in the baseline table per hold id (the run's audit of the baseline). */
  async heldSeats(showIds: string[]): Promise<{ holdId: string; seatId: string }[]> {
    const { rows } = await this.pool.query<{ hold_id: string; seat_id: string }>(`select hold_id, seat_id from baseline_seats where show_id = any($1) and status = 'held'`, [showIds]).catch(() => ({ rows: [] }));
    return rows.map((row) => ({ holdId: row.hold_id, seatId: row.seat_id }));
  }

  async stopAll(): Promise<void> {
    await this.options.delegate.stopAll();
    await this.pool.end();
  }
}
