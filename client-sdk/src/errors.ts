import type { Problem } from '../../src/protocol/api-error.js';
import { AnswerError } from '../../src/protocol/answer-error.js';
import type { ResultCode } from '../../src/protocol/result-codes.js';

/**
 * The server refused (or failed) a request and said why: `problem` is its RFC 9457 problem
 * document, `code` one of the server's stable result codes (a union type, so a `switch` on it is
 * checked by the compiler). Thrown after the SDK's own retries when the problem stayed retryable.
 */
export class HoldfastError extends AnswerError {
  override name = 'HoldfastError';
  readonly code: ResultCode;
  readonly status: number;
  readonly retryable: boolean;

  constructor(
    readonly problem: Problem,
    readonly details: { idempotencyKey?: string; attempts: number; method?: string; path?: string } = { attempts: 1 },
  ) {
    // The server's answer: no stack trace (see AnswerError).
    super(`${problem.code}: ${problem.detail}`);
    this.code = problem.code;
    this.status = problem.status;
    this.retryable = problem.retryable;
  }

  /** The Idempotency-Key this intent used: pass it again (`{ idempotencyKey }`) to retry the same intent later. */
  get idempotencyKey(): string | undefined {
    return this.details.idempotencyKey;
  }
}

/**
 * No answer from the server (connection refused or dropped, timeout) even after the SDK's
 * retries. The outcome of a mutating call is unknown: retry it with the same `idempotencyKey`,
 * and the server either does it once or answers what it did the first time.
 */
export class HoldfastNetworkError extends Error {
  override name = 'HoldfastNetworkError';

  constructor(
    message: string,
    readonly details: { idempotencyKey?: string; attempts: number; method?: string; path?: string; cause?: unknown },
  ) {
    super(message);
  }

  get idempotencyKey(): string | undefined {
    return this.details.idempotencyKey;
  }

  override get cause(): unknown {
    return this.details.cause;
  }
}

/** The caller's AbortSignal fired; nothing more is attempted. */
export class HoldfastAbortError extends Error {
  override name = 'AbortError';
  constructor(message = 'the operation was aborted') {
    super(message);
  }
}

/** True when `error` is a HoldfastError with one of `codes`, narrowed for a switch. */
export function isHoldfastError<Code extends ResultCode>(error: unknown, ...codes: Code[]): error is HoldfastError & { code: Code } {
  return error instanceof HoldfastError && (codes.length === 0 || (codes as ResultCode[]).includes(error.code));
}

const statusCodes: Record<number, { code: ResultCode; retryable: boolean }> = {
  400: { code: 'validation_failed', retryable: false },
  401: { code: 'unauthorized', retryable: false },
  403: { code: 'forbidden', retryable: false },
  404: { code: 'not_found', retryable: false },
  413: { code: 'payload_too_large', retryable: false },
  429: { code: 'rate_limited', retryable: true },
  503: { code: 'overloaded', retryable: true },
};

/** A problem for a reply that is not one of ours (a proxy's 502 page, an empty 500). */
export function problemFromStatus(status: number, detail: string): Problem {
  const known = statusCodes[status] ?? { code: 'internal_error' as const, retryable: status >= 500 };
  return { type: `https://holdfast.dev/problems/${known.code}`, title: `HTTP ${status}`, status, detail, code: known.code, retryable: known.retryable };
}

/** Whether `value` looks like one of our problem documents. */
export function isProblem(value: unknown): value is Problem {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return typeof record['code'] === 'string' && typeof record['status'] === 'number' && typeof record['retryable'] === 'boolean';
}
