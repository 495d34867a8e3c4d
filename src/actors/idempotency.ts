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
  const keys = Object.keys(object).sort(); // UTF-16 code unit order, as `<` compares
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
 */
export class IdempotencyCache {
  private readonly entries = new Map<string, IdempotencyRecord>();

  constructor(private readonly capacity: number) {}

  get(scopedKey: string): IdempotencyRecord | undefined {
    return this.entries.get(scopedKey);
  }

  set(record: IdempotencyRecord): void {
    this.entries.delete(record.scopedKey);
    this.entries.set(record.scopedKey, record);
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
  }

  get size(): number {
    return this.entries.size;
  }
}
