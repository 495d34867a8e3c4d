/**
 * A loopback stand-in for api.stripe.com, just big enough for StripePaymentProvider: it answers
 * the calls stripe-node makes (form-encoded bodies, Bearer auth), keeps PaymentIntents, charges
 * and refunds in memory, and behaves like Stripe for idempotency — the first response to an
 * Idempotency-Key (200 or 402) is saved and replayed with `Idempotent-Replayed: true`; the same
 * key with another endpoint or other parameters gets 400 idempotency_error. Every request is
 * recorded so tests can assert the adapter sent its keys.
 *
 * Test payment methods (Stripe's names where Stripe has one):
 * | payment method                                 | confirm outcome                                                        |
 * |------------------------------------------------|------------------------------------------------------------------------|
 * | pm_card_visa, pm_card_mastercard               | succeeded (one charge)                                                 |
 * | pm_card_chargeDeclined                         | 402 card_error card_declined / generic_decline → requires_payment_method |
 * | pm_card_visa_chargeDeclinedInsufficientFunds   | 402 card_error card_declined / insufficient_funds                       |
 * | pm_card_chargeDeclinedExpiredCard              | 402 card_error expired_card                                             |
 * | pm_card_authenticationRequired                 | requires_action (3-D Secure)                                            |
 * | pm_fake_processing (fake only)                 | processing; `settleProcessing(id)` makes it succeed                     |
 * | anything else                                  | 400 resource_missing (param payment_method)                             |
 *
 * Fault injection: `dropNextResponse(match)` processes the request (saving the idempotent
 * result) and then destroys the socket — "charged, but the reply was lost"; `failNext(match)`
 * answers 500 without doing anything.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  form: Record<string, string>;
  headers: IncomingHttpHeaders;
  idempotencyKey: string | undefined;
  replayed: boolean;
}

type RequestMatch = (method: string, path: string) => boolean;

interface FakeCharge {
  id: string;
  object: 'charge';
  amount: number;
  amount_refunded: number;
  currency: string;
  payment_intent: string;
  refunded: boolean;
  status: 'succeeded';
  created: number;
}

interface LastPaymentError {
  type: 'card_error';
  code: string;
  decline_code?: string;
  message: string;
}

interface FakeIntent {
  id: string;
  object: 'payment_intent';
  amount: number;
  currency: string;
  status: string;
  client_secret: string;
  metadata: Record<string, string>;
  payment_method: string | null;
  payment_method_types: string[];
  last_payment_error: LastPaymentError | null;
  latest_charge: string | null;
  next_action: { type: string } | null;
  created: number;
  livemode: false;
}

interface StoredResponse {
  fingerprint: string;
  status: number;
  body: string;
}

interface Reply {
  status: number;
  body: unknown;
}

const declines: Record<string, { code: string; decline_code?: string; message: string }> = {
  pm_card_chargeDeclined: { code: 'card_declined', decline_code: 'generic_decline', message: 'Your card was declined.' },
  pm_card_visa_chargeDeclinedInsufficientFunds: {
    code: 'card_declined',
    decline_code: 'insufficient_funds',
    message: 'Your card has insufficient funds.',
  },
  pm_card_chargeDeclinedInsufficientFunds: {
    code: 'card_declined',
    decline_code: 'insufficient_funds',
    message: 'Your card has insufficient funds.',
  },
  pm_card_chargeDeclinedExpiredCard: { code: 'expired_card', message: 'Your card has expired.' },
};

const succeeding = new Set(['pm_card_visa', 'pm_card_mastercard']);

function id(prefix: string): string {
  return `${prefix}_${randomBytes(12).toString('hex')}`;
}

function error(status: number, type: string, message: string, extra: Record<string, unknown> = {}): Reply {
  return { status, body: { error: { type, message, ...extra } } };
}

export class FakeStripeServer {
  readonly host = '127.0.0.1';
  readonly requests: RecordedRequest[] = [];
  readonly intents = new Map<string, FakeIntent>();
  readonly charges = new Map<string, FakeCharge>();
  private readonly refundsByIntent = new Map<string, string[]>();
  private readonly idempotency = new Map<string, StoredResponse>();
  private readonly drops: RequestMatch[] = [];
  private readonly failures: RequestMatch[] = [];

  private constructor(
    private readonly server: Server,
    readonly port: number,
    readonly secretKey: string,
  ) {}

  static async start(options: { secretKey?: string } = {}): Promise<FakeStripeServer> {
    const secretKey = options.secretKey ?? 'sk_test_fake_holdfast';
    const holder: { instance?: FakeStripeServer } = {};
    const server = createServer((req, res) => {
      if (holder.instance) holder.instance.handle(req, res);
      else res.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    holder.instance = new FakeStripeServer(server, (server.address() as AddressInfo).port, secretKey);
    return holder.instance;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve, reject) => this.server.close((err) => (err ? reject(err) : resolve())));
  }

  /** How many charges (money taken) a PaymentIntent has: the capture count. */
  captures(paymentIntentId: string): number {
    let count = 0;
    for (const charge of this.charges.values()) if (charge.payment_intent === paymentIntentId) count += 1;
    return count;
  }

  refunds(paymentIntentId: string): number {
    return this.refundsByIntent.get(paymentIntentId)?.length ?? 0;
  }

  mutatingRequests(): RecordedRequest[] {
    return this.requests.filter((request) => request.method === 'POST');
  }

  /** The next matching request is processed, then its connection is destroyed without a reply. */
  dropNextResponse(match: RequestMatch): void {
    this.drops.push(match);
  }

  /** The next matching request gets a 500 api_error without being processed. */
  failNext(match: RequestMatch): void {
    this.failures.push(match);
  }

  /** A pm_fake_processing payment finishes: succeeded with one charge. */
  settleProcessing(paymentIntentId: string): void {
    const intent = this.intents.get(paymentIntentId);
    if (intent?.status === 'processing') this.succeed(intent);
  }

  /** A signed-event payload, as Stripe would POST it to the webhook endpoint. */
  eventPayload(type: string, object: unknown, createdS = Math.floor(Date.now() / 1000)): string {
    return JSON.stringify({
      id: id('evt'),
      object: 'event',
      api_version: '2025-02-24.acacia',
      created: createdS,
      data: { object },
      livemode: false,
      pending_webhooks: 1,
      request: { id: null, idempotency_key: null },
      type,
    });
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const url = new URL(req.url ?? '/', `http://${this.host}`);
      const method = req.method ?? 'GET';
      const path = url.pathname;
      const keyHeader = req.headers['idempotency-key'];
      const idempotencyKey = Array.isArray(keyHeader) ? keyHeader[0] : keyHeader;
      const record: RecordedRequest = {
        method,
        path,
        query: Object.fromEntries(url.searchParams),
        form: Object.fromEntries(new URLSearchParams(raw)),
        headers: req.headers,
        idempotencyKey,
        replayed: false,
      };
      this.requests.push(record);

      const headers: Record<string, string> = { 'content-type': 'application/json', 'request-id': id('req') };
      if (idempotencyKey !== undefined) headers['idempotency-key'] = idempotencyKey;
      const send = (status: number, body: string): void => {
        res.writeHead(status, headers);
        res.end(body);
      };

      if (req.headers.authorization !== `Bearer ${this.secretKey}`) {
        send(401, JSON.stringify(error(401, 'invalid_request_error', 'Invalid API Key provided').body));
        return;
      }
      const failure = this.takeMatch(this.failures, method, path);
      if (failure) {
        send(500, JSON.stringify(error(500, 'api_error', 'Simulated internal error').body));
        return;
      }

      const fingerprint = `${method} ${path} ${raw}`;
      if (idempotencyKey !== undefined && method === 'POST') {
        const stored = this.idempotency.get(idempotencyKey);
        if (stored) {
          if (stored.fingerprint !== fingerprint) {
            const reply = error(
              400,
              'idempotency_error',
              `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${idempotencyKey}' if you meant to execute a different request.`,
            );
            send(reply.status, JSON.stringify(reply.body));
            return;
          }
          record.replayed = true;
          headers['idempotent-replayed'] = 'true';
          send(stored.status, stored.body);
          return;
        }
      }

      const reply = this.route(method, path, record);
      const body = JSON.stringify(reply.body);
      // Stripe saves the result once the endpoint has started executing (success or card error).
      if (idempotencyKey !== undefined && method === 'POST' && (reply.status === 200 || reply.status === 402)) {
        this.idempotency.set(idempotencyKey, { fingerprint, status: reply.status, body });
      }
      if (this.takeMatch(this.drops, method, path)) {
        req.socket.destroy();
        return;
      }
      send(reply.status, body);
    });
  }

  private takeMatch(list: RequestMatch[], method: string, path: string): boolean {
    const index = list.findIndex((match) => match(method, path));
    if (index < 0) return false;
    list.splice(index, 1);
    return true;
  }

  private route(method: string, path: string, request: RecordedRequest): Reply {
    if (method === 'POST' && path === '/v1/payment_intents') return this.createIntent(request.form);
    if (method === 'POST' && path === '/v1/refunds') return this.createRefund(request.form);
    const confirm = /^\/v1\/payment_intents\/([^/]+)\/confirm$/.exec(path);
    if (method === 'POST' && confirm) return this.confirmIntent(decodeURIComponent(confirm[1]!), request.form);
    const retrieve = /^\/v1\/payment_intents\/([^/]+)$/.exec(path);
    if (method === 'GET' && retrieve) return this.retrieveIntent(decodeURIComponent(retrieve[1]!), request.query);
    return error(404, 'invalid_request_error', `Unrecognized request URL (${method}: ${path}).`);
  }

  private createIntent(form: Record<string, string>): Reply {
    const amount = Number(form['amount']);
    if (!Number.isInteger(amount) || amount <= 0) return error(400, 'invalid_request_error', 'Invalid positive integer', { param: 'amount' });
    const currency = form['currency'];
    if (!currency || !/^[a-z]{3}$/.test(currency)) return error(400, 'invalid_request_error', 'Invalid currency', { param: 'currency' });
    const metadata: Record<string, string> = {};
    const types: string[] = [];
    for (const [key, value] of Object.entries(form)) {
      const meta = /^metadata\[(.+)\]$/.exec(key);
      if (meta) metadata[meta[1]!] = value;
      if (/^payment_method_types\[\d+\]$/.test(key)) types.push(value);
    }
    const intentId = id('pi');
    const intent: FakeIntent = {
      id: intentId,
      object: 'payment_intent',
      amount,
      currency,
      status: 'requires_payment_method',
      client_secret: `${intentId}_secret_${randomBytes(8).toString('hex')}`,
      metadata,
      payment_method: null,
      payment_method_types: types.length > 0 ? types : ['card'],
      last_payment_error: null,
      latest_charge: null,
      next_action: null,
      created: Math.floor(Date.now() / 1000),
      livemode: false,
    };
    this.intents.set(intent.id, intent);
    return { status: 200, body: intent };
  }

  private confirmIntent(intentId: string, form: Record<string, string>): Reply {
    const intent = this.intents.get(intentId);
    if (!intent) return error(404, 'invalid_request_error', `No such payment_intent: '${intentId}'`, { code: 'resource_missing', param: 'intent' });
    if (intent.status !== 'requires_payment_method' && intent.status !== 'requires_confirmation') {
      return error(
        400,
        'invalid_request_error',
        `This PaymentIntent's status is ${intent.status}, but it must be requires_payment_method or requires_confirmation to be confirmed.`,
        { code: 'payment_intent_unexpected_state', payment_intent: { ...intent } },
      );
    }
    const paymentMethod = form['payment_method'] ?? intent.payment_method;
    if (!paymentMethod) return error(400, 'invalid_request_error', 'You must provide a payment method', { param: 'payment_method' });
    const decline = declines[paymentMethod];
    const known = decline !== undefined || succeeding.has(paymentMethod) || paymentMethod === 'pm_card_authenticationRequired' || paymentMethod === 'pm_fake_processing';
    if (!known) {
      return error(400, 'invalid_request_error', `No such PaymentMethod: '${paymentMethod}'`, { code: 'resource_missing', param: 'payment_method' });
    }
    intent.payment_method = paymentMethod;
    intent.last_payment_error = null;
    intent.next_action = null;
    if (decline) {
      intent.status = 'requires_payment_method';
      intent.last_payment_error = { type: 'card_error', ...decline };
      return error(402, 'card_error', decline.message, {
        code: decline.code,
        ...(decline.decline_code ? { decline_code: decline.decline_code } : {}),
        payment_intent: { ...intent },
      });
    }
    if (paymentMethod === 'pm_card_authenticationRequired') {
      intent.status = 'requires_action';
      intent.next_action = { type: 'use_stripe_sdk' };
    } else if (paymentMethod === 'pm_fake_processing') {
      intent.status = 'processing';
    } else {
      this.succeed(intent);
    }
    return { status: 200, body: { ...intent } };
  }

  private succeed(intent: FakeIntent): void {
    const charge: FakeCharge = {
      id: id('ch'),
      object: 'charge',
      amount: intent.amount,
      amount_refunded: 0,
      currency: intent.currency,
      payment_intent: intent.id,
      refunded: false,
      status: 'succeeded',
      created: Math.floor(Date.now() / 1000),
    };
    this.charges.set(charge.id, charge);
    intent.status = 'succeeded';
    intent.latest_charge = charge.id;
  }

  private retrieveIntent(intentId: string, query: Record<string, string>): Reply {
    const intent = this.intents.get(intentId);
    if (!intent) return error(404, 'invalid_request_error', `No such payment_intent: '${intentId}'`, { code: 'resource_missing', param: 'intent' });
    const expand = Object.entries(query)
      .filter(([key]) => key === 'expand[]' || /^expand\[\d+\]$/.test(key))
      .map(([, value]) => value);
    if (expand.includes('latest_charge') && intent.latest_charge) {
      return { status: 200, body: { ...intent, latest_charge: { ...this.charges.get(intent.latest_charge) } } };
    }
    return { status: 200, body: { ...intent } };
  }

  private createRefund(form: Record<string, string>): Reply {
    const intentId = form['payment_intent'];
    if (!intentId) return error(400, 'invalid_request_error', 'One of charge or payment_intent is required');
    const intent = this.intents.get(intentId);
    if (!intent) {
      return error(404, 'invalid_request_error', `No such payment_intent: '${intentId}'`, { code: 'resource_missing', param: 'payment_intent' });
    }
    const charge = intent.latest_charge ? this.charges.get(intent.latest_charge) : undefined;
    if (intent.status !== 'succeeded' || !charge) {
      return error(400, 'invalid_request_error', `This PaymentIntent (${intentId}) does not have a successful charge to refund.`, {
        code: 'payment_intent_unexpected_state',
      });
    }
    if (charge.refunded) {
      return error(400, 'invalid_request_error', `Charge ${charge.id} has already been refunded.`, { code: 'charge_already_refunded' });
    }
    charge.refunded = true;
    charge.amount_refunded = charge.amount;
    const refund = {
      id: id('re'),
      object: 'refund',
      amount: charge.amount,
      charge: charge.id,
      currency: charge.currency,
      payment_intent: intent.id,
      reason: form['reason'] ?? null,
      metadata: Object.fromEntries(
        Object.entries(form)
          .map(([key, value]) => [/^metadata\[(.+)\]$/.exec(key)?.[1], value] as const)
          .filter((entry): entry is readonly [string, string] => entry[0] !== undefined),
      ),
      status: 'succeeded',
      created: Math.floor(Date.now() / 1000),
    };
    const list = this.refundsByIntent.get(intent.id) ?? [];
    list.push(refund.id);
    this.refundsByIntent.set(intent.id, list);
    return { status: 200, body: refund };
  }
}
