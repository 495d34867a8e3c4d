import { Server, type ServerOptions, type Socket } from 'socket.io';
import type { TemplatedApp } from 'uWebSockets.js';
import { z } from 'zod';
import type { ShowRouter } from '../../actors/show-router.js';
import { ApiError, problemOf } from '../../protocol/api-error.js';
import { HoldIdParam, ShowIdParam } from '../../protocol/hold-schemas.js';
import * as msgpackParser from '../../protocol/msgpack-parser.js';
import { admittedRoom, queueRoom, showRoom, userRoom, type Ack, type QueueAdmittedMessage, type QueueStatusMessage, type ClientToServerEvents, type SeatMapSnapshotMessage, type ServerToClientEvents } from '../../protocol/socket-events.js';
import { parseInput } from '../../protocol/validate.js';
import type { Clock } from '../../shared/clock.js';
import type { Logger } from '../../shared/logger.js';
import type { Caller, Sessions } from '../auth/sessions.js';
import { refusalProblem, type HoldController } from '../controllers/hold-controller.js';
import { SeatMapFanout } from '../live/seat-map-fanout.js';
import { RoomPublisher } from './room-publisher.js';
import { QueueFanout } from '../live/queue-fanout.js';
import type { WaitingRoomService } from '../../admission/waiting-room.js';
import { renderQueueStatus } from '../routes/queue-routes.js';
import { requireUser } from '../auth/sessions.js';
import type { RateLimits } from '../rate-limits.js';
import type { WaitlistController } from '../controllers/waitlist-controller.js';
import { ShowNotices } from '../live/show-notices.js';
import type { Metrics } from '../metrics.js';

export interface SocketGatewayOptions {
  app: TemplatedApp;
  router: ShowRouter;
  holds: HoldController;
  sessions: Sessions;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  diffTickMs: number;
  eventsPerSecondMax: number;
  watchedShowsPerSocketMax: number;
  frameBytesMax: number;
  room: WaitingRoomService;
  rateLimits: RateLimits;
  waitlist: WaitlistController;
  /** 'msgpack' (default) or socket.io's JSON parser, for clients that cannot load ours. */
  parser?: 'msgpack' | 'json';
  /**
   * With several workers: the socket.io adapter that carries room broadcasts (offers, sold-out
   * news) to the other workers, and WebSocket only (long-polling requests could land on
   * different workers).
   */
  cluster?: { adapter: NonNullable<ServerOptions['adapter']> };
}

interface SocketData {
  caller: Caller;
  watching: Set<string>;
  windowStartMs: number;
  eventsInWindow: number;
}

type HoldfastSocket = Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;

const WatchPayload = z.strictObject({ show_id: ShowIdParam });
const ReleasePayload = z.strictObject({ hold_id: HoldIdParam, idempotency_key: z.string().optional() });
const ExtendPayload = z.strictObject({ hold_id: HoldIdParam, idempotency_key: z.string() });
const QueueJoinPayload = z.strictObject({
  show_id: ShowIdParam,
  ticket: z.string().max(2048).optional(),
  pow_challenge: z.string().max(1024).optional(),
  pow_nonce: z.string().max(64).optional(),
});
const WaitlistJoinPayload = z.strictObject({ show_id: ShowIdParam, idempotency_key: z.string(), party_size: z.unknown(), tier: z.unknown().optional() });
const HoldEnvelopePayload = z.looseObject({ show_id: z.unknown(), idempotency_key: z.unknown(), admission_token: z.string().max(4096).optional() });

/**
 * socket.io on the uWS app: live seat maps (watch → snapshot → ordered diffs) and the hold
 * commands with acks shaped like the REST replies. Thin: validation and use cases live in the
 * controllers; nothing here touches an actor directly.
 */
export class SocketGateway {
  readonly io: Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;
  readonly fanout: SeatMapFanout;
  readonly queueFanout: QueueFanout;
  readonly notices: ShowNotices;
  private readonly rooms: RoomPublisher;

