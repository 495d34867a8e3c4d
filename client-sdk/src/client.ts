import type { HoldRequestBody, HoldResponse } from '../../src/protocol/hold-schemas.js';
import type { ClientToServerEvents } from '../../src/protocol/socket-events.js';
import { decodeBase64 } from './base64.js';
import { ServerClock, type Stop } from './clock.js';
import { HoldfastAbortError, HoldfastError } from './errors.js';
import { HttpTransport, type AttemptRecord, type FetchLike } from './http.js';
import { newIdempotencyKey } from './idempotency.js';
import { LiveConnection, type ConnectionState, type LiveHooks, type LiveOptions } from './live.js';
import { QueueTracker, type Admission, type JoinQueueOptions } from './queue-tracker.js';
import { defaultRetryPolicy, sleep, type RetryPolicy } from './retry.js';
import type { SeatMapStore } from './seat-map-store.js';
import type {
  AvailabilityView, EventList, EventView, ListShowsParams, OrderList, OrderStatus, OrderView, PaymentDetails, PaymentResult, SearchEventsParams,
  SeatMapView, SessionView, ShowList, ShowStatusMessage, ShowView, TicketInfo, TicketTransferResult, WaitlistEntry, WaitlistJoinRequest, WaitlistOfferMessage,
} from './types.js';

export interface HoldfastClientOptions {
  /** Server address, e.g. `https://tickets.example.com` (REST and socket share it). */
  baseUrl: string;
  /** Session token (POST /v1/sessions, or your identity provider's). */
  token?: string | null;
  /** fetch to use (default: the global one). Wrap it to log, or to inject faults in tests. */
  fetch?: FetchLike;
  /** Retry policy of REST calls. */
  retry?: Partial<RetryPolicy>;
  /** Socket options: transports, reconnect backoff, timeouts. */
  live?: LiveOptions;
  /** The device clock (default Date.now); the server clock is derived from it and the server's replies. */
  now?: () => number;
  /** Randomness for backoff jitter (default Math.random). */
  random?: () => number;
  /** Errors nobody awaits (background resyncs, listeners that threw, refused socket handshakes). */
  onError?: (error: unknown) => void;
  /** Every REST attempt, for logging and metrics. */
  onAttempt?: (record: AttemptRecord) => void;
  /** TESTING ONLY: fault injection on the live connection. */
  testHooks?: LiveHooks;
}

/** Options of every mutating call. */
export interface MutationOptions {
  /**
   * The intent's key. Omitted: a fresh one is made for this call and reused on its retries. To
   * retry an intent after the call threw (HoldfastNetworkError), pass `error.idempotencyKey`.
   */
  idempotencyKey?: string;
  signal?: AbortSignal;
  retry?: Partial<RetryPolicy>;
  /**
   * hold and release only. `'socket'`: sent over the live connection when it is up — one
   * WebSocket frame, no HTTP request, the session checked once per connection — which costs the
   * server and the phone a fraction of a REST call. When the connection is down, the answer does
   * not come (timeout, disconnect) or the server answers a retryable problem, the call goes over
   * REST with the same idempotency key, so it still holds at most once. Default `'http'`.
   */
  via?: 'http' | 'socket';
}

export interface HoldOptions extends MutationOptions {
  /** Admission token of a show with a waiting room (default: the one joinQueue obtained). */
  admissionToken?: string;
  /**
   * PROVISIONAL — not served yet (channels are a later issue; the server has the result codes
   * `channel_key_invalid` and `channel_restricted` but no request field): a presale / sales-channel
   * key, sent as `channel_key` in the hold body. Until the server accepts the field, a hold with
   * it is refused with `validation_failed` (hold bodies are strict).
   */
  channelKey?: string;
}

/** The answer to a hold attempt (tryHold): the hold, or the server's refusal. */
export type HoldAttempt = { ok: true; hold: HoldResponse } | { ok: false; error: HoldfastError };

export interface ReadOptions {
  signal?: AbortSignal;
}

const enc = encodeURIComponent;
const finalOrderStatuses: readonly OrderStatus[] = ['confirmed', 'expired', 'refunded', 'failed'];

/**
 * The Holdfast client: REST calls with retries and idempotency keys, one live socket for seat maps
 * and the waiting room, and the server clock for countdowns. One instance per signed-in fan.
 */
