/**
 * A recorded history of seat claims: one operation per client intent, with the times it was
 * invoked and answered on ONE clock (performance.now() of the recording process).
 *
 * - `hold`: a fan asks for a set of seats. ok: the reply's hold id and seats; fail: the refusal,
 *   with the seats it named as taken (`busySeats`); timeout: no reply ever came (it may have
 *   taken effect at any time after its invocation, or never).
 * - `release` / `confirm` (sell) / `void`: act on a hold's seats.
 * - `expire`: the server ends a hold by itself. Nobody is answered, so it is recorded with no
 *   response: it may take effect at any time after the hold's expiry time, or never (the hold
 *   may have been released, pinned or sold first).
 * - `observe`: a committed read of the seats' statuses (a seat-map snapshot).
 */
export type OperationKind = 'hold' | 'release' | 'expire' | 'confirm' | 'void' | 'observe';
export type Outcome = 'ok' | 'fail' | 'timeout';
export type ObservedStatus = 'free' | 'held' | 'sold';

export interface Operation {
  id: number;
  /** Who issued it (a client name); for reports only. */
  process: string;
  kind: OperationKind;
  /** The hold the operation is about ('' for observe). A timed-out hold gets a stand-in id. */
  holdId: string;
  /** hold: the seats asked for (ok: the seats granted); release/expire/confirm/void: the hold's seats; observe: the seats read. */
  seats: readonly string[];
  outcome: Outcome;
  /** A refused hold: the seats the refusal named as not available. */
  busySeats?: readonly string[];
  /** observe: the status read for each of `seats`, in order. */
  observed?: readonly ObservedStatus[];
  invokeMs: number;
  /** null: no response (timeout, expiry). */
  responseMs: number | null;
  /** Refusal code or other detail, for reports. */
  note?: string;
}

/** What a seat's history is checked for: its projection of every operation that concerns it. */
export type SeatEffect =
  /** free → held(hold) */
  | 'acquire'
  /** requires a seat that is not free (a refusal that named it as taken) */
  | 'busy'
  /** held(hold) → free */
  | 'release'
  /** held(hold) → sold(hold) */
  | 'sell'
  /** sold(hold) → free */
  | 'unsell'
  /** requires the observed status */
  | 'observe';

export interface SeatOperation {
  operation: Operation;
  effect: SeatEffect;
  observed?: ObservedStatus;
  /** May take effect or not (a timeout, an expiry): the model also allows "nothing happened". */
  optional: boolean;
  invokeMs: number;
  /** Infinity when there was no response. */
  responseMs: number;
}

const effectOf: Record<Exclude<OperationKind, 'hold' | 'observe'>, SeatEffect> = { release: 'release', expire: 'release', confirm: 'sell', void: 'unsell' };

/**
 * Splits a history into one history per seat. Why checking each seat on its own is sound here:
 * a linearization of the whole history, restricted to the operations that touch one seat, is a
 * linearization of that seat's projection (each operation keeps its point, and a seat's state
 * changes only by operations that name it). So a seat whose projection cannot be linearized
 * proves the whole history cannot: a per-seat violation is never a false alarm. The converse
 * does not hold for multi-seat holds (all-or-nothing across seats is not checked by the
 * projection), but the property audited here, that no seat is granted to two holds at once, is
 * a property of one seat, and the projection decides it exactly. Operations that say nothing
 * about a seat (a refusal that did not name it, a failed release) are left out.
 */
export function projectBySeat(history: readonly Operation[]): Map<string, SeatOperation[]> {
  const bySeat = new Map<string, SeatOperation[]>();
  const add = (seat: string, entry: SeatOperation): void => {
    let list = bySeat.get(seat);
    if (list === undefined) bySeat.set(seat, (list = []));
    list.push(entry);
  };
  for (const operation of history) {
    const responseMs = operation.responseMs ?? Infinity;
    const base = { operation, invokeMs: operation.invokeMs, responseMs, optional: operation.outcome === 'timeout' || operation.kind === 'expire' };
    if (operation.outcome === 'timeout' && operation.responseMs !== null) throw new Error(`operation ${operation.id}: a timeout has no response time`);
    if (responseMs < operation.invokeMs) throw new Error(`operation ${operation.id}: answered before it was invoked`);
    switch (operation.kind) {
      case 'hold':
        if (operation.outcome === 'fail') {
          for (const seat of operation.busySeats ?? []) add(seat, { ...base, effect: 'busy' });
        } else {
          for (const seat of operation.seats) add(seat, { ...base, effect: 'acquire' });
        }
        break;
      case 'observe':
        if (operation.outcome !== 'ok') break;
        operation.seats.forEach((seat, index) => add(seat, { ...base, effect: 'observe', observed: operation.observed![index]! }));
        break;
      default:
        if (operation.outcome === 'fail') break;
        for (const seat of operation.seats) add(seat, { ...base, effect: effectOf[operation.kind] });
    }
  }
  return bySeat;
}
