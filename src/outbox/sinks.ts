import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Logger } from '../shared/logger.js';
import type { OutboxEvent } from './outbox-store.js';

/**
 * Where outbox events go. `deliver` resolves once the sink has accepted the event and rejects
 * when it has not (the relay retries with backoff). Delivery is at least once: a sink may see an
 * event again after a crash or a failure of another sink, so receivers dedupe by `eventId`.
 */
export interface OutboxSink {
  readonly name: string;
  deliver(event: OutboxEvent): Promise<void>;
}

/** One structured log line per event: the simplest sink, and an audit trail. */
export class LogSink implements OutboxSink {
  readonly name = 'log';

  constructor(
    private readonly logger: Logger,
    private readonly options: { includePayload?: boolean; level?: 'info' | 'debug' } = {},
  ) {}

  async deliver(event: OutboxEvent): Promise<void> {
    const fields = { eventId: event.eventId, showId: event.showId, topic: event.topic, createdAtMs: event.createdAtMs, ...(this.options.includePayload === false ? {} : { payload: event.payload }) };
    this.logger[this.options.level ?? 'info'](fields, 'outbox event');
  }
}

export interface WebhookSinkOptions {
  url: string;
  /** HMAC-SHA256 key; the receiver verifies `x-holdfast-signature` with it. */
  secret: string;
  timeoutMs?: number;
  /** Signature timestamps; tests inject their own. */
  nowMs?: () => number;
  /** Defaults to the global fetch. */
  fetch?: typeof fetch;
  name?: string;
}

export const eventIdHeader = 'x-holdfast-event-id';
export const topicHeader = 'x-holdfast-topic';
export const signatureHeader = 'x-holdfast-signature';

/** The JSON body a webhook receives. */
export interface WebhookBody {
  id: string;
  showId: string;
  topic: string;
  createdAt: string;
  payload: unknown;
}

export function webhookBody(event: OutboxEvent): string {
  const body: WebhookBody = { id: event.eventId, showId: event.showId, topic: event.topic, createdAt: new Date(event.createdAtMs).toISOString(), payload: event.payload };
  return JSON.stringify(body);
}

function hmacHex(secret: string, timestampMs: number, body: string | Buffer): string {
  return createHmac('sha256', secret).update(`${timestampMs}.`).update(body).digest('hex');
}

/** `t=<ms>,v1=<hex HMAC-SHA256 of "<ms>.<body>">`, the value of `x-holdfast-signature`. */
export function signWebhook(body: string | Buffer, secret: string, timestampMs: number): string {
  return `t=${timestampMs},v1=${hmacHex(secret, timestampMs, body)}`;
}

/**
 * For receivers: true when `header` carries a `v1` HMAC of `body` (the raw bytes received) under
 * `secret` whose timestamp is within `toleranceMs` of now (replay protection). Several `v1`
 * entries are allowed (secret rotation); the comparison is constant-time.
 */
export function verifyWebhookSignature(body: string | Buffer, header: string | string[] | undefined, secret: string, toleranceMs = 5 * 60_000, nowMs = Date.now()): boolean {
  if (typeof header !== 'string' || header.length > 4096) return false;
  let timestamp: number | undefined;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const separator = part.indexOf('=');
    if (separator < 0) continue;
    const key = part.slice(0, separator).trim();
    const value = part.slice(separator + 1).trim();
    if (key === 't' && /^\d{1,16}$/.test(value)) timestamp = Number(value);
    else if (key === 'v1' && /^[0-9a-f]{64}$/.test(value)) signatures.push(value);
  }
  if (timestamp === undefined || signatures.length === 0) return false;
  if (Math.abs(nowMs - timestamp) > toleranceMs) return false;
  const expected = Buffer.from(hmacHex(secret, timestamp, body), 'hex');
  return signatures.some((signature) => timingSafeEqual(Buffer.from(signature, 'hex'), expected));
}

export class WebhookDeliveryError extends Error {
  constructor(message: string, readonly status: number | null) {
    super(message);
    this.name = 'WebhookDeliveryError';
  }
}

/**
 * POSTs each event as JSON to one URL, signed with HMAC-SHA256. Any 2xx is acceptance; any other
 * status, a network error or the timeout is a failure the relay retries (then dead-letters).
 */
export class WebhookSink implements OutboxSink {
  readonly name: string;
  private readonly timeoutMs: number;
  private readonly nowMs: () => number;
  private readonly fetch: typeof fetch;

  constructor(private readonly options: WebhookSinkOptions) {
    if (options.secret.length < 16) throw new Error('the webhook secret must have at least 16 characters');
    const url = new URL(options.url);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error(`webhook URL must be http(s), got ${url.protocol}`);
    this.name = options.name ?? 'webhook';
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.nowMs = options.nowMs ?? Date.now;
    this.fetch = options.fetch ?? globalThis.fetch;
  }

  async deliver(event: OutboxEvent): Promise<void> {
    const body = webhookBody(event);
    let response: Response;
    try {
      response = await this.fetch(this.options.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'holdfast-outbox/1',
          [eventIdHeader]: event.eventId,
          [topicHeader]: event.topic,
          [signatureHeader]: signWebhook(body, this.options.secret, this.nowMs()),
        },
        body,
        redirect: 'error',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
      throw new WebhookDeliveryError(timedOut ? `webhook timed out after ${this.timeoutMs} ms` : `webhook request failed: ${describe(error)}`, null);
    }
    // Drain the body so the connection can be reused; its content is not needed.
    await response.arrayBuffer().catch(() => undefined);
    if (response.status < 200 || response.status > 299) throw new WebhookDeliveryError(`webhook answered ${response.status}`, response.status);
  }
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as Error & { cause?: unknown }).cause;
  return cause instanceof Error ? `${error.message} (${cause.message})` : error.message;
}
