import { etaSeconds, isAdmitted, queuePosition } from '../../src/admission/queue-math.js';
import type { QueueAdmittedMessage, QueueServingMessage, QueueStatusMessage } from '../../src/protocol/socket-events.js';
import type { ServerClock, Stop } from './clock.js';
import { HoldfastError } from './errors.js';
import type { HttpTransport } from './http.js';
import type { LiveConnection } from './live.js';
import { solveProofOfWork, type ProofOfWorkOptions } from './proof-of-work.js';
import type { ProofOfWorkChallenge } from './types.js';

export type QueuePhase = 'joining' | 'solving' | 'pre_queue' | 'queued' | 'admitted' | 'failed' | 'stopped';

export interface QueueState {
  showId: string;
  phase: QueuePhase;
  /** Signed queue ticket: keep it (e.g. in storage) and pass it to joinQueue to resume the same place. */
  ticket: string | null;
  /** Place in line; null until the pre-queue lottery is drawn at on-sale. */
  number: number | null;
  /** Fans ahead plus one (0 once admitted); null while unknown. */
  position: number | null;
  /** Seconds to admission at the current rate; null when paused or unknown. */
  etaS: number | null;
  /** Tickets numbered below this are admitted. */
  serving: number | null;
  /** Admissions per second lately. */
  rate: number;
  paused: boolean;
  admissionToken: string | null;
  /** Server clock: use client.clock.remainingMs() for a countdown. */
  admissionExpiresAtMs: number | null;
  error?: unknown;
}

export interface Admission {
  showId: string;
  token: string;
  expiresAtMs: number;
}

export interface JoinQueueOptions {
  /** A ticket from an earlier join (same place in line). */
  ticket?: string;
  signal?: AbortSignal;
  /** Called when the show asks for proof of work, before solving. */
  onProofOfWork?: (challenge: ProofOfWorkChallenge) => void;
  /** Passed to the solver (progress callback, slice size). */
  proofOfWork?: Omit<ProofOfWorkOptions, 'signal'>;
  /** Status polling while the live connection cannot help (default 5 s). */
  pollIntervalMs?: number;
}

export interface QueueTrackerDeps {
  http: HttpTransport;
  live: LiveConnection;
  clock: ServerClock;
  onAdmitted: (admission: Admission, tracker: QueueTracker) => void;
  onError: (error: unknown) => void;
}

/**
 * One fan's place in a show's waiting room. Joins over REST (solving the proof-of-work challenge
 * when the show asks for one), then follows the show's `queue:serving` broadcasts on the socket:
 * position = number − serving (+1, as the server counts it) and ETA from the admission rate, both
 * computed with the server's own queue arithmetic (src/admission/queue-math.ts). Admission comes
 * as a `queue:admitted` push; polling `GET /v1/queue/{ticket}` covers a missing socket and the
 * pre-queue, and the ticket is re-registered on every reconnection.
 */
export class QueueTracker {
  private current: QueueState;
  private readonly listeners = new Set<(state: QueueState) => void>();
  private readonly cleanups: (() => void)[] = [];
  private pollTimer: ReturnType<typeof setInterval> | null = null;
  private admittedWaiters: { resolve: (admission: Admission) => void; reject: (error: unknown) => void }[] = [];
  private refreshing: Promise<QueueState> | null = null;

  constructor(
    readonly showId: string,
    private readonly deps: QueueTrackerDeps,
  ) {
    this.current = { showId, phase: 'joining', ticket: null, number: null, position: null, etaS: null, serving: null, rate: 0, paused: false, admissionToken: null, admissionExpiresAtMs: null };
  }

  get state(): QueueState {
    return this.current;
  }

  get ticket(): string | null {
    return this.current.ticket;
  }

  get admission(): Admission | null {
    const { admissionToken, admissionExpiresAtMs } = this.current;
    return admissionToken === null || admissionExpiresAtMs === null ? null : { showId: this.showId, token: admissionToken, expiresAtMs: admissionExpiresAtMs };
  }

  /** Stable for useSyncExternalStore. */
  readonly getState = (): QueueState => this.current;

  readonly subscribe = (listener: (state: QueueState) => void): (() => void) => {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  };

  /** Resolves with the admission (at once if already admitted). */
  admitted(): Promise<Admission> {
    const admission = this.admission;
    if (admission !== null && this.current.phase === 'admitted') return Promise.resolve(admission);
    if (this.current.phase === 'failed' || this.current.phase === 'stopped') return Promise.reject(this.current.error ?? new Error(`queue tracking ${this.current.phase}`));
    return new Promise((resolve, reject) => this.admittedWaiters.push({ resolve, reject }));
  }

  /** Counts down the admission token's lifetime on the server clock. */
  admissionCountdown(onTick: (remainingMs: number) => void, options: { intervalMs?: number } = {}): Stop {
    const expires = this.current.admissionExpiresAtMs;
    if (expires === null) throw new Error('not admitted yet');
    return this.deps.clock.countdown(expires, onTick, options);
  }

  /** Joins (solving proof of work if asked) and starts following the queue. */
  async start(options: JoinQueueOptions = {}): Promise<QueueState> {
    try {
      const status = options.ticket !== undefined ? await this.fetchStatus(options.ticket, options.signal) : await this.join(options);
      this.applyStatus(status);
      if (this.current.phase !== 'admitted') this.follow(options.pollIntervalMs ?? 5_000);
      return this.current;
    } catch (error) {
      this.fail(error);
      throw error;
    }
  }

  /** Asks the server for the current status (GET /v1/queue/{ticket}); admitted fans get a fresh token. */
  refresh(signal?: AbortSignal): Promise<QueueState> {
    const ticket = this.current.ticket;
    if (ticket === null) return Promise.reject(new Error('no queue ticket yet'));
    this.refreshing ??= this.fetchStatus(ticket, signal)
      .then((status) => {
        this.applyStatus(status);
        return this.current;
      })
      .finally(() => {
        this.refreshing = null;
      });
    return this.refreshing;
  }

