/**
 * Fans watching live seat maps over socket.io, each on a connection of its own (in a cluster the
 * kernel spreads them over the workers, so most watch a show another worker owns and get its
 * diffs through the cluster bus). Records when each watcher got a diff of each show, to tell
 * whether — and how soon — broadcasts resume after a fault.
 */
import { io, type Socket } from 'socket.io-client';
import * as msgpackParser from '../../../../src/protocol/msgpack-parser.js';
import type { ClientToServerEvents, ServerToClientEvents } from '../../../../src/protocol/socket-events.js';

export interface DiffWatchers {
  /** Per watcher: show id → times (ms since the epoch) its diffs arrived. */
  readonly arrivals: Map<string, number[]>[];
  /** Per watcher and show: the first diff at or after `fromMs`, ms after it (null: none yet). */
  firstDiffAfter(fromMs: number): (number | null)[][];
  close(): void;
}

export async function startDiffWatchers(url: string, showIds: string[], count: number): Promise<DiffWatchers> {
  const sockets: Socket<ServerToClientEvents, ClientToServerEvents>[] = [];
  const arrivals: Map<string, number[]>[] = [];
  for (let index = 0; index < count; index += 1) {
    const session = await fetch(`${url}/v1/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user_id: `watcher-${index}-${Date.now()}` }) });
    const { token } = (await session.json()) as { token: string };
    const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io(url, { transports: ['websocket'], parser: msgpackParser, auth: { token }, forceNew: true, reconnection: true });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    const seen = new Map<string, number[]>(showIds.map((showId) => [showId, []]));
    socket.on('seatmap:diff', (diff) => seen.get(diff.show_id)?.push(Date.now()));
    for (const showId of showIds) {
      const ack = await socket.timeout(10_000).emitWithAck('show:watch', { show_id: showId });
      if (!ack.ok) throw new Error(`show:watch ${showId}: ${JSON.stringify(ack)}`);
    }
    sockets.push(socket);
    arrivals.push(seen);
  }
  return {
    arrivals,
    firstDiffAfter(fromMs) {
      return arrivals.map((seen) => showIds.map((showId) => {
        const first = seen.get(showId)!.find((atMs) => atMs >= fromMs);
        return first === undefined ? null : first - fromMs;
      }));
    },
    close() {
      for (const socket of sockets) socket.disconnect();
    },
  };
}
