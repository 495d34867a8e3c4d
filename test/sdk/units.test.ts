import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isValidProofOfWork } from '../../src/admission/proof-of-work.js';
import { problemOf } from '../../src/protocol/api-error.js';
import type { SeatMapDiffMessage } from '../../src/protocol/socket-events.js';
import {
  HoldfastClient, HoldfastError, HoldfastNetworkError, SeatMapStore, ServerClock, backoffDelayMs, checkProofOfWork, decodeBase64, formatRemaining, isHoldfastError,
  newIdempotencyKey, sha256, solveProofOfWork, toHex, type FetchLike, type SeatMapEvent,
} from '../../client-sdk/src/index.js';

/** Pure parts of the SDK, no server: hashing, proof of work, the seat-map store, the clock, the retry policy. */

const diff = (from: number, to: number, seats: [number, 0 | 1 | 2 | 3][], pools: [number, number][] = []): SeatMapDiffMessage => ({ show_id: 'shw-unit', from_version: from, to_version: to, committed_at_ms: 0, seats, pools });

describe('sha256 and proof of work (browser-safe, no node:crypto)', () => {
  it('matches node:crypto on every length around the block boundaries and on random input', () => {
    for (let length = 0; length < 200; length += 1) {
      const data = randomBytes(length);
      expect(toHex(sha256(data))).toBe(createHash('sha256').update(data).digest('hex'));
    }
    expect(toHex(sha256('héllo wörld ✓ 𝄞'))).toBe(createHash('sha256').update('héllo wörld ✓ 𝄞').digest('hex'));
  });

  it('finds nonces the server accepts, and yields between slices', async () => {
    for (const difficulty of [1, 8, 12]) {
      const challenge = `pow.${randomBytes(40).toString('base64url')}.${randomBytes(32).toString('base64url')}`;
      let progress = 0;
      const nonce = await solveProofOfWork(challenge, difficulty, { sliceHashes: 256, onProgress: (hashes) => (progress = hashes) });
      expect(isValidProofOfWork(challenge, nonce, difficulty)).toBe(true);
      expect(checkProofOfWork(challenge, nonce, difficulty)).toBe(true);
      // The nonce is the attempt count in base 36: past the first slice, progress must have been reported.
      if (Number.parseInt(nonce, 36) >= 256) expect(progress).toBeGreaterThanOrEqual(256);
      else expect(progress).toBe(0);
    }
  });

  it('stops when aborted', async () => {
    const controller = new AbortController();
    const solving = solveProofOfWork('unsolvable-on-purpose', 40, { signal: controller.signal, sliceHashes: 128 });
    setTimeout(() => controller.abort(), 20);
    await expect(solving).rejects.toMatchObject({ name: 'AbortError' });
  });
});

describe('SeatMapStore', () => {
  const make = (): { store: SeatMapStore; resyncs: number[]; events: SeatMapEvent[] } => {
    const resyncs: number[] = [];
    const events: SeatMapEvent[] = [];
    const store: SeatMapStore = new SeatMapStore('shw-unit', { requestResync: (s) => resyncs.push(s.version) });
    store.subscribe((event) => events.push(event));
    return { store, resyncs, events };
  };

  it('applies from <= V < to, ignores to <= V, resyncs on from > V and replays buffered diffs after the snapshot', () => {
    const { store, resyncs, events } = make();
    expect(store.applyDiff(diff(0, 1, [[0, 1]]))).toBe('buffered'); // before the first snapshot
    store.applySnapshot({ version: 5, seat_status: new Uint8Array(4), pool_available: [10] }, 'initial');
    expect(store.version).toBe(5); // the buffered diff was older than the snapshot: ignored
    expect(store.applyDiff(diff(5, 6, [[1, 1]], [[0, 9]]))).toBe('applied');
    expect(store.applyDiff(diff(4, 7, [[1, 1], [2, 2]]))).toBe('applied'); // overlaps: statuses are absolute
    expect(store.applyDiff(diff(3, 7, [[3, 3]]))).toBe('ignored');
    expect(Array.from(store.seatStatus)).toEqual([0, 1, 2, 0]);
    expect(store.poolAvailable).toEqual([9]);
    expect(store.applyDiff(diff(9, 10, [[0, 2]]))).toBe('gap');
    expect(resyncs).toEqual([7]);
    expect(store.status).toBe('resyncing');
    expect(store.applyDiff(diff(10, 11, [[3, 1]]))).toBe('buffered');
    store.applySnapshot({ version: 9, seat_status: Uint8Array.from([0, 1, 2, 2]), pool_available: [8] }, 'resync');
    expect(store.version).toBe(11);
    expect(Array.from(store.seatStatus)).toEqual([2, 1, 2, 1]);
    expect(store.stats).toMatchObject({ snapshots: 2, gaps: 1 });
    expect(events.filter((event) => event.type === 'snapshot').map((event) => event.type === 'snapshot' && event.reason)).toEqual(['initial', 'resync']);
    expect(store.counts()).toEqual({ available: 0, held: 2, sold: 2, blocked: 0 });
  });

  it('gives a new immutable state object per change and none without one', () => {
    const { store } = make();
    store.applySnapshot({ version: 1, seat_status: new Uint8Array(2), pool_available: [] }, 'initial');
    const before = store.getState();
    store.applyDiff(diff(0, 1, [[0, 1]]));
    expect(store.getState()).toBe(before);
    store.applyDiff(diff(1, 2, [[0, 1]]));
    expect(store.getState()).not.toBe(before);
    expect(store.getState().version).toBe(2);
  });
});

