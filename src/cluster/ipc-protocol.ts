import type { ClusterView } from './ownership.js';

/** Messages between a worker and the primary over node:cluster IPC (advanced serialization). */
export type WorkerToPrimary =
  | { hf: 1; t: 'ready' }
  | { hf: 1; t: 'leave' }
  | { hf: 1; t: 'direct'; to: string; body: unknown }
  | { hf: 1; t: 'pub'; topic: string; payload: unknown }
  | { hf: 1; t: 'sub'; topic: string }
  | { hf: 1; t: 'unsub'; topic: string }
  | { hf: 1; t: 'pong'; n: number }
  | { hf: 1; t: 'pin'; showId: string; workerId: string | null; requestId: number }
  | { hf: 1; t: 'drain'; workerId: string; draining: boolean; requestId: number };

export type PrimaryToWorker =
  | { hf: 1; t: 'view'; view: ClusterView }
  | { hf: 1; t: 'direct'; from: string; body: unknown }
  | { hf: 1; t: 'pub'; topic: string; payload: unknown }
  | { hf: 1; t: 'ping'; n: number }
  | { hf: 1; t: 'ack'; requestId: number; error?: string };

/** The primary's own address on the bus (it hosts the simulated payment provider). */
export const primaryAddress = 'primary';

export function isHoldfastMessage(message: unknown): message is { hf: 1; t: string } {
  return typeof message === 'object' && message !== null && (message as { hf?: unknown }).hf === 1;
}
