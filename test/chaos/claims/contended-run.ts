/**
 * A contended run against a real server: many fans (one socket.io connection each) fight over a
 * handful of seats with holds, releases, holds left to expire (short TTL), a few purchases
 * through orders and the simulated PSP, and holds whose client vanished mid-request; one
 * watcher reads committed seat-map snapshots. Every intent is recorded with its invocation and
 * response times for the linearizability checker.
 */
import { randomUUID } from 'node:crypto';
import { buildStadiumDefinition } from '../../../src/seed/stadium.js';
import type { ShowDefinition } from '../../../src/actors/show-definition.js';
import type { HoldResponse } from '../../../src/protocol/hold-schemas.js';
import type { ConfirmPaymentResponse, OrderResponse } from '../../../src/protocol/order-schemas.js';
import type { SeatMapSnapshotMessage } from '../../../src/protocol/socket-events.js';
import type { z } from 'zod';
import { allSeatIds } from '../../core/fixtures.js';
import { emitAck, emitNoAck, sleep } from '../../gateway/gateway-helpers.js';
import { Prng } from '../../sim/prng.js';
import type { TestServer, TestSocket } from '../../support/server.js';
import type { ObservedStatus, Operation } from '../linearizability/history.js';
import { HistoryRecorder } from '../linearizability/recorder.js';

export interface ContendedRunOptions {
  showId: string;
  holdTtlMs: number;
  fans: number;
  durationMs: number;
  /** A request with no answer after this long is recorded as a timeout. */
  ackTimeoutMs: number;
  /** Purchases in the whole run (sold seats leave the contest for good). */
  ordersMax: number;
  seed: number;
  /** How much earlier than the placing server's expires_at_ms an expiry may take effect (skewed clocks); default 25 ms. */
  serverClockSlackMs?: number;
}

export interface ContendedRunCounts {
  holdsAcknowledged: number;
  holdsRefused: number;
  holdsTimedOut: number;
  releasesAcknowledged: number;
  ordersConfirmed: number;
  observations: number;
}

/** A tiny show (one row of `seats` seats, no orphan rule) for the contest. */
export function contendedShow(showId: string, seats: number, holdTtlMs: number): ShowDefinition {
  return buildStadiumDefinition({ showId, sections: 1, rowsPerSection: 1, seatsPerRow: seats, floorCapacity: 0, policy: { holdTtlMs, maxActiveHoldsPerUser: 3, maxExtensions: 0, orphanSeatRule: false } });
}

/** Server settings for the contest: no rate limit in the way, fast diffs, the shortest payment window. */
export const contendedServerEnv = { RATE_LIMIT_USER_PER_S: '100000', RATE_LIMIT_IP_PER_S: '1000000', SOCKET_EVENTS_PER_S: '100000', DIFF_TICK_MS: '10', PAYMENT_WINDOW_S: '60' };

const statusNames: Record<number, ObservedStatus> = { 0: 'free', 1: 'held', 2: 'sold' };

