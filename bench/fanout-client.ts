/**
 * Watcher process of the fanout bench (forked by bench/fanout.ts, one or more per run):
 *   node --import tsx bench/fanout-client.ts '<json params>'
 * Opens `watchers` socket.io connections (websocket transport, msgpack or socket.io's JSON
 * parser; socket.io-client or the lean client of bench/support/lean-socket.ts), each `show:watch`es one show and keeps its own copy of the seat map: the snapshot plus
 * every `seatmap:diff` applied in order. Per diff it checks version continuity (from_version ==
 * last to_version; for the first, from_version <= snapshot version) and records the delivery
 * delay, receipt time minus committed_at_ms (same machine, same clock), in an HDR histogram.
 * On `finish` it takes a fresh snapshot, waits for every watcher to reach its version, and
 * compares each watcher's seat map with it. Talks to the parent over IPC only; stdout is unused.
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { build, encodeIntoCompressedBase64 } from 'hdr-histogram-js';
import { io, type Socket } from 'socket.io-client';
import * as msgpackParser from '../src/protocol/msgpack-parser.js';
import type { Ack, ClientToServerEvents, SeatMapDiffMessage, SeatMapSnapshotMessage, ServerToClientEvents } from '../src/protocol/socket-events.js';
import { LeanSocket } from './support/lean-socket.js';
import { WindowProfiler } from './support/profiler.js';
import { LatencyHistogram, round, type LatencySummary } from './support/report.js';

export type Parser = 'msgpack' | 'json';
/** socketio: socket.io-client, as the SDK and a fan's browser run it; lean: the same protocol with a bare ws (bench/support/lean-socket.ts). */
export type WatcherClient = 'lean' | 'socketio';

export interface FanoutClientParams {
  index: number;
  showId: string;
  watchers: number;
  parser: Parser;
  client: WatcherClient;
  /** Connections being opened (handshake + show:watch) at once. */
  connectConcurrency: number;
  /** After `finish`, how long watchers get to reach the fresh snapshot's version. */
  convergeTimeoutMs: number;
}

export interface ConnectReport {
  connected: number;
  failures: number;
  firstError: string | null;
  /** From the `connect` command to the last watcher holding its snapshot. */
  connectMs: number;
  /** Per connection: socket open + handshake + show:watch ack (snapshot). */
  perSocket: LatencySummary;
  /** How seat_status arrived in the snapshot ack (constructor name): the parsers differ. */
  snapshotEncoding: string;
  snapshotVersions: { min: number; max: number };
}

/** Per seat-map version (diff to_version): when it was committed and first/last received here. */
export type VersionReceipt = [toVersion: number, committedAtMs: number, firstMs: number, lastMs: number, receivers: number];

export interface ClientResult {
  index: number;
  watchers: number;
  disconnected: number;
  diffs: number;
  seatsChanged: number;
  seatsChangedPerWatcher: { min: number; max: number };
  /** Watchers that saw from_version > their version (missed a change). */
  gapWatchers: number;
  /** Watchers that saw from_version < their version < to_version after their first diff. */
  overlapWatchers: number;
  /** Diffs entirely at or below the watcher's version (ignored, as the protocol says). */
  staleDiffs: number;
  referenceVersion: number;
  /** Watchers still below the reference version when the convergence timeout ran out. */
  behindWatchers: number;
  /** Watchers whose seats or pools differ from the fresh snapshot (includes behind ones). */
  mismatchWatchers: number;
  /** Watchers with a gap, a mismatch or a dropped connection: each one missed a change. */
  badWatchers: number;
  convergeMs: number;
  delayHistogram: string;
  versions: VersionReceipt[];
  firstDiffAtMs: number | null;
  lastDiffAtMs: number | null;
  /** This process's event loop while the load ran: if it lags, delays include client queueing. */
  eventLoop: { delayP50Ms: number; delayP99Ms: number; delayMaxMs: number; utilization: number };
}

export type ClientToParent =
  | { type: 'booted' }
  | { type: 'connected'; report: ConnectReport }
  | { type: 'profiled'; path: string }
  | { type: 'result'; result: ClientResult }
  | { type: 'error'; message: string };