export class HoldfastClient {
  /** The server's clock as seen from this device: use it for every countdown. */
  readonly clock: ServerClock;
  private readonly http: HttpTransport;
  private readonly live: LiveConnection;
  private currentToken: string | null;
  private readonly admissions = new Map<string, Admission>();
  private readonly queues = new Map<string, QueueTracker>();
  private readonly onError: (error: unknown) => void;

  constructor(readonly options: HoldfastClientOptions) {
    this.currentToken = options.token ?? null;
    this.clock = new ServerClock(options.now ?? (() => Date.now()));
    const random = options.random ?? Math.random;
    this.onError = options.onError ?? (() => undefined);
    const fetchImpl: FetchLike = options.fetch ?? ((url, init) => globalThis.fetch(url, init));
    this.http = new HttpTransport({
      baseUrl: options.baseUrl,
      fetch: fetchImpl,
      token: () => this.currentToken,
      clock: this.clock,
      retry: { ...defaultRetryPolicy, ...options.retry },
      random,
      ...(options.onAttempt ? { onAttempt: options.onAttempt } : {}),
    });
    this.live = new LiveConnection({
      baseUrl: options.baseUrl,
      token: () => this.currentToken,
      clock: this.clock,
      random,
      options: options.live ?? {},
      hooks: options.testHooks ?? {},
      onError: (error) => this.onError(error),
    });
  }

  // ─── Session ──────────────────────────────────────────────────────────────────────────────

  get token(): string | null {
    return this.currentToken;
  }

  /** Uses another session token (the live connection re-authenticates). */
  setToken(token: string | null): void {
    this.currentToken = token;
    this.live.reauthenticate();
  }

  /** Development sign-in (POST /v1/sessions): becomes `userId` (or a new user) and keeps the token. */
  async signIn(userId?: string, options: ReadOptions = {}): Promise<SessionView> {
    const session = await this.http.request<SessionView>({ method: 'POST', path: '/v1/sessions', body: userId === undefined ? {} : { user_id: userId }, auth: false, ...signal(options) });
    this.setToken(session.token);
    return session;
  }

  // ─── Browse ───────────────────────────────────────────────────────────────────────────────

  /** Event search by keyword, city, category, performer, venue and dates; page with `cursor` = next_cursor. */
  searchEvents(params: SearchEventsParams = {}, options: ReadOptions = {}): Promise<EventList> {
    return this.http.request({ method: 'GET', path: '/v1/events', query: { ...params }, ...signal(options) });
  }

  getEvent(eventId: string, options: ReadOptions = {}): Promise<EventView> {
    return this.http.request({ method: 'GET', path: `/v1/events/${enc(eventId)}`, ...signal(options) });
  }

  listShows(eventId: string, params: ListShowsParams = {}, options: ReadOptions = {}): Promise<ShowList> {
    return this.http.request({ method: 'GET', path: `/v1/events/${enc(eventId)}/shows`, query: { ...params }, ...signal(options) });
  }

  getShow(showId: string, options: ReadOptions = {}): Promise<ShowView> {
    return this.http.request({ method: 'GET', path: `/v1/shows/${enc(showId)}`, ...signal(options) });
  }

  /** Geometry (seats with positions, tiers, pools) and an availability snapshot; `seatStatus` is decoded. */
  async getSeatMap(showId: string, options: ReadOptions = {}): Promise<SeatMapView & { seatStatus: Uint8Array }> {
    const view = await this.http.request<SeatMapView>({ method: 'GET', path: `/v1/shows/${enc(showId)}/seat-map`, ...signal(options) });
    return { ...view, seatStatus: decodeBase64(view.availability.seat_status) };
  }

  /** Just the availability snapshot; `seatStatus` is decoded. */
  async getAvailability(showId: string, options: ReadOptions = {}): Promise<AvailabilityView & { seatStatus: Uint8Array }> {
    const view = await this.http.request<AvailabilityView>({ method: 'GET', path: `/v1/shows/${enc(showId)}/availability`, ...signal(options) });
    return { ...view, seatStatus: decodeBase64(view.seat_status) };
  }

  // ─── Live ─────────────────────────────────────────────────────────────────────────────────

  /** Opens the live connection (watchShow and joinQueue open it by themselves). */
  connect(timeoutMs?: number): Promise<void> {
    return this.live.connect(timeoutMs);
  }

  get connectionState(): ConnectionState {
    return this.live.state;
  }

  onConnectionChange(listener: (state: ConnectionState) => void): () => void {
    return this.live.onStateChange(listener);
  }