  /** Stops following (the place in line is kept by the server; rejoin with the ticket). */
  stop(): void {
    this.unfollow();
    if (this.current.phase !== 'admitted') this.update({ phase: 'stopped' });
    for (const waiter of this.admittedWaiters.splice(0)) waiter.reject(new Error('queue tracking stopped'));
  }

  private async join(options: JoinQueueOptions): Promise<QueueStatusMessage> {
    const path = `/v1/shows/${encodeURIComponent(this.showId)}/queue`;
    try {
      // Joining again returns the same place, so the retry policy may safely repeat it.
      return await this.deps.http.request<QueueStatusMessage>({ method: 'POST', path, body: {}, ...(options.signal ? { signal: options.signal } : {}) });
    } catch (error) {
      if (!(error instanceof HoldfastError) || error.code !== 'proof_of_work_required') throw error;
    }
    const challenge = await this.deps.http.request<ProofOfWorkChallenge>({ method: 'GET', path: `${path}/challenge`, ...(options.signal ? { signal: options.signal } : {}) });
    this.update({ phase: 'solving' });
    options.onProofOfWork?.(challenge);
    const nonce = await solveProofOfWork(challenge.challenge, challenge.difficulty, { ...options.proofOfWork, ...(options.signal ? { signal: options.signal } : {}) });
    return this.deps.http.request<QueueStatusMessage>({ method: 'POST', path, body: { pow_challenge: challenge.challenge, pow_nonce: nonce }, ...(options.signal ? { signal: options.signal } : {}) });
  }

  private fetchStatus(ticket: string, signal?: AbortSignal): Promise<QueueStatusMessage> {
    return this.deps.http.request<QueueStatusMessage>({ method: 'GET', path: `/v1/queue/${encodeURIComponent(ticket)}`, ...(signal ? { signal } : {}) });
  }

  /** Live pushes on the socket, the ticket re-registered on every (re)connection, polling as the fallback. */
  private follow(pollIntervalMs: number): void {
    const live = this.deps.live;
    this.cleanups.push(
      live.on('queue:serving', (message: QueueServingMessage) => {
        if (message.show_id === this.showId) this.applyServing(message);
      }),
      live.on('queue:admitted', (message: QueueAdmittedMessage) => {
        if (message.show_id === this.showId) this.admit(message.admission_token, message.expires_at_ms);
      }),
      live.onConnected(() => void this.register()),
    );
    this.pollTimer = setInterval(() => {
      const { number, serving, phase } = this.current;
      const stale = !live.connected || number === null || phase === 'pre_queue' || (serving !== null && isAdmitted(number, serving));
      if (stale) this.refresh().catch((error: unknown) => this.deps.onError(error));
    }, pollIntervalMs);
    // After pollTimer is set: register() does nothing while it is null (an already-open socket
    // would otherwise never register the ticket, and admission would wait for the next poll).
    if (live.connected) void this.register();
    else live.connect().catch(() => undefined); // polling covers a socket that cannot connect
  }

  private async register(): Promise<void> {
    const ticket = this.current.ticket;
    if (ticket === null || this.current.phase === 'admitted' || this.pollTimer === null) return;
    try {
      this.applyStatus(await this.deps.live.joinQueue({ show_id: this.showId, ticket }));
    } catch (error) {
      this.deps.onError(error);
    }
  }

  private unfollow(): void {
    for (const cleanup of this.cleanups.splice(0)) cleanup();
    if (this.pollTimer !== null) clearInterval(this.pollTimer);
    this.pollTimer = null;
  }

  private applyStatus(status: QueueStatusMessage): void {
    if (status.phase === 'admitted' && status.admission_token !== null && status.admission_expires_at_ms !== null) {
      this.update({ ticket: status.ticket, number: status.number, serving: status.serving, rate: status.rate });
      this.admit(status.admission_token, status.admission_expires_at_ms);
      return;
    }
    if (this.current.phase === 'admitted') return;
    this.update({
      phase: status.phase === 'admitted' ? 'queued' : status.phase,
      ticket: status.ticket,
      number: status.number,
      position: status.position,
      etaS: status.eta_s,
      serving: status.serving,
      rate: status.rate,
    });
  }

  private applyServing(message: QueueServingMessage): void {
    if (this.current.phase === 'admitted') return;
    const rate = message.paused ? 0 : message.rate > 0 ? message.rate : this.current.rate;
    const number = this.current.number;
    const position = number === null ? null : queuePosition(number, message.serving);
    this.update({
      serving: message.serving,
      rate,
      paused: message.paused,
      position,
      etaS: position === null || message.paused ? null : etaSeconds(position, rate),
    });
  }

  private admit(token: string, expiresAtMs: number): void {
    this.unfollow();
    this.update({ phase: 'admitted', position: 0, etaS: 0, admissionToken: token, admissionExpiresAtMs: expiresAtMs });
    const admission: Admission = { showId: this.showId, token, expiresAtMs };
    this.deps.onAdmitted(admission, this);
    for (const waiter of this.admittedWaiters.splice(0)) waiter.resolve(admission);
  }

  private fail(error: unknown): void {
    this.unfollow();
    this.update({ phase: 'failed', error });
    for (const waiter of this.admittedWaiters.splice(0)) waiter.reject(error);
  }

  private update(change: Partial<QueueState>): void {
    this.current = { ...this.current, ...change };
    for (const listener of [...this.listeners]) {
      try {
        listener(this.current);
      } catch (error) {
        this.deps.onError(error);
      }
    }
  }
}