  constructor(private readonly options: SocketGatewayOptions) {
    this.io = new Server({
      ...(options.parser === 'json' ? {} : { parser: msgpackParser }),
      transports: options.cluster ? ['websocket'] : ['websocket', 'polling'],
      ...(options.cluster ? { adapter: options.cluster.adapter } : {}),
      maxHttpBufferSize: options.frameBytesMax,
      pingInterval: 20_000,
      pingTimeout: 20_000,
      connectTimeout: 10_000,
      serveClient: false,
      cors: { origin: true, credentials: false },
    });
    // A slow watcher may buffer this much before uWS skips publishes to it (it then resyncs on the version gap).
    this.io.attachApp(options.app, { maxBackpressure: 4 * 1024 * 1024 } as Parameters<typeof this.io.attachApp>[1]);
    this.notices = new ShowNotices(
      (userId, offer) => this.io.to(userRoom(userId)).emit('waitlist:offer', offer),
      (showId, status) => this.io.to([showRoom(showId), queueRoom(showId), admittedRoom(showId)]).emit('show:status', status),
    );
    this.rooms = new RoomPublisher(options.app, this.io as unknown as Server);
    this.fanout = new SeatMapFanout(
      options.router,
      (message) => {
        options.metrics.diffsEmitted.inc();
        // Every worker runs its own fan-out from the show's diff topic: local sockets only.
        this.rooms.publish(showRoom(message.show_id), 'seatmap:diff', message);
      },
      options.diffTickMs,
      options.logger,
    );
    this.queueFanout = new QueueFanout(
      options.room,
      // One encoded publish per show per tick, however many wait (see RoomPublisher).
      (showId, message) => this.rooms.publish(queueRoom(showId), 'queue:serving', message),
      (socketId, message) => this.admitted(socketId, message),
      options.logger,
    );
    this.io.use((socket, next) => {
      try {
        const token: unknown = socket.handshake.auth?.['token'];
        socket.data.caller = options.sessions.authenticate(typeof token === 'string' ? token : undefined);
        socket.data.watching = new Set();
        socket.data.windowStartMs = 0;
        socket.data.eventsInWindow = 0;
        next();
      } catch (error) {
        const problem = error instanceof ApiError ? error.toProblem() : problemOf('unauthorized', 'invalid token');
        next(Object.assign(new Error(problem.code), { data: problem }));
      }
    });
    this.io.on('connection', (socket) => this.onConnection(socket));
  }

  private onConnection(socket: HoldfastSocket): void {
    const { metrics, holds } = this.options;
    metrics.socketConnections.inc();
    socket.on('disconnect', () => {
      metrics.socketConnections.dec();
      for (const showId of socket.data.watching) {
        this.rooms.left(showRoom(showId), socket);
        this.fanout.removeWatcher(showId);
      }
      socket.data.watching.clear();
      this.queueFanout.removeSocket(socket.id);
    });
    this.handle(socket, 'queue:join', (payload) => this.joinQueue(socket, payload));
    this.handle(socket, 'waitlist:join', async (payload) => {
      const { show_id: showId, idempotency_key: key, ...body } = parseInput(WaitlistJoinPayload, payload, 'waitlist:join payload');
      return (await this.options.waitlist.join(socket.data.caller, showId, body, key)).body;
    });
    if (socket.data.caller.kind === 'user') void socket.join(userRoom(socket.data.caller.userId));
    this.handle(socket, 'show:watch', (payload) => this.watch(socket, payload));
    this.handle(socket, 'show:unwatch', async (payload) => {
      const { show_id: showId } = parseInput(WatchPayload, payload, 'show:unwatch payload');
      if (socket.data.watching.delete(showId)) {
        this.rooms.left(showRoom(showId), socket);
        await socket.leave(showRoom(showId));
        this.fanout.removeWatcher(showId);
      }
      return { show_id: showId };
    });
    this.answer(socket, 'hold', async (payload) => {
      const envelope = parseInput(HoldEnvelopePayload, payload, 'hold payload');
      const { show_id: showId, idempotency_key: key, admission_token: admissionToken, ...body } = envelope;
      const answer = await holds.answerPlace(socket.data.caller, showId, body, key, admissionToken);
      return answer.ok ? answer : { ok: false, error: refusalProblem(answer.refusal) };
    });
    this.handle(socket, 'release', async (payload) => {
      const { hold_id: holdId, idempotency_key: key } = parseInput(ReleasePayload, payload, 'release payload');
      return (await holds.release(socket.data.caller, holdId, key)).body;
    });
    this.handle(socket, 'extend', async (payload) => {
      const { hold_id: holdId, idempotency_key: key } = parseInput(ExtendPayload, payload, 'extend payload');
      return (await holds.extend(socket.data.caller, holdId, key)).body;
    });
  }

