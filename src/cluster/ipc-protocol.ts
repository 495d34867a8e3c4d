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
  | { hf: 1; t: 'drain'; workerId: string; draining: boolean; requestId: number }
  | { hf: 1; t: 'batch'; messages: WorkerToPrimary[] };

export type PrimaryToWorker =
  | { hf: 1; t: 'view'; view: ClusterView }
  | { hf: 1; t: 'direct'; from: string; body: unknown }
  | { hf: 1; t: 'pub'; topic: string; payload: unknown }
  | { hf: 1; t: 'ping'; n: number }
  | { hf: 1; t: 'ack'; requestId: number; error?: string }
  | { hf: 1; t: 'batch'; messages: PrimaryToWorker[] };

/**
 * Sends through `send`, coalescing what one event-loop turn produces into one IPC message: under
 * load a worker forwards hundreds of commands per turn, and each IPC message costs a syscall and a
 * serialization on both sides.
 */
export class CoalescingSender<M extends { hf: 1; t: string }> {
  private queue: M[] = [];
  private scheduled = false;

  constructor(
    private readonly send: (message: M | { hf: 1; t: 'batch'; messages: M[] }) => void,
  ) {}

  push(message: M): void {
    this.queue.push(message);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  flush(): void {
    this.scheduled = false;
    const messages = this.queue;
    if (messages.length === 0) return;
    this.queue = [];
    this.send(messages.length === 1 ? messages[0]! : { hf: 1, t: 'batch', messages });
  }
}

/** The primary's own address on the bus (it hosts the simulated payment provider). */
export const primaryAddress = 'primary';

export function isHoldfastMessage(message: unknown): message is { hf: 1; t: string } {
  return typeof message === 'object' && message !== null && (message as { hf?: unknown }).hf === 1;
}
