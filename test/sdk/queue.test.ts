import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isValidProofOfWork } from '../../src/admission/proof-of-work.js';
import { isHoldfastError, type ProofOfWorkChallenge, type QueueState } from '../../client-sdk/src/index.js';
import { databaseKinds } from '../support/databases.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { Clients, catalogOf, createCatalog, eventually } from './sdk-helpers.js';

const serverOffset = { ms: 0 };
const clock = { nowMs: () => Date.now() + serverOffset.ms };

for (const kind of databaseKinds) {
  describe.skipIf(!kind.available)(`client SDK in the waiting room (${kind.name})`, () => {
    let t: TestServer;
    let shows: Record<string, string> = {};
    const clients = new Clients(() => t.url);
    const ops = (showId: string, body: Record<string, unknown>) => t.request('POST', `/v1/ops/shows/${showId}/queue`, { token: t.adminToken, body });

    beforeAll(async () => {
      t = await startTestServer(kind, { QUEUE_TICK_MS: '100', RATE_LIMIT_USER_PER_S: '1000' }, {
        clock,
        beforeListen: async (db) => {
          const created = await createCatalog(catalogOf(db, clock), {
            eventName: 'Queuecon', performer: 'The Waiters', city: 'Lineville',
            shows: {
              pow: { waiting_room: { enabled: true, admission_rate_per_s: 20, admission_ttl_s: 60, pow_difficulty: 10 } },
              line: { waiting_room: { enabled: true, admission_rate_per_s: 5, admission_ttl_s: 60 } },
            },
          });
          shows = created.showIds;
        },
      });
    });
    afterEach(() => clients.closeAll());
    afterAll(async () => t.close());

    it('solves the proof-of-work challenge when asked, is admitted and holds with the admission token', async () => {
      const showId = shows['pow']!;
      const fan = await clients.signedIn('pow-fan');
      const refused: unknown = await fan.hold(showId, { best_available: { quantity: 1 } }).catch((error: unknown) => error);
      expect(isHoldfastError(refused, 'admission_required')).toBe(true);

      const challenges: ProofOfWorkChallenge[] = [];
      const phases: QueueState['phase'][] = [];
      const tracker = await fan.joinQueue(showId, { onProofOfWork: (challenge) => challenges.push(challenge) });
      tracker.subscribe((state) => phases.push(state.phase));
      expect(challenges).toHaveLength(1);
      expect(challenges[0]!.difficulty).toBe(10);
      expect(tracker.ticket).toMatch(/^qtk\./);
      const admission = await tracker.admitted();
      expect(admission.showId).toBe(showId);
      expect(fan.admissionFor(showId)?.token).toBe(admission.token);
      expect(tracker.state).toMatchObject({ phase: 'admitted', position: 0 });
      const remaining = fan.clock.remainingMs(admission.expiresAtMs);
      expect(remaining).toBeGreaterThan(50_000);
      expect(remaining).toBeLessThanOrEqual(60_000 + 1_000);

      const held = await fan.hold(showId, { best_available: { quantity: 1 } }); // the token goes along by itself
      expect(held.status).toBe('held');

      // Rejoining with the ticket keeps the place (no new proof of work needed).
      const again = await fan.joinQueue(showId, { ticket: tracker.ticket!, onProofOfWork: (challenge) => challenges.push(challenge) });
      expect(challenges).toHaveLength(1);
      expect(again.state.number).toBe(tracker.state.number);
      expect(again.state.phase).toBe('admitted');
    });

    it('follows position and ETA from the serving broadcasts, then receives the admission push', async () => {
      const showId = shows['line']!;
      expect((await ops(showId, { paused: true })).status).toBe(200);
      const fans = await Promise.all(['line-1', 'line-2', 'line-3', 'line-4', 'line-5'].map((user) => clients.signedIn(user)));
      const trackers = [];
      for (const fan of fans) trackers.push(await fan.joinQueue(showId, { pollIntervalMs: 60_000 })); // pushes only, no polling help
      const last = trackers.at(-1)!;
      expect(last.state.phase).toBe('queued');
      const seen: QueueState[] = [];
      last.subscribe((state) => seen.push(state));
      await eventually(() => seen.some((state) => state.paused), 3_000, 'a paused serving broadcast');
      expect(last.state.etaS).toBeNull(); // paused: no ETA
      const startPosition = last.state.position!;
      expect(startPosition).toBeGreaterThanOrEqual(5);
      expect((await ops(showId, { paused: false, rate_per_s: 10 })).status).toBe(200);
      await eventually(() => last.state.etaS !== null && last.state.position! < startPosition, 5_000, 'a moving line');
      expect(last.state.etaS).toBeGreaterThan(0);
      const admission = await last.admitted();
      expect(admission.token).toBeTruthy();
      const positions = seen.map((state) => state.position).filter((position): position is number => position !== null);
      for (let index = 1; index < positions.length; index += 1) expect(positions[index]!).toBeLessThanOrEqual(positions[index - 1]!);
      expect(positions.at(-1)).toBe(0);
      await Promise.all(trackers.map((tracker) => tracker.admitted()));
      const held = await fans.at(-1)!.hold(showId, { seat_ids: ['A:1:10'] });
      expect(held.status).toBe('held');
    });

    it('gets a fresh admission token when the old one expired, with the same hold intent', async () => {
      const showId = shows['line']!;
      const fan = await clients.signedIn('late-fan');
      const tracker = await fan.joinQueue(showId);
      const first = await tracker.admitted();
      serverOffset.ms = 61_000; // the 60 s admission token has expired by the server's clock
      try {
        const held = await fan.hold(showId, { seat_ids: ['A:2:10'] });
        expect(held.status).toBe('held');
        expect(fan.admissionFor(showId)!.token).not.toBe(first.token);
        expect(fan.admissionFor(showId)!.expiresAtMs).toBeGreaterThan(first.expiresAtMs);
      } finally {
        serverOffset.ms = 0;
      }
    });

    it('solves with the browser-safe solver what the server verifies', async () => {
      const fan = await clients.signedIn('pow-check');
      const challenge = (await t.request('GET', `/v1/shows/${shows['pow']!}/queue/challenge`, { token: fan.token! })).body as ProofOfWorkChallenge;
      const { solveProofOfWork } = await import('../../client-sdk/src/index.js');
      const nonce = await solveProofOfWork(challenge.challenge, challenge.difficulty);
      expect(isValidProofOfWork(challenge.challenge, nonce, challenge.difficulty)).toBe(true);
    });
  });
}
