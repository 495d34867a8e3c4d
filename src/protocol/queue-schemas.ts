import { z } from 'zod';

export const JoinQueueRequest = z.strictObject({
  pow_challenge: z.string().max(1024).optional().describe('The challenge from GET /v1/shows/{id}/queue/challenge, when the show asks for proof of work'),
  pow_nonce: z.string().max(64).optional().describe('A nonce such that sha256(challenge + ":" + nonce) has the required leading zero bits'),
});

export const QueueStatusResponse = z.object({
  ticket: z.string().describe('Signed queue ticket; keep it: joining again returns the same place'),
  show_id: z.string(),
  phase: z.enum(['pre_queue', 'queued', 'admitted']).describe('pre_queue: order drawn at on-sale; queued: waiting; admitted: admission_token is set'),
  number: z.number().int().nullable().describe('Place in line; null until the pre-queue lottery is drawn'),
  position: z.number().int().nullable().describe('Fans ahead of you, plus one; 0 once admitted'),
  eta_s: z.number().int().nullable().describe('Estimated seconds to admission at the current rate'),
  serving: z.number().int().describe('Tickets with a number below this are admitted'),
  rate: z.number().describe('Admissions per second lately'),
  admission_token: z.string().nullable().describe('Send as the Admission-Token header (socket: admission_token) when holding'),
  admission_expires_at_ms: z.number().int().nullable(),
  server_time_ms: z.number().int(),
});

export const ChallengeResponse = z.object({
  challenge: z.string(),
  difficulty: z.number().int().describe('Leading zero bits required; 0 means no work needed'),
});

export const QueueControlRequest = z.strictObject({
  paused: z.boolean().optional(),
  rate_per_s: z.number().min(0.1).max(100_000).optional(),
  mode: z.enum(['fixed', 'adaptive']).optional(),
});

export const QueueStatsResponse = z.object({
  show_id: z.string(),
  mode: z.enum(['fixed', 'adaptive']),
  paused: z.boolean(),
  rate_per_s: z.number(),
  measured_rate_per_s: z.number(),
  active_cap: z.number().int(),
  serving: z.number().int(),
  pre_count: z.number().int(),
  post_count: z.number().int(),
  queue_length: z.number().int(),
  admitted: z.number().int(),
  active_holds: z.number().int(),
  on_sale_at: z.string(),
});

export const TicketParam = z.string().min(10).max(2048).regex(/^qtk\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/, 'not a queue ticket');
