import { reject, type ShowCommand, type ShowEvent, type ShowReply } from './messages.js';
import { decide } from './decide.js';
import { evolve } from './evolve.js';
import type { IdempotencyCache, IdempotencyRecord } from './idempotency.js';
import type { ShowState } from './show-state.js';
import { collectEffects, emptyBatchEffects, type BatchEffects } from './batch-effects.js';
import type { AttachedWrite } from '../persistence/journal.js';

/** A command as it waits in the mailbox: the command plus its idempotency key, if it has one. */
export interface CommandEnvelope {
  command: ShowCommand;
  /** Caller-scoped key (see scopeIdempotencyKey); system commands such as expiry have none. */
  scopedKey?: string;
  fingerprint?: string;
  /** Writes committed with this command's events, only if it produced any (see AttachedWrite). */
  attachedWrites?: AttachedWrite[];
}

export interface DecidedBatch {
  events: ShowEvent[];
  /** One reply per envelope, in order. */
  replies: ShowReply[];
  /** New idempotency records to persist with the events, in the same transaction. */
  idempotencyRecords: IdempotencyRecord[];
  attachedWrites: AttachedWrite[];
  fromVersion: number;
  toVersion: number;
  effects: BatchEffects;
}

/**
 * Decides a whole batch against the state, in order, in one synchronous turn: due holds
 * expire first, so no command sees a hold alive past its expiry; then each command is answered
 * from its idempotency record or decided and applied. State and cache are updated in place;
 * if the batch's commit fails, the caller rebuilds both from the journal.
 */
export function decideBatch(state: ShowState, cache: IdempotencyCache, envelopes: CommandEnvelope[], nowMs: number): DecidedBatch {
  const fromVersion = state.version;
  const events: ShowEvent[] = [];
  const effects = emptyBatchEffects();
  const apply = (decided: ShowEvent[]): void => {
    for (const event of decided) {
      collectEffects(effects, state, event);
      evolve(state, event);
      events.push(event);
    }
  };
  apply(decide(state, { type: 'expire_due' }, nowMs).events);

  const replies: ShowReply[] = [];
  const idempotencyRecords: IdempotencyRecord[] = [];
  const attachedWrites: AttachedWrite[] = [];
  for (const envelope of envelopes) {
    if (envelope.scopedKey !== undefined) {
      const previous = cache.get(envelope.scopedKey);
      if (previous !== undefined) {
        replies.push(previous.fingerprint === (envelope.fingerprint ?? '') ? previous.reply : keyReused());
        continue;
      }
    }
    const decision = decide(state, envelope.command, nowMs);
    if (decision.reply.ok) decision.reply.decidedAtMs = nowMs;
    apply(decision.events);
    if (decision.events.length > 0 && envelope.attachedWrites !== undefined) attachedWrites.push(...envelope.attachedWrites);
    replies.push(decision.reply);
    if (envelope.scopedKey !== undefined) {
      const record: IdempotencyRecord = { scopedKey: envelope.scopedKey, fingerprint: envelope.fingerprint ?? '', reply: decision.reply };
      cache.set(record);
      idempotencyRecords.push(record);
    }
  }
  // Returned inventory goes to waitlisted fans first, in the same batch that freed it.
  if (effects.freedInventory && state.waitlist.size > 0) apply(decide(state, { type: 'make_offers' }, nowMs).events);
  return { events, replies, idempotencyRecords, attachedWrites, fromVersion, toVersion: state.version, effects };
}

export function keyReused(): ShowReply {
  return reject('idempotency_key_reused', 'this Idempotency-Key was already used with different parameters');
}
