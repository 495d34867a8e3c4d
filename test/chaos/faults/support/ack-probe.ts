/**
 * A fan that measures acknowledgements with millisecond resolution while a fault is injected: on
 * a small show of its own (same server, same database), it holds one seat, releases it, holds
 * again, every `intervalMs`. A hold with no answer, or a 5xx, is retried with the SAME
 * Idempotency-Key (as the SDK does), so a commit whose reply was lost is never held twice. Every
 * answer is kept with its send and answer times (ms since the epoch), for the fault's figures:
 * the window without acknowledgements, the time to recover, and acknowledged holds to look up in
 * the journal.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import { createArenaShow } from '../../../../load/scenarios/organizer.js';
import type { SqlExecutor } from '../../../../src/persistence/database.js';

export interface ProbeAnswer {
  kind: 'hold' | 'release';
  /** When this Idempotency-Key was first sent (a retry answered from the stored reply was decided then). */
  firstSentAtMs: number;
  sentAtMs: number;
  answeredAtMs: number;
  /** HTTP status, or 0 when no answer came (network error or `requestTimeoutMs`). */
  status: number;
  code: string | null;
  holdId: string | null;
  /** The worker that answered (`x-holdfast-worker`), if any. */
  worker: string | null;
}

export interface AckProbe {
  showId: string;
  readonly answers: ProbeAnswer[];
  /** Stops after the call in flight; resolves with every answer. */
  stop(): Promise<ProbeAnswer[]>;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** One HTTP exchange over `agent` (false: a connection of its own, so a cluster's kernel picks the worker anew). */
export function httpExchange(url: string, method: string, headers: Record<string, string>, body: string | undefined, agent: http.Agent | false, timeoutMs: number): Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method, headers: body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) }, agent, signal: AbortSignal.timeout(timeoutMs) }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', reject);
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, text: Buffer.concat(chunks).toString('utf8') }));
    });
    request.on('error', reject);
    request.end(body);
  });
}