  /**
   * The live seat map of a show: a store that takes a snapshot, applies the server's diffs in
   * order, resyncs on a gap and after every reconnection. One store per show per client: calling
   * again returns the same store; `store.close()` stops watching.
   */
  watchShow(showId: string): SeatMapStore {
    return this.live.watch(showId);
  }

  // ─── Waiting room ─────────────────────────────────────────────────────────────────────────

  /**
   * Joins a show's waiting room (solving its proof-of-work challenge when asked) and follows the
   * line live. Resolves once joined; `tracker.admitted()` resolves with the admission, which
   * hold() then sends by itself.
   */
  async joinQueue(showId: string, options: JoinQueueOptions = {}): Promise<QueueTracker> {
    this.queues.get(showId)?.stop();
    const tracker = new QueueTracker(showId, {
      http: this.http,
      live: this.live,
      clock: this.clock,
      onAdmitted: (admission) => this.admissions.set(showId, admission),
      onError: (error) => this.onError(error),
    });
    this.queues.set(showId, tracker);
    await tracker.start(options);
    return tracker;
  }

  /** The admission obtained for a show, if any. */
  admissionFor(showId: string): Admission | null {
    return this.admissions.get(showId) ?? null;
  }

  // ─── Holds ────────────────────────────────────────────────────────────────────────────────

  /**
   * Holds seats, pool quantities or best-available seats, all or nothing. Retried network failures
   * reuse the intent's Idempotency-Key, so a retry can never hold twice. On a show with a waiting
   * room the admission token from joinQueue is sent (and refreshed once if it expired).
   */
  async hold(showId: string, request: HoldRequestBody, options: HoldOptions = {}): Promise<HoldResponse> {
    const attempt = await this.tryHold(showId, request, options);
    if (attempt.ok) return attempt.hold;
    throw attempt.error;
  }

  /**
   * hold(), with a refusal — the server's non-retryable answer: seats taken, a limit reached,
   * bad input — returned as `{ ok: false, error }` instead of thrown. Under contention most
   * attempts are refused: a crowd app (or a load test) branches on the answer rather than
   * catching it. Network failures (after the retries) and aborts still throw.
   */
  async tryHold(showId: string, request: HoldRequestBody, options: HoldOptions = {}): Promise<HoldAttempt> {
    const idempotencyKey = options.idempotencyKey ?? newIdempotencyKey();
    const body = options.channelKey === undefined ? request : { ...request, channel_key: options.channelKey };
    const overHttp = (admissionToken: string | undefined): Promise<HoldAttempt> =>
      attemptOf(this.http.request<HoldResponse>({
        method: 'POST', path: `/v1/shows/${enc(showId)}/holds`, body, idempotencyKey,
        ...(admissionToken !== undefined ? { headers: { 'admission-token': admissionToken } } : {}),
        ...mutation(options),
      }));
    const send = (admissionToken: string | undefined): Promise<HoldAttempt> =>
      options.via === 'socket'
        ? this.overSocket('hold', { ...body, show_id: showId, idempotency_key: idempotencyKey, ...(admissionToken !== undefined ? { admission_token: admissionToken } : {}) }, options.signal, () => overHttp(admissionToken))
        : overHttp(admissionToken);
    const tracker = this.queues.get(showId);
    const attempt = await send(options.admissionToken ?? this.admissions.get(showId)?.token);
    const ticket = tracker?.ticket ?? null;
    if (attempt.ok || attempt.error.code !== 'admission_required' || options.admissionToken !== undefined || tracker === undefined || ticket === null) return attempt;
    // The admission token expired (or never came): an admitted ticket gets a fresh one. Same key.
    try {
      await tracker.refresh(options.signal);
    } catch (error) {
      // A refresh the server refuses (the ticket is no longer good) is this attempt's answer.
      if (error instanceof HoldfastError && !error.retryable) return { ok: false, error };
      throw error;
    }
    const fresh = this.admissions.get(showId)?.token;
    if (fresh === undefined) return attempt;
    return send(fresh);
  }

  getHold(holdId: string, options: ReadOptions = {}): Promise<HoldResponse> {
    return this.http.request({ method: 'GET', path: `/v1/holds/${enc(holdId)}`, ...signal(options) });
  }

