import { HoldfastError, HoldfastNetworkError } from '../../client-sdk/src/index.js';

const friendly: Partial<Record<string, string>> = {
  seat_unavailable: 'Sorry, someone else just took one of those seats. Pick another.',
  pool_unavailable: 'Not enough places are left for that quantity.',
  sold_out: 'Sold out: join the waitlist and we will offer you seats the moment some come back.',
  extension_limit_reached: 'This hold cannot be extended again.',
  orphan_seat: 'That choice would leave a single empty seat stranded in the row. Add the neighbouring seat or choose another.',
  admission_required: 'Please wait for your turn in the waiting room first.',
  hold_expired: 'Your hold expired and the seats went back on sale.',
  too_many_holds: 'You already hold as many seats as this show allows at once.',
  rate_limited: 'Too many tries in a short time. Wait a moment and try again.',
  show_not_on_sale: 'This show is not on sale right now.',
};

/** A sentence a fan can act on, from any error the SDK throws. */
export function describeError(error: unknown): string {
  if (error instanceof HoldfastError) {
    const seats = error.problem.seats?.length ? ` (${error.problem.seats.join(', ')})` : '';
    return `${friendly[error.code] ?? error.problem.detail}${seats}`;
  }
  if (error instanceof HoldfastNetworkError) return 'We could not reach the server. Check your connection and try again: nothing was bought twice.';
  return error instanceof Error ? error.message : String(error);
}