export async function runContendedClaims(t: Pick<TestServer, 'request' | 'session' | 'socket'>, show: ShowDefinition, options: ContendedRunOptions): Promise<{ history: Operation[]; counts: ContendedRunCounts }> {
  const slackMs = options.serverClockSlackMs ?? 25;
  const recorder = new HistoryRecorder(slackMs);
  const seatIds = allSeatIds(show);
  const counts: ContendedRunCounts = { holdsAcknowledged: 0, holdsRefused: 0, holdsTimedOut: 0, releasesAcknowledged: 0, ordersConfirmed: 0, observations: 0 };
  const deadline = performance.now() + options.durationMs;
  let ordersLeft = options.ordersMax;

  const fan = async (index: number): Promise<void> => {
    const prng = new Prng(options.seed * 1_000 + index);
    const name = `fan-${index}`;
    const token = await t.session(name);
    let socket: TestSocket = await t.socket(token);
    while (performance.now() < deadline) {
      const count = prng.between(1, 2);
      const first = prng.int(seatIds.length - count + 1);
      const seats = seatIds.slice(first, first + count);
      const payload = { show_id: options.showId, idempotency_key: randomUUID(), seat_ids: seats };
      const pending = recorder.invoke(name, 'hold', '', seats);
      if (prng.chance(0.015)) {
        // The fan's connection dies right after sending: the hold may or may not happen.
        emitNoAck(socket, 'hold', payload, () => undefined);
        socket.disconnect();
        const operation = pending.timeout('client disconnected');
        recorder.expiry(operation.holdId, seats, operation.invokeMs + options.holdTtlMs - slackMs);
        counts.holdsTimedOut += 1;
        socket = await t.socket(token);
        continue;
      }
      let ack;
      try {
        ack = await emitAck<HoldResponse>(socket, 'hold', payload, options.ackTimeoutMs);
      } catch {
        const operation = pending.timeout('no ack');
        recorder.expiry(operation.holdId, seats, operation.invokeMs + options.holdTtlMs - slackMs);
        counts.holdsTimedOut += 1;
        continue;
      }
      if (!ack.ok) {
        pending.fail(ack.error.code, ack.error.code === 'seat_unavailable' ? ack.error.seats ?? [] : undefined);
        counts.holdsRefused += 1;
        await sleep(prng.between(5, 40));
        continue;
      }
      const hold = ack.data;
      pending.ok({ holdId: hold.hold_id, seats: hold.seat_ids });
      recorder.expiry(hold.hold_id, hold.seat_ids, recorder.serverTimeToLocal(hold.expires_at_ms));
      counts.holdsAcknowledged += 1;
      const next = prng.float();
      if (next < 0.08 && ordersLeft > 0) {
        ordersLeft -= 1;
        await buy(name, token, hold);
      } else if (next < 0.6) {
        await sleep(prng.between(0, Math.floor(options.holdTtlMs / 2)));
        const releasing = recorder.invoke(name, 'release', hold.hold_id, hold.seat_ids);
        try {
          const released = await emitAck<HoldResponse>(socket, 'release', { hold_id: hold.hold_id, idempotency_key: randomUUID() }, options.ackTimeoutMs);
          if (released.ok) {
            releasing.ok();
            counts.releasesAcknowledged += 1;
          } else {
            releasing.fail(released.error.code);
          }
        } catch {
          releasing.timeout('no ack');
        }
      } else {
        await sleep(prng.between(0, 30)); // walks away: the hold expires by itself
      }
    }
    socket.disconnect();
  };

  const buy = async (name: string, token: string, hold: HoldResponse): Promise<void> => {
    const order = await t.request('POST', '/v1/orders', { token, body: { hold_id: hold.hold_id }, headers: { 'idempotency-key': randomUUID() } });
    if (order.status !== 201) return;
    const paymentId = (order.body as z.output<typeof OrderResponse>).payment.id!;
    const confirming = recorder.invoke(name, 'confirm', hold.hold_id, hold.seat_ids);
    try {
      const paid = await t.request('POST', `/v1/payments/${paymentId}/confirm`, { token, body: { card_number: '4242424242424242' }, headers: { 'idempotency-key': randomUUID() } });
      const outcome = (paid.body as z.output<typeof ConfirmPaymentResponse>).status;
      if (paid.status === 200 && outcome === 'confirmed') {
        confirming.ok();
        counts.ordersConfirmed += 1;
      } else {
        confirming.fail(`${paid.status} ${String(outcome ?? (paid.body as { code?: string }).code)}`);
      }
    } catch (error) {
      confirming.timeout(String(error));
    }
  };

  const watcher = async (): Promise<void> => {
    const socket = await t.socket();
    while (performance.now() < deadline) {
      const reading = recorder.invoke('watcher', 'observe', '', seatIds);
      try {
        const ack = await emitAck<SeatMapSnapshotMessage>(socket, 'show:watch', { show_id: options.showId }, options.ackTimeoutMs);
        if (ack.ok) {
          reading.ok({ observed: Array.from(ack.data.seat_status, (status) => statusNames[status] ?? 'free') });
          counts.observations += 1;
        } else {
          reading.fail(ack.error.code);
        }
      } catch {
        reading.timeout('no ack');
      }
      await sleep(20);
    }
    socket.disconnect();
  };

  await Promise.all([...Array.from({ length: options.fans }, (_, index) => fan(index)), watcher()]);
  return { history: recorder.history(), counts };
}
