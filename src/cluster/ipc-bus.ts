import type { Logger } from '../shared/logger.js';
import { TopicHandlers, type ClusterBus, type DirectMessage } from './cluster-bus.js';
import { emptyView, type ClusterView } from './ownership.js';
import { CoalescingSender, isHoldfastMessage, type PrimaryToWorker, type WorkerToPrimary } from './ipc-protocol.js';

/** What the bus needs of this process's IPC channel to the primary (`process` in a worker). */
export interface PrimaryChannel {
  send?: (message: WorkerToPrimary) => unknown;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  off(event: 'message', listener: (message: unknown) => void): unknown;
}

/** The worker's side of single-machine clustering: everything goes through the primary's IpcHub. */
export class IpcBus implements ClusterBus {
  private current: ClusterView = emptyView;
  private readonly viewListeners: ((view: ClusterView, previous: ClusterView) => void)[] = [];
  private directHandler: ((message: DirectMessage) => void) | null = null;
  private readonly topics = new TopicHandlers();
  private readonly acks = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();
  private nextRequestId = 1;
  private readonly outbox = new CoalescingSender<WorkerToPrimary>((message) => this.sendNow(message));
  private readonly listener = (message: unknown): void => {
    if (isHoldfastMessage(message)) this.onMessage(message as PrimaryToWorker);
  };

  constructor(
    readonly workerId: string,
    private readonly channel: PrimaryChannel,
    private readonly logger: Logger,
  ) {
    channel.on('message', this.listener);
  }

  connected(): boolean {
    return this.channel.send !== undefined;
  }

  view(): ClusterView {
    return this.current;
  }

  onViewChange(listener: (view: ClusterView, previous: ClusterView) => void): void {
    this.viewListeners.push(listener);
  }

  send(to: string, body: unknown): void {
    this.post({ hf: 1, t: 'direct', to, body });
  }

  onDirect(handler: (message: DirectMessage) => void): void {
    this.directHandler = handler;
  }

  publish(topic: string, payload: unknown): void {
    this.topics.deliver(topic, payload, (error) => this.logger.error({ err: error, topic }, 'topic handler failed'));
    this.post({ hf: 1, t: 'pub', topic, payload });
  }

  subscribe(topic: string, handler: (payload: unknown) => void): () => void {
    const subscription = this.topics.add(topic, handler);
    if (subscription.first) this.post({ hf: 1, t: 'sub', topic });
    return () => {
      if (subscription.remove()) this.post({ hf: 1, t: 'unsub', topic });
    };
  }

  setPin(showId: string, workerId: string | null): Promise<void> {
    return this.request((requestId) => ({ hf: 1, t: 'pin', showId, workerId, requestId }));
  }

  setDraining(workerId: string, draining: boolean): Promise<void> {
    return this.request((requestId) => ({ hf: 1, t: 'drain', workerId, draining, requestId }));
  }

  async announceReady(): Promise<void> {
    this.post({ hf: 1, t: 'ready' });
  }

  async leave(): Promise<void> {
    this.post({ hf: 1, t: 'leave' });
  }

  async close(): Promise<void> {
    this.channel.off('message', this.listener);
    for (const ack of this.acks.values()) ack.reject(new Error('the cluster bus closed'));
    this.acks.clear();
  }

  private request(build: (requestId: number) => WorkerToPrimary): Promise<void> {
    const requestId = this.nextRequestId++;
    return new Promise<void>((resolve, reject) => {
      this.acks.set(requestId, { resolve, reject });
      this.post(build(requestId));
    });
  }

  private post(message: WorkerToPrimary): void {
    if (this.channel.send === undefined) throw new Error('not a cluster worker: no IPC channel to the primary');
    this.outbox.push(message);
  }

  private sendNow(message: WorkerToPrimary): void {
    if (this.channel.send === undefined) return;
    try {
      this.channel.send(message);
    } catch (error) {
      this.logger.warn({ err: error }, 'the primary is unreachable');
    }
  }

  private onMessage(message: PrimaryToWorker): void {
    switch (message.t) {
      case 'batch':
        for (const inner of message.messages) this.onMessage(inner);
        return;
      case 'view': {
        const previous = this.current;
        this.current = message.view;
        for (const listener of this.viewListeners) listener(message.view, previous);
        return;
      }
      case 'direct':
        this.directHandler?.({ from: message.from, body: message.body });
        return;
      case 'pub':
        this.topics.deliver(message.topic, message.payload, (error) => this.logger.error({ err: error, topic: message.topic }, 'topic handler failed'));
        return;
      case 'ping':
        this.post({ hf: 1, t: 'pong', n: message.n });
        return;
      case 'ack': {
        const ack = this.acks.get(message.requestId);
        this.acks.delete(message.requestId);
        if (message.error === undefined) ack?.resolve();
        else ack?.reject(new Error(message.error));
        return;
      }
    }
  }
}
