import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { OutboxRelay } from '../../src/outbox/outbox-relay.js';
import { pgliteNotifyWake, pgNotifyWake, wakeFor } from '../../src/outbox/wake.js';
import type { SqlDatabase } from '../../src/persistence/database.js';
import { silentLogger } from '../../src/shared/logger.js';
import { databaseKinds, databaseUrl } from '../support/databases.js';
import { insertEvent, openPgliteWithHandle, RecordingSink, rowState, until } from './support.js';

/** With a one-minute poll, only a wake-up can deliver a new row within the test's deadline. */
const longPollMs = 60_000;
const quickMs = 3_000;

async function deliveredQuickly(db: SqlDatabase, relay: OutboxRelay, sink: RecordingSink, listening: Promise<void>, insert: () => Promise<string>): Promise<number> {
  relay.start();
  await listening;
  // Let the relay finish the round the subscription triggered and settle into its long sleep.
  await until(() => relay.isRunning);
  await new Promise((resolve) => setTimeout(resolve, 100));
  const started = Date.now();
  const id = await insert();
  await until(() => sink.accepted().includes(id), quickMs);
  const elapsed = Date.now() - started;
  await until(async () => (await rowState(db, id)).delivered, quickMs);
  return elapsed;
}

describe.skipIf(!databaseKinds.find((kind) => kind.name === 'postgres')!.available)('outbox wake-up: postgres LISTEN/NOTIFY', () => {
  let db: SqlDatabase;
  let relay: OutboxRelay | null = null;
  beforeAll(async () => {
    db = await databaseKinds.find((kind) => kind.name === 'postgres')!.open();
  });
  afterEach(async () => {
    await relay?.stop();
    relay = null;
  });
  afterAll(async () => db.close());

  it('a NOTIFY from the outbox insert trigger wakes a relay sleeping on a long poll', async () => {
    const sink = new RecordingSink();
    let listening!: () => void;
    const ready = new Promise<void>((resolve) => (listening = resolve));
    relay = new OutboxRelay({ db, sinks: [sink], logger: silentLogger, pollIntervalMs: longPollMs, wake: pgNotifyWake({ connectionString: databaseUrl!, logger: silentLogger, onListening: () => listening() }) });
    const elapsed = await deliveredQuickly(db, relay, sink, ready, () => insertEvent(db, 'show-n', 'RefundIssued'));
    expect(elapsed).toBeLessThan(quickMs);
  });

  it('stop() closes the LISTEN connection', async () => {
    const before = await listeners();
    let listening!: () => void;
    const ready = new Promise<void>((resolve) => (listening = resolve));
    relay = new OutboxRelay({ db, sinks: [new RecordingSink()], logger: silentLogger, pollIntervalMs: longPollMs, wake: pgNotifyWake({ connectionString: databaseUrl!, applicationName: 'holdfast-outbox-listen-test', onListening: () => listening() }) });
    relay.start();
    await ready;
    expect(await listeners()).toBe(before + 1);
    await relay.stop();
    await until(async () => (await listeners()) === before, 5_000);

    async function listeners(): Promise<number> {
      const { rows } = await db.query<{ count: number }>(`select count(*)::int as count from pg_stat_activity where application_name = 'holdfast-outbox-listen-test'`);
      return Number(rows[0]!.count);
    }
  });
});

describe('outbox wake-up: PGlite listen', () => {
  let db: SqlDatabase;
  let relay: OutboxRelay | null = null;
  let wake: ReturnType<typeof pgliteNotifyWake>;
  let ready: Promise<void>;
  beforeAll(async () => {
    const opened = await openPgliteWithHandle();
    db = opened.db;
    let listening!: () => void;
    ready = new Promise<void>((resolve) => (listening = resolve));
    wake = pgliteNotifyWake(opened.pglite, { onListening: () => listening() });
  });
  afterAll(async () => {
    await relay?.stop();
    await db.close();
  });

  it('a NOTIFY from an insert in the same process wakes a relay sleeping on a long poll', async () => {
    const sink = new RecordingSink();
    relay = new OutboxRelay({ db, sinks: [sink], logger: silentLogger, pollIntervalMs: longPollMs, wake });
    const elapsed = await deliveredQuickly(db, relay, sink, ready, () => db.transaction((tx) => insertEvent(tx, 'show-p', 'PaymentFailed')));
    expect(elapsed).toBeLessThan(quickMs);
  });
});

describe('wakeFor', () => {
  it('picks LISTEN for PostgreSQL with a connection string, a listen capability where offered, else polling', () => {
    expect(wakeFor({ kind: 'pglite' })).toBeUndefined();
    expect(wakeFor({ kind: 'postgres' })).toBeUndefined();
    expect(wakeFor({ kind: 'postgres' }, { connectionString: 'postgres://127.0.0.1:1/none' })).toBeTypeOf('function');
    const listens = { kind: 'pglite' as const, listen: async () => async () => undefined };
    expect(wakeFor(listens)).toBeTypeOf('function');
  });
});