  /** Joins the show's room and answers with a committed snapshot, in one turn so no diff falls between. */
  private async watch(socket: HoldfastSocket, payload: unknown): Promise<SeatMapSnapshotMessage> {
    const { show_id: showId } = parseInput(WatchPayload, payload, 'show:watch payload');
    const alreadyWatching = socket.data.watching.has(showId);
    if (!alreadyWatching && socket.data.watching.size >= this.options.watchedShowsPerSocketMax) {
      throw new ApiError('validation_failed', `a connection watches at most ${this.options.watchedShowsPerSocketMax} shows`);
    }
    if (!alreadyWatching) {
      try {
        await this.fanout.addWatcher(showId);
      } catch (error) {
        if (error instanceof Error && error.name === 'ShowNotFoundError') throw new ApiError('not_found', `no show ${showId}`);
        throw error;
      }
      socket.data.watching.add(showId);
    }
    const snapshot = await this.options.router.availability(showId);
    if (snapshot === null) {
      socket.data.watching.delete(showId);
      this.fanout.removeWatcher(showId);
      throw new ApiError('not_found', `no show ${showId}`);
    }
    if (!socket.connected) return Promise.reject(new Error('disconnected'));
    void socket.join(showRoom(showId));
    this.rooms.joined(showRoom(showId), socket);
    return {
      show_id: showId,
      version: snapshot.version,
      seat_status: snapshot.seatStatus,
      pool_available: snapshot.poolAvailable,
      server_time_ms: this.options.clock.nowMs(),
    };
  }

  /** Joins (or rejoins with a ticket) the waiting room; the socket then gets serving broadcasts and its admission pushed. */
  private async joinQueue(socket: HoldfastSocket, payload: unknown): Promise<QueueStatusMessage> {
    const { show_id: showId, ticket, pow_challenge: challenge, pow_nonce: nonce } = parseInput(QueueJoinPayload, payload, 'queue:join payload');
    const userId = requireUser(socket.data.caller);
    await this.options.rateLimits.checkUser(userId);
    const status = ticket === undefined
      ? await this.options.room.join(userId, showId, { ...(challenge ? { challenge } : {}), ...(nonce ? { nonce } : {}) })
      : await this.options.room.status(userId, ticket);
    if (status.showId !== showId) throw new ApiError('validation_failed', 'the ticket is for another show');
    if (status.phase !== 'admitted' && socket.connected) {
      void socket.join(queueRoom(showId));
      this.rooms.joined(queueRoom(showId), socket);
      this.queueFanout.add(showId, socket.id, userId, this.options.room.placeOfTicket(userId, showId, status.ticket), status.number);
    }
    return renderQueueStatus(status) as QueueStatusMessage;
  }

  /**
   * Pushes the admission and moves the socket from the waiting room to the admitted room: an
   * admitted fan needs no more serving broadcasts (with 20,000 admitted fans left in the room,
   * those were 20,000 sends a second for nothing, a fifth of each worker's CPU during an on-sale),
   * but still hears the show sell out or come back (`show:status`).
   */
  private admitted(socketId: string, message: QueueAdmittedMessage): void {
    const socket: HoldfastSocket | undefined = this.io.of('/').sockets.get(socketId);
    if (socket === undefined) return;
    socket.emit('queue:admitted', message);
    const room = queueRoom(message.show_id);
    this.rooms.left(room, socket);
    void socket.leave(room);
    void socket.join(admittedRoom(message.show_id));
  }

  /** Wraps an event handler: rate limit, ack required, every failure becomes a problem ack. */
  private handle<Data>(socket: HoldfastSocket, event: keyof ClientToServerEvents, run: (payload: unknown) => Promise<Data>): void {
    this.answer(socket, event, async (payload) => ({ ok: true, data: await run(payload) }));
  }

  /** Like handle, for a run that answers a refusal as a value (an ack with a problem) instead of throwing it. */
  private answer<Data>(socket: HoldfastSocket, event: keyof ClientToServerEvents, run: (payload: unknown) => Promise<Ack<Data>>): void {
    socket.on(event, (...args: unknown[]) => {
      const ack = args.at(-1);
      if (typeof ack !== 'function') return; // nothing to answer to: ignore, change nothing
      const reply = ack as (result: Ack<Data>) => void;
      if (!this.withinRate(socket)) {
        reply({ ok: false, error: problemOf('rate_limited', `at most ${this.options.eventsPerSecondMax} events per second per connection`) });
        return;
      }
      run(args.length > 1 ? args[0] : undefined).then(reply, (error: unknown) => {
        if (error instanceof ApiError) return reply({ ok: false, error: error.toProblem() });
        this.options.logger.error({ err: error, event }, 'socket event failed');
        reply({ ok: false, error: problemOf('internal_error', 'something went wrong on our side; retry') });
      });
    });
  }

  private withinRate(socket: HoldfastSocket): boolean {
    const nowMs = Date.now();
    if (nowMs - socket.data.windowStartMs >= 1_000) {
      socket.data.windowStartMs = nowMs;
      socket.data.eventsInWindow = 0;
    }
    socket.data.eventsInWindow += 1;
    return socket.data.eventsInWindow <= this.options.eventsPerSecondMax;
  }

  async close(): Promise<void> {
    this.fanout.close();
    await new Promise<void>((resolve) => {
      this.io.close(() => resolve());
      // socket.io's close callback only fires for an http server; uWS has none, so do not wait for it.
      setTimeout(resolve, 100).unref();
    });
  }
}
