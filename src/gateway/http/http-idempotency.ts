import { fingerprintOf } from '../../actors/idempotency.js';
import { ApiError } from '../../protocol/api-error.js';
import type { SqlDatabase } from '../../persistence/database.js';
import { requireIdempotencyKey } from '../controllers/hold-controller.js';
import { problemResponse, type HttpRequest, type HttpResponse } from './uws-http.js';

/**
 * Exactly-once REST calls outside the show actors (organizer creates, orders): the first call
 * with a key claims a row, does the work and stores its status and body; a retry gets them back;
 * the same key with another body gets `idempotency_key_reused`; a retry while the first is still
 * running gets `request_in_progress` (retryable). Unexpected failures free the key for a retry.
 */
export class HttpIdempotency {
  /** Requests running in this process, so a mashed button's duplicates wait for the first. */
  private readonly running = new Map<string, Promise<unknown>>();

  constructor(
    private readonly db: SqlDatabase,
    private readonly waitForFirstMs = 15_000,
    /**
     * A claim still without a reply this long after it was taken belongs to a process that died
     * mid-request (kill -9, a crash): the same request with the same key may take it over, or the
     * key would read "in progress" forever. Longer than any request may legitimately run.
     */
    private readonly claimLeaseMs = 60_000,
  ) {}

  async run(scope: string, operation: string, request: HttpRequest, work: () => Promise<HttpResponse>): Promise<HttpResponse> {
    const key = requireIdempotencyKey(request.headers['idempotency-key']);
    const fingerprint = fingerprintOf({ operation, params: request.params, body: request.body ?? null });
    const runningKey = `${scope}\u001f${key}`;
    for (;;) {
      const first = this.running.get(runningKey);
      if (first === undefined) break;
      await first.catch(() => undefined);
    }
    const attempt = this.attempt(scope, key, operation, fingerprint, work);
    this.running.set(runningKey, attempt);
    try {
      return await attempt;
    } finally {
      if (this.running.get(runningKey) === attempt) this.running.delete(runningKey);
    }
  }

  private async attempt(scope: string, key: string, operation: string, fingerprint: string, work: () => Promise<HttpResponse>): Promise<HttpResponse> {
    const free = (): Promise<unknown> => this.db.query('delete from http_idempotency where scope = $1 and idempotency_key = $2 and status is null', [scope, key]);
    let claimed: { rowCount: number };
    try {
      // A new key is claimed; so is the same request's key whose claim was abandoned (no reply past
      // the lease: its process died mid-request). Anything else conflicts and is replayed.
      claimed = await this.db.query(
        `insert into http_idempotency (scope, idempotency_key, operation, fingerprint) values ($1, $2, $3, $4)
         on conflict (scope, idempotency_key) do update set created_at = now()
           where http_idempotency.status is null and http_idempotency.fingerprint = excluded.fingerprint
             and http_idempotency.created_at < now() - make_interval(secs => $5::double precision / 1000)`,
        [scope, key, operation, fingerprint, this.claimLeaseMs],
      );
    } catch (error) {
      // The claim may have landed with its acknowledgement lost: free it, or the key stays "in progress".
      await this.settleClaim(free);
      throw error;
    }
    if (claimed.rowCount === 0) return this.replay(scope, key, fingerprint);
    let response: HttpResponse;
    try {
      response = await work();
    } catch (error) {
      if (!(error instanceof ApiError) || error.toProblem().retryable) {
        await this.settleClaim(free);
        throw error;
      }
      response = problemResponse(error.toProblem());
    }
    await this.settleClaim(() =>
      this.db.query(
        'update http_idempotency set status = $3, body = $4, completed_at = now() where scope = $1 and idempotency_key = $2',
        [scope, key, response.status, JSON.stringify({ headers: response.headers ?? {}, body: response.body ?? null })],
      ),
    );
    return response;
  }

  /**
   * The claim's last write: store the reply, or free the key. If the database fails it (a dropped
   * connection, a restart), the key would read "in progress" to every retry forever; so it is
   * retried in the background until it lands, and the caller gets its answer meanwhile.
   */
  private async settleClaim(write: () => Promise<unknown>): Promise<void> {
    try {
      await write();
    } catch {
      void (async () => {
        // About a quarter of an hour at most (then the process is surely shutting down or the database gone for good).
        for (let attempt = 0, delayMs = 100; attempt < 200; attempt += 1, delayMs = Math.min(5_000, delayMs * 2)) {
          await new Promise((resolve) => setTimeout(resolve, delayMs).unref());
          try {
            await write();
            return;
          } catch {
            // the database is still away: try again
          }
        }
      })();
    }
  }

  /** Another process may hold the key: wait a while for its stored reply before saying "in progress". */
  private async replay(scope: string, key: string, fingerprint: string): Promise<HttpResponse> {
    const deadline = Date.now() + this.waitForFirstMs;
    for (;;) {
      try {
        return await this.storedReply(scope, key, fingerprint);
      } catch (error) {
        if (!(error instanceof ApiError) || error.code !== 'request_in_progress' || Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  }

  private async storedReply(scope: string, key: string, fingerprint: string): Promise<HttpResponse> {
    const { rows } = await this.db.query<{ fingerprint: string; status: number | null; body: { headers: Record<string, string>; body: unknown } | string | null }>(
      'select fingerprint, status, body from http_idempotency where scope = $1 and idempotency_key = $2',
      [scope, key],
    );
    const row = rows[0];
    if (row === undefined) throw new ApiError('request_in_progress', 'the first request with this key failed; retry');
    if (row.fingerprint !== fingerprint) throw new ApiError('idempotency_key_reused', 'this Idempotency-Key was already used with a different request');
    if (row.status === null || row.body === null) throw new ApiError('request_in_progress', 'the first request with this key is still running; retry shortly');
    const stored = typeof row.body === 'string' ? (JSON.parse(row.body) as { headers: Record<string, string>; body: unknown }) : row.body;
    return { status: Number(row.status), headers: stored.headers, body: stored.body };
  }
}
