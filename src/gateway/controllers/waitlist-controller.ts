import { fingerprintOf, scopeIdempotencyKey } from '../../actors/idempotency.js';
import type { ShowRouter } from '../../actors/show-router.js';
import type { WaitlistEntryView } from '../../actors/messages.js';
import { ApiError } from '../../protocol/api-error.js';
import { ShowIdParam } from '../../protocol/hold-schemas.js';
import { JoinWaitlistRequest, type WaitlistEntryResponse } from '../../protocol/waitlist-schemas.js';
import { parseInput } from '../../protocol/validate.js';
import { randomId } from '../../shared/ids.js';
import { requireUser, type Caller } from '../auth/sessions.js';
import type { RateLimits } from '../rate-limits.js';
import { requireIdempotencyKey, type ApiOk } from './hold-controller.js';

/** Joining and leaving a show's waitlist; offers arrive as holds pushed to the fan. */
export class WaitlistController {
  constructor(private readonly deps: { router: ShowRouter; rateLimits: RateLimits }) {}

  async join(caller: Caller, showIdInput: unknown, bodyInput: unknown, keyInput: unknown): Promise<ApiOk<WaitlistEntryResponse>> {
    const userId = requireUser(caller);
    const showId = parseInput(ShowIdParam, showIdInput, 'show id');
    const key = requireIdempotencyKey(keyInput);
    const body = parseInput(JoinWaitlistRequest, bodyInput, 'waitlist request');
    await this.deps.rateLimits.checkUser(userId);
    const reply = await this.deps.router.submit(showId, {
      command: { type: 'join_waitlist', userId, entryId: `w${randomId(20)}`, partySize: body.party_size, ...(body.tier ? { tierId: body.tier } : {}) },
      scopedKey: scopeIdempotencyKey(userId, key),
      fingerprint: fingerprintOf({ op: 'join_waitlist', showId, body }),
    });
    if (!reply.ok) throw new ApiError(reply.code, reply.detail);
    return { status: 201, body: renderEntry(reply.waitlist!) };
  }

  async leave(caller: Caller, showIdInput: unknown): Promise<ApiOk<{ show_id: string; left: true }>> {
    const userId = requireUser(caller);
    const showId = parseInput(ShowIdParam, showIdInput, 'show id');
    const reply = await this.deps.router.submit(showId, {
      command: { type: 'leave_waitlist', userId },
      scopedKey: scopeIdempotencyKey(userId, `leave-waitlist:${showId}:${randomId(8)}`),
      fingerprint: fingerprintOf({ op: 'leave_waitlist', showId }),
    });
    if (!reply.ok) throw new ApiError(reply.code, reply.detail);
    return { status: 200, body: { show_id: showId, left: true } };
  }
}

function renderEntry(entry: WaitlistEntryView): WaitlistEntryResponse {
  return { entry_id: entry.entryId, show_id: entry.showId, user_id: entry.userId, party_size: entry.partySize, tier: entry.tierId, position: entry.position };
}
