import { Redis } from 'ioredis';
import { Packr } from 'msgpackr';
import type { Logger } from '../shared/logger.js';
import { TopicHandlers, type ClusterBus, type DirectMessage } from './cluster-bus.js';
import { emptyView, type ClusterView } from './ownership.js';

export interface RedisBusOptions {
  workerId: string;
  redisUrl: string;
  /** Keys and channels of one cluster (tests run several side by side). */
  keyPrefix: string;
  heartbeatMs: number;
  /** A worker whose heartbeat is older than this leaves the view. */
  livenessTimeoutMs: number;
  logger: Logger;
}

const packr = new Packr({ useRecords: false, moreTypes: false });

interface Envelope {
  from: string;
  body: unknown;
}

/**
 * Clustering across machines: membership is a sorted set of heartbeats with expiry, pins and
 * draining live in Redis, direct messages and topics are Redis pub/sub channels. Every worker
 * recomputes the view each heartbeat and at once when another worker announces a change.
 */
export class RedisBus implements ClusterBus {
  readonly workerId: string;
  private readonly commands: Redis;
  private readonly subscriber: Redis;
  private current: ClusterView = emptyView;
  private revision = 0;
  private joined = false;
  private readonly viewListeners: ((view: ClusterView, previous: ClusterView) => void)[] = [];
  private directHandler: ((message: DirectMessage) => void) | null = null;
  private readonly topics = new TopicHandlers();
  private heartbeat: NodeJS.Timeout | null = null;
  private refreshing: Promise<void> | null = null;
  private closed = false;

