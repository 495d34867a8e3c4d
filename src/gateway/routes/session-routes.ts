import { z } from 'zod';
import { parseInput } from '../../protocol/validate.js';
import type { Sessions } from '../auth/sessions.js';
import type { Api } from '../http/api.js';

export const CreateSessionRequest = z.strictObject({
  user_id: z.string().min(3).max(64).regex(/^[A-Za-z0-9_@.-]+$/).optional().describe('Development sign-in: the user id to act as; omitted, a new one is made'),
});
export const SessionResponse = z.object({
  token: z.string().describe('Bearer token for the Authorization header and the socket handshake auth.token'),
  user_id: z.string(),
  expires_at_ms: z.number().int(),
});

export function registerSessionRoutes(api: Api, sessions: Sessions): void {
  api.route(
    {
      method: 'post', path: '/v1/sessions', tag: 'sessions', auth: 'none', status: 201,
      summary: 'Sign in (development identity provider; the token verification is real)',
      body: CreateSessionRequest, response: SessionResponse, errors: [],
    },
    async (request) => {
      const body = parseInput(CreateSessionRequest, request.body === undefined ? {} : request.body, 'session request');
      const session = sessions.issue(body.user_id);
      return { status: 201, body: { token: session.token, user_id: session.userId, expires_at_ms: session.expiresAtMs } };
    },
  );
}
