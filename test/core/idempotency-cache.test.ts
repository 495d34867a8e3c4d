import { describe, expect, it } from 'vitest';
import { IdempotencyCache, type IdempotencyRecord } from '../../src/actors/idempotency.js';

const record = (key: string, version = 1): IdempotencyRecord => ({ scopedKey: key, fingerprint: `f-${key}`, reply: { ok: true, version } });

describe('IdempotencyCache', () => {
  it('keeps the newest `capacity` keys, the oldest falling out first, across many turns of its ring', () => {
    const cache = new IdempotencyCache(3);
    for (let index = 0; index < 1_000; index += 1) {
      cache.set(record(`k${index}`));
      expect(cache.size).toBe(Math.min(index + 1, 3));
    }
    expect(['k996', 'k997', 'k998', 'k999'].map((key) => cache.get(key) !== undefined)).toEqual([false, true, true, true]);
  });

  it('replaces the record of a key recorded again without giving it a second slot', () => {
    const cache = new IdempotencyCache(2);
    cache.set(record('a', 1));
    cache.set(record('a', 2));
    cache.set(record('b'));
    expect(cache.size).toBe(2);
    expect(cache.get('a')?.reply).toEqual({ ok: true, version: 2 });
    cache.set(record('c')); // 'a' is the oldest: it goes
    expect([cache.get('a'), cache.get('b')?.scopedKey, cache.get('c')?.scopedKey]).toEqual([undefined, 'b', 'c']);
  });

  it('refuses a capacity that could hold nothing', () => {
    expect(() => new IdempotencyCache(0)).toThrow(RangeError);
  });
});