describe('ServerClock', () => {
  it('estimates the offset as the median of round-trip-centred samples and counts down on the server clock', () => {
    let device = 1_000_000;
    const clock = new ServerClock(() => device);
    clock.addSample(1_000_000 - 90_000 + 50, 999_900, 1_000_000); // midpoint 999,950 → offset −89,900
    clock.addSample(1_000_000 - 90_000 + 10, 999_980, 1_000_020); // offset −89,990
    clock.addSample(5_000_000, 999_000, 1_000_000); // a replayed (stale) reply: outlier
    expect(clock.offsetMs).toBe(-89_900);
    expect(clock.remainingMs(device - 90_000 + 60_000)).toBe(59_900);
    device += 30_000;
    expect(clock.remainingMs(1_000_000 - 90_000 + 60_000)).toBe(29_900);
    expect(formatRemaining(61_001)).toBe('1:02');
  });
});

describe('retry policy and errors (fake fetch)', () => {
  const problemResponse = (code: Parameters<typeof problemOf>[0], headers: Record<string, string> = {}) => {
    const problem = problemOf(code, code);
    return { status: problem.status, headers: new Headers({ 'content-type': 'application/problem+json', ...headers }), text: async () => JSON.stringify(problem) };
  };
  const okResponse = (body: unknown) => ({ status: 200, headers: new Headers({ 'content-type': 'application/json' }), text: async () => JSON.stringify(body) });

  it('backs off exponentially with jitter, within bounds', () => {
    const policy = { baseDelayMs: 100, maxDelayMs: 1_000 };
    expect([1, 2, 3, 4, 5].map((attempt) => backoffDelayMs(policy, attempt, () => 0))).toEqual([50, 100, 200, 400, 500]);
    expect([1, 2, 3, 4, 5].map((attempt) => backoffDelayMs(policy, attempt, () => 1))).toEqual([100, 200, 400, 800, 1_000]);
  });

  it('retries network failures, 503s and 429 + Retry-After with one Idempotency-Key, and never retries a refusal', async () => {
    const keys: (string | undefined)[] = [];
    const script = [
      () => Promise.reject(new TypeError('fetch failed')),
      () => Promise.resolve(problemResponse('overloaded')),
      () => Promise.resolve(problemResponse('rate_limited', { 'retry-after': '1' })),
      () => Promise.resolve(okResponse({ released: true })),
    ];
    const fetchImpl: FetchLike = (_url, init) => {
      keys.push(init.headers['idempotency-key']);
      return script[keys.length - 1]!();
    };
    const client = new HoldfastClient({ baseUrl: 'http://sdk.invalid', token: 't', fetch: fetchImpl, retry: { baseDelayMs: 5, maxDelayMs: 20 } });
    const started = Date.now();
    await expect(client.release('shw-x.h12345678')).resolves.toEqual({ released: true });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000); // waited out Retry-After
    expect(keys).toHaveLength(4);
    expect(new Set(keys).size).toBe(1);

    let calls = 0;
    const refusing = new HoldfastClient({ baseUrl: 'http://sdk.invalid', fetch: async () => (calls += 1, problemResponse('seat_unavailable')) });
    const error: unknown = await refusing.hold('shw-x', { seat_ids: ['A:1:1'] }).catch((caught: unknown) => caught);
    expect(calls).toBe(1);
    expect(isHoldfastError(error, 'seat_unavailable')).toBe(true);
    if (error instanceof HoldfastError) {
      expect(error).toMatchObject({ code: 'seat_unavailable', status: 409, retryable: false });
      expect(error.idempotencyKey).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  it("builds a server's refusal without a stack trace, and leaves the process's stack depth as it was", () => {
    const before = (Error as unknown as { stackTraceLimit: number }).stackTraceLimit;
    const refusal = new HoldfastError(problemOf('seat_unavailable', 'taken'), { attempts: 1 });
    expect(refusal.stack).toBe('HoldfastError: seat_unavailable: taken');
    expect(refusal).toBeInstanceOf(Error);
    expect((Error as unknown as { stackTraceLimit: number }).stackTraceLimit).toBe(before);
    expect(new Error('a bug').stack).toMatch(/\n\s+at /);
  });

  it('gives up after maxAttempts with a network error carrying the key to retry the intent later', async () => {
    const keys: (string | undefined)[] = [];
    const client = new HoldfastClient({ baseUrl: 'http://sdk.invalid', fetch: async (_url, init) => { keys.push(init.headers['idempotency-key']); throw new TypeError('offline'); }, retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 } });
    const error: unknown = await client.createOrder('shw-x.h12345678').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(HoldfastNetworkError);
    expect(keys).toHaveLength(3);
    const key = (error as HoldfastNetworkError).idempotencyKey!;
    expect(new Set(keys)).toEqual(new Set([key]));
    await client.createOrder('shw-x.h12345678', { idempotencyKey: key }).catch(() => undefined);
    expect(keys.slice(3)).toEqual([key, key, key]);
    expect(newIdempotencyKey()).not.toBe(newIdempotencyKey());
  });

  it('decodes base64 without atob or Buffer', () => {
    for (let length = 0; length < 50; length += 1) {
      const bytes = randomBytes(length);
      expect(Array.from(decodeBase64(bytes.toString('base64')))).toEqual(Array.from(bytes));
      expect(Array.from(decodeBase64(bytes.toString('base64url')))).toEqual(Array.from(bytes));
    }
  });
});
