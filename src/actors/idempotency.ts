import crypto, { createHash } from 'node:crypto';
import type { ShowReply } from './messages.js';

/** A decided command's key, the fingerprint of its parameters and the reply it got. */
export interface IdempotencyRecord {
  scopedKey: string;
  fingerprint: string;
  reply: ShowReply;
}

/** Keys are scoped per caller so two fans' "abc" never collide. */
export function scopeIdempotencyKey(callerId: string, key: string): string {
  return `${callerId}\u001f${key}`;
}

/** node:crypto's one-shot hash (Node >= 20.12; not in this @types/node): no Hash object per call. */
const oneShotHash = (crypto as unknown as { hash?: (algorithm: string, data: string, encoding: 'base64url') => string }).hash;

/** Stable hash of a command's client-supplied parameters (object keys sorted). */
export function fingerprintOf(value: unknown): string {
  const json = canonicalJson(value);
  const digest = oneShotHash === undefined ? createHash('sha256').update(json).digest('base64url') : oneShotHash('sha256', json, 'base64url');
  return digest.slice(0, 32);
}

function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) {
    let json = '[';
    for (let index = 0; index < value.length; index += 1) json += (index === 0 ? '' : ',') + canonicalJson(value[index]);
    return `${json}]`;
  }
  const object = value as Record<string, unknown>;
  const keys = Object.keys(object);
  // Sorted in place by UTF-16 code units, as Array#sort's default (so fingerprints stay what they
  // were); a command has a handful of keys, often in order already, and Array#sort copied them:
  // in the actor benchmark that copy was ~7% of all bytes allocated.
  for (let index = 1; index < keys.length; index += 1) {
    const key = keys[index]!;
    let at = index - 1;
    while (at >= 0 && keys[at]! > key) {
      keys[at + 1] = keys[at]!;
      at -= 1;
    }
    keys[at + 1] = key;
  }
  let json = '{';
  for (const key of keys) {
    const entry = object[key];
    if (entry === undefined) continue;
    json += `${json.length === 1 ? '' : ','}${JSON.stringify(key)}:${canonicalJson(entry)}`;
  }
  return `${json}}`;
}

/**
 * Recent replies by scoped key, bounded; the oldest entries fall out first. A key that fell
 * out is still answered correctly: the shell looks it up in Postgres before the command is
 * queued, and the journal's primary key refuses a second record for it.
 *
 * Age is kept in a ring of keys, not by asking the Map for its first key: V8 leaves a deleted
 * Map entry in place until the table is rehashed, so `keys().next()` skips every entry evicted
 * since — at 32,768 entries that was ~10 µs per eviction, a third of a claim's cost.
 */
export class IdempotencyCache {
  private readonly entries = new Map<string, IdempotencyRecord>();
  /** Keys in insertion order: a ring of `capacity` slots, the oldest at `oldest`. */
  private readonly ring: string[] = [];
  private oldest = 0;

  constructor(private readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`idempotency cache capacity must be a positive integer, not ${capacity}`);
  }

  get(scopedKey: string): IdempotencyRecord | undefined {
    return this.entries.get(scopedKey);
  }

  /** Records a reply; a key recorded again keeps its age (keys are recorded once but at activation). */
  set(record: IdempotencyRecord): void {
    const known = this.entries.has(record.scopedKey);
    this.entries.set(record.scopedKey, record);
    if (known) return;
    if (this.ring.length < this.capacity) {
      this.ring.push(record.scopedKey);
      return;
    }
    this.entries.delete(this.ring[this.oldest]!);
    this.ring[this.oldest] = record.scopedKey;
    this.oldest = (this.oldest + 1) % this.capacity;
  }

  get size(): number {
    return this.entries.size;
  }
}
