import type { Clock } from '../../shared/clock.js';
import { randomId } from '../../shared/ids.js';
import { constantTimeEquals, type TokenSigner } from '../../shared/signed-tokens.js';
import { ApiError } from '../../protocol/api-error.js';

/** Who is calling: a signed-in fan, the organizer/ops admin, or nobody. */
export type Caller = { kind: 'user'; userId: string } | { kind: 'admin' } | { kind: 'anonymous' };

interface SessionClaims {
  sub: string;
  exp: number;
}

/**
 * Development sign-in with real verification: `POST /v1/sessions` issues an HMAC-signed bearer
 * token for a user id. A production identity provider replaces `issue`, not `authenticate`'s contract.
 */
export class Sessions {
  constructor(
    private readonly signer: TokenSigner,
    private readonly clock: Clock,
    private readonly ttlMs: number,
    private readonly adminToken: string,
  ) {}

  issue(userId: string | undefined): { token: string; userId: string; expiresAtMs: number } {
    const id = userId ?? `fan-${randomId(12)}`;
    const expiresAtMs = this.clock.nowMs() + this.ttlMs;
    return { token: this.signer.sign('ses', { sub: id, exp: expiresAtMs }), userId: id, expiresAtMs };
  }

  /** Reads `Authorization: Bearer …` (or a socket handshake token). A present but invalid token is an error, not anonymity. */
  authenticate(bearer: string | undefined): Caller {
    if (bearer === undefined || bearer === '') return { kind: 'anonymous' };
    const token = bearer.startsWith('Bearer ') ? bearer.slice(7).trim() : bearer.trim();
    if (constantTimeEquals(token, this.adminToken)) return { kind: 'admin' };
    const claims = this.signer.verify<SessionClaims>('ses', token, this.clock.nowMs());
    if (claims === null || typeof claims.sub !== 'string') throw new ApiError('unauthorized', 'the bearer token is invalid or expired');
    return { kind: 'user', userId: claims.sub };
  }
}

export function requireUser(caller: Caller): string {
  if (caller.kind === 'user') return caller.userId;
  if (caller.kind === 'admin') throw new ApiError('forbidden', 'use a fan session for this call, not the admin token');
  throw new ApiError('unauthorized', 'sign in first: POST /v1/sessions');
}

export function requireAdmin(caller: Caller): void {
  if (caller.kind === 'admin') return;
  throw new ApiError(caller.kind === 'anonymous' ? 'unauthorized' : 'forbidden', 'this call needs the admin token');
}
