/**
 * Histories of the real pure core (decide/evolve), for the checker's properties: a plan of fan
 * commands is run SEQUENTIALLY through the core at increasing times, so the true order is a
 * legal linearization; then each operation is given a random window around its true point
 * (and some lose their response), as concurrent clients would have recorded them.
 */
import { decide } from '../../../src/actors/decide.js';
import { evolve } from '../../../src/actors/evolve.js';
import type { ShowCommand, ShowReply } from '../../../src/actors/messages.js';
import { seatStatus, type ShowState } from '../../../src/actors/show-state.js';
import { allSeatIds, makeDefinition, makeState } from '../../core/fixtures.js';
import type { ObservedStatus, Operation, OperationKind } from './history.js';

export type PlanAction =
  | { kind: 'hold'; user: number; seats: number[] }
  | { kind: 'release'; pick: number }
  | { kind: 'sell'; pick: number }
  | { kind: 'void'; pick: number }
  | { kind: 'observe' }
  | { kind: 'wait'; ms: number };

export interface PlanStep {
  action: PlanAction;
  /** How long before and after its true point the operation was invoked and answered. */
  beforeMs: number;
  afterMs: number;
  /** The client never got the answer. */
  timeout: boolean;
}

export const coreShow = makeDefinition({
  sections: ['A'],
  rowsPerSection: 1,
  seatsPerRow: 6,
  gaPools: [],
  roomNightPools: [],
  policy: { holdTtlMs: 150, maxActiveHoldsPerUser: 3, maxItemsPerHold: 4, maxExtensions: 0 },
});
export const coreSeatIds = allSeatIds(coreShow);
const stepMs = 10;

interface KnownHold {
  holdId: string;
  seats: string[];
  orderId: string | null;
}

