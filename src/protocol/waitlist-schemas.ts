import { z } from 'zod';

export const JoinWaitlistRequest = z.strictObject({
  party_size: z.number().int().min(1).max(50).describe('Seats wanted side by side; an offer is never split'),
  tier: z.string().min(1).max(80).optional().describe('Only seats of this price tier'),
});

export const WaitlistEntryResponse = z.object({
  entry_id: z.string(),
  show_id: z.string(),
  user_id: z.string(),
  party_size: z.number().int(),
  tier: z.string().nullable(),
  position: z.number().int().describe('Fans ahead of you, plus one'),
});
export type WaitlistEntryResponse = z.infer<typeof WaitlistEntryResponse>;
