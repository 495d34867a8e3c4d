import { z } from 'zod';

/**
 * `GET /v1/ops/status`: what the ops page shows. Per-show figures come from the actors of the
 * worker that owns the show; a show no worker has active right now has `active: false` and
 * null figures. A multi-worker deployment answers with every worker's view (the sharding layer
 * supplies the status function), a single process with its own.
 */
export const OpsWorker = z.object({
  worker_id: z.string(),
  pid: z.number().int().nullable().describe('Process id, when known'),
  shows: z.array(z.string()).describe('Shows whose actor is active on this worker'),
  healthy: z.boolean().describe('Answering (heartbeats, or this very request)'),
  draining: z.boolean().describe('Ops drained it: it keeps only its pinned shows'),
});

export const OpsQueue = z.object({
  enabled: z.boolean(),
  waiting: z.number().int().describe('Fans in line not admitted yet'),
  serving: z.number().int().describe('Serving counter: tickets numbered below it are admitted'),
  paused: z.boolean(),
  rate_per_s: z.number().describe('Admissions per second configured'),
});

export const OpsShow = z.object({
  show_id: z.string(),
  owner_worker_id: z.string().nullable().describe('Worker that owns the show (null: nobody has it active)'),
  active: z.boolean().describe('The show actor is in memory and serving'),
  version: z.number().int().nullable().describe('Committed seat-map version (null when not active)'),
  claims_per_s: z.number().describe('Commands decided per second over the last 10 s (holds, releases, confirmations)'),
  active_holds: z.number().int().nullable().describe('Holds alive (held or pinned for payment)'),
  items_available: z.number().int().nullable().describe('Seats and pool units still available'),
  mailbox_depth: z.number().int().nullable().describe('Commands waiting for the next batch'),
  watchers: z.number().int().nullable().describe('Live seat-map subscriptions in the owning process'),
  queue: OpsQueue.nullable().describe('The waiting room, or null when the show has none'),
});

export const OpsJournal = z.object({
  commit_p50_ms: z.number().nullable().describe('Group-commit latency, median over the last minute (null: no commit)'),
  commit_p99_ms: z.number().nullable(),
  batch_size_p50: z.number().nullable().describe('Commands per group commit, median over the last minute'),
  batch_size_p99: z.number().nullable(),
  batches_total: z.number().int().describe('Group commits since this process started'),
  window_s: z.number().describe('Length of the window the percentiles cover'),
});

export const OpsStatusResponse = z
  .object({
    generated_at_ms: z.number().int(),
    workers: z.array(OpsWorker),
    shows: z.array(OpsShow),
    /** Whether move/pin/drain apply (several workers): the ops page shows those actions only then. */
    sharded: z.boolean().describe('Several workers: shows can be moved and workers drained (POST /v1/ops/shows/{id}/move, /v1/ops/workers/{id}/drain)'),
    journal: OpsJournal,
  })
  .describe('Workers, per-show throughput, holds, queues and journal commit figures');

export type OpsStatus = z.infer<typeof OpsStatusResponse>;
export type OpsShowStatus = z.infer<typeof OpsShow>;
export type OpsJournalStatus = z.infer<typeof OpsJournal>;
