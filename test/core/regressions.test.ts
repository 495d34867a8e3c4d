/**
 * Regressions for bugs found in src/actors/ while writing the core tests; each states the
 * correct behaviour, so a reintroduced bug turns it red.
 */
import { describe, expect, it } from 'vitest';
import { decide } from '../../src/actors/decide.js';
import { decideBatch } from '../../src/actors/decide-batch.js';
import { evolve } from '../../src/actors/evolve.js';
import { IdempotencyCache } from '../../src/actors/idempotency.js';
import type { ShowCommand, ShowEvent } from '../../src/actors/messages.js';
import { checkStateInvariants, type ShowState } from '../../src/actors/show-state.js';
import { makeState } from './fixtures.js';

function run(state: ShowState, command: ShowCommand, nowMs: number, journal?: ShowEvent[]): void {
  const decision = decide(state, command, nowMs);
  expect(decision.reply.ok, JSON.stringify(decision.reply)).toBe(true);
  for (const event of decision.events) {
    evolve(state, event);
    journal?.push(structuredClone(event));
  }
}

describe('regressions found by the core tests', () => {
  // expiry-heap.ts collectDue (l.35-50) / decide.ts decideExpireDue (l.228-231): when a hold gets a
  // new expiry equal to one of its earlier heap entries that is still in the heap, both entries are
  // "current", collectDue returns the hold twice, decide emits two hold_expired events and evolve's
  // second one throws InvariantError('hold h1 is not active') inside decideBatch. The journal
  // replays to the same heap, so the show crashes again on every recovery: a wedged show.
  it('pinning to the same instant as the hold expiry, then expiring, ends the hold once', () => {
    const state = makeState(); // holdTtlMs 60_000
    run(state, { type: 'place_hold', userId: 'u1', holdId: 'h1', request: { seats: ['A:1:1'] } }, 0); // expires 60_000
    run(state, { type: 'pin_hold', userId: 'u1', holdId: 'h1', orderId: 'o1', paymentWindowMs: 30_000 }, 30_000); // expires 60_000 again
    expect(decide(state, { type: 'expire_due' }, 60_000).events).toEqual([{ type: 'hold_expired', holdId: 'h1' }]);
    const batch = decideBatch(state, new IdempotencyCache(10), [], 60_000);
    expect(batch.events).toEqual([{ type: 'hold_expired', holdId: 'h1' }]);
  });

  it('the same collision with the default policy: extend twice, then pin at placement time', () => {
    // holdTtlMs 60_000 + 2 × extensionMs 120_000 = 300_000 = paymentWindowMs
    const state = makeState();
    const journal: ShowEvent[] = [];
    run(state, { type: 'place_hold', userId: 'u1', holdId: 'h1', request: { seats: ['A:1:1'] } }, 0, journal);
    run(state, { type: 'extend_hold', userId: 'u1', holdId: 'h1' }, 0, journal);
    run(state, { type: 'extend_hold', userId: 'u1', holdId: 'h1' }, 0, journal);
    run(state, { type: 'pin_hold', userId: 'u1', holdId: 'h1', orderId: 'o1' }, 0, journal);
    // a recovered actor (journal fold) must be able to expire it too
    const recovered = makeState();
    for (const event of journal) evolve(recovered, event);
    for (const show of [state, recovered]) {
      const batch = decideBatch(show, new IdempotencyCache(10), [], 300_000);
      expect(batch.events).toEqual([{ type: 'hold_expired', holdId: 'h1' }]);
      checkStateInvariants(show);
    }
  });

  // decide.ts decidePin (l.185-186): paymentWindowMs is not validated. NaN gives a pinned hold
  // with expiresAtMs NaN (null in JSON) that never expires and can be confirmed at any later time;
  // 0 or a negative window is acknowledged as "pinned" although the hold is already expired.
  it('a NaN payment window is refused (otherwise the pinned hold never expires)', () => {
    const state = makeState();
    run(state, { type: 'place_hold', userId: 'u1', holdId: 'h1', request: { seats: ['A:1:1'] } }, 0);
    const decision = decide(state, { type: 'pin_hold', userId: 'u1', holdId: 'h1', orderId: 'o1', paymentWindowMs: Number.NaN }, 1_000);
    expect(decision.reply).toMatchObject({ ok: false, code: 'validation_failed' });
  });

  it('a hold pinned with a NaN payment window still ends (here it stays pinned forever)', () => {
    const state = makeState();
    run(state, { type: 'place_hold', userId: 'u1', holdId: 'h1', request: { seats: ['A:1:1'] } }, 0);
    const pin = decide(state, { type: 'pin_hold', userId: 'u1', holdId: 'h1', orderId: 'o1', paymentWindowMs: Number.NaN }, 1_000);
    for (const event of pin.events) evolve(state, event);
    decideBatch(state, new IdempotencyCache(10), [], 1e12);
    expect(state.claims.has('h1')).toBe(false);
  });

  it.each([0, -5_000])('a payment window of %i ms is refused rather than acknowledged as an already-expired pin', (windowMs) => {
    const state = makeState();
    run(state, { type: 'place_hold', userId: 'u1', holdId: 'h1', request: { seats: ['A:1:1'] } }, 0);
    const decision = decide(state, { type: 'pin_hold', userId: 'u1', holdId: 'h1', orderId: 'o1', paymentWindowMs: windowMs }, 1_000);
    expect(decision.reply.ok).toBe(false);
  });

  // decide-batch.ts l.48 vs l.56: a record stores `fingerprint ?? ''` but the lookup compares the
  // stored '' with the envelope's undefined, so an exact retry without a fingerprint is refused
  // as idempotency_key_reused instead of getting the first reply.
  it('a keyed retry without a fingerprint gets the first reply', () => {
    const state = makeState();
    const command: ShowCommand = { type: 'release_hold', userId: 'u1', holdId: 'nope' };
    const batch = decideBatch(state, new IdempotencyCache(10), [
      { command, scopedKey: 'u1\u001fk1' },
      { command, scopedKey: 'u1\u001fk1' },
    ], 0);
    expect(batch.replies[1]).toEqual(batch.replies[0]);
  });

  // decide.ts decidePin / decideConfirm: nothing stops one orderId from being pinned to and confirmed
  // on two holds. holdIdByOrder then names only the second; checkStateInvariants throws
  // "order o1 not indexed" and the first sale can never be voided.
  it('one order id cannot be confirmed on two holds', () => {
    const state = makeState();
    for (const [holdId, seat] of [['h1', 'A:1:1'], ['h2', 'A:1:2']] as const) {
      run(state, { type: 'place_hold', userId: 'u1', holdId, request: { seats: [seat] } }, 0);
      const pin = decide(state, { type: 'pin_hold', userId: 'u1', holdId, orderId: 'o1' }, 0);
      for (const event of pin.events) evolve(state, event);
      const confirm = decide(state, { type: 'confirm_hold', holdId, orderId: 'o1' }, 0);
      for (const event of confirm.events) evolve(state, event);
    }
    checkStateInvariants(state);
  });
});
