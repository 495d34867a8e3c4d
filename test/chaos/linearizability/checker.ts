import { projectBySeat, type Operation, type SeatOperation } from './history.js';
import { describeState, FREE, heldBy, nextStates, soldBy } from './seat-model.js';

/**
 * A Wing–Gong linearizability checker for seat claims, with Lowe's memoization (as in
 * Porcupine): walk the history's call/return events in time order; at a call, try to take the
 * operation as the next linearization point (the seat model must allow it); at a return whose
 * call was not taken, backtrack. A (set of operations taken, seat state) pair is explored at
 * most once, which keeps the search polynomial in practice; a step budget bounds it anyway
 * (over budget the answer is "unknown", never a pass).
 */

export interface CheckOptions {
  /** Search steps per seat before giving up with `unknown`. */
  stepBudget?: number;
}

export interface SeatViolation {
  seat: string;
  /** A short stretch of the seat's history that no order of its operations explains. */
  window: Operation[];
  /** The operation whose answer could not be explained. */
  failedAt: Operation;
  explanation: string;
}

export interface HistoryCheck {
  ok: boolean;
  seatsChecked: number;
  operations: number;
  violations: SeatViolation[];
  /** Seats whose search ran out of budget (neither proven nor refuted). */
  unknown: string[];
  steps: number;
}

type SearchResult = { result: 'ok' | 'fail' | 'unknown'; steps: number };

interface Entry {
  call: boolean;
  index: number;
  time: number;
  match: Entry | null;
  prev: Entry | null;
  next: Entry | null;
}

const defaultBudget = 2_000_000;

/** Checks every seat's projection of `history`. */
export function checkHistory(history: readonly Operation[], options: CheckOptions = {}): HistoryCheck {
  const bySeat = projectBySeat(history);
  const violations: SeatViolation[] = [];
  const unknown: string[] = [];
  let steps = 0;
  for (const [seat, operations] of [...bySeat].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const checked = checkSeat(seat, operations, options);
    steps += checked.steps;
    if (checked.result === 'unknown') unknown.push(seat);
    if (checked.violation) violations.push(checked.violation);
  }
  return { ok: violations.length === 0 && unknown.length === 0, seatsChecked: bySeat.size, operations: history.length, violations, unknown, steps };
}

/** Checks one seat's history; on failure also finds a minimal window that shows it. */
export function checkSeat(seat: string, operations: readonly SeatOperation[], options: CheckOptions = {}): { result: 'ok' | 'fail' | 'unknown'; steps: number; violation?: SeatViolation } {
  const budget = options.stepBudget ?? defaultBudget;
  const whole = linearizable(operations, [FREE], budget);
  if (whole.result !== 'fail') return whole;
  const window = minimalWindow(operations, budget);
  return {
    result: 'fail',
    steps: whole.steps + window.steps,
    violation: {
      seat,
      window: window.operations.map((entry) => entry.operation),
      failedAt: window.failedAt.operation,
      explanation: explain(window.operations, window.failedAt),
    },
  };
}

/** Whether some order of `operations` (within their time windows) is legal from one of `initialStates`. */
export function linearizable(operations: readonly SeatOperation[], initialStates: readonly number[], budget = defaultBudget): SearchResult {
  let steps = 0;
  for (const initial of initialStates) {
    const run = search(operations, initial, budget - steps);
    steps += run.steps;
    if (run.result !== 'fail') return { result: run.result, steps };
  }
  return { result: 'fail', steps };
}

function holdIndexer(operations: readonly SeatOperation[]): { holds: number[]; holdIds: string[] } {
  const index = new Map<string, number>();
  const holds = operations.map((entry) => {
    const id = entry.operation.holdId;
    let hold = index.get(id);
    if (hold === undefined) index.set(id, (hold = index.size));
    return hold;
  });
  return { holds, holdIds: [...index.keys()] };
}

/** The event list: a call and a return per operation, by time; at equal times calls come first (taken as concurrent). */
function eventList(operations: readonly SeatOperation[]): Entry {
  const events: Entry[] = [];
  operations.forEach((operation, index) => {
    const call: Entry = { call: true, index, time: operation.invokeMs, match: null, prev: null, next: null };
    const ret: Entry = { call: false, index, time: operation.responseMs, match: null, prev: null, next: null };
    call.match = ret;
    events.push(call, ret);
  });
  events.sort((a, b) => a.time - b.time || Number(b.call) - Number(a.call) || a.index - b.index);
  const head: Entry = { call: false, index: -1, time: -Infinity, match: null, prev: null, next: null };
  let previous = head;
  for (const event of events) {
    previous.next = event;
    event.prev = previous;
    previous = event;
  }
  return head;
}

function lift(entry: Entry): void {
  entry.prev!.next = entry.next;
  if (entry.next) entry.next.prev = entry.prev;
  const match = entry.match!;
  match.prev!.next = match.next;
  if (match.next) match.next.prev = match.prev;
}

function unlift(entry: Entry): void {
  const match = entry.match!;
  match.prev!.next = match;
  if (match.next) match.next.prev = match;
  entry.prev!.next = entry;
  if (entry.next) entry.next.prev = entry;
}

interface Frame {
  entry: Entry;
  state: number;
  alternative: number;
}