export async function startAckProbe(options: { url: string; adminToken: string; intervalMs?: number; requestTimeoutMs?: number; freshConnections?: boolean }): Promise<AckProbe> {
  const intervalMs = options.intervalMs ?? 50;
  const requestTimeoutMs = options.requestTimeoutMs ?? 5_000;
  const agent = options.freshConnections ? false : new http.Agent({ keepAlive: true, maxSockets: 1 });
  const show = await createArenaShow({ url: options.url, adminToken: options.adminToken }, {
    name: 'Ack probe', seats: 100, gaCapacity: 0,
    show: { starts_at: new Date(Date.now() + 30 * 86_400_000).toISOString(), on_sale_at: new Date(Date.now() - 1_000).toISOString(), max_items_per_hold: 1, max_holds_per_user: 10 },
  });
  const session = await fetch(`${options.url}/v1/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user_id: `probe-${randomBytes(4).toString('hex')}` }) });
  const { token } = (await session.json()) as { token: string };
  const answers: ProbeAnswer[] = [];
  let stopped = false;

  const call = async (kind: ProbeAnswer['kind'], method: string, path: string, key: string, firstSentAtMs: number, body?: unknown): Promise<ProbeAnswer> => {
    const sentAtMs = Date.now();
    let answer: ProbeAnswer;
    try {
      const headers = { authorization: `Bearer ${token}`, 'idempotency-key': key, ...(body === undefined ? {} : { 'content-type': 'application/json' }) };
      const response = await httpExchange(`${options.url}${path}`, method, headers, body === undefined ? undefined : JSON.stringify(body), agent, requestTimeoutMs);
      let parsed: { hold_id?: string; code?: string } | null = null;
      try {
        parsed = JSON.parse(response.text) as { hold_id?: string; code?: string };
      } catch {
        // not JSON: status only
      }
      const worker = response.headers['x-holdfast-worker'];
      answer = { kind, firstSentAtMs, sentAtMs, answeredAtMs: Date.now(), status: response.status, code: parsed?.code ?? null, holdId: parsed?.hold_id ?? null, worker: typeof worker === 'string' ? worker : null };
    } catch {
      answer = { kind, firstSentAtMs, sentAtMs, answeredAtMs: Date.now(), status: 0, code: null, holdId: null, worker: null };
    }
    answers.push(answer);
    return answer;
  };

  /** Retries with one key until the server decides (2xx or 4xx). */
  const decided = async (kind: ProbeAnswer['kind'], method: string, path: string, body?: unknown): Promise<ProbeAnswer | null> => {
    const key = randomUUID();
    const firstSentAtMs = Date.now();
    while (!stopped) {
      const answer = await call(kind, method, path, key, firstSentAtMs, body);
      if (answer.status >= 200 && answer.status < 500) return answer;
      await sleep(intervalMs);
    }
    return null;
  };

  const loop = (async () => {
    while (!stopped) {
      const held = await decided('hold', 'POST', `/v1/shows/${show.id}/holds`, { best_available: { quantity: 1 } });
      if (held?.status === 201 && held.holdId !== null) await decided('release', 'DELETE', `/v1/holds/${held.holdId}`);
      await sleep(intervalMs);
    }
  })();

  return {
    showId: show.id,
    answers,
    async stop() {
      stopped = true;
      await loop;
      if (agent !== false) agent.destroy();
      return answers;
    },
  };
}

export interface AckFigures {
  holdsAcknowledged: number;
  /** Holds first asked for after the fault began and acknowledged before it ended (must be 0 when the fault is a database outage). */
  acknowledgedWhileDown: number;
  /** Longest time between two acknowledged holds around the fault, ms. */
  noAckWindowMs: number;
  /** From the fault's end to the first hold acknowledged after it, ms (null: never recovered). */
  recoveredAfterMs: number | null;
  /** Answers that were refusals of the fault (5xx) or no answer at all. */
  failedAnswers: number;
}

export function ackFigures(answers: ProbeAnswer[], fault: { fromMs: number; toMs: number }): AckFigures {
  const acks = answers.filter((answer) => answer.kind === 'hold' && answer.status === 201).map((answer) => answer);
  let noAckWindowMs = 0;
  for (let index = 1; index < acks.length; index += 1) {
    const gapFrom = acks[index - 1]!.answeredAtMs;
    const gapTo = acks[index]!.answeredAtMs;
    if (gapTo >= fault.fromMs && gapFrom <= fault.toMs) noAckWindowMs = Math.max(noAckWindowMs, gapTo - gapFrom);
  }
  const firstAfter = acks.find((answer) => answer.answeredAtMs >= fault.toMs);
  return {
    holdsAcknowledged: acks.length,
    acknowledgedWhileDown: acks.filter((answer) => answer.firstSentAtMs > fault.fromMs && answer.answeredAtMs < fault.toMs).length,
    noAckWindowMs,
    recoveredAfterMs: firstAfter === undefined ? null : firstAfter.answeredAtMs - fault.toMs,
    failedAnswers: answers.filter((answer) => answer.status === 0 || answer.status >= 500).length,
  };
}

/** Acknowledged probe holds with no hold_placed event in the journal (must be none: acknowledged means durable). */
export async function probeHoldsMissingFromJournal(db: SqlExecutor, showId: string, answers: ProbeAnswer[]): Promise<string[]> {
  const { rows } = await db.query<{ hold_id: string }>(
    `select e->>'holdId' as hold_id from journal j cross join lateral jsonb_array_elements(j.events) e where j.show_id = $1 and e->>'type' = 'hold_placed'`,
    [showId],
  );
  const placed = new Set(rows.map((row) => row.hold_id));
  return answers.filter((answer) => answer.kind === 'hold' && answer.status === 201 && answer.holdId !== null && !placed.has(answer.holdId)).map((answer) => answer.holdId!);
}
