import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DedupingConsumer, MemorySeenEventStore } from '../../src/outbox/consumer-dedupe.js';
import { OutboxRelay } from '../../src/outbox/outbox-relay.js';
import type { OutboxEvent } from '../../src/outbox/outbox-store.js';
import { eventIdHeader, signatureHeader, signWebhook, topicHeader, verifyWebhookSignature, WebhookDeliveryError, WebhookSink, type WebhookBody } from '../../src/outbox/sinks.js';
import type { SqlDatabase } from '../../src/persistence/database.js';
import { silentLogger } from '../../src/shared/logger.js';
import { databaseKinds } from '../support/databases.js';
import { insertEvent, resetOutbox, rowState, sleep } from './support.js';

const secret = 'whsec_test_0123456789abcdef';

interface Received {
  eventId: string | undefined;
  topic: string | undefined;
  verified: boolean;
  body: WebhookBody;
}

/** A consumer's endpoint on loopback: verifies the signature, dedupes by event id, can misbehave on demand. */
class Receiver {
  readonly requests: Received[] = [];
  readonly handled: WebhookBody[] = [];
  /** Answer with this status instead of handling (one entry per upcoming request). */
  readonly failNext: number[] = [];
  delayMs = 0;
  private server: Server | null = null;
  private readonly consumer = new DedupingConsumer<{ eventId: string; body: WebhookBody }>({
    consumer: 'receiver',
    store: new MemorySeenEventStore(),
    handler: async ({ body }) => void this.handled.push(body),
  });

