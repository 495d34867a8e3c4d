import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LeanSocket, type LeanParser } from '../../bench/support/lean-socket.js';
import { ShowDefinitionStore } from '../../src/persistence/show-definitions.js';
import type { HoldResponse } from '../../src/protocol/hold-schemas.js';
import type { Ack, SeatMapDiffMessage, SeatMapSnapshotMessage } from '../../src/protocol/socket-events.js';
import { buildStadiumDefinition } from '../../src/seed/stadium.js';
import { databaseKinds } from '../support/databases.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { eventually, ok } from './gateway-helpers.js';

/**
 * The fanout bench's lean watcher (bench/support/lean-socket.ts) must speak the server's real
 * protocol, with either parser: handshake, an acked show:watch (the snapshot's binary seat map
 * included: an attachment under the JSON parser), live diffs, and a clean close.
 */
const showId = 'shw-lean-socket';
const embedded = databaseKinds.find((kind) => kind.name === 'pglite')!;

for (const parser of ['msgpack', 'json'] as LeanParser[]) {
  describe(`lean socket.io client (${parser} parser)`, () => {
    let t: TestServer;
    beforeAll(async () => {
      t = await startTestServer(embedded, { SOCKET_PARSER: parser, DIFF_TICK_MS: '0', RATE_LIMIT_USER_PER_S: '1000' }, {
        beforeListen: async (db) => {
          await new ShowDefinitionStore(db).save(buildStadiumDefinition({ showId, sections: 1, rowsPerSection: 1, seatsPerRow: 10, floorCapacity: 10 }));
        },
      });
    });
    afterAll(async () => t?.close());

    it('watches a show: the snapshot as the ack, then each diff in order', async () => {
      const diffs: SeatMapDiffMessage[] = [];
      let closed = '';
      const socket = await LeanSocket.connect({
        url: t.url,
        parser,
        connectTimeoutMs: 5_000,
        onEvent: (name, args) => {
          if (name === 'seatmap:diff') diffs.push(args[0] as SeatMapDiffMessage);
        },
        onClose: (reason) => {
          closed = reason;
        },
      });
      const ack = (await socket.emitWithAck('show:watch', { show_id: showId }, 5_000)) as Ack<SeatMapSnapshotMessage>;
      if (!ack.ok) throw new Error(`show:watch refused: ${ack.error.code}`);
      expect(ack.data.show_id).toBe(showId);
      expect(Array.from(ack.data.seat_status)).toHaveLength(10);

      const fan = await t.session('lean-fan');
      const hold = ok<HoldResponse>(await t.request('POST', `/v1/shows/${showId}/holds`, { token: fan, body: { seat_ids: ['101:1:1'] }, headers: { 'idempotency-key': randomUUID() } }), 201);
      await eventually(() => diffs.some((diff) => diff.to_version >= hold.version), 3_000, 'the diff of the hold');
      expect(diffs[0]!.from_version).toBe(ack.data.version);
      expect(diffs.flatMap((diff) => diff.seats)).toContainEqual([0, 1]);

      const refused = (await socket.emitWithAck('show:watch', { show_id: 'NOT A SHOW' }, 5_000)) as Ack<unknown>;
      expect(refused).toMatchObject({ ok: false, error: { code: 'validation_failed' } });
      socket.close();
      expect(closed).toBe('client close');
    });
  });
}
