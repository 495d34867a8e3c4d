import { HoldfastAbortError } from './errors.js';

/**
 * When and how long to retry. Every retry of a mutating call carries the SAME Idempotency-Key as
 * the first attempt, so retrying is always safe: the server does the work once.
 */
export interface RetryPolicy {
  /** Attempts in total, the first included (1 = never retry). */
  maxAttempts: number;
  /** Backoff before the 2nd attempt; doubles per attempt up to `maxDelayMs`. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Longest Retry-After the SDK waits out by itself; longer ones are thrown to the caller. */
  retryAfterMaxMs: number;
  /** Per-attempt timeout; a timed-out attempt counts as a network failure (retried with the same key). */
  attemptTimeoutMs: number;
}

export const defaultRetryPolicy: RetryPolicy = {
  maxAttempts: 5,
  baseDelayMs: 250,
  maxDelayMs: 8_000,
  retryAfterMaxMs: 30_000,
  attemptTimeoutMs: 20_000,
};

/**
 * "Equal jitter" exponential backoff: half the exponential step plus a random half, so a crowd of
 * clients that failed together does not retry together, and no retry comes instantly.
 */
export function backoffDelayMs(policy: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'>, attempt: number, random: () => number = Math.random): number {
  const step = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(step / 2 + random() * (step / 2));
}

/** Seconds from a Retry-After header (delta-seconds or an HTTP date), in ms; null when absent or unreadable. */
export function retryAfterMs(header: string | null, nowMs: number = Date.now()): number | null {
  if (header === null || header.trim() === '') return null;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? null : Math.max(0, date - nowMs);
}

/** Waits `ms`, or rejects with HoldfastAbortError when `signal` fires first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new HoldfastAbortError());
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new HoldfastAbortError());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