/** `load-start` may carry a path: profile this process (V8 CPU profile) until `finish`, written there. */
export type ParentToClient = { type: 'connect'; url: string } | { type: 'load-start'; profilePath: string | null } | { type: 'finish' } | { type: 'close' };

type WatchSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** One watcher's socket.io connection, connected when returned. */
interface WatchConnection {
  watch(showId: string): Promise<Ack<SeatMapSnapshotMessage>>;
  close(): void;
}

interface ConnectionEvents {
  onDiff(diff: SeatMapDiffMessage): void;
  onClose(): void;
}

async function openSocketIo(url: string, parser: Parser, events: ConnectionEvents): Promise<WatchConnection> {
  const socket: WatchSocket = io(url, {
    transports: ['websocket'],
    ...(parser === 'msgpack' ? { parser: msgpackParser } : {}),
    reconnection: false,
    forceNew: true,
    timeout: 30_000,
  });
  socket.on('seatmap:diff', (diff) => events.onDiff(diff));
  socket.on('disconnect', () => events.onClose());
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', (error) => {
      socket.disconnect();
      reject(error);
    });
  });
  return {
    watch: (showId) => socket.timeout(30_000).emitWithAck('show:watch', { show_id: showId }),
    close: () => socket.disconnect(),
  };
}

interface Watcher {
  connection: WatchConnection | null;
  /** null until the snapshot ack arrives; diffs received before it wait in `early`. */
  seats: Uint8Array | null;
  pools: number[];
  version: number;
  snapshotVersion: number;
  sawDiff: boolean;
  early: SeatMapDiffMessage[];
  diffs: number;
  seatsChanged: number;
  gap: boolean;
  overlap: boolean;
  disconnected: boolean;
}

const nowMs = (): number => performance.timeOrigin + performance.now();

const send = (message: ClientToParent): void => {
  process.send?.(message);
};

/** seat_status as bytes, whichever way the parser delivered it (Buffer, ArrayBuffer, array, JSON'd Buffer). */
function toBytes(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (Array.isArray(value)) return Uint8Array.from(value as number[]);
  if (typeof value === 'object' && value !== null) {
    const record = value as { type?: unknown; data?: unknown };
    if (record.type === 'Buffer' && Array.isArray(record.data)) return Uint8Array.from(record.data as number[]);
  }
  throw new Error(`seat_status arrived as ${Object.prototype.toString.call(value)}`);
}

function encodingOf(value: unknown): string {
  if (typeof value === 'object' && value !== null) return value.constructor?.name ?? 'Object';
  return typeof value;
}

async function openLean(url: string, parser: Parser, events: ConnectionEvents): Promise<WatchConnection> {
  const socket = await LeanSocket.connect({
    url,
    parser,
    connectTimeoutMs: 30_000,
    onEvent: (name, args) => {
      if (name === 'seatmap:diff') events.onDiff(args[0] as SeatMapDiffMessage);
    },
    onClose: () => events.onClose(),
  });
  return {
    watch: async (showId) => (await socket.emitWithAck('show:watch', { show_id: showId }, 30_000)) as Ack<SeatMapSnapshotMessage>,
    close: () => socket.close(),
  };
}

class WatcherFleet {
  private readonly watchers: Watcher[] = [];
  private readonly delays = build({ numberOfSignificantValueDigits: 3 });
  private readonly versions = new Map<number, VersionReceipt>();
  private readonly loopDelay = monitorEventLoopDelay({ resolution: 10 });
  private eluAtLoadStart = performance.eventLoopUtilization();
  private staleDiffs = 0;
  private firstDiffAtMs: number | null = null;
  private lastDiffAtMs: number | null = null;
  private snapshotEncoding = 'none';
  private url = '';

  constructor(private readonly params: FanoutClientParams) {}

  private open(events: ConnectionEvents): Promise<WatchConnection> {
    return this.params.client === 'lean' ? openLean(this.url, this.params.parser, events) : openSocketIo(this.url, this.params.parser, events);
  }