/** Runs `plan` through decide/evolve and returns the history clients would have recorded. */
export function historyOfPlan(plan: readonly PlanStep[]): Operation[] {
  const state: ShowState = makeState(coreShow);
  const history: Operation[] = [];
  const holds: KnownHold[] = [];
  let nowMs = 1_000;
  let nextHold = 0;
  let nextOrder = 0;
  const run = (command: ShowCommand): ShowReply => {
    const decision = decide(state, command, nowMs);
    for (const event of decision.events) evolve(state, event);
    return decision.reply;
  };
  const record = (step: PlanStep, kind: OperationKind, holdId: string, seats: readonly string[], reply: ShowReply | null, extra: Partial<Operation> = {}): Operation => {
    const operation: Operation = {
      id: history.length, process: `fan-${history.length % 5}`, kind, holdId, seats,
      outcome: step.timeout ? 'timeout' : reply === null || reply.ok ? 'ok' : 'fail',
      invokeMs: nowMs - step.beforeMs,
      responseMs: step.timeout ? null : nowMs + step.afterMs,
      ...extra,
    };
    if (reply !== null && !reply.ok) operation.note = reply.code;
    history.push(operation);
    return operation;
  };
  // Mostly one of the last few holds (those are the ones still alive), sometimes any.
  const pick = (index: number): KnownHold | undefined =>
    holds.length === 0 ? undefined : index % 4 === 0 ? holds[index % holds.length] : holds[holds.length - 1 - (index % Math.min(holds.length, 3))];

  for (const step of plan) {
    nowMs += stepMs;
    const { action } = step;
    if (action.kind === 'wait') {
      nowMs += action.ms;
      continue;
    }
    run({ type: 'expire_due' });
    switch (action.kind) {
      case 'hold': {
        const holdId = `show-1.h${String(nextHold++).padStart(8, '0')}`;
        const seats = [...new Set(action.seats)].map((seat) => coreSeatIds[seat % coreSeatIds.length]!);
        const reply = run({ type: 'place_hold', userId: `u${action.user}`, holdId, request: { seats } });
        const busySeats = !reply.ok && reply.code === 'seat_unavailable' ? reply.seats ?? [] : undefined;
        const operation = record(step, 'hold', holdId, reply.ok ? reply.hold!.seats : seats, reply, busySeats ? { busySeats } : {});
        if (reply.ok) holds.push({ holdId, seats: reply.hold!.seats, orderId: null });
        // The recorder adds a possible expiry for every hold that may exist: from its expiry time
        // when the reply said it, else from the earliest time it could expire.
        if (operation.outcome !== 'fail') {
          const fromMs = reply.ok && operation.outcome === 'ok' ? reply.hold!.expiresAtMs : operation.invokeMs + coreShow.policy.holdTtlMs;
          history.push({ id: history.length, process: 'server', kind: 'expire', holdId, seats: operation.seats, outcome: 'timeout', invokeMs: fromMs, responseMs: null });
        }
        break;
      }
      case 'release': {
        const hold = pick(action.pick);
        if (hold === undefined) break;
        const userId = state.claims.get(hold.holdId)?.userId ?? 'u0';
        record(step, 'release', hold.holdId, hold.seats, run({ type: 'release_hold', userId, holdId: hold.holdId }));
        break;
      }
      case 'sell': {
        const hold = pick(action.pick);
        if (hold === undefined) break;
        const claim = state.claims.get(hold.holdId);
        const orderId = `ord-${nextOrder++}`;
        const pinned = run({ type: 'pin_hold', userId: claim?.userId ?? 'u0', holdId: hold.holdId, orderId });
        const reply = pinned.ok ? run({ type: 'confirm_hold', holdId: hold.holdId, orderId }) : pinned;
        if (reply.ok) hold.orderId = orderId;
        record(step, 'confirm', hold.holdId, hold.seats, reply);
        break;
      }
      case 'void': {
        const hold = pick(action.pick);
        if (hold === undefined || hold.orderId === null) break;
        const reply = run({ type: 'void_sale', orderId: hold.orderId, returnTo: 'available' });
        if (reply.ok) hold.orderId = null;
        record(step, 'void', hold.holdId, hold.seats, reply);
        break;
      }
      case 'observe': {
        const names: Record<number, ObservedStatus> = { [seatStatus.free]: 'free', [seatStatus.held]: 'held', [seatStatus.sold]: 'sold' };
        const observed = coreSeatIds.map((_, seat) => names[state.seatStatus[seat]!]!);
        record(step, 'observe', '', coreSeatIds, null, { observed });
        break;
      }
    }
  }
  return history;
}

/**
 * Adds a hold that the server could never have granted: a second "ok" for a seat inside a
 * stretch of time where every linearization has it held by another hold (after that hold's
 * grant was answered, before anything about that hold was even asked). Returns null when the
 * history has no such stretch.
 */
export function injectDoubleGrant(history: readonly Operation[], choice: number): { history: Operation[]; injected: Operation } | null {
  const candidates: { seat: string; fromMs: number; toMs: number }[] = [];
  for (const grant of history) {
    if (grant.kind !== 'hold' || grant.outcome !== 'ok' || grant.responseMs === null) continue;
    const later = history.filter((other) => other !== grant && other.holdId === grant.holdId).map((other) => other.invokeMs);
    const toMs = Math.min(grant.responseMs + 20, ...later);
    if (toMs - grant.responseMs > 0.5) candidates.push({ seat: grant.seats[0]!, fromMs: grant.responseMs, toMs });
  }
  if (candidates.length === 0) return null;
  const { seat, fromMs, toMs } = candidates[choice % candidates.length]!;
  const gap = toMs - fromMs;
  const injected: Operation = {
    id: history.length, process: 'liar', kind: 'hold', holdId: 'show-1.hINJECTED0', seats: [seat], outcome: 'ok',
    invokeMs: fromMs + gap / 3, responseMs: fromMs + (2 * gap) / 3, note: 'injected double grant',
  };
  return { history: [...history, injected], injected };
}
