/**
 * Seat claims against the real server are linearizable: fans contend over a few seats through
 * socket.io (holds, releases, expiries, purchases, vanished clients), every intent is recorded,
 * and each seat's history is checked against the seat model. Then the same run with a router
 * that acknowledges some holds without the actor (a double sell): the checker must catch it.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { ShowDefinitionStore } from '../../src/persistence/show-definitions.js';
import { databaseKinds } from '../support/databases.js';
import { startTestServer } from '../support/server.js';
import { contendedServerEnv, contendedShow, runContendedClaims, type ContendedRunOptions } from './claims/contended-run.js';
import { LyingRouter } from './claims/lying-router.js';
import { checkHistory } from './linearizability/checker.js';
import { FigureCounter, recordFigures } from './support/figures.js';
import { byLevel } from './support/level.js';

const holdTtlMs = 300;
const seats = 8;
const figures = new FigureCounter();
afterAll(() => recordFigures('claims-linearizable', figures.snapshot()));

const runOptions = (showId: string, seed: number): ContendedRunOptions => ({
  showId, holdTtlMs, seed,
  fans: byLevel(10, 16),
  durationMs: byLevel(3_000, 20_000),
  ackTimeoutMs: 5_000,
  ordersMax: byLevel(2, 3),
});

for (const kind of databaseKinds) {
  describe.skipIf(!kind.available)(`seat claims under contention are linearizable (${kind.name})`, () => {
    it('a contended run of holds, releases, expiries and purchases has no seat history the model cannot explain', async () => {
      const showId = 'shw-chaos-contest';
      const show = contendedShow(showId, seats, holdTtlMs);
      const t = await startTestServer(kind, contendedServerEnv, { beforeListen: async (db) => void (await new ShowDefinitionStore(db).save(show)) });
      try {
        const { history, counts } = await runContendedClaims(t, show, runOptions(showId, 7));
        const check = checkHistory(history);
        figures.add('histories_checked');
        figures.add('operations_checked', history.length);
        figures.add('holds_acknowledged', counts.holdsAcknowledged);
        figures.add('holds_refused', counts.holdsRefused);
        figures.add('holds_timed_out', counts.holdsTimedOut);
        figures.add('orders_confirmed', counts.ordersConfirmed);
        figures.add('violations', check.violations.length);
        expect(check.violations.map((violation) => `${violation.seat}\n${violation.explanation}`)).toEqual([]);
        expect(check.unknown).toEqual([]);
        // The run really contended: grants, refusals naming taken seats, releases and reads.
        expect(counts.holdsAcknowledged).toBeGreaterThan(20);
        expect(history.filter((operation) => operation.kind === 'hold' && operation.busySeats?.length).length).toBeGreaterThan(10);
        expect(counts.releasesAcknowledged).toBeGreaterThan(5);
        expect(counts.observations).toBeGreaterThan(20);
        expect(check.seatsChecked).toBe(seats);
        // No seat sold twice in the database either.
        const sold = await t.server.db.query<{ seat_id: string; orders: string }>('select seat_id, count(*)::text as orders from sold_seats where show_id = $1 group by seat_id', [showId]);
        expect(sold.rows.filter((row) => row.orders !== '1')).toEqual([]);
      } finally {
        await t.close();
      }
    });

    it('catches a router that acknowledges holds for seats another fan holds (an injected double sell)', async () => {
      const showId = 'shw-chaos-liar';
      const show = contendedShow(showId, seats, holdTtlMs);
      let liar: LyingRouter | null = null;
      const t = await startTestServer(kind, contendedServerEnv, {
        beforeListen: async (db) => void (await new ShowDefinitionStore(db).save(show)),
        wrapRouter: (local) => (liar = new LyingRouter(local, { liesMax: 5, minAgeMs: 40, holdTtlMs })),
      });
      try {
        const { history } = await runContendedClaims(t, show, { ...runOptions(showId, 11), durationMs: byLevel(2_000, 10_000) });
        const lies = liar!.lies;
        expect(lies.length).toBeGreaterThan(0);
        const check = checkHistory(history);
        figures.add('injected_double_sells', lies.length);
        figures.add('injected_runs');
        figures.add('injected_runs_caught', check.violations.length > 0 ? 1 : 0);
        figures.add('histories_checked');
        expect(check.violations.length).toBeGreaterThan(0);
        // Every violation is a lie's doing: its window holds a fabricated grant (no false alarm).
        const lieIds = new Set(lies.map((lie) => lie.holdId));
        for (const violation of check.violations) {
          expect(violation.window.some((operation) => lieIds.has(operation.holdId)), violation.explanation).toBe(true);
        }
      } finally {
        await t.close();
      }
    });
  });
}
