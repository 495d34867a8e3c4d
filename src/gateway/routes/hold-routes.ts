import { ExtendHoldBody, HoldRequestBody, HoldResponse } from '../../protocol/hold-schemas.js';
import type { Sessions } from '../auth/sessions.js';
import type { HoldController } from '../controllers/hold-controller.js';
import type { Api } from '../http/api.js';

export function registerHoldRoutes(api: Api, holds: HoldController, sessions: Sessions): void {
  api.route(
    {
      method: 'post', path: '/v1/shows/{id}/holds', tag: 'holds', auth: 'user', idempotencyKey: 'required', status: 201,
      summary: 'Hold seats, pool quantities or best-available seats, all or nothing, until expires_at_ms',
      body: HoldRequestBody, response: HoldResponse,
      errors: ['unauthorized', 'forbidden', 'admission_required', 'idempotency_key_missing', 'idempotency_key_reused', 'show_not_on_sale', 'unknown_seat', 'unknown_pool', 'hold_too_large', 'too_many_holds', 'seat_unavailable', 'pool_unavailable', 'sold_out', 'not_found', 'overloaded'],
    },
    async (request) => holds.place(sessions.authenticate(request.headers['authorization']), request.params['id'], request.body, request.headers['idempotency-key'], request.headers['admission-token']),
  );
  api.route(
    { method: 'get', path: '/v1/holds/{id}', tag: 'holds', auth: 'user', status: 200, summary: 'One of your holds', response: HoldResponse, errors: ['unauthorized', 'hold_not_found'] },
    async (request) => holds.get(sessions.authenticate(request.headers['authorization']), request.params['id']),
  );
  api.route(
    {
      method: 'delete', path: '/v1/holds/{id}', tag: 'holds', auth: 'user', idempotencyKey: 'optional', status: 200,
      summary: 'Release a hold: its items return to sale at once', response: HoldResponse,
      errors: ['unauthorized', 'forbidden', 'hold_not_found', 'hold_expired', 'hold_not_active', 'idempotency_key_reused'],
    },
    async (request) => holds.release(sessions.authenticate(request.headers['authorization']), request.params['id'], request.headers['idempotency-key']),
  );
  api.route(
    {
      method: 'post', path: '/v1/holds/{id}/extend', tag: 'holds', auth: 'user', idempotencyKey: 'required', status: 200,
      summary: 'Extend a hold (a bounded number of times per show)', body: ExtendHoldBody, response: HoldResponse,
      errors: ['unauthorized', 'forbidden', 'hold_not_found', 'hold_expired', 'hold_not_active', 'extension_limit_reached', 'idempotency_key_missing', 'idempotency_key_reused'],
    },
    async (request) => holds.extend(sessions.authenticate(request.headers['authorization']), request.params['id'], request.headers['idempotency-key'], request.body),
  );
}
