import { z } from 'zod';
import { JoinWaitlistRequest, WaitlistEntryResponse } from '../../protocol/waitlist-schemas.js';
import type { Sessions } from '../auth/sessions.js';
import type { WaitlistController } from '../controllers/waitlist-controller.js';
import type { Api } from '../http/api.js';

export function registerWaitlistRoutes(api: Api, waitlist: WaitlistController, sessions: Sessions): void {
  api.route(
    {
      method: 'post', path: '/v1/shows/{id}/waitlist', tag: 'waitlist', auth: 'user', idempotencyKey: 'required', status: 201,
      summary: 'Join the waitlist of a sold-out show: returned seats are offered as a hold pushed over the socket (waitlist:offer)',
      body: JoinWaitlistRequest, response: WaitlistEntryResponse, errors: ['unauthorized', 'not_found', 'seats_available', 'idempotency_key_missing', 'idempotency_key_reused', 'overloaded'],
    },
    async (request) => waitlist.join(sessions.authenticate(request.headers['authorization']), request.params['id'], request.body, request.headers['idempotency-key']),
  );
  api.route(
    { method: 'delete', path: '/v1/shows/{id}/waitlist', tag: 'waitlist', auth: 'user', status: 200, summary: 'Leave the waitlist', response: z.object({ show_id: z.string(), left: z.literal(true) }), errors: ['unauthorized', 'not_found'] },
    async (request) => waitlist.leave(sessions.authenticate(request.headers['authorization']), request.params['id']),
  );
}