  /** Opens one watcher: connect, listen for diffs, then show:watch. */
  private async connectOne(): Promise<Watcher> {
    const watcher: Watcher = { connection: null, seats: null, pools: [], version: 0, snapshotVersion: 0, sawDiff: false, early: [], diffs: 0, seatsChanged: 0, gap: false, overlap: false, disconnected: false };
    watcher.connection = await this.open({
      onDiff: (diff) => this.onDiff(watcher, diff),
      onClose: () => {
        watcher.disconnected = true;
      },
    });
    const snapshot = await this.watch(watcher.connection);
    watcher.seats = Uint8Array.from(toBytes(snapshot.seat_status));
    watcher.pools = [...snapshot.pool_available];
    watcher.version = snapshot.version;
    watcher.snapshotVersion = snapshot.version;
    const early = watcher.early;
    watcher.early = [];
    for (const diff of early) this.apply(watcher, diff);
    return watcher;
  }

  private async watch(connection: WatchConnection): Promise<SeatMapSnapshotMessage> {
    const ack = await connection.watch(this.params.showId);
    if (!ack.ok) throw new Error(`show:watch refused: ${ack.error.code} ${ack.error.detail ?? ''}`);
    if (this.snapshotEncoding === 'none') this.snapshotEncoding = encodingOf(ack.data.seat_status);
    return ack.data;
  }

  async connectAll(url: string): Promise<ConnectReport> {
    this.url = url;
    const startedAt = performance.now();
    const perSocket = new LatencyHistogram();
    let next = 0;
    let failures = 0;
    let firstError: string | null = null;
    const worker = async (): Promise<void> => {
      while (next < this.params.watchers) {
        next += 1;
        const t0 = performance.now();
        try {
          this.watchers.push(await this.connectOne());
          perSocket.recordMs(performance.now() - t0);
        } catch (error) {
          failures += 1;
          firstError ??= error instanceof Error ? error.message : String(error);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.params.connectConcurrency, this.params.watchers) }, worker));
    const versions = this.watchers.map((watcher) => watcher.snapshotVersion);
    return {
      connected: this.watchers.length,
      failures,
      firstError,
      connectMs: round(performance.now() - startedAt, 1),
      perSocket: perSocket.summary(),
      snapshotEncoding: this.snapshotEncoding,
      snapshotVersions: { min: Math.min(...versions), max: Math.max(...versions) },
    };
  }

  loadStarted(): void {
    this.loopDelay.reset();
    this.loopDelay.enable();
    this.eluAtLoadStart = performance.eventLoopUtilization();
  }

  private onDiff(watcher: Watcher, diff: SeatMapDiffMessage): void {
    const receivedAtMs = nowMs();
    this.delays.recordValue(Math.max(1, Math.round((receivedAtMs - diff.committed_at_ms) * 1000)));
    this.firstDiffAtMs ??= receivedAtMs;
    this.lastDiffAtMs = receivedAtMs;
    const receipt = this.versions.get(diff.to_version);
    if (receipt === undefined) this.versions.set(diff.to_version, [diff.to_version, diff.committed_at_ms, receivedAtMs, receivedAtMs, 1]);
    else {
      receipt[3] = receivedAtMs;
      receipt[4] += 1;
    }
    if (watcher.seats === null) watcher.early.push(diff);
    else this.apply(watcher, diff);
  }

  private apply(watcher: Watcher, diff: SeatMapDiffMessage): void {
    const seats = watcher.seats!;
    if (diff.to_version <= watcher.version) {
      this.staleDiffs += 1;
      return;
    }
    if (diff.from_version > watcher.version) watcher.gap = true;
    else if (watcher.sawDiff && diff.from_version !== watcher.version) watcher.overlap = true;
    watcher.sawDiff = true;
    for (const [seat, status] of diff.seats) seats[seat] = status;
    for (const [pool, available] of diff.pools) watcher.pools[pool] = available;
    watcher.version = diff.to_version;
    watcher.diffs += 1;
    watcher.seatsChanged += diff.seats.length;
  }

  async finish(): Promise<ClientResult> {
    this.loopDelay.disable();
    const elu = performance.eventLoopUtilization(this.eluAtLoadStart);
    const fresh = await this.open({ onDiff: () => undefined, onClose: () => undefined });
    const reference = await this.watch(fresh);
    fresh.close();
    const referenceSeats = toBytes(reference.seat_status);
    const convergeStart = performance.now();
    while (this.watchers.some((watcher) => watcher.version < reference.version && !watcher.disconnected) && performance.now() - convergeStart < this.params.convergeTimeoutMs) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const convergeMs = performance.now() - convergeStart;
    let behind = 0;
    let mismatched = 0;
    let bad = 0;
    for (const watcher of this.watchers) {
      const isBehind = watcher.version < reference.version;
      if (isBehind) behind += 1;
      const seats = watcher.seats!;
      const same =
        !isBehind &&
        watcher.version === reference.version &&
        seats.length === referenceSeats.length &&
        Buffer.compare(Buffer.from(seats.buffer, seats.byteOffset, seats.byteLength), Buffer.from(referenceSeats.buffer, referenceSeats.byteOffset, referenceSeats.byteLength)) === 0 &&
        watcher.pools.length === reference.pool_available.length &&
        watcher.pools.every((available, pool) => available === reference.pool_available[pool]);
      if (!same) mismatched += 1;
      if (!same || watcher.gap || watcher.disconnected) bad += 1;
    }
    const changed = this.watchers.map((watcher) => watcher.seatsChanged);
    return {
      index: this.params.index,
      watchers: this.watchers.length,
      disconnected: this.watchers.filter((watcher) => watcher.disconnected).length,
      diffs: this.watchers.reduce((sum, watcher) => sum + watcher.diffs, 0),
      seatsChanged: changed.reduce((sum, count) => sum + count, 0),
      seatsChangedPerWatcher: { min: Math.min(...changed), max: Math.max(...changed) },
      gapWatchers: this.watchers.filter((watcher) => watcher.gap).length,
      overlapWatchers: this.watchers.filter((watcher) => watcher.overlap).length,
      staleDiffs: this.staleDiffs,
      referenceVersion: reference.version,
      behindWatchers: behind,
      mismatchWatchers: mismatched,
      badWatchers: bad,
      convergeMs: round(convergeMs, 1),
      delayHistogram: encodeIntoCompressedBase64(this.delays),
      versions: [...this.versions.values()],
      firstDiffAtMs: this.firstDiffAtMs,
      lastDiffAtMs: this.lastDiffAtMs,
      eventLoop: {
        delayP50Ms: round(this.loopDelay.percentile(50) / 1e6, 2),
        delayP99Ms: round(this.loopDelay.percentile(99) / 1e6, 2),
        delayMaxMs: round(this.loopDelay.max / 1e6, 2),
        utilization: round(elu.utilization, 3),
      },
    };
  }

  close(): void {
    for (const watcher of this.watchers) watcher.connection?.close();
  }
}

