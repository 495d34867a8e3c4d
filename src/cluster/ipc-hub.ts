import type { Logger } from '../shared/logger.js';
import type { DirectMessage } from './cluster-bus.js';
import type { ClusterView } from './ownership.js';
import { CoalescingSender, isHoldfastMessage, primaryAddress, type PrimaryToWorker, type WorkerToPrimary } from './ipc-protocol.js';

/** What the hub needs of a forked worker (node:cluster's Worker fits). */
export interface WorkerChannel {
  send(message: PrimaryToWorker): unknown;
  on(event: 'message', listener: (message: unknown) => void): unknown;
}

interface Member {
  channel: WorkerChannel;
  outbox: CoalescingSender<PrimaryToWorker>;
  ready: boolean;
  lastPongMs: number;
  answering: boolean;
  topics: Set<string>;
}

export interface IpcHubOptions {
  logger: Logger;
  pingIntervalMs: number;
  /** A worker silent this long leaves the view (SIGSTOP, a wedged event loop) until it answers again. */
  livenessTimeoutMs: number;
  now?: () => number;
}

/**
 * The primary's side of single-machine clustering: keeps the view (live workers, pins,
 * draining), relays direct messages and topic publications between workers, and pings them so
 * that a worker that stops answering loses its shows within `livenessTimeoutMs`.
 */
export class IpcHub {
  private readonly members = new Map<string, Member>();
  private readonly pins: Record<string, string> = {};
  private readonly draining = new Set<string>();
  private revision = 0;
  private pingCount = 0;
  private readonly timer: NodeJS.Timeout;
  private directHandler: ((message: DirectMessage) => void) | null = null;
  private readonly now: () => number;

  constructor(private readonly options: IpcHubOptions) {
    this.now = options.now ?? Date.now;
    this.timer = setInterval(() => this.checkLiveness(), options.pingIntervalMs);
    this.timer.unref();
  }

  view(): ClusterView {
    const workers = [...this.members].filter(([, member]) => member.ready && member.answering).map(([id]) => id).sort();
    return { workers, draining: [...this.draining].sort(), pins: { ...this.pins }, revision: this.revision };
  }

  /** Messages workers address to the primary itself (the simulated payment provider). */
  onDirect(handler: (message: DirectMessage) => void): void {
    this.directHandler = handler;
  }

  sendFromPrimary(to: string, body: unknown): void {
    this.sendTo(to, { hf: 1, t: 'direct', from: primaryAddress, body });
  }

  private sendTo(workerId: string, message: PrimaryToWorker): void {
    const member = this.members.get(workerId);
    if (member !== undefined) send(member, message);
  }

  attach(workerId: string, channel: WorkerChannel): void {
    const member: Member = { channel, outbox: new CoalescingSender<PrimaryToWorker>((message) => sendNow(channel, message)), ready: false, lastPongMs: this.now(), answering: true, topics: new Set() };
    this.members.set(workerId, member);
    channel.on('message', (message) => {
      if (isHoldfastMessage(message)) this.onMessage(workerId, member, message as WorkerToPrimary);
    });
  }

  /** The worker's process exited: its shows go to the survivors at once. */
  detach(workerId: string): void {
    const member = this.members.get(workerId);
    if (member === undefined) return;
    this.members.delete(workerId);
    if (member.ready) this.changed(`worker ${workerId} left`);
  }

  close(): void {
    clearInterval(this.timer);
  }

  private onMessage(workerId: string, member: Member, message: WorkerToPrimary): void {
    switch (message.t) {
      case 'batch':
        for (const inner of message.messages) this.onMessage(workerId, member, inner);
        return;
      case 'ready':
        member.ready = true;
        member.lastPongMs = this.now();
        this.changed(`worker ${workerId} joined`);
        return;
      case 'leave':
        if (member.ready) {
          member.ready = false;
          this.changed(`worker ${workerId} is leaving`);
        }
        return;
      case 'pong':
        member.lastPongMs = this.now();
        if (!member.answering) {
          member.answering = true;
          this.changed(`worker ${workerId} answers again`);
        }
        return;
      case 'direct':
        if (message.to === primaryAddress) this.directHandler?.({ from: workerId, body: message.body });
        else this.sendTo(message.to, { hf: 1, t: 'direct', from: workerId, body: message.body });
        return;
      case 'pub':
        for (const [id, other] of this.members) {
          if (id !== workerId && other.topics.has(message.topic)) send(other, { hf: 1, t: 'pub', topic: message.topic, payload: message.payload });
        }
        return;
      case 'sub':
        member.topics.add(message.topic);
        return;
      case 'unsub':
        member.topics.delete(message.topic);
        return;
      case 'pin':
        if (message.workerId === null) delete this.pins[message.showId];
        else this.pins[message.showId] = message.workerId;
        this.changed(message.workerId === null ? `show ${message.showId} unpinned` : `show ${message.showId} pinned to ${message.workerId}`);
        send(member, { hf: 1, t: 'ack', requestId: message.requestId });
        return;
      case 'drain':
        if (message.draining) this.draining.add(message.workerId);
        else this.draining.delete(message.workerId);
        this.changed(`worker ${message.workerId} ${message.draining ? 'draining' : 'undrained'}`);
        send(member, { hf: 1, t: 'ack', requestId: message.requestId });
        return;
    }
  }

  private checkLiveness(): void {
    this.pingCount += 1;
    const nowMs = this.now();
    for (const [id, member] of this.members) {
      send(member, { hf: 1, t: 'ping', n: this.pingCount });
      if (member.ready && member.answering && nowMs - member.lastPongMs > this.options.livenessTimeoutMs) {
        member.answering = false;
        this.changed(`worker ${id} stopped answering`);
      }
    }
  }

  private changed(reason: string): void {
    this.revision += 1;
    const view = this.view();
    this.options.logger.info({ reason, view }, 'cluster view changed');
    for (const member of this.members.values()) send(member, { hf: 1, t: 'view', view });
  }
}

function send(member: Member, message: PrimaryToWorker): void {
  member.outbox.push(message);
}

/** A worker that just died has a closed channel; its exit is handled elsewhere. */
function sendNow(channel: WorkerChannel, message: PrimaryToWorker): void {
  try {
    channel.send(message);
  } catch {
    // ERR_IPC_CHANNEL_CLOSED: the exit handler detaches it.
  }
}
