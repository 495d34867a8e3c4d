import { z } from 'zod';

const itemId = z.string().min(1).max(80).regex(/^[A-Za-z0-9_@:.-]+$/, 'letters, digits and _ @ : . - only');
const quantity = z.number().int().min(1).max(50);

export const HoldRequestBody = z
  .strictObject({
    seat_ids: z.array(itemId).min(1).max(50).optional().describe('Specific seats, as `section:row:seat` ids from the seat map'),
    ga: z
      .array(z.strictObject({ section_id: itemId.describe('General-admission area (or any pool) id'), quantity }))
      .min(1)
      .max(20)
      .optional()
      .describe('Quantities from general-admission areas'),
    pools: z
      .array(z.strictObject({ pool_id: itemId.describe('Pool id, e.g. `deluxe@2026-12-01` for a room-night'), quantity }))
      .min(1)
      .max(40)
      .optional()
      .describe('Quantities from pools (room-nights: a multi-night stay lists one pool per night)'),
    best_available: z
      .strictObject({ quantity, tier: itemId.optional().describe('Price tier id; omitted: the cheapest tier with enough seats') })
      .optional()
      .describe('Let the server choose the best seats, side by side when possible'),
    channel_key: z.string().min(6).max(128).optional().describe('A presale code: unlocks the seats and pool units set aside for its channel'),
  })
  .describe('Exactly one of: seat_ids and/or ga/pools, or best_available. All or nothing.');
export type HoldRequestBody = z.infer<typeof HoldRequestBody>;

export const HoldResponse = z
  .object({
    hold_id: z.string().describe('Hold id; carries its show id'),
    show_id: z.string(),
    user_id: z.string(),
    status: z.enum(['held', 'pinned', 'sold']).describe('held: yours until expires_at_ms; pinned: reserved for a pending order; sold'),
    seat_ids: z.array(z.string()),
    ga: z.array(z.object({ section_id: z.string(), quantity: z.number().int() })).describe('Pool quantities (general admission or room-nights)'),
    expires_at_ms: z.number().int().describe('When the hold ends by itself (server clock, ms since epoch)'),
    server_time_ms: z.number().int().describe('Server clock when this reply was produced; use it to show a countdown'),
    total_cents: z.number().int(),
    currency: z.string(),
    version: z.number().int().describe('Seat-map version that includes this change'),
    extensions_left: z.number().int(),
    order_id: z.string().nullable(),
    split: z.boolean().describe('best_available could not seat the party together'),
  })
  .describe('A hold on seats and/or pool units');
export type HoldResponse = z.infer<typeof HoldResponse>;

export const IdempotencyKeyHeader = z.string().min(8).max(128).regex(/^[A-Za-z0-9_:.-]+$/, 'letters, digits and _ : . - only');

export const HoldIdParam = z.string().min(3).max(160).regex(/^[a-z0-9][a-z0-9-]{0,63}\.h[A-Za-z0-9]{8,64}$/, 'not a hold id');
export const ShowIdParam = z.string().min(1).max(64).regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'not a show id');

export const ExtendHoldBody = z.strictObject({}).describe('No fields: the extension length is the show\'s');
