/**
 * The outbox consumer of the outbox-down test: an HTTP receiver on 127.0.0.1 that can be up
 * (2xx), down (port closed: connection refused) or failing (503). It verifies each delivery's
 * signature, dedupes by event id, and checks per show that first deliveries arrive in id order.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { eventIdHeader, signatureHeader, verifyWebhookSignature, type WebhookBody } from '../../../../src/outbox/sinks.js';

export type ReceiverMode = 'up' | 'down' | 'failing';

export interface WebhookReceiver {
  url: string;
  mode(): ReceiverMode;
  setMode(mode: ReceiverMode): Promise<void>;
  /** Event id → show id, each event once (first acceptance). */
  accepted: Map<string, string>;
  counts: { deliveries: number; duplicates: number; answered503: number; badSignatures: number; outOfOrder: number };
  /** The first few order problems, for the failure message. */
  orderProblems: string[];
  close(): Promise<void>;
}

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

export async function startWebhookReceiver(secret: string): Promise<WebhookReceiver> {
  let mode: ReceiverMode = 'up';
  const accepted = new Map<string, string>();
  const lastByShow = new Map<string, bigint>();
  const counts = { deliveries: 0, duplicates: 0, answered503: 0, badSignatures: 0, outOfOrder: 0 };
  const orderProblems: string[] = [];
  const handler = (request: IncomingMessage, response: ServerResponse): void => {
    void readBody(request).then((raw) => {
      counts.deliveries += 1;
      if (mode === 'failing') {
        counts.answered503 += 1;
        response.writeHead(503, { 'content-type': 'text/plain' }).end('consumer unavailable');
        return;
      }
      if (!verifyWebhookSignature(raw, request.headers[signatureHeader], secret)) {
        counts.badSignatures += 1;
        response.writeHead(400).end('bad signature');
        return;
      }
      const body = JSON.parse(raw.toString('utf8')) as WebhookBody;
      if (request.headers[eventIdHeader] !== body.id) counts.badSignatures += 1;
      if (accepted.has(body.id)) counts.duplicates += 1;
      else {
        const id = BigInt(body.id);
        const last = lastByShow.get(body.showId);
        if (last !== undefined && id <= last) {
          counts.outOfOrder += 1;
          if (orderProblems.length < 10) orderProblems.push(`show ${body.showId}: event ${body.id} first arrived after ${last}`);
        }
        if (last === undefined || id > last) lastByShow.set(body.showId, id);
        accepted.set(body.id, body.showId);
      }
      response.writeHead(204).end();
    });
  };
  let server: Server | null = null;
  // Below the ephemeral port range, so no client connection takes the port while it is closed.
  let port = 0;
  const listen = async (): Promise<void> => {
    for (let attempt = 0; ; attempt += 1) {
      const candidate = port || 21_000 + Math.floor(Math.random() * 11_000);
      const next = createServer(handler);
      const error = await new Promise<Error | null>((resolve) => {
        next.once('error', resolve);
        next.listen(candidate, '127.0.0.1', () => resolve(null));
      });
      if (error === null) {
        server = next;
        port = candidate;
        return;
      }
      if (attempt > 20) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  const close = async (): Promise<void> => {
    const current = server;
    server = null;
    if (current === null) return;
    current.closeAllConnections();
    await new Promise((resolve) => current.close(resolve));
  };
  await listen();
  return {
    url: `http://127.0.0.1:${port}/holdfast-events`,
    mode: () => mode,
    async setMode(next) {
      if (next === 'down') await close();
      else if (server === null) await listen();
      mode = next;
    },
    accepted,
    counts,
    orderProblems,
    close,
  };
}