  /** Releases a hold: its items return to sale at once. */
  async release(holdId: string, options: MutationOptions = {}): Promise<HoldResponse> {
    const idempotencyKey = options.idempotencyKey ?? newIdempotencyKey();
    const overHttp = (): Promise<HoldResponse> => this.http.request({ method: 'DELETE', path: `/v1/holds/${enc(holdId)}`, idempotencyKey, ...mutation(options) });
    if (options.via !== 'socket') return overHttp();
    const attempt = await this.overSocket('release', { hold_id: holdId, idempotency_key: idempotencyKey }, options.signal, () => attemptOf(overHttp()));
    if (attempt.ok) return attempt.hold;
    throw attempt.error;
  }

  /** A hold or release over the live connection, or over REST (same key) when that cannot answer. */
  private async overSocket<Event extends 'hold' | 'release'>(event: Event, payload: Parameters<ClientToServerEvents[Event]>[0], signal: AbortSignal | undefined, overHttp: () => Promise<HoldAttempt>): Promise<HoldAttempt> {
    if (signal?.aborted) throw new HoldfastAbortError();
    if (this.live.state !== 'connected') return overHttp();
    let ack;
    try {
      const answer = this.live.emitForAck(event, payload);
      ack = await (signal === undefined ? answer : untilAborted(answer, signal));
    } catch (error) {
      if (error instanceof HoldfastAbortError) throw error;
      return overHttp(); // no answer (timeout, disconnect): REST, same key
    }
    if (ack.ok) return { ok: true, hold: ack.data as HoldResponse };
    // A refusal carries the intent's key, as REST's would.
    const error = new HoldfastError(ack.error, { idempotencyKey: payload.idempotency_key, attempts: 1, method: 'socket', path: event });
    return error.retryable ? overHttp() : { ok: false, error };
  }

  /** Extends a hold (a bounded number of times). */
  extend(holdId: string, options: MutationOptions = {}): Promise<HoldResponse> {
    return this.http.request({ method: 'POST', path: `/v1/holds/${enc(holdId)}/extend`, body: {}, idempotencyKey: options.idempotencyKey ?? newIdempotencyKey(), ...mutation(options) });
  }

  /** Ms left on a hold, by the server's clock. */
  holdRemainingMs(hold: Pick<HoldResponse, 'expires_at_ms'>): number {
    return this.clock.remainingMs(hold.expires_at_ms);
  }

  /** Counts a hold down on the server's clock (not the device's): `onTick(remainingMs)` until 0. */
  holdCountdown(hold: Pick<HoldResponse, 'expires_at_ms'>, onTick: (remainingMs: number) => void, options: { intervalMs?: number } = {}): Stop {
    return this.clock.countdown(hold.expires_at_ms, onTick, options);
  }

  // ─── Orders and payment ───────────────────────────────────────────────────────────────────

  /** Creates the order of a hold (pins it for the payment window; one order per hold). */
  createOrder(holdId: string, options: MutationOptions = {}): Promise<OrderView> {
    return this.http.request({ method: 'POST', path: '/v1/orders', body: { hold_id: holdId }, idempotencyKey: options.idempotencyKey ?? newIdempotencyKey(), ...mutation(options) });
  }

  /**
   * Pays. One key per "Pay" intent, reused on every retry, so a retried network failure can never
   * charge twice. `status: 'processing'` means the outcome comes later: waitForOrder().
   */
  confirmPayment(paymentId: string, details: PaymentDetails, options: MutationOptions = {}): Promise<PaymentResult> {
    return this.http.request({ method: 'POST', path: `/v1/payments/${enc(paymentId)}/confirm`, body: details, idempotencyKey: options.idempotencyKey ?? newIdempotencyKey(), ...mutation(options) });
  }

  getOrder(orderId: string, options: ReadOptions = {}): Promise<OrderView> {
    return this.http.request({ method: 'GET', path: `/v1/orders/${enc(orderId)}`, ...signal(options) });
  }

  /** Your orders, newest first; page with `beforeMs` = next_before_ms. */
  listOrders(params: { beforeMs?: number; limit?: number } = {}, options: ReadOptions = {}): Promise<OrderList> {
    return this.http.request({ method: 'GET', path: '/v1/me/orders', query: { before_ms: params.beforeMs, limit: params.limit }, ...signal(options) });
  }