function search(operations: readonly SeatOperation[], initial: number, budget: number): SearchResult {
  const { holds } = holdIndexer(operations);
  const head = eventList(operations);
  const bits = operations.map((_, index) => 1n << BigInt(index));
  const seen = new Set<string>();
  const stack: Frame[] = [];
  let state = initial;
  let taken = 0n;
  let steps = 0;

  /** Takes `entry`'s operation next with its `from`-th (or a later) possible outcome, if that leads somewhere new. */
  const take = (entry: Entry, from: number): boolean => {
    const options = nextStates(state, operations[entry.index]!, holds[entry.index]!);
    for (let alternative = from; alternative < options.length; alternative += 1) {
      const next = options[alternative]!;
      const nextTaken = taken | bits[entry.index]!;
      const key = `${nextTaken.toString(36)}:${next}`;
      if (seen.has(key)) continue;
      seen.add(key);
      stack.push({ entry, state, alternative });
      state = next;
      taken = nextTaken;
      lift(entry);
      return true;
    }
    return false;
  };

  let entry = head.next;
  while (head.next !== null) {
    if (++steps > budget) return { result: 'unknown', steps };
    if (entry === null) throw new Error('checker: walked past the last event');
    if (entry.call) {
      if (take(entry, 0)) entry = head.next;
      else entry = entry.next;
      continue;
    }
    // A return whose operation was not taken: undo the last choice and try its next option.
    const frame = stack.pop();
    if (frame === undefined) return { result: 'fail', steps };
    unlift(frame.entry);
    state = frame.state;
    taken &= ~bits[frame.entry.index]!;
    entry = take(frame.entry, frame.alternative + 1) ? head.next : frame.entry.next;
  }
  return { result: 'ok', steps };
}

/**
 * The shortest failing prefix (by response times: linearizability is prefix-closed, so a binary
 * search finds it), then the latest cut before it that still fails from ANY starting state of
 * the seat. A cut is only made where every dropped operation answered before every kept one
 * began, so the kept ones come after the dropped ones in every linearization and "any state"
 * covers whatever the dropped ones left; optional operations are kept, starting no earlier
 * than the cut.
 */
function minimalWindow(operations: readonly SeatOperation[], budget: number): { operations: SeatOperation[]; failedAt: SeatOperation; steps: number } {
  let steps = 0;
  const required = operations.filter((entry) => entry.responseMs !== Infinity).sort((a, b) => a.responseMs - b.responseMs);
  const prefixAt = (cutMs: number): SeatOperation[] =>
    operations.filter((entry) => entry.invokeMs <= cutMs).map((entry) => (entry.responseMs <= cutMs ? entry : { ...entry, optional: true, responseMs: Infinity }));
  let low = 0;
  let high = required.length - 1;
  while (low < high) {
    const middle = (low + high) >> 1;
    const run = linearizable(prefixAt(required[middle]!.responseMs), [FREE], budget);
    steps += run.steps;
    if (run.result === 'fail') high = middle;
    else low = middle + 1;
  }
  const failedAt = required[low] ?? operations[operations.length - 1]!;
  const prefix = prefixAt(failedAt.responseMs);

  const byInvoke = [...prefix].sort((a, b) => a.invokeMs - b.invokeMs);
  const cuts = [...new Set(byInvoke.filter((entry) => entry.responseMs !== Infinity).map((entry) => entry.invokeMs))].sort((a, b) => b - a);
  for (const cutMs of cuts) {
    const dropped = prefix.filter((entry) => entry.responseMs < cutMs && !entry.optional);
    const kept = prefix.filter((entry) => !dropped.includes(entry) && !(entry.optional && entry.responseMs < cutMs));
    const lastDroppedMs = Math.max(-Infinity, ...dropped.map((entry) => entry.responseMs));
    if (kept.some((entry) => !entry.optional && entry.invokeMs <= lastDroppedMs)) continue;
    const window = kept.map((entry) => (entry.optional && entry.invokeMs < cutMs ? { ...entry, invokeMs: Math.max(entry.invokeMs, lastDroppedMs) } : entry));
    const { holdIds } = holdIndexer(window);
    const anyState = [FREE, ...holdIds.flatMap((_, hold) => [heldBy(hold), soldBy(hold)]), heldBy(holdIds.length), soldBy(holdIds.length)];
    const run = linearizable(window, anyState, budget);
    steps += run.steps;
    if (run.result === 'fail') return { operations: sortedByInvoke(kept), failedAt, steps };
  }
  return { operations: sortedByInvoke(prefix), failedAt, steps };
}

function sortedByInvoke(operations: SeatOperation[]): SeatOperation[] {
  return [...operations].sort((a, b) => a.invokeMs - b.invokeMs);
}

function explain(window: readonly SeatOperation[], failedAt: SeatOperation): string {
  const { holdIds } = holdIndexer(window);
  const lines = window.map((entry) => {
    const { operation } = entry;
    const response = entry.responseMs === Infinity ? '…' : entry.responseMs.toFixed(1);
    const mark = entry.operation === failedAt.operation ? '  <- cannot be explained' : '';
    return `  [${entry.invokeMs.toFixed(1)}, ${response}] ${operation.process} ${operation.kind} ${operation.holdId} ${operation.outcome}${entry.effect === 'busy' ? ' (named as taken)' : ''}${entry.observed ? ` saw ${entry.observed}` : ''}${mark}`;
  });
  return `no order of these operations is legal for the seat (states: ${describeState(FREE, holdIds)}, ${holdIds.map((_, hold) => describeState(heldBy(hold), holdIds)).join(', ')}, …):\n${lines.join('\n')}`;
}
