import { describe, expectTypeOf, it } from 'vitest';
import type { z } from 'zod';
import type { AvailabilityResponse, SeatMapResponse } from '../../src/gateway/routes/catalog-routes.js';
import type { SessionResponse } from '../../src/gateway/routes/session-routes.js';
import type { HoldResponse as ServerHoldResponse } from '../../src/protocol/hold-schemas.js';
import type { ResultCode as ServerResultCode } from '../../src/protocol/result-codes.js';
import type { AvailabilityView, HoldfastError, HoldResponse, ResultCode, SeatMapView, SessionView } from '../../client-sdk/src/index.js';

/**
 * The SDK's wire types are the server's. Most are imported from src/protocol; the three reply
 * shapes whose schemas live in the gateway are restated in client-sdk/src/gateway-types.ts, and
 * these assertions make `npm run typecheck` fail the moment they drift from the gateway's schemas.
 */
describe('SDK wire types equal the server definitions', () => {
  it('restated gateway replies match their zod schemas exactly', () => {
    expectTypeOf<SessionView>().toEqualTypeOf<z.output<typeof SessionResponse>>();
    expectTypeOf<AvailabilityView>().toEqualTypeOf<z.output<typeof AvailabilityResponse>>();
    expectTypeOf<SeatMapView['availability']>().toEqualTypeOf<z.output<typeof SeatMapResponse>['availability']>();
    expectTypeOf<SeatMapView>().toEqualTypeOf<z.output<typeof SeatMapResponse>>();
  });

  it('protocol types are re-exported, not copied', () => {
    expectTypeOf<HoldResponse>().toEqualTypeOf<ServerHoldResponse>();
    expectTypeOf<ResultCode>().toEqualTypeOf<ServerResultCode>();
    expectTypeOf<HoldfastError['code']>().toEqualTypeOf<ServerResultCode>();
  });
});
