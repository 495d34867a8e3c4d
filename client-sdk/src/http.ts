import type { Problem } from '../../src/protocol/api-error.js';
import type { ServerClock } from './clock.js';
import { HoldfastAbortError, HoldfastError, HoldfastNetworkError, isProblem, problemFromStatus } from './errors.js';
import { backoffDelayMs, defaultRetryPolicy, retryAfterMs, sleep, type RetryPolicy } from './retry.js';

/** The part of a fetch Response the SDK reads. */
export interface FetchResponseLike {
  status: number;
  headers: { get(name: string): string | null };
  text(): Promise<string>;
}

export interface FetchInit {
  method: string;
  headers: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
}

/** `fetch`, or anything shaped like it (a wrapper for logging, tests, a React Native polyfill). */
export type FetchLike = (url: string, init: FetchInit) => Promise<FetchResponseLike>;

export type HttpMethod = 'GET' | 'POST' | 'DELETE';

export interface RequestSpec {
  method: HttpMethod;
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /** Sent as the Idempotency-Key header on every attempt. */
  idempotencyKey?: string;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Send the bearer token (default true when one is set). */
  auth?: boolean;
  /** Read the reply as text instead of JSON. */
  text?: boolean;
  /** Override the client's retry policy for this call. */
  retry?: Partial<RetryPolicy>;
}

/** What a call did: every attempt, for diagnostics and tests. */
export interface AttemptRecord {
  method: HttpMethod;
  path: string;
  attempt: number;
  idempotencyKey: string | undefined;
  outcome: 'ok' | 'problem' | 'network';
  status?: number;
  code?: string;
}

export interface HttpTransportOptions {
  baseUrl: string;
  fetch: FetchLike;
  token: () => string | null;
  clock: ServerClock;
  retry: RetryPolicy;
  random: () => number;
  onAttempt?: (record: AttemptRecord) => void;
}

/**
 * REST calls with the SDK's retry policy: network failures, timeouts and retryable problems
 * (`retryable: true`, 503, 429 with Retry-After) are retried with jittered backoff, always with
 * the same Idempotency-Key; other problems are thrown at once as HoldfastError. Replies carrying
 * `server_time_ms` feed the server clock (first attempts only: a retry may be answered with the
 * stored reply of an earlier attempt, whose server time is old).
 */
export class HttpTransport {
  constructor(private readonly options: HttpTransportOptions) {}

  get baseUrl(): string {
    return this.options.baseUrl;
  }

  async request<T>(spec: RequestSpec): Promise<T> {
    const policy = { ...this.options.retry, ...spec.retry };
    const url = this.url(spec);
    const headers: Record<string, string> = { accept: 'application/json', ...spec.headers };
    const token = this.options.token();
    if (token !== null && spec.auth !== false) headers['authorization'] = `Bearer ${token}`;
    if (spec.idempotencyKey !== undefined) headers['idempotency-key'] = spec.idempotencyKey;
    let body: string | undefined;
    if (spec.body !== undefined) {
      body = JSON.stringify(spec.body);
      headers['content-type'] = 'application/json';
    }
    const details = { idempotencyKey: spec.idempotencyKey, method: spec.method, path: spec.path };
    for (let attempt = 1; ; attempt += 1) {
      if (spec.signal?.aborted) throw new HoldfastAbortError();
      const record = { method: spec.method, path: spec.path, attempt, idempotencyKey: spec.idempotencyKey };
      const sentAt = this.options.clock.deviceNow();
      let response: FetchResponseLike;
      let text: string;
      const timeout = withTimeout(policy.attemptTimeoutMs, spec.signal);
      try {
        response = await this.options.fetch(url, { method: spec.method, headers, ...(body !== undefined ? { body } : {}), signal: timeout.signal });
        text = await response.text();
      } catch (error) {
        if (spec.signal?.aborted) throw new HoldfastAbortError();
        this.options.onAttempt?.({ ...record, outcome: 'network' });
        if (attempt >= policy.maxAttempts) {
          const reason = timeout.timedOut() ? `timed out after ${policy.attemptTimeoutMs} ms` : errorMessage(error);
          throw new HoldfastNetworkError(`${spec.method} ${spec.path}: no answer after ${attempt} attempt(s): ${reason}`, { ...details, attempts: attempt, cause: error });
        }
        await sleep(backoffDelayMs(policy, attempt, this.options.random), spec.signal);
        continue;
      } finally {
        timeout.clear();
      }
      const receivedAt = this.options.clock.deviceNow();
      if (response.status >= 200 && response.status < 300) {
        this.options.onAttempt?.({ ...record, outcome: 'ok', status: response.status });
        if (spec.text) return text as T;
        const parsed = text === '' ? undefined : (JSON.parse(text) as unknown);
        if (attempt === 1) this.sampleClock(parsed, sentAt, receivedAt);
        return parsed as T;
      }
      const problem = parseProblem(response.status, text);
      this.options.onAttempt?.({ ...record, outcome: 'problem', status: response.status, code: problem.code });
      const retryable = problem.retryable || response.status === 503 || response.status === 429;
      const waitMs = retryAfterMs(response.headers.get('retry-after'), Date.now()) ?? (problem.retry_after_s !== undefined ? problem.retry_after_s * 1000 : null);
      if (!retryable || attempt >= policy.maxAttempts || (waitMs !== null && waitMs > policy.retryAfterMaxMs)) {
        throw new HoldfastError(problem, { ...details, attempts: attempt });
      }
      const backoff = backoffDelayMs(policy, attempt, this.options.random);
      await sleep(waitMs === null ? backoff : waitMs + Math.round(this.options.random() * 250), spec.signal);
    }
  }

  private url(spec: RequestSpec): string {
    let url = `${this.options.baseUrl.replace(/\/+$/, '')}${spec.path}`;
    const query = Object.entries(spec.query ?? {}).filter((entry): entry is [string, string | number | boolean] => entry[1] !== undefined);
    if (query.length > 0) url += `?${query.map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(String(value))}`).join('&')}`;
    return url;
  }

  private sampleClock(body: unknown, sentAt: number, receivedAt: number): void {
    if (typeof body !== 'object' || body === null) return;
    const serverTime = (body as { server_time_ms?: unknown }).server_time_ms;
    if (typeof serverTime === 'number') this.options.clock.addSample(serverTime, sentAt, receivedAt);
  }
}

function parseProblem(status: number, text: string): Problem {
  try {
    const body = JSON.parse(text) as unknown;
    if (isProblem(body)) return body;
  } catch {
    // not JSON: a proxy's page or an empty body
  }
  return problemFromStatus(status, text.slice(0, 200) || `HTTP ${status}`);
}

function errorMessage(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    return cause instanceof Error ? `${error.message} (${cause.message})` : error.message;
  }
  return String(error);
}

/** An AbortSignal that fires after `ms` or when `outer` fires. */
function withTimeout(ms: number, outer: AbortSignal | undefined): { signal: AbortSignal; clear: () => void; timedOut: () => boolean } {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, ms);
  const onOuter = (): void => controller.abort();
  if (outer?.aborted) controller.abort();
  else outer?.addEventListener('abort', onOuter, { once: true });
  return {
    signal: controller.signal,
    clear: () => {
      clearTimeout(timer);
      outer?.removeEventListener('abort', onOuter);
    },
    timedOut: () => timedOut,
  };
}

export { defaultRetryPolicy };
