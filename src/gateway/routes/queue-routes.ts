import type { QueueStatus, WaitingRoomService } from '../../admission/waiting-room.js';
import { ShowIdParam } from '../../protocol/hold-schemas.js';
import { ChallengeResponse, JoinQueueRequest, QueueControlRequest, QueueStatsResponse, QueueStatusResponse, TicketParam } from '../../protocol/queue-schemas.js';
import { parseInput } from '../../protocol/validate.js';
import { requireAdmin, requireUser, type Sessions } from '../auth/sessions.js';
import type { Api } from '../http/api.js';
import type { RateLimits } from '../rate-limits.js';

export function renderQueueStatus(status: QueueStatus): Record<string, unknown> {
  return {
    ticket: status.ticket,
    show_id: status.showId,
    phase: status.phase,
    number: status.number,
    position: status.position,
    eta_s: status.etaS,
    serving: status.serving,
    rate: status.ratePerS,
    admission_token: status.admissionToken,
    admission_expires_at_ms: status.admissionExpiresAtMs,
    server_time_ms: status.serverTimeMs,
  };
}

export function registerQueueRoutes(api: Api, deps: { room: WaitingRoomService; sessions: Sessions; rateLimits: RateLimits }): void {
  const { room, sessions, rateLimits } = deps;
  api.route(
    { method: 'get', path: '/v1/shows/{id}/queue/challenge', tag: 'waiting room', auth: 'user', status: 200, summary: 'A proof-of-work challenge for joining this show\'s queue', response: ChallengeResponse, errors: ['unauthorized', 'not_found'] },
    async (request) => {
      const userId = requireUser(sessions.authenticate(request.headers['authorization']));
      return { status: 200, body: await room.challenge(userId, parseInput(ShowIdParam, request.params['id'], 'show id')) };
    },
  );
  api.route(
    {
      method: 'post', path: '/v1/shows/{id}/queue', tag: 'waiting room', auth: 'user', status: 201, summary: 'Join the waiting room: a signed queue ticket (joining again returns the same ticket)',
      body: JoinQueueRequest, response: QueueStatusResponse, errors: ['unauthorized', 'not_found', 'proof_of_work_required', 'show_not_on_sale'],
    },
    async (request) => {
      const userId = requireUser(sessions.authenticate(request.headers['authorization']));
      const showId = parseInput(ShowIdParam, request.params['id'], 'show id');
      const body = parseInput(JoinQueueRequest, request.body === undefined ? {} : request.body, 'queue request');
      await rateLimits.checkUser(userId);
      const status = await room.join(userId, showId, { ...(body.pow_challenge ? { challenge: body.pow_challenge } : {}), ...(body.pow_nonce ? { nonce: body.pow_nonce } : {}) });
      return { status: 201, body: renderQueueStatus(status) };
    },
  );
  api.route(
    { method: 'get', path: '/v1/queue/{ticket}', tag: 'waiting room', auth: 'user', status: 200, summary: 'Position, ETA and, once admitted, the admission token', response: QueueStatusResponse, errors: ['unauthorized', 'forbidden', 'not_found'] },
    async (request) => {
      const userId = requireUser(sessions.authenticate(request.headers['authorization']));
      return { status: 200, body: renderQueueStatus(await room.status(userId, parseInput(TicketParam, request.params['ticket'], 'ticket'))) };
    },
  );
  api.route(
    { method: 'get', path: '/v1/ops/shows/{id}/queue', tag: 'ops', auth: 'admin', status: 200, summary: 'Queue length, serving counter, admitted and active-hold counts', response: QueueStatsResponse, errors: ['unauthorized', 'forbidden', 'not_found'] },
    async (request) => {
      requireAdmin(sessions.authenticate(request.headers['authorization']));
      return { status: 200, body: await room.stats(parseInput(ShowIdParam, request.params['id'], 'show id')) };
    },
  );
  api.route(
    { method: 'post', path: '/v1/ops/shows/{id}/queue', tag: 'ops', auth: 'admin', status: 200, summary: 'Pause or resume admission, change the rate or the mode', body: QueueControlRequest, response: QueueStatsResponse, errors: ['unauthorized', 'forbidden', 'not_found'] },
    async (request) => {
      requireAdmin(sessions.authenticate(request.headers['authorization']));
      const change = parseInput(QueueControlRequest, request.body === undefined ? {} : request.body, 'queue control');
      return {
        status: 200,
        body: await room.control(parseInput(ShowIdParam, request.params['id'], 'show id'), {
          ...(change.paused !== undefined ? { paused: change.paused } : {}),
          ...(change.rate_per_s !== undefined ? { ratePerS: change.rate_per_s } : {}),
          ...(change.mode !== undefined ? { mode: change.mode } : {}),
        }),
      };
    },
  );
}
