import type { ClusterView } from './ownership.js';

/** A message from one worker to another (RPC requests and replies ride on these). */
export interface DirectMessage {
  from: string;
  body: unknown;
}

/**
 * How workers find each other and talk: membership (the view), point-to-point messages and
 * topics (a show's committed diffs, serving counters). Two implementations: node:cluster IPC
 * through the primary on one machine, Redis across machines. Payloads are plain data
 * (objects, arrays, numbers, strings, Uint8Array).
 */
export interface ClusterBus {
  readonly workerId: string;
  /** False while the transport is down (Redis unreachable): same-machine traffic may take another way. */
  connected(): boolean;
  view(): ClusterView;
  onViewChange(listener: (view: ClusterView, previous: ClusterView) => void): void;
  send(to: string, body: unknown): void;
  onDirect(handler: (message: DirectMessage) => void): void;
  /** Delivers to this worker's subscribers at once and to every other worker's. */
  publish(topic: string, payload: unknown): void;
  subscribe(topic: string, handler: (payload: unknown) => void): () => void;
  setPin(showId: string, workerId: string | null): Promise<void>;
  setDraining(workerId: string, draining: boolean): Promise<void>;
  /** Joins the view: from now on shows may be routed here. */
  announceReady(): Promise<void>;
  /** Leaves the view (graceful shutdown): the survivors take this worker's shows. */
  leave(): Promise<void>;
  close(): Promise<void>;
}

/** Local topic subscriptions, shared by both buses. */
export class TopicHandlers {
  private readonly handlers = new Map<string, Set<(payload: unknown) => void>>();

  add(topic: string, handler: (payload: unknown) => void): { first: boolean; remove: () => boolean } {
    let set = this.handlers.get(topic);
    const first = set === undefined;
    if (set === undefined) {
      set = new Set();
      this.handlers.set(topic, set);
    }
    set.add(handler);
    const handlers = set;
    return {
      first,
      /** Returns true when that was the topic's last handler. */
      remove: () => {
        handlers.delete(handler);
        if (handlers.size > 0 || this.handlers.get(topic) !== handlers) return false;
        this.handlers.delete(topic);
        return true;
      },
    };
  }

  deliver(topic: string, payload: unknown, onError: (error: unknown) => void): void {
    const set = this.handlers.get(topic);
    if (set === undefined) return;
    for (const handler of set) {
      try {
        handler(payload);
      } catch (error) {
        onError(error);
      }
    }
  }

  topics(): string[] {
    return [...this.handlers.keys()];
  }
}
