/**
 * The one catalog of expected outcomes. The same codes travel to REST problems
 * (application/problem+json), socket acks and the client SDK.
 * Ordered roughly as the hold path checks them.
 */
export const resultCodes = {
  validation_failed: { status: 400, title: 'The request is not valid', retryable: false },
  unauthorized: { status: 401, title: 'A valid bearer token is required', retryable: false },
  forbidden: { status: 403, title: 'Not allowed for this caller', retryable: false },
  admission_required: { status: 403, title: 'A valid admission token is required', retryable: false },
  proof_of_work_required: { status: 403, title: 'Solve the waiting room challenge first', retryable: false },
  not_found: { status: 404, title: 'No such resource', retryable: false },
  payload_too_large: { status: 413, title: 'The request body is too large', retryable: false },
  request_timeout: { status: 408, title: 'The request body did not arrive in time', retryable: true },
  idempotency_key_missing: { status: 400, title: 'An Idempotency-Key header is required', retryable: false },
  idempotency_key_reused: { status: 422, title: 'The Idempotency-Key was used with other parameters', retryable: false },
  request_in_progress: { status: 409, title: 'A request with this Idempotency-Key is still being processed', retryable: true },
  show_not_on_sale: { status: 409, title: 'The show is not on sale', retryable: false },
  unknown_seat: { status: 422, title: 'A requested seat does not exist', retryable: false },
  unknown_pool: { status: 422, title: 'A requested pool does not exist', retryable: false },
  hold_too_large: { status: 422, title: 'Too many items in one hold', retryable: false },
  too_many_holds: { status: 409, title: 'Too many active holds for this user', retryable: false },
  orphan_seat: { status: 409, title: 'The hold would leave a single seat stranded', retryable: false },
  channel_key_invalid: { status: 403, title: 'The presale code is not valid for this show', retryable: false },
  channel_restricted: { status: 403, title: 'Some items are reserved for a presale channel', retryable: false },
  seat_unavailable: { status: 409, title: 'Some requested seats are no longer available', retryable: false },
  pool_unavailable: { status: 409, title: 'Not enough places left in a pool', retryable: false },
  sold_out: { status: 409, title: 'Not enough seats left for best available', retryable: false },
  seats_available: { status: 409, title: 'Seats for this party are on sale; hold them instead of waiting', retryable: false },
  hold_not_found: { status: 404, title: 'No such hold', retryable: false },
  hold_expired: { status: 410, title: 'The hold has expired', retryable: false },
  hold_not_active: { status: 409, title: 'The hold is not in a state that allows this', retryable: false },
  extension_limit_reached: { status: 409, title: 'The hold cannot be extended again', retryable: false },
  sale_not_found: { status: 404, title: 'No such sale', retryable: false },
  seat_not_blockable: { status: 409, title: 'A seat is held or sold and cannot be blocked', retryable: false },
  ticket_invalid: { status: 422, title: 'The ticket token is not valid', retryable: false },
  ticket_already_used: { status: 409, title: 'The ticket was already scanned', retryable: false },
  rate_limited: { status: 429, title: 'Too many requests', retryable: true },
  overloaded: { status: 503, title: 'The show is busy; retry shortly', retryable: true },
  not_owner: { status: 503, title: 'This process no longer owns the show; retry', retryable: true },
  commit_failed: { status: 503, title: 'The change could not be made durable; retry', retryable: true },
  payment_provider_unavailable: { status: 503, title: 'The payment provider did not answer; retry', retryable: true },
  internal_error: { status: 500, title: 'Internal error', retryable: true },
} as const;

export type ResultCode = keyof typeof resultCodes;

export function isResultCode(value: string): value is ResultCode {
  return Object.hasOwn(resultCodes, value);
}
