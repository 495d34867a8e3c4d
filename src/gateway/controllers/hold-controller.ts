import type { AdmissionGate } from '../../admission/admission-gate.js';
import type { CommandEnvelope } from '../../actors/decide-batch.js';
import { fingerprintOf, scopeIdempotencyKey } from '../../actors/idempotency.js';
import type { HoldRequest, HoldView, ShowReply } from '../../actors/messages.js';
import type { ShowRouter } from '../../actors/show-router.js';
import { ApiError, problemOf, type Problem, type ProblemExtra } from '../../protocol/api-error.js';
import { ExtendHoldBody, HoldIdParam, HoldRequestBody, IdempotencyKeyHeader, ShowIdParam, type HoldResponse } from '../../protocol/hold-schemas.js';
import { parseInput } from '../../protocol/validate.js';
import type { Clock } from '../../shared/clock.js';
import { newHoldId, showIdOfHold } from '../../shared/ids.js';
import { requireUser, type Caller } from '../auth/sessions.js';
import { channelKeyHash } from '../../catalog/show-builder.js';
import type { RateLimits } from '../rate-limits.js';

export interface ApiOk<Body> {
  status: number;
  body: Body;
}

type ShowRefusal = Extract<ShowReply, { ok: false }>;

/** A hold attempt answered: the hold, or the show's refusal (see answerPlace). */
export type HoldAnswer = { ok: true; data: HoldResponse } | { ok: false; refusal: ShowRefusal };

export interface HoldControllerDeps {
  router: ShowRouter;
  admission: AdmissionGate;
  rateLimits: RateLimits;
  clock: Clock;
}

/**
 * The hold use cases, transport-agnostic: REST and socket adapters both call these and
 * render the result (or the thrown ApiError) in their own way.
 */
export class HoldController {
  constructor(private readonly deps: HoldControllerDeps) {}

  async place(caller: Caller, showIdInput: unknown, bodyInput: unknown, idempotencyKeyInput: unknown, admissionToken: string | undefined): Promise<ApiOk<HoldResponse>> {
    const answer = await this.answerPlace(caller, showIdInput, bodyInput, idempotencyKeyInput, admissionToken);
    if (answer.ok) return { status: 201, body: answer.data };
    throw refusalError(answer.refusal);
  }

  /**
   * place(), with the show's refusal (seats taken, limits reached) returned rather than thrown.
   * Under contention most attempts end in a refusal, and a throw travelling through the async
   * frames up to the transport cost more than the refusal itself; the socket path answers from
   * this. Bad input, rate limits and admission still throw ApiError, as everywhere.
   */
  async answerPlace(caller: Caller, showIdInput: unknown, bodyInput: unknown, idempotencyKeyInput: unknown, admissionToken: string | undefined): Promise<HoldAnswer> {
    const userId = requireUser(caller);
    const showId = parseInput(ShowIdParam, showIdInput, 'show id');
    const key = requireIdempotencyKey(idempotencyKeyInput);
    const body = parseInput(HoldRequestBody, bodyInput, 'hold request');
    await this.deps.rateLimits.checkUser(userId);
    await this.deps.admission.checkAdmitted(userId, showId, admissionToken);
    const request = toHoldRequest(body);
    const envelope: CommandEnvelope = {
      command: { type: 'place_hold', userId, holdId: newHoldId(showId), request, ...(body.channel_key ? { channelKeyHash: channelKeyHash(body.channel_key) } : {}) },
      scopedKey: scopeIdempotencyKey(userId, key),
      fingerprint: fingerprintOf({ op: 'place_hold', showId, body }),
    };
    const reply = await this.deps.router.submit(showId, envelope);
    return reply.ok ? { ok: true, data: this.render(reply) } : { ok: false, refusal: reply };
  }

  async get(caller: Caller, holdIdInput: unknown): Promise<ApiOk<HoldResponse>> {
    const userId = requireUser(caller);
    const { holdId, showId } = parseHoldId(holdIdInput);
    const hold = await this.deps.router.getHold(showId, holdId);
    if (hold === null || hold.userId !== userId) throw new ApiError('hold_not_found', `no hold ${holdId} of yours`);
    return { status: 200, body: this.renderView(hold, undefined, this.deps.clock.nowMs()) };
  }

