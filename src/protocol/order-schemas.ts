import { z } from 'zod';

export const CreateOrderRequest = z.strictObject({
  hold_id: z.string().min(3).max(160).describe('The hold to buy; one order per hold, whatever the keys'),
});

export const ConfirmPaymentRequest = z.strictObject({
  card_number: z.string().regex(/^[0-9]{12,19}$/).optional().describe('Simulated provider: a test card number choosing the outcome (see the README)'),
  payment_method: z.string().min(3).max(255).optional().describe('Stripe: a payment method id (pm_…)'),
});

export const TicketView = z.object({
  ticket_id: z.string(),
  show_id: z.string(),
  seat_id: z.string().nullable(),
  pool_id: z.string().nullable(),
  status: z.enum(['valid', 'used', 'void']),
  token: z.string().describe('Signed ticket token, encoded in the QR code'),
  qr_png_url: z.string(),
  qr_svg_url: z.string(),
});

export const OrderResponse = z.object({
  order_id: z.string(),
  status: z.enum(['pending_payment', 'processing', 'confirmed', 'expired', 'refunded', 'failed']),
  hold_id: z.string(),
  show_id: z.string(),
  total_cents: z.number().int(),
  currency: z.string(),
  pay_by_ms: z.number().int().describe('The hold stays pinned for payment until then'),
  payment: z.object({ id: z.string().nullable(), provider: z.string(), client_secret: z.string().nullable() }),
  items: z.object({ seat_ids: z.array(z.string()), ga: z.array(z.object({ section_id: z.string(), quantity: z.number().int() })) }),
  tickets: z.array(TicketView),
  last_error: z.string().nullable(),
  created_at_ms: z.number().int(),
  confirmed_at_ms: z.number().int().nullable(),
});

export const ConfirmPaymentResponse = z.object({
  order_id: z.string(),
  status: z.enum(['confirmed', 'failed', 'processing', 'refunded']).describe('confirmed: seats sold, tickets issued; failed: declined, retry with another card; processing: the outcome comes later; refunded: captured after the hold was lost'),
  order: OrderResponse,
});

export const OrderListResponse = z.object({ items: z.array(OrderResponse), next_before_ms: z.number().int().nullable() });

export const VerifyTicketRequest = z.strictObject({ token: z.string().min(10).max(2048) });
export const VerifyTicketResponse = z.object({ result: z.literal('valid'), ticket_id: z.string(), show_id: z.string(), seat_id: z.string().nullable(), pool_id: z.string().nullable() });

export const TransferTicketRequest = z.strictObject({
  to_user_id: z.string().min(3).max(64).regex(/^[A-Za-z0-9_@.-]+$/).describe('The fan who receives the ticket'),
});
export const TransferTicketResponse = z.object({
  ticket_id: z.string(),
  holder_user_id: z.string(),
  history: z.array(z.object({ from_user_id: z.string(), to_user_id: z.string(), at_ms: z.number().int() })),
});
