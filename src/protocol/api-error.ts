import { AnswerError } from './answer-error.js';
import type { ResultCode } from './result-codes.js';
import { resultCodes } from './result-codes.js';

/** RFC 9457 problem details, with our stable `code`. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ResultCode;
  /** Field-level reasons for validation_failed. */
  errors?: { path: string; message: string }[];
  seats?: string[];
  pools?: string[];
  retryable: boolean;
  /** For rate_limited: seconds to wait (also sent as Retry-After). */
  retry_after_s?: number;
}

export interface ProblemExtra {
  errors?: { path: string; message: string }[];
  seats?: string[];
  pools?: string[];
  retryAfterS?: number;
}

export const problemTypeBase = 'https://holdfast.dev/problems/';

export function problemOf(code: ResultCode, detail: string, extra?: ProblemExtra): Problem {
  const entry = resultCodes[code];
  const problem: Problem = { type: `${problemTypeBase}${code}`, title: entry.title, status: entry.status, detail, code, retryable: entry.retryable };
  if (extra?.errors) problem.errors = extra.errors;
  if (extra?.seats) problem.seats = extra.seats;
  if (extra?.pools) problem.pools = extra.pools;
  if (extra?.retryAfterS !== undefined) problem.retry_after_s = extra.retryAfterS;
  return problem;
}

/**
 * An expected refusal raised by a service (not a bug): transports render it as a problem
 * (REST) or an error ack (socket). Services throw it; they never build HTTP responses.
 * Like every answer it carries no stack trace (see AnswerError).
 */
export class ApiError extends AnswerError {
  override name = 'ApiError';
  constructor(
    readonly code: ResultCode,
    detail: string,
    readonly extra?: ProblemExtra,
  ) {
    super(detail);
  }

  toProblem(): Problem {
    return problemOf(this.code, this.message, this.extra);
  }
}
