import { describe, expect, it } from 'vitest';
import { randomId } from '../../src/shared/ids.js';

describe('randomId', () => {
  it('mints ids of the asked length from the 62-character alphabet, distinct, also longer than its scratch buffer', () => {
    const ids = Array.from({ length: 5_000 }, () => randomId());
    for (const id of ids) expect(id).toMatch(/^[0-9a-zA-Z]{20}$/);
    expect(new Set(ids).size).toBe(ids.length);
    expect(randomId(100)).toMatch(/^[0-9a-zA-Z]{100}$/);
    // Every character of the alphabet turns up (a mapping error would leave some out).
    expect(new Set(ids.join('')).size).toBe(62);
  });
});
