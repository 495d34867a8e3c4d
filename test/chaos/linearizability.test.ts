/**
 * The seat-claim linearizability checker: hand-made histories it must accept and reject, and
 * properties over histories of the real pure core (accepted as recorded; rejected with one
 * double grant injected).
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { checkHistory } from './linearizability/checker.js';
import { coreSeatIds, historyOfPlan, injectDoubleGrant, type PlanAction, type PlanStep } from './linearizability/core-histories.js';
import type { ObservedStatus, Operation, OperationKind, Outcome } from './linearizability/history.js';
import { byLevel } from './support/level.js';
import { FigureCounter, recordFigures } from './support/figures.js';

const figures = new FigureCounter();
afterAll(() => recordFigures('linearizability-properties', figures.snapshot()));

let nextId = 0;
function op(kind: OperationKind, holdId: string, outcome: Outcome, invokeMs: number, responseMs: number | null, extra: Partial<Operation> = {}): Operation {
  return { id: nextId++, process: `p${nextId % 3}`, kind, holdId, seats: ['S1'], outcome, invokeMs, responseMs, ...extra };
}
const hold = (id: string, from: number, to: number | null, outcome: Outcome = 'ok', extra: Partial<Operation> = {}) =>
  op('hold', id, to === null ? 'timeout' : outcome, from, to, outcome === 'fail' ? { busySeats: ['S1'], ...extra } : extra);
const release = (id: string, from: number, to: number | null) => op('release', id, to === null ? 'timeout' : 'ok', from, to);
const expire = (id: string, from: number) => op('expire', id, 'timeout', from, null);
const confirm = (id: string, from: number, to: number | null) => op('confirm', id, to === null ? 'timeout' : 'ok', from, to);
const voided = (id: string, from: number, to: number) => op('void', id, 'ok', from, to);
const observe = (status: ObservedStatus, from: number, to: number) => op('observe', '', 'ok', from, to, { observed: [status] });

describe('seat-claim linearizability checker: hand-made histories', () => {
  const accepted: [string, Operation[]][] = [
    ['hold, release, hold again', [hold('A', 0, 1), release('A', 2, 3), hold('B', 4, 5)]],
    ['two overlapping holds, one refused as taken', [hold('A', 0, 10), hold('B', 1, 9, 'fail')]],
    ['a refusal that overlaps the grant may come first or last', [hold('B', 0, 10, 'fail'), hold('A', 2, 4)]],
    ['a release that overlaps the next grant frees the seat first', [hold('A', 0, 1), release('A', 2, 12), hold('B', 5, 11)]],
    ['a timed-out hold may take effect late', [hold('T', 0, null), hold('B', 10, 11, 'fail'), observe('held', 12, 13)]],
    ['a timed-out hold may never take effect', [hold('T', 0, null), hold('B', 10, 11)]],
    ['a hold expires after its expiry time', [hold('A', 0, 1), expire('A', 50), hold('B', 60, 61), observe('held', 62, 63)]],
    ['an expiry may never happen (the hold was sold first)', [hold('A', 0, 1), expire('A', 50), confirm('A', 20, 21), observe('sold', 70, 71), hold('B', 80, 81, 'fail')]],
    ['a voided sale frees the seat', [hold('A', 0, 1), confirm('A', 2, 3), voided('A', 4, 5), observe('free', 6, 7), hold('B', 8, 9)]],
    ['a timed-out release may have freed the seat', [hold('A', 0, 1), release('A', 2, null), hold('B', 10, 11)]],
    ['operations listed out of time order', [hold('B', 4, 5), release('A', 2, 3), hold('A', 0, 1)]],
    ['responses at the same instant as invocations count as concurrent', [hold('A', 0, 5), release('A', 5, 6), hold('B', 6, 7)]],
  ];
  for (const [name, history] of accepted) {
    it(`accepts: ${name}`, () => {
      const check = checkHistory(history);
      expect(check.violations.map((violation) => violation.explanation)).toEqual([]);
      expect(check).toMatchObject({ ok: true, seatsChecked: 1, unknown: [] });
    });
  }

  const rejected: [string, Operation[], string[]][] = [
    ['a double grant', [hold('A', 0, 1), hold('B', 2, 3)], ['A', 'B']],
    ['a grant before the other hold could expire', [hold('A', 0, 1), expire('A', 50), hold('B', 10, 11)], ['A', 'B']],
    ['a refusal naming a seat that nobody had', [hold('B', 0, 1, 'fail')], ['B']],
    ['a read of free while held', [hold('A', 0, 1), observe('free', 2, 3)], ['A', '']],
    ['a sale of a released hold', [hold('A', 0, 1), release('A', 2, 3), confirm('A', 4, 5)], ['A']],
    ['a timed-out hold cannot explain an earlier refusal', [hold('B', 0, 5, 'fail'), hold('T', 20, null)], ['B']],
    ['a release of a hold that never held the seat', [hold('A', 0, 1), release('B', 2, 3)], ['B']],
    ['a double grant while the first is sold', [hold('A', 0, 1), confirm('A', 2, 3), hold('B', 4, 5)], ['B']],
  ];
  for (const [name, history, windowHolds] of rejected) {
    it(`rejects: ${name}`, () => {
      const check = checkHistory(history);
      expect(check.ok).toBe(false);
      expect(check.violations).toHaveLength(1);
      const [violation] = check.violations;
      for (const holdId of windowHolds) expect(violation!.window.map((entry) => entry.holdId)).toContain(holdId);
      expect(violation!.explanation).toContain('cannot be explained');
    });
  }

  it('reports a minimal window: a double grant after a long legal history shows only the operations that matter', () => {
    const history: Operation[] = [];
    for (let index = 0; index < 60; index += 1) history.push(hold(`H${index}`, index * 10, index * 10 + 2), release(`H${index}`, index * 10 + 4, index * 10 + 6));
    history.push(hold('A', 1_000, 1_001), hold('B', 1_010, 1_011));
    for (let index = 0; index < 20; index += 1) history.push(observe('held', 1_020 + index, 1_020 + index + 0.5));
    const check = checkHistory(history);
    expect(check.ok).toBe(false);
    expect(check.violations[0]!.window.map((entry) => entry.holdId)).toEqual(['A', 'B']);
    expect(check.violations[0]!.failedAt.holdId).toBe('B');
  });

  it('checks each seat of a multi-seat hold and names the seat that was double granted', () => {
    const history: Operation[] = [
      op('hold', 'A', 'ok', 0, 1, { seats: ['S1', 'S2'] }),
      op('hold', 'B', 'ok', 2, 3, { seats: ['S2', 'S3'] }),
      op('hold', 'C', 'fail', 4, 5, { seats: ['S3', 'S4'], busySeats: ['S3'] }),
    ];
    const check = checkHistory(history);
    expect(check.seatsChecked).toBe(3);
    expect(check.violations.map((violation) => violation.seat)).toEqual(['S2']);
  });

  it('answers unknown, never a pass, when the search runs out of budget', () => {
    // Many concurrent timed-out holds and releases: a large space of orders to explore.
    const history: Operation[] = [];
    for (let index = 0; index < 14; index += 1) history.push(hold(`T${index}`, 0, null), release(`T${index}`, 0, null));
    history.push(hold('A', 1, 2), hold('B', 3, 4));
    const check = checkHistory(history, { stepBudget: 50 });
    expect(check.ok).toBe(false);
    expect(check.unknown).toEqual(['S1']);
  });
});

const action: fc.Arbitrary<PlanAction> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('hold' as const), user: fc.nat(4), seats: fc.array(fc.nat(coreSeatIds.length - 1), { minLength: 1, maxLength: 3 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('release' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('sell' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('void' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('observe' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('wait' as const), ms: fc.integer({ min: 1, max: 200 }) }) },
);
const step: fc.Arbitrary<PlanStep> = fc.record({
  action,
  // Windows up to 30 ms around points 10 ms apart: each operation overlaps several others.
  beforeMs: fc.double({ min: 0, max: 30, noNaN: true }),
  afterMs: fc.double({ min: 0, max: 30, noNaN: true }),
  timeout: fc.integer({ min: 0, max: 9 }).map((roll) => roll === 0),
});
const plan = fc.array(step, { minLength: byLevel(10, 30), maxLength: byLevel(60, 150), size: 'max' });
const numRuns = byLevel(150, 1_000);

describe('seat-claim linearizability checker: histories of the real core', () => {
  it('accepts every history recorded around a sequential run of decide/evolve', () => {
    fc.assert(
      fc.property(plan, (steps) => {
        const history = historyOfPlan(steps);
        const check = checkHistory(history);
        figures.add('core_histories_checked');
        figures.add('core_operations_checked', history.length);
        if (!check.ok) figures.add('violations_in_correct_core_histories');
        expect(check.violations.map((violation) => `${violation.seat}\n${violation.explanation}`)).toEqual([]);
        expect(check.unknown).toEqual([]);
      }),
      { numRuns, seed: 10_001 },
    );
  });

  it('rejects every such history with one double grant injected, and its window shows the injected grant', () => {
    let injectedRuns = 0;
    fc.assert(
      fc.property(plan, fc.nat(), (steps, choice) => {
        const injected = injectDoubleGrant(historyOfPlan(steps), choice);
        fc.pre(injected !== null);
        injectedRuns += 1;
        const check = checkHistory(injected!.history);
        figures.add('core_histories_with_injected_double_grant');
        if (check.violations.length > 0) figures.add('injected_double_grants_caught');
        expect(check.ok).toBe(false);
        const seat = injected!.injected.seats[0]!;
        const violation = check.violations.find((candidate) => candidate.seat === seat);
        expect(violation, `no violation on ${seat}`).toBeDefined();
        expect(violation!.window.map((entry) => entry.id)).toContain(injected!.injected.id);
      }),
      { numRuns, seed: 10_002 },
    );
    expect(injectedRuns).toBeGreaterThan(numRuns / 2);
  });
});