async function main(): Promise<void> {
  if (process.send === undefined) throw new Error('fanout-client runs as a child of bench/fanout.ts (needs an IPC channel)');
  const params = JSON.parse(process.argv[2] ?? '{}') as FanoutClientParams;
  const fleet = new WatcherFleet(params);
  const profiler = new WindowProfiler();
  let profilePath: string | null = null;
  const fail = (error: unknown): void => {
    send({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  };
  process.on('message', (message: ParentToClient) => {
    switch (message.type) {
      case 'connect':
        fleet.connectAll(message.url).then((report) => send({ type: 'connected', report }), fail);
        break;
      case 'load-start':
        fleet.loadStarted();
        profilePath = message.profilePath;
        if (profilePath !== null) profiler.start().catch(fail);
        break;
      case 'finish':
        (profilePath === null ? Promise.resolve(false) : profiler.stop(profilePath))
          .then((profiled) => {
            if (profiled && profilePath !== null) send({ type: 'profiled', path: profilePath });
            return fleet.finish();
          })
          .then((result) => send({ type: 'result', result }), fail);
        break;
      case 'close':
        fleet.close();
        process.disconnect?.();
        setTimeout(() => process.exit(0), 200).unref();
        break;
    }
  });
  process.on('disconnect', () => {
    fleet.close();
    setTimeout(() => process.exit(0), 200).unref();
  });
  send({ type: 'booted' });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