  constructor(private readonly options: RedisBusOptions) {
    this.workerId = options.workerId;
    this.commands = new Redis(options.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 2, enableOfflineQueue: true });
    this.subscriber = new Redis(options.redisUrl, { lazyConnect: true, maxRetriesPerRequest: null });
    for (const client of [this.commands, this.subscriber]) client.on('error', (error: Error) => options.logger.warn({ err: error.message }, 'redis bus connection error'));
    this.subscriber.on('messageBuffer', (channel: Buffer, message: Buffer) => this.onRedisMessage(channel.toString(), message));
  }

  async start(): Promise<void> {
    await Promise.all([this.commands.connect(), this.subscriber.connect()]);
    await this.subscriber.subscribe(this.key(`direct:${this.workerId}`), this.key('view'));
    await this.refreshView();
    this.heartbeat = setInterval(() => void this.beat(), this.options.heartbeatMs);
    this.heartbeat.unref();
  }

  connected(): boolean {
    return !this.closed && this.commands.status === 'ready' && this.subscriber.status === 'ready';
  }

  view(): ClusterView {
    return this.current;
  }

  onViewChange(listener: (view: ClusterView, previous: ClusterView) => void): void {
    this.viewListeners.push(listener);
  }

  send(to: string, body: unknown): void {
    this.commands.publish(this.key(`direct:${to}`), packr.pack({ from: this.workerId, body } satisfies Envelope)).catch((error: unknown) => this.options.logger.warn({ err: error }, 'redis bus send failed'));
  }

  onDirect(handler: (message: DirectMessage) => void): void {
    this.directHandler = handler;
  }

  publish(topic: string, payload: unknown): void {
    this.topics.deliver(topic, payload, (error) => this.options.logger.error({ err: error, topic }, 'topic handler failed'));
    this.commands.publish(this.key(`topic:${topic}`), packr.pack({ from: this.workerId, body: payload } satisfies Envelope)).catch((error: unknown) => this.options.logger.warn({ err: error }, 'redis bus publish failed'));
  }

  subscribe(topic: string, handler: (payload: unknown) => void): () => void {
    const subscription = this.topics.add(topic, handler);
    const channel = this.key(`topic:${topic}`);
    if (subscription.first) this.subscriber.subscribe(channel).catch((error: unknown) => this.options.logger.warn({ err: error, topic }, 'redis subscribe failed'));
    return () => {
      if (subscription.remove()) this.subscriber.unsubscribe(channel).catch(() => undefined);
    };
  }

  async setPin(showId: string, workerId: string | null): Promise<void> {
    if (workerId === null) await this.commands.hdel(this.key('pins'), showId);
    else await this.commands.hset(this.key('pins'), showId, workerId);
    await this.announceChange();
  }

  async setDraining(workerId: string, draining: boolean): Promise<void> {
    if (draining) await this.commands.sadd(this.key('draining'), workerId);
    else await this.commands.srem(this.key('draining'), workerId);
    await this.announceChange();
  }

  async announceReady(): Promise<void> {
    this.joined = true;
    await this.beat();
    await this.announceChange();
  }

  async leave(): Promise<void> {
    this.joined = false;
    await this.commands.zrem(this.key('workers'), this.workerId);
    await this.announceChange();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    if (this.joined) await this.leave().catch(() => undefined);
    this.subscriber.disconnect();
    await this.commands.quit().catch(() => this.commands.disconnect());
  }

  private key(suffix: string): string {
    return `${this.options.keyPrefix}${suffix}`;
  }

  private async beat(): Promise<void> {
    if (this.closed) return;
    try {
      if (this.joined) await this.commands.zadd(this.key('workers'), Date.now() + this.options.livenessTimeoutMs, this.workerId);
      await this.refreshView();
    } catch (error) {
      this.options.logger.warn({ err: error }, 'redis heartbeat failed');
    }
  }

  private async announceChange(): Promise<void> {
    await this.refreshView();
    await this.commands.publish(this.key('view'), 'changed');
  }

  private refreshView(): Promise<void> {
    if (this.closed) return Promise.resolve();
    // One read at a time; a change announced meanwhile is picked up by the next heartbeat at worst.
    this.refreshing ??= this.readView().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  private async readView(): Promise<void> {
    const nowMs = Date.now();
    const [workers, pins, draining] = await Promise.all([
      this.commands.zrangebyscore(this.key('workers'), nowMs, '+inf'),
      this.commands.hgetall(this.key('pins')),
      this.commands.smembers(this.key('draining')),
    ]);
    // Expired heartbeats are removed by whoever sees them first.
    void this.commands.zremrangebyscore(this.key('workers'), '-inf', nowMs - 1).catch(() => undefined);
    const next = { workers: workers.sort(), draining: draining.sort(), pins };
    const previous = this.current;
    if (sameView(previous, next)) return;
    this.revision += 1;
    this.current = { ...next, revision: this.revision };
    for (const listener of this.viewListeners) listener(this.current, previous);
  }

  private onRedisMessage(channel: string, message: Buffer): void {
    if (this.closed) return;
    if (channel === this.key('view')) {
      void this.refreshView().catch((error: unknown) => this.options.logger.warn({ err: error }, 'view refresh failed'));
      return;
    }
    let envelope: Envelope;
    try {
      envelope = packr.unpack(message) as Envelope;
    } catch (error) {
      this.options.logger.warn({ err: error, channel }, 'undecodable cluster message');
      return;
    }
    if (channel === this.key(`direct:${this.workerId}`)) {
      this.directHandler?.({ from: envelope.from, body: envelope.body });
      return;
    }
    const topicPrefix = this.key('topic:');
    if (channel.startsWith(topicPrefix) && envelope.from !== this.workerId) {
      this.topics.deliver(channel.slice(topicPrefix.length), envelope.body, (error) => this.options.logger.error({ err: error, channel }, 'topic handler failed'));
    }
  }
}

function sameView(a: ClusterView, b: Omit<ClusterView, 'revision'>): boolean {
  if (a.workers.join(',') !== b.workers.join(',') || a.draining.join(',') !== b.draining.join(',')) return false;
  const aPins = Object.entries(a.pins).sort().join(';');
  const bPins = Object.entries(b.pins).sort().join(';');
  return aPins === bPins;
}