  async release(caller: Caller, holdIdInput: unknown, idempotencyKeyInput: unknown): Promise<ApiOk<HoldResponse>> {
    const userId = requireUser(caller);
    const { holdId, showId } = parseHoldId(holdIdInput);
    // DELETE is idempotent by nature: without a key, the hold id itself is the key.
    const key = idempotencyKeyInput === undefined ? `release:${holdId}` : requireIdempotencyKey(idempotencyKeyInput);
    await this.deps.rateLimits.checkUser(userId);
    const reply = await this.deps.router.submit(showId, {
      command: { type: 'release_hold', userId, holdId },
      scopedKey: scopeIdempotencyKey(userId, key),
      fingerprint: fingerprintOf({ op: 'release_hold', holdId }),
    });
    return { status: 200, body: this.render(unwrap(reply)) };
  }

  async extend(caller: Caller, holdIdInput: unknown, idempotencyKeyInput: unknown, bodyInput: unknown = undefined): Promise<ApiOk<HoldResponse>> {
    const userId = requireUser(caller);
    if (bodyInput !== undefined) parseInput(ExtendHoldBody, bodyInput, 'extend request');
    const { holdId, showId } = parseHoldId(holdIdInput);
    const key = requireIdempotencyKey(idempotencyKeyInput);
    await this.deps.rateLimits.checkUser(userId);
    const reply = await this.deps.router.submit(showId, {
      command: { type: 'extend_hold', userId, holdId },
      scopedKey: scopeIdempotencyKey(userId, key),
      fingerprint: fingerprintOf({ op: 'extend_hold', holdId }),
    });
    return { status: 200, body: this.render(unwrap(reply)) };
  }

  private render(reply: { hold?: HoldView; version: number; decidedAtMs?: number }): HoldResponse {
    if (reply.hold === undefined) throw new Error('hold reply without a hold');
    return this.renderView(reply.hold, reply.version, reply.decidedAtMs ?? this.deps.clock.nowMs());
  }

  private renderView(hold: HoldView, version: number | undefined, serverTimeMs: number): HoldResponse {
    return {
      hold_id: hold.holdId,
      show_id: hold.showId,
      user_id: hold.userId,
      status: hold.status,
      seat_ids: hold.seats,
      ga: hold.pools.map((pool) => ({ section_id: pool.poolId, quantity: pool.quantity })),
      expires_at_ms: hold.expiresAtMs,
      server_time_ms: serverTimeMs,
      total_cents: hold.totalCents,
      currency: hold.currency,
      version: version ?? 0,
      extensions_left: hold.extensionsLeft,
      order_id: hold.orderId,
      split: hold.split,
    };
  }
}

export function requireIdempotencyKey(value: unknown): string {
  if (value === undefined || value === '') throw new ApiError('idempotency_key_missing', 'send an Idempotency-Key header (a fresh random value per intent, reused on retries)');
  return parseInput(IdempotencyKeyHeader, value, 'Idempotency-Key');
}

function parseHoldId(value: unknown): { holdId: string; showId: string } {
  const holdId = parseInput(HoldIdParam, value, 'hold id');
  const showId = showIdOfHold(holdId);
  if (showId === null) throw new ApiError('validation_failed', 'not a hold id');
  return { holdId, showId };
}

function unwrap(reply: ShowReply): Extract<ShowReply, { ok: true }> {
  if (reply.ok) return reply;
  throw refusalError(reply);
}

/** The show's refusal as the ApiError a service throws. */
function refusalError(refusal: ShowRefusal): ApiError {
  return new ApiError(refusal.code, refusal.detail, refusalExtra(refusal));
}

/** The show's refusal as the problem an ack carries: what refusalError(refusal).toProblem() gives, without the error. */
export function refusalProblem(refusal: ShowRefusal): Problem {
  return problemOf(refusal.code, refusal.detail, refusalExtra(refusal));
}

function refusalExtra(refusal: ShowRefusal): ProblemExtra {
  return { ...(refusal.seats ? { seats: refusal.seats } : {}), ...(refusal.pools ? { pools: refusal.pools } : {}) };
}

function toHoldRequest(body: HoldRequestBody): HoldRequest {
  const request: HoldRequest = {};
  if (body.seat_ids) request.seats = body.seat_ids;
  const pools = [...(body.ga ?? []).map((entry) => ({ poolId: entry.section_id, quantity: entry.quantity })), ...(body.pools ?? []).map((entry) => ({ poolId: entry.pool_id, quantity: entry.quantity }))];
  if (pools.length > 0) request.pools = pools;
  if (body.best_available) request.bestAvailable = { quantity: body.best_available.quantity, ...(body.best_available.tier ? { tierId: body.best_available.tier } : {}) };
  return request;
}
