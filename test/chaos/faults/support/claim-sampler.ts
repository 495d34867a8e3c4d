/**
 * Independent claims fired at a fixed pace during a fault, each by a fan of its own on a
 * connection of its own (so a cluster's kernel picks the worker anew): one attempt each, no
 * retry, answered or timed out. Unlike the probe (one fan, one call at a time, stuck behind a
 * call that hangs), this samples what every worker answers throughout the fault.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createArenaShow } from '../../../../load/scenarios/organizer.js';
import { httpExchange, type ProbeAnswer } from './ack-probe.js';

export interface ClaimSampler {
  showId: string;
  /** Fires one claim every `everyMs` until `untilMs` (ms since the epoch); resolves when every claim has its answer. */
  run(everyMs: number, untilMs: number): Promise<ProbeAnswer[]>;
}

export async function startClaimSampler(options: { url: string; adminToken: string; fans: number; requestTimeoutMs: number }): Promise<ClaimSampler> {
  const show = await createArenaShow({ url: options.url, adminToken: options.adminToken }, {
    name: 'Claim sampler', seats: options.fans + 50, gaCapacity: 0,
    show: { starts_at: new Date(Date.now() + 30 * 86_400_000).toISOString(), on_sale_at: new Date(Date.now() - 1_000).toISOString(), max_items_per_hold: 1, max_holds_per_user: 1 },
  });
  const tokens: string[] = [];
  for (let index = 0; index < options.fans; index += 1) {
    const session = await fetch(`${options.url}/v1/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user_id: `sampler-${randomBytes(4).toString('hex')}` }) });
    tokens.push(((await session.json()) as { token: string }).token);
  }
  const claim = async (token: string): Promise<ProbeAnswer> => {
    const sentAtMs = Date.now();
    try {
      const response = await httpExchange(`${options.url}/v1/shows/${show.id}/holds`, 'POST', { authorization: `Bearer ${token}`, 'idempotency-key': randomUUID(), 'content-type': 'application/json' }, JSON.stringify({ best_available: { quantity: 1 } }), false, options.requestTimeoutMs);
      let parsed: { hold_id?: string; code?: string } | null = null;
      try {
        parsed = JSON.parse(response.text) as { hold_id?: string; code?: string };
      } catch {
        // not JSON: status only
      }
      const worker = response.headers['x-holdfast-worker'];
      return { kind: 'hold', firstSentAtMs: sentAtMs, sentAtMs, answeredAtMs: Date.now(), status: response.status, code: parsed?.code ?? null, holdId: parsed?.hold_id ?? null, worker: typeof worker === 'string' ? worker : null };
    } catch {
      return { kind: 'hold', firstSentAtMs: sentAtMs, sentAtMs, answeredAtMs: Date.now(), status: 0, code: null, holdId: null, worker: null };
    }
  };
  return {
    showId: show.id,
    async run(everyMs, untilMs) {
      const pending: Promise<ProbeAnswer>[] = [];
      while (Date.now() < untilMs && pending.length < tokens.length) {
        pending.push(claim(tokens[pending.length]!));
        await new Promise((resolve) => setTimeout(resolve, everyMs));
      }
      return Promise.all(pending);
    },
  };
}