  /** Polls an order until it leaves pending_payment/processing (or `timeoutMs` passes). */
  async waitForOrder(orderId: string, options: { timeoutMs?: number; intervalMs?: number; signal?: AbortSignal } = {}): Promise<OrderView> {
    const deadline = Date.now() + (options.timeoutMs ?? 60_000);
    for (;;) {
      const order = await this.getOrder(orderId, signal(options));
      if (finalOrderStatuses.includes(order.status) || Date.now() >= deadline) return order;
      await sleep(options.intervalMs ?? 1_000, options.signal);
    }
  }

  getTicket(ticketId: string, options: ReadOptions = {}): Promise<TicketInfo> {
    return this.http.request({ method: 'GET', path: `/v1/tickets/${enc(ticketId)}`, ...signal(options) });
  }

  /** The ticket's QR code as SVG markup (the URL needs the bearer token, so fetch it here). */
  getTicketQrSvg(ticketId: string, options: ReadOptions = {}): Promise<string> {
    return this.http.request({ method: 'GET', path: `/v1/tickets/${enc(ticketId)}/qr.svg`, text: true, headers: { accept: 'image/svg+xml' }, ...signal(options) });
  }

  /** Gives a ticket to another fan (`POST /v1/tickets/{id}/transfer`): they get a new token, the old one stops verifying. */
  transferTicket(ticketId: string, toUserId: string, options: MutationOptions = {}): Promise<TicketTransferResult> {
    return this.http.request({ method: 'POST', path: `/v1/tickets/${enc(ticketId)}/transfer`, body: { to_user_id: toUserId }, idempotencyKey: options.idempotencyKey ?? newIdempotencyKey(), ...mutation(options) });
  }

  // ─── Waitlist ─────────────────────────────────────────────────────────────────────────────

  /**
   * Joins a sold-out show's waitlist (`POST /v1/shows/{id}/waitlist`). When seats come back the
   * server makes a hold for you and pushes it as a `waitlist:offer` (onWaitlistOffer): buy it with
   * createOrder(offer.hold_id) before offer.expires_at_ms (a server time: clock.remainingMs()).
   */
  joinWaitlist(showId: string, request: WaitlistJoinRequest, options: MutationOptions = {}): Promise<WaitlistEntry> {
    const joined = this.http.request<WaitlistEntry>({ method: 'POST', path: `/v1/shows/${enc(showId)}/waitlist`, body: request, idempotencyKey: options.idempotencyKey ?? newIdempotencyKey(), ...mutation(options) });
    // Offers are pushed to the fan's connection: make sure there is one.
    if (!this.live.connected) this.live.connect().catch((error: unknown) => this.onError(error));
    return joined;
  }

  leaveWaitlist(showId: string, options: MutationOptions = {}): Promise<{ show_id: string; left: true }> {
    return this.http.request({ method: 'DELETE', path: `/v1/shows/${enc(showId)}/waitlist`, ...mutation(options) });
  }

  /** Live waitlist offers (socket event `waitlist:offer`), wherever this fan is connected. */
  onWaitlistOffer(listener: (offer: WaitlistOfferMessage) => void): () => void {
    const off = this.live.on('waitlist:offer', listener);
    if (!this.live.connected) this.live.connect().catch((error: unknown) => this.onError(error));
    return off;
  }

  /** A watched show selling out or coming back (socket event `show:status`, to watchers and the waiting room). */
  onShowStatus(listener: (status: ShowStatusMessage) => void): () => void {
    return this.live.on('show:status', listener);
  }

  // ─── Lifecycle ────────────────────────────────────────────────────────────────────────────

  /** Closes the live connection, every seat-map store and queue tracker. */
  close(): void {
    for (const tracker of this.queues.values()) tracker.stop();
    this.queues.clear();
    this.live.close();
  }
}

function signal(options: { signal?: AbortSignal }): { signal?: AbortSignal } {
  return options.signal ? { signal: options.signal } : {};
}

/** A REST hold or release as an attempt: a non-retryable problem becomes `{ ok: false }`, anything else still throws. */
async function attemptOf(call: Promise<HoldResponse>): Promise<HoldAttempt> {
  try {
    return { ok: true, hold: await call };
  } catch (error) {
    if (error instanceof HoldfastError && !error.retryable) return { ok: false, error };
    throw error;
  }
}

/** `promise`, or HoldfastAbortError as soon as `signal` fires. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new HoldfastAbortError());
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function mutation(options: MutationOptions): { signal?: AbortSignal; retry?: Partial<RetryPolicy> } {
  return { ...signal(options), ...(options.retry ? { retry: options.retry } : {}) };
}