  async listen(): Promise<string> {
    this.server = createServer((request, response) => {
      void this.serve(request).then(
        (status) => response.writeHead(status).end(),
        () => response.writeHead(500).end(),
      );
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks/holdfast`;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  private async serve(request: IncomingMessage): Promise<number> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    const verified = verifyWebhookSignature(raw, request.headers[signatureHeader], secret);
    const body = JSON.parse(raw.toString('utf8')) as WebhookBody;
    const eventId = request.headers[eventIdHeader] as string | undefined;
    this.requests.push({ eventId, topic: request.headers[topicHeader] as string | undefined, verified, body });
    if (this.delayMs > 0) await sleep(this.delayMs);
    if (!verified) return 401;
    const failure = this.failNext.shift();
    if (failure !== undefined) return failure;
    if (eventId === undefined || eventId !== body.id) return 400;
    await this.consumer.handle({ eventId, body });
    return 204;
  }
}

const event = (eventId: string, payload: unknown = { orderId: 'o1' }): OutboxEvent => ({ eventId, showId: 'show-w', topic: 'OrderConfirmed', payload, createdAtMs: Date.UTC(2030, 0, 1) });

describe('webhook signatures', () => {
  const body = JSON.stringify({ id: '1', payload: { a: 1 } });
  const now = 1_900_000_000_000;

  it('accepts its own signature and refuses tampering, other secrets, stale timestamps and garbage', () => {
    const header = signWebhook(body, secret, now);
    expect(header).toMatch(/^t=1900000000000,v1=[0-9a-f]{64}$/);
    expect(verifyWebhookSignature(body, header, secret, 60_000, now)).toBe(true);
    expect(verifyWebhookSignature(Buffer.from(body), header, secret, 60_000, now + 59_000)).toBe(true);
    expect(verifyWebhookSignature(body.replace('1}', '2}'), header, secret, 60_000, now)).toBe(false);
    expect(verifyWebhookSignature(body, header, `${secret}x`, 60_000, now)).toBe(false);
    expect(verifyWebhookSignature(body, header, secret, 60_000, now + 61_000)).toBe(false);
    expect(verifyWebhookSignature(body, header.replace('t=1900000000000', 't=1900000000001'), secret, 60_000, now)).toBe(false);
    for (const garbage of [undefined, '', 'v1=abc', `t=${now}`, `t=x,v1=${'0'.repeat(64)}`, ['a', 'b']]) expect(verifyWebhookSignature(body, garbage, secret, 60_000, now)).toBe(false);
  });

  it('accepts any of several v1 signatures (secret rotation)', () => {
    const old = signWebhook(body, 'an-old-secret-0123456789', now);
    const header = `${old},v1=${signWebhook(body, secret, now).split('v1=')[1]}`;
    expect(verifyWebhookSignature(body, header, secret, 60_000, now)).toBe(true);
    expect(verifyWebhookSignature(body, header, 'an-old-secret-0123456789', 60_000, now)).toBe(true);
  });

  it('refuses short secrets and non-http URLs', () => {
    expect(() => new WebhookSink({ url: 'http://127.0.0.1/', secret: 'short' })).toThrow(/16 characters/);
    expect(() => new WebhookSink({ url: 'file:///etc/passwd', secret })).toThrow(/http/);
  });
});

describe('webhook sink against a loopback receiver', () => {
  let receiver: Receiver;
  let url: string;
  beforeEach(async () => {
    receiver = new Receiver();
    url = await receiver.listen();
  });
  afterEach(async () => receiver.close());

  it('POSTs a signed JSON body with the event id and topic headers', async () => {
    await new WebhookSink({ url, secret }).deliver(event('42', { orderId: 'o42', seats: ['A-1'] }));
    expect(receiver.requests).toEqual([
      { eventId: '42', topic: 'OrderConfirmed', verified: true, body: { id: '42', showId: 'show-w', topic: 'OrderConfirmed', createdAt: '2030-01-01T00:00:00.000Z', payload: { orderId: 'o42', seats: ['A-1'] } } },
    ]);
    expect(receiver.handled).toHaveLength(1);
  });

  it('treats a non-2xx answer, a wrong secret and a timeout as failures', async () => {
    receiver.failNext.push(503);
    await expect(new WebhookSink({ url, secret }).deliver(event('1'))).rejects.toMatchObject({ name: 'WebhookDeliveryError', status: 503 });
    await expect(new WebhookSink({ url, secret: 'not-the-receivers-secret' }).deliver(event('2'))).rejects.toMatchObject({ status: 401 });
    receiver.delayMs = 400;
    const timedOut = new WebhookSink({ url, secret, timeoutMs: 100 }).deliver(event('3'));
    await expect(timedOut).rejects.toBeInstanceOf(WebhookDeliveryError);
    await expect(timedOut).rejects.toThrow(/timed out after 100 ms/);
    expect(receiver.handled).toEqual([]);
  });

  it('reports a refused connection as a failure without the URL', async () => {
    await receiver.close();
    const error = await new WebhookSink({ url, secret, timeoutMs: 2_000 }).deliver(event('1')).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(WebhookDeliveryError);
    expect((error as Error).message).toMatch(/^webhook request failed/);
    expect((error as Error).message).not.toContain('hooks/holdfast');
  });

  it('the consumer dedupes redeliveries by event id', async () => {
    const sink = new WebhookSink({ url, secret });
    await sink.deliver(event('7'));
    await sink.deliver(event('7'));
    await sink.deliver(event('8'));
    expect(receiver.requests.map((request) => request.eventId)).toEqual(['7', '7', '8']);
    expect(receiver.handled.map((body) => body.id)).toEqual(['7', '8']);
  });
});

for (const kind of databaseKinds) {
  describe.skipIf(!kind.available)(`outbox relay to a webhook: ${kind.name}`, () => {
    let db: SqlDatabase;
    let receiver: Receiver;
    let url: string;
    beforeAll(async () => {
      db = await kind.open();
    });
    afterAll(async () => db.close());
    beforeEach(async () => {
      await resetOutbox(db);
      receiver = new Receiver();
      url = await receiver.listen();
    });
    afterEach(async () => receiver.close());

    it('retries a webhook answering 503 with backoff, then delivers it once', async () => {
      const id = await insertEvent(db, 'show-w', 'PaymentFailed', { orderId: 'o5' });
      receiver.failNext.push(503, 503);
      const target = new OutboxRelay({ db, sinks: [new WebhookSink({ url, secret, timeoutMs: 2_000 })], logger: silentLogger, backoff: { baseMs: 10, maxMs: 50 } });
      for (let round = 0; round < 200 && !(await rowState(db, id)).delivered; round++) {
        await target.runOnce();
        await sleep(10);
      }
      expect(await rowState(db, id)).toMatchObject({ delivered: true, attempts: 2 });
      expect(receiver.requests.map((request) => request.eventId)).toEqual([id, id, id]);
      expect(receiver.handled.map((body) => [body.id, body.topic, body.payload])).toEqual([[id, 'PaymentFailed', { orderId: 'o5' }]]);
    });

    it('relay killed between send and mark-sent: the webhook gets the event twice, the consumer handles it once', async () => {
      const id = await insertEvent(db, 'show-w', 'OrderConfirmed', { orderId: 'o1' });
      const sink = new WebhookSink({ url, secret, timeoutMs: 2_000 });
      const dying = new OutboxRelay({ db, sinks: [sink], logger: silentLogger, leaseMs: 200, afterSendBeforeMark: () => { throw new Error('SIGKILL'); } });
      await expect(dying.runOnce()).rejects.toThrow('SIGKILL');
      expect((await rowState(db, id)).delivered).toBe(false);

      await sleep(250); // the dead relay's lease runs out
      const fresh = new OutboxRelay({ db, sinks: [sink], logger: silentLogger, leaseMs: 200 });
      expect(await fresh.runOnce()).toMatchObject({ claimed: 1, delivered: 1 });
      expect((await rowState(db, id)).delivered).toBe(true);
      expect(receiver.requests.map((request) => [request.eventId, request.verified])).toEqual([[id, true], [id, true]]);
      expect(receiver.handled.map((body) => body.id)).toEqual([id]);
    });
  });
}
