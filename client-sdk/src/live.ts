import { io, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client';
import * as msgpackParser from '../../src/protocol/msgpack-parser.js';
import type { Ack, ClientToServerEvents, QueueJoinRequest, QueueStatusMessage, SeatMapDiffMessage, SeatMapSnapshotMessage, ServerToClientEvents } from '../../src/protocol/socket-events.js';
import type { ServerClock } from './clock.js';
import { HoldfastError, HoldfastNetworkError, isProblem } from './errors.js';
import { backoffDelayMs } from './retry.js';
import { SeatMapStore, type SnapshotReason } from './seat-map-store.js';

/** The typed socket, from the server's own event definitions. */
export type HoldfastSocket = Socket<ServerToClientEvents, ClientToServerEvents>;
type ListenEvents = ServerToClientEvents;

export type ConnectionState = 'idle' | 'connecting' | 'connected' | 'disconnected' | 'closed';

export interface LiveOptions {
  /** Backoff of reconnection attempts (socket.io's Manager, and ours after a server-side disconnect). */
  reconnectDelayMs?: number;
  reconnectDelayMaxMs?: number;
  /** 0..1: how much each reconnect delay is randomised, so a crowd does not come back at once. */
  randomizationFactor?: number;
  /** Default ['websocket'] (what React Native needs); add 'polling' for networks that block WebSockets. */
  transports?: ('websocket' | 'polling' | 'webtransport')[];
  /** How long to wait for an event's ack. */
  ackTimeoutMs?: number;
  /** How long connect() waits for the first connection. */
  connectTimeoutMs?: number;
  /** Anything else for socket.io-client's io() (path, extraHeaders in Node, …); the parser is always the msgpack one. */
  extra?: Partial<ManagerOptions & SocketOptions>;
}

export interface LiveHooks {
  /** TESTING ONLY: return true to drop an incoming seat-map diff as if the network lost it. */
  dropDiff?: (diff: SeatMapDiffMessage) => boolean;
}

interface WatchEntry {
  store: SeatMapStore;
  inFlight: boolean;
  again: SnapshotReason | null;
  retryTimer: ReturnType<typeof setTimeout> | null;
  retries: number;
}

export interface LiveDeps {
  baseUrl: string;
  token: () => string | null;
  clock: ServerClock;
  random: () => number;
  options: LiveOptions;
  hooks: LiveHooks;
  onError: (error: unknown) => void;
}

/**
 * The one socket.io connection of a client (msgpack parser, bearer token in the handshake).
 * Reconnects with jittered backoff — also after the server closed the connection itself (a
 * restart or deploy), which socket.io alone would not — and on every (re)connection re-watches
 * each show from its store's last version and lets queue trackers re-register their ticket.
 */
export class LiveConnection {
  private socketInstance: HoldfastSocket | null = null;
  private readonly watches = new Map<string, WatchEntry>();
  private readonly connectListeners = new Set<(reconnect: boolean) => void>();
  private readonly stateListeners = new Set<(state: ConnectionState) => void>();
  private currentState: ConnectionState = 'idle';
  private connections = 0;
  private manualReconnects = 0;
  private manualTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly deps: LiveDeps) {}

  get state(): ConnectionState {
    return this.currentState;
  }

  get connected(): boolean {
    return this.socketInstance?.connected ?? false;
  }

  /** Times the socket has connected (1 = first connection; more = reconnections). */
  get connectionCount(): number {
    return this.connections;
  }

  /** The socket, created (and connecting) on first use. */
  socket(): HoldfastSocket {
    if (this.currentState === 'closed') throw new Error('the client is closed');
    if (this.socketInstance !== null) return this.socketInstance;
    const options = this.deps.options;
    const socket: HoldfastSocket = io(this.deps.baseUrl, {
      ...options.extra,
      parser: msgpackParser,
      transports: options.transports ?? ['websocket'],
      reconnection: true,
      reconnectionDelay: options.reconnectDelayMs ?? 500,
      reconnectionDelayMax: options.reconnectDelayMaxMs ?? 10_000,
      randomizationFactor: options.randomizationFactor ?? 0.5,
      forceNew: true,
      auth: (callback: (data: object) => void) => {
        const token = this.deps.token();
        callback(token === null ? {} : { token });
      },
    });
    this.socketInstance = socket;
    this.setState('connecting');
    socket.on('connect', () => this.handleConnect());
    socket.on('disconnect', (reason) => this.onDisconnect(reason));
    socket.on('connect_error', (error) => this.onConnectError(error));
    socket.on('seatmap:diff', (diff) => {
      if (this.deps.hooks.dropDiff?.(diff)) return;
      this.watches.get(diff.show_id)?.store.applyDiff(diff);
    });
    return socket;
  }

  /** Resolves once connected (starting the connection if needed). */
  connect(timeoutMs = this.deps.options.connectTimeoutMs ?? 10_000): Promise<void> {
    const socket = this.socket();
    if (socket.connected) return Promise.resolve();
    if (!socket.active) socket.connect();
    return new Promise((resolve, reject) => {
      const cleanup = (): void => {
        clearTimeout(timer);
        socket.off('connect', onConnect);
        socket.off('connect_error', onError);
      };
      const onConnect = (): void => {
        cleanup();
        resolve();
      };
      const onError = (error: Error & { data?: unknown }): void => {
        if (socket.active) return; // socket.io keeps trying: wait for the timeout
        cleanup();
        reject(isProblem(error.data) ? new HoldfastError(error.data) : new HoldfastNetworkError(`socket connection refused: ${error.message}`, { attempts: 1, cause: error }));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new HoldfastNetworkError(`no socket connection within ${timeoutMs} ms`, { attempts: 1 }));
      }, timeoutMs);
      socket.on('connect', onConnect);
      socket.on('connect_error', onError);
    });
  }

  /** Re-authenticates with the current token (after signing in as someone else). */
  reauthenticate(): void {
    const socket = this.socketInstance;
    if (socket === null) return;
    socket.disconnect();
    socket.connect();
    this.setState('connecting');
  }

  onStateChange(listener: (state: ConnectionState) => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  /** Runs on every connection; `reconnect` is false for the first one. */
  onConnected(listener: (reconnect: boolean) => void): () => void {
    this.connectListeners.add(listener);
    return () => this.connectListeners.delete(listener);
  }

  private handleConnect(): void {
    this.connections += 1;
    this.manualReconnects = 0;
    this.setState('connected');
    const reconnect = this.connections > 1;
    for (const entry of this.watches.values()) {
      entry.retries = 0;
      void this.sync(entry, entry.store.version < 0 ? 'initial' : 'reconnect');
    }
    for (const connectListener of [...this.connectListeners]) {
      try {
        connectListener(reconnect);
      } catch (error) {
        this.deps.onError(error);
      }
    }
  }

  /** Listens to a server event; returns the unsubscribe function. */
  on<Event extends keyof ListenEvents>(event: Event, listener: ListenEvents[Event]): () => void {
    const socket = this.socket();
    // socket.io's typed `on` cannot relate a generic event name to its listener; the pair is checked by this signature.
    const untyped = socket as unknown as { on(event: string, listener: ListenEvents[Event]): void; off(event: string, listener: ListenEvents[Event]): void };
    untyped.on(event, listener);
    return () => untyped.off(event, listener);
  }

  /** Watches a show: one store per show per client, kept live across reconnections. */
  watch(showId: string): SeatMapStore {
    const existing = this.watches.get(showId);
    if (existing !== undefined) return existing.store;
    const store = new SeatMapStore(showId, {
      requestResync: () => {
        const entry = this.watches.get(showId);
        if (entry !== undefined) void this.sync(entry, 'resync');
      },
      onClose: () => this.unwatch(showId),
      onListenerError: (error) => this.deps.onError(error),
    });
    const entry: WatchEntry = { store, inFlight: false, again: null, retryTimer: null, retries: 0 };
    this.watches.set(showId, entry);
    const socket = this.socket();
    if (socket.connected) void this.sync(entry, 'initial');
    else if (!socket.active) socket.connect();
    return store;
  }

  /** Joins (or re-joins with a ticket) a show's waiting room on this socket, for its live pushes. */
  async joinQueue(payload: QueueJoinRequest): Promise<QueueStatusMessage> {
    const sentAt = this.deps.clock.deviceNow();
    const status = await this.emitWithAck('queue:join', payload);
    this.deps.clock.addSample(status.server_time_ms, sentAt, this.deps.clock.deviceNow());
    return status;
  }

  close(): void {
    if (this.currentState === 'closed') return;
    for (const entry of [...this.watches.values()]) entry.store.close();
    if (this.manualTimer !== null) clearTimeout(this.manualTimer);
    this.socketInstance?.disconnect();
    this.socketInstance?.removeAllListeners();
    this.socketInstance = null;
    this.connectListeners.clear();
    this.setState('closed');
    this.stateListeners.clear();
  }

  private unwatch(showId: string): void {
    const entry = this.watches.get(showId);
    if (entry === undefined) return;
    this.watches.delete(showId);
    if (entry.retryTimer !== null) clearTimeout(entry.retryTimer);
    const socket = this.socketInstance;
    if (socket?.connected) void this.emitWithAck('show:unwatch', { show_id: showId }).catch(() => undefined);
  }

  /** Asks for a snapshot of the show (show:watch) and hands it to the store; one request at a time per show. */
  private async sync(entry: WatchEntry, reason: SnapshotReason): Promise<void> {
    if (this.watches.get(entry.store.showId) !== entry || !this.connected) return;
    if (entry.inFlight) {
      entry.again = entry.again ?? reason;
      return;
    }
    entry.inFlight = true;
    entry.store.markSyncing();
    try {
      const sentAt = this.deps.clock.deviceNow();
      const snapshot: SeatMapSnapshotMessage = await this.emitWithAck('show:watch', { show_id: entry.store.showId });
      this.deps.clock.addSample(snapshot.server_time_ms, sentAt, this.deps.clock.deviceNow());
      if (this.watches.get(entry.store.showId) === entry) entry.store.applySnapshot(snapshot, reason);
      entry.retries = 0;
    } catch (error) {
      if (error instanceof HoldfastError && !error.retryable) entry.store.fail(error);
      else if (this.connected && this.watches.get(entry.store.showId) === entry) {
        // Rate limited or timed out on a live connection: try again later (a reconnection retries anyway).
        entry.retries += 1;
        const delay = backoffDelayMs({ baseDelayMs: 250, maxDelayMs: 10_000 }, entry.retries, this.deps.random);
        entry.retryTimer = setTimeout(() => {
          entry.retryTimer = null;
          void this.sync(entry, reason);
        }, delay);
      }
    } finally {
      entry.inFlight = false;
      const again = entry.again;
      entry.again = null;
      if (again !== null) void this.sync(entry, again);
    }
  }

  /** Emits an event and resolves with its ack's data (HoldfastError for a problem, HoldfastNetworkError on timeout or disconnect). */
  async emitWithAck<Event extends AckedEvent>(
    event: Event,
    payload: Parameters<ClientToServerEvents[Event]>[0],
    details: ConstructorParameters<typeof HoldfastError>[1] = { attempts: 1 },
  ): Promise<AckData<Event>> {
    const ack = await this.emitForAck(event, payload);
    if (ack.ok) return ack.data;
    throw new HoldfastError(ack.error, details);
  }

  /**
   * Emits an event and resolves with its ack as sent: data, or a problem the caller handles as a
   * value (a refused hold is the common answer under contention; throwing it through every await
   * cost more than the answer). Rejects with HoldfastNetworkError on timeout or disconnect.
   */
  emitForAck<Event extends AckedEvent>(event: Event, payload: Parameters<ClientToServerEvents[Event]>[0]): Promise<Ack<AckData<Event>>> {
    const socket = this.socket();
    const timeoutMs = this.deps.options.ackTimeoutMs ?? 10_000;
    return new Promise((resolve, reject) => {
      if (!socket.connected) return reject(new HoldfastNetworkError(`${event}: not connected`, { attempts: 1 }));
      const cleanup = (): void => {
        clearTimeout(timer);
        socket.off('disconnect', onDisconnect);
      };
      const onDisconnect = (): void => {
        cleanup();
        reject(new HoldfastNetworkError(`${event}: disconnected before the answer`, { attempts: 1 }));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new HoldfastNetworkError(`${event}: no answer within ${timeoutMs} ms`, { attempts: 1 }));
      }, timeoutMs);
      socket.on('disconnect', onDisconnect);
      const onAck = (ack: Ack<AckData<Event>>): void => {
        cleanup();
        resolve(ack);
      };
      // The event/payload/ack triple is tied together by this method's signature.
      (socket.emit as unknown as (event: string, payload: unknown, ack: (ack: Ack<AckData<Event>>) => void) => void)(event, payload, onAck);
    });
  }

  private onDisconnect(reason: string): void {
    if (this.currentState === 'closed') return;
    this.setState('disconnected');
    for (const entry of this.watches.values()) entry.store.markOffline();
    // socket.io reconnects by itself unless the server (or we) closed the connection deliberately.
    // A server going down for a restart or deploy says "io server disconnect": come back anyway.
    if (reason === 'io server disconnect') this.scheduleManualReconnect();
  }

  private onConnectError(error: Error & { data?: unknown }): void {
    const socket = this.socketInstance;
    if (socket === null || socket.active) return; // socket.io is retrying with backoff
    // The server's middleware refused the handshake (e.g. unauthorized): retrying the same token will not help.
    const failure = isProblem(error.data) ? new HoldfastError(error.data) : new HoldfastNetworkError(`socket connection refused: ${error.message}`, { attempts: 1, cause: error });
    this.setState('disconnected');
    for (const entry of this.watches.values()) entry.store.fail(failure);
    this.deps.onError(failure);
  }

  private scheduleManualReconnect(): void {
    if (this.manualTimer !== null) return;
    this.manualReconnects += 1;
    const options = this.deps.options;
    const delay = backoffDelayMs({ baseDelayMs: options.reconnectDelayMs ?? 500, maxDelayMs: options.reconnectDelayMaxMs ?? 10_000 }, this.manualReconnects, this.deps.random);
    this.manualTimer = setTimeout(() => {
      this.manualTimer = null;
      const socket = this.socketInstance;
      if (socket !== null && !socket.connected && this.currentState !== 'closed') {
        this.setState('connecting');
        socket.connect();
      }
    }, delay);
  }

  private setState(state: ConnectionState): void {
    if (this.currentState === state) return;
    this.currentState = state;
    for (const listener of [...this.stateListeners]) {
      try {
        listener(state);
      } catch (error) {
        this.deps.onError(error);
      }
    }
  }
}

/** The events answered with an ack that the SDK sends. */
type AckedEvent = 'show:watch' | 'show:unwatch' | 'queue:join' | 'hold' | 'release';

type AckData<Event extends keyof ClientToServerEvents> = Parameters<ClientToServerEvents[Event]>[1] extends (result: Ack<infer Data>) => void ? Data : never;
