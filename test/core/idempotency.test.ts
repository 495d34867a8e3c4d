import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fingerprintOf, IdempotencyCache, type IdempotencyRecord } from '../../src/actors/idempotency.js';

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

describe('fingerprintOf', () => {
  /** The fingerprint as first defined (Array#sort on each object's keys): fingerprints already stored were made so. */
  const reference = (value: unknown): string => {
    const canonical = (item: unknown): string => {
      if (item === null || typeof item !== 'object') return JSON.stringify(item) ?? 'null';
      if (Array.isArray(item)) return `[${item.map(canonical).join(',')}]`;
      const object = item as Record<string, unknown>;
      const fields = Object.keys(object).sort().filter((key) => object[key] !== undefined);
      return `{${fields.map((key) => `${JSON.stringify(key)}:${canonical(object[key])}`).join(',')}}`;
    };
    return createHash('sha256').update(canonical(value)).digest('base64url').slice(0, 32);
  };

  it('is the same for any key order and equal to the stored format (fingerprints already in the journal stay valid)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.integer(), (value, seed) => {
        expect(fingerprintOf(value)).toBe(reference(value));
        // The same object with its keys inserted in another order.
        const shuffled = (item: unknown, salt: number): unknown => {
          if (item === null || typeof item !== 'object') return item;
          if (Array.isArray(item)) return item.map((entry, index) => shuffled(entry, salt + index));
          const entries = Object.entries(item as Record<string, unknown>);
          entries.sort((a, b) => ((a[0].length * 31 + salt) % 7) - ((b[0].length * 31 + salt) % 7) || (a[0] < b[0] ? 1 : -1));
          return Object.fromEntries(entries.map(([key, entry]) => [key, shuffled(entry, salt + 1)]));
        };
        expect(fingerprintOf(shuffled(value, seed))).toBe(fingerprintOf(value));
      }),
      { numRuns: 300 },
    );
    expect(fingerprintOf({ op: 'place_hold', showId: 's', body: { seat_ids: ['A-1'], b: undefined } })).toBe(reference({ body: { seat_ids: ['A-1'] }, op: 'place_hold', showId: 's' }));
  });
});
