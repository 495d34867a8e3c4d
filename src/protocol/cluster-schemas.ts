import { z } from 'zod';

export const WorkerIdParam = z.string().min(1).max(128).regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'not a worker id');

export const MoveShowRequest = z.strictObject({
  worker_id: WorkerIdParam.describe('The live worker that is to own the show from now on (the move is recorded as a pin)'),
});

export const DrainWorkerRequest = z.strictObject({
  draining: z.boolean().default(true).describe('true: the worker gives its unpinned shows to the others; false: it takes its share again'),
});

export const ClusterViewResponse = z.object({
  answered_by: z.string().describe('The worker that answered this request'),
  workers: z.array(z.string()).describe('Live workers (answering heartbeats), sorted'),
  draining: z.array(z.string()),
  pins: z.record(z.string(), z.string()).describe('show id → worker id'),
  revision: z.number().int().describe('Bumped by every membership, pin or drain change (per worker)'),
  owners: z.record(z.string(), z.string().nullable()).describe('Owner of each show asked about (or of every catalog show)'),
});

export const MoveShowResponse = z.object({
  show_id: z.string(),
  from_worker_id: z.string().nullable(),
  to_worker_id: z.string().nullable(),
});
