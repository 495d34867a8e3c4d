import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QueueStore } from '../../src/admission/queue-store.js';
import { WaitingRoomService, type WaitingRoomSettings } from '../../src/admission/waiting-room.js';
import type { ShowRouter } from '../../src/actors/show-router.js';
import type { SqlDatabase } from '../../src/persistence/database.js';
import { silentLogger } from '../../src/shared/logger.js';
import { TokenSigner } from '../../src/shared/signed-tokens.js';
import { databaseKinds } from '../support/databases.js';

/** mulberry32: a seeded uniform PRNG, so the statistical test is reproducible. */
function seededUniform(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const noRouter: ShowRouter = {
  submit: async () => ({ ok: false, code: 'not_found', detail: 'none' }),
  availability: async () => null,
  getHold: async () => null,
  watch: async () => () => undefined,
  stopAll: async () => undefined,
};

/** Pearson's chi-square statistic of a contingency table. */
function chiSquare(table: number[][]): number {
  const rows = table.map((row) => row.reduce((a, b) => a + b, 0));
  const columns = table[0]!.map((_, column) => table.reduce((sum, row) => sum + row[column]!, 0));
  const total = rows.reduce((a, b) => a + b, 0);
  let statistic = 0;
  table.forEach((row, r) => row.forEach((observed, c) => {
    const expected = (rows[r]! * columns[c]!) / total;
    statistic += (observed - expected) ** 2 / expected;
  }));
  return statistic;
}

const kind = databaseKinds[0]!; // the statistics do not depend on the database; PGlite keeps it fast

describe('waiting room fairness', () => {
  let db: SqlDatabase;
  let nowMs = Date.parse('2030-01-01T10:00:00Z');
  const onSaleAtMs = Date.parse('2030-01-01T12:00:00Z');
  const settings: WaitingRoomSettings = { enabled: true, opensAtMs: 0, onSaleAtMs, mode: 'fixed', admissionRatePerS: 100, activeCap: 1000, admissionTtlMs: 600_000, powDifficulty: 0 };
  let room: WaitingRoomService;

  beforeAll(async () => {
    db = await kind.open();
    room = new WaitingRoomService({
      store: new QueueStore(db), router: noRouter, signer: new TokenSigner('fairness-test-secret-123'), clock: { nowMs: () => nowMs }, logger: silentLogger,
      settingsOf: async () => settings, onServing: () => undefined, tickMs: 3_600_000, joinBatchMax: 2_000, random: seededUniform(20_261_122),
    });
  });
  afterAll(async () => {
    room.close();
    await db.close();
  });

  it('orders 10,000 pre-on-sale arrivals uniformly at random, then later arrivals first come first served', async () => {
    const early = Array.from({ length: 10_000 }, (_, index) => `early-${index}`);
    const tickets: string[] = [];
    for (let start = 0; start < early.length; start += 1_000) {
      const statuses = await Promise.all(early.slice(start, start + 1_000).map((userId) => room.join(userId, 'shw-fair', {})));
      for (const status of statuses) {
        expect(status.phase).toBe('pre_queue');
        expect(status.number).toBeNull();
        tickets.push(status.ticket);
      }
    }
    nowMs = onSaleAtMs + 1;
    const late: number[] = [];
    for (let index = 0; index < 200; index += 1) late.push((await room.join(`late-${index}`, 'shw-fair', {})).number!);
    const numbers = await Promise.all(early.map((userId, index) => room.status(userId, tickets[index]!).then((status) => status.number!)));

    // Every early arrival is ahead of every later one; early numbers lie in 0..9,999 (a lottery
    // draw u maps to floor(u × 10,000): ties and gaps average out to one fan per number).
    expect(Math.max(...numbers)).toBeLessThan(Math.min(...late));
    expect(Math.min(...numbers)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...numbers)).toBeLessThan(10_000);
    expect(Math.min(...late)).toBe(10_000);
    // Later arrivals keep their arrival order.
    expect(late).toEqual([...late].sort((a, b) => a - b));
    expect(new Set(late).size).toBe(late.length);

    // Independence of arrival order and queue place: a 10×10 contingency table of arrival decile
    // against number decile. Under uniform shuffling the statistic is chi-square with 81 degrees
    // of freedom; 124.8 is its 0.1% critical value.
    const table = Array.from({ length: 10 }, () => new Array<number>(10).fill(0));
    numbers.forEach((number, arrival) => {
      table[Math.floor(arrival / 1_000)]![Math.min(9, Math.floor(number / 1_000))]! += 1;
    });
    expect(chiSquare(table)).toBeLessThan(124.8);
    // And no decile of arrivals is systematically ahead: mean number per arrival decile within 3% of the middle.
    for (let decile = 0; decile < 10; decile += 1) {
      const slice = numbers.slice(decile * 1_000, (decile + 1) * 1_000);
      const mean = slice.reduce((a, b) => a + b, 0) / slice.length;
      expect(Math.abs(mean - 5_000)).toBeLessThan(300);
    }
  });

  it('the same fan joining again keeps the same ticket and place', async () => {
    const first = await room.join('returning-fan', 'shw-fair', {});
    const again = await room.join('returning-fan', 'shw-fair', {});
    expect(again.number).toBe(first.number);
    await expect(room.status('someone-else', first.ticket)).rejects.toMatchObject({ code: 'forbidden' });
    await expect(room.status('returning-fan', `${first.ticket}x`)).rejects.toMatchObject({ code: 'not_found' });
  });
});
