/**
 * Socket fans of the queue bench (forked by bench/queue.ts, one or more processes):
 *   node --import tsx bench/queue-sockets.ts '<json params>'
 * Opens one socket.io connection per fan (websocket transport, the msgpack parser, a session
 * token minted here with the server's TOKEN_SECRET), each sends `queue:join` and keeps its
 * ticket number. Then it records every `queue:serving` broadcast (receipt time − the message's
 * server_time_ms: same machine, same clock) and every `queue:admitted` push (receipt − mint
 * time, which is expires_at_ms − the admission TTL). On `finish` the parent names the
 * broadcasts the server emitted, per window; this process answers with the delay histogram,
 * per-broadcast receiver counts and the sockets that missed any of them.
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { build, encodeIntoCompressedBase64 } from 'hdr-histogram-js';
import { io, type Socket } from 'socket.io-client';
import * as msgpackParser from '../src/protocol/msgpack-parser.js';
import type { ClientToServerEvents, ServerToClientEvents } from '../src/protocol/socket-events.js';
import { TokenSigner } from '../src/shared/signed-tokens.js';

export interface SocketFansParams {
  index: number;
  showId: string;
  tokenSecret: string;
  userPrefix: string;
  /** Fans [from, to) of the run, one socket each. */
  from: number;
  to: number;
  connectConcurrency: number;
  admissionTtlMs: number;
}

export interface SocketConnectReport {
  connected: number;
  joined: number;
  failures: number;
  errors: Record<string, number>;
  firstError: string | null;
  phases: Record<string, number>;
  /** Ticket numbers of the joined sockets: their range, and each (for the parent's uniqueness check over all fans). */
  numberRange: { min: number; max: number };
  numbers: { fan: number; number: number }[];
  connectMs: number;
  /** Per socket: websocket open + handshake + queue:join ack. */
  perSocket: string;
}

/** A window of broadcasts, as the server emitted them (by server_time_ms). */
export interface BroadcastWindow {
  name: string;
  ids: number[];
}

export interface WindowResult {
  name: string;
  delay: string;
  /** Per broadcast id: how many sockets of this process received it, first and last delay. */
  perBroadcast: [id: number, receivers: number, firstDelayMs: number, lastDelayMs: number][];
  socketsMissingAny: number;
  missedReceipts: number;
}

export interface SocketFansResult {
  index: number;
  sockets: number;
  disconnected: number;
  windows: WindowResult[];
  /** Broadcasts received whose server_time_ms the server never logged (should be 0). */
  unknownBroadcasts: number;
  admitted: { pushes: number; duplicate: number; delay: string; sockets: number; owedNotAdmitted: number; notOwedButAdmitted: number; maxServingSeen: number };
  eventLoop: { delayP99Ms: number; delayMaxMs: number; utilization: number };
}

export type SocketFansToParent = { type: 'booted' } | { type: 'connected'; report: SocketConnectReport } | { type: 'result'; result: SocketFansResult } | { type: 'error'; message: string };
export type ParentToSocketFans = { type: 'connect'; url: string } | { type: 'measure-start' } | { type: 'finish'; windows: BroadcastWindow[]; knownIds: number[] } | { type: 'close' };

type FanSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

interface Fan {
  socket: FanSocket;
  fan: number;
  number: number;
  /** server_time_ms of every queue:serving received. */
  received: number[];
  maxServing: number;
  admittedPushes: number;
  disconnected: boolean;
}

const nowMs = (): number => performance.timeOrigin + performance.now();

const send = (message: SocketFansToParent): void => {
  process.send?.(message);
};

class SocketFans {
  private readonly fans: Fan[] = [];
  private readonly signer: TokenSigner;
  /** Delay (ms) of every receipt, by broadcast id (server_time_ms). */
  private readonly delays = new Map<number, number[]>();
  private readonly admittedDelay = build({ numberOfSignificantValueDigits: 3 });
  private readonly loopDelay = monitorEventLoopDelay({ resolution: 10 });
  private eluAtMeasure = performance.eventLoopUtilization();
  private url = '';

  constructor(private readonly params: SocketFansParams) {
    this.signer = new TokenSigner(params.tokenSecret);
  }

  private async connectOne(fanIndex: number, report: SocketConnectReport): Promise<Fan | null> {
    const token = this.signer.sign('ses', { sub: `${this.params.userPrefix}${fanIndex}`, exp: Date.now() + 6 * 3600_000 });
    const socket: FanSocket = io(this.url, { transports: ['websocket'], parser: msgpackParser, auth: { token }, reconnection: false, forceNew: true, timeout: 30_000 });
    const fan: Fan = { socket, fan: fanIndex, number: -1, received: [], maxServing: 0, admittedPushes: 0, disconnected: false };
    socket.on('queue:serving', (message) => {
      const receivedAtMs = nowMs();
      fan.received.push(message.server_time_ms);
      if (message.serving > fan.maxServing) fan.maxServing = message.serving;
      const list = this.delays.get(message.server_time_ms);
      const delay = receivedAtMs - message.server_time_ms;
      if (list === undefined) this.delays.set(message.server_time_ms, [delay]);
      else list.push(delay);
    });
    socket.on('queue:admitted', (message) => {
      fan.admittedPushes += 1;
      const mintedAtMs = message.expires_at_ms - this.params.admissionTtlMs;
      this.admittedDelay.recordValue(Math.max(1, Math.round((nowMs() - mintedAtMs) * 1000)));
    });
    socket.on('disconnect', () => {
      fan.disconnected = true;
    });
    const fail = (code: string, detail: string): null => {
      report.failures += 1;
      report.errors[code] = (report.errors[code] ?? 0) + 1;
      report.firstError ??= `${code}: ${detail}`;
      socket.disconnect();
      return null;
    };
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', () => resolve());
        socket.once('connect_error', (error) => reject(error));
      });
    } catch (error) {
      return fail('connect_error', error instanceof Error ? error.message : String(error));
    }
    report.connected += 1;
    let ack;
    try {
      ack = await socket.timeout(60_000).emitWithAck('queue:join', { show_id: this.params.showId });
    } catch (error) {
      return fail('ack_timeout', error instanceof Error ? error.message : String(error));
    }
    if (!ack.ok) return fail(ack.error.code, ack.error.detail ?? '');
    report.phases[ack.data.phase] = (report.phases[ack.data.phase] ?? 0) + 1;
    if (ack.data.number === null) return fail('no_number', JSON.stringify(ack.data));
    fan.number = ack.data.number;
    report.joined += 1;
    return fan;
  }

  async connectAll(url: string): Promise<SocketConnectReport> {
    this.url = url;
    const startedAt = performance.now();
    const perSocket = build({ numberOfSignificantValueDigits: 3 });
    const report: SocketConnectReport = { connected: 0, joined: 0, failures: 0, errors: {}, firstError: null, phases: {}, numberRange: { min: 0, max: 0 }, numbers: [], connectMs: 0, perSocket: '' };
    let next = this.params.from;
    const worker = async (): Promise<void> => {
      while (next < this.params.to) {
        const fanIndex = next;
        next += 1;
        const t0 = performance.now();
        const fan = await this.connectOne(fanIndex, report);
        if (fan !== null) {
          this.fans.push(fan);
          perSocket.recordValue(Math.max(1, Math.round((performance.now() - t0) * 1000)));
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.params.connectConcurrency, this.params.to - this.params.from) }, worker));
    const numbers = this.fans.map((fan) => fan.number);
    report.numberRange = { min: Math.min(...numbers), max: Math.max(...numbers) };
    report.numbers = this.fans.map((fan) => ({ fan: fan.fan, number: fan.number }));
    report.connectMs = performance.now() - startedAt;
    report.perSocket = encodeIntoCompressedBase64(perSocket);
    return report;
  }

  measureStarted(): void {
    this.loopDelay.reset();
    this.loopDelay.enable();
    this.eluAtMeasure = performance.eventLoopUtilization();
  }

  finish(windows: BroadcastWindow[], knownIds: number[]): SocketFansResult {
    this.loopDelay.disable();
    const elu = performance.eventLoopUtilization(this.eluAtMeasure);
    const known = new Set(knownIds);
    let unknownBroadcasts = 0;
    for (const id of this.delays.keys()) if (!known.has(id)) unknownBroadcasts += 1;
    const windowResults = windows.map((window): WindowResult => {
      const delay = build({ numberOfSignificantValueDigits: 3 });
      const perBroadcast: WindowResult['perBroadcast'] = [];
      for (const id of window.ids) {
        const delays = this.delays.get(id) ?? [];
        let first = Number.POSITIVE_INFINITY;
        let last = 0;
        for (const value of delays) {
          delay.recordValue(Math.max(1, Math.round(value * 1000)));
          if (value < first) first = value;
          if (value > last) last = value;
        }
        perBroadcast.push([id, delays.length, delays.length === 0 ? 0 : first, last]);
      }
      const ids = new Set(window.ids);
      let socketsMissingAny = 0;
      let missedReceipts = 0;
      for (const fan of this.fans) {
        let got = 0;
        for (const id of new Set(fan.received)) if (ids.has(id)) got += 1;
        const missed = ids.size - got;
        if (missed > 0) socketsMissingAny += 1;
        missedReceipts += missed;
      }
      return { name: window.name, delay: encodeIntoCompressedBase64(delay), perBroadcast, socketsMissingAny, missedReceipts };
    });
    let owedNotAdmitted = 0;
    let notOwedButAdmitted = 0;
    let duplicate = 0;
    let maxServingSeen = 0;
    for (const fan of this.fans) {
      maxServingSeen = Math.max(maxServingSeen, fan.maxServing);
      const owed = fan.number < fan.maxServing;
      if (owed && fan.admittedPushes === 0) owedNotAdmitted += 1;
      if (!owed && fan.admittedPushes > 0) notOwedButAdmitted += 1;
      if (fan.admittedPushes > 1) duplicate += fan.admittedPushes - 1;
    }
    return {
      index: this.params.index,
      sockets: this.fans.length,
      disconnected: this.fans.filter((fan) => fan.disconnected).length,
      windows: windowResults,
      unknownBroadcasts,
      admitted: {
        pushes: this.fans.reduce((sum, fan) => sum + fan.admittedPushes, 0),
        duplicate,
        delay: encodeIntoCompressedBase64(this.admittedDelay),
        sockets: this.fans.filter((fan) => fan.admittedPushes > 0).length,
        owedNotAdmitted,
        notOwedButAdmitted,
        maxServingSeen,
      },
      eventLoop: { delayP99Ms: this.loopDelay.percentile(99) / 1e6, delayMaxMs: this.loopDelay.max / 1e6, utilization: elu.utilization },
    };
  }

  close(): void {
    for (const fan of this.fans) fan.socket.disconnect();
  }
}

async function main(): Promise<void> {
  if (process.send === undefined) throw new Error('queue-sockets runs as a child of bench/queue.ts (needs an IPC channel)');
  const params = JSON.parse(process.argv[2] ?? '{}') as SocketFansParams;
  const fans = new SocketFans(params);
  const fail = (error: unknown): void => {
    send({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  };
  process.on('message', (message: ParentToSocketFans) => {
    switch (message.type) {
      case 'connect':
        fans.connectAll(message.url).then((report) => send({ type: 'connected', report }), fail);
        break;
      case 'measure-start':
        fans.measureStarted();
        break;
      case 'finish':
        try {
          send({ type: 'result', result: fans.finish(message.windows, message.knownIds) });
        } catch (error) {
          fail(error);
        }
        break;
      case 'close':
        fans.close();
        process.disconnect?.();
        setTimeout(() => process.exit(0), 200).unref();
        break;
    }
  });
  process.on('disconnect', () => {
    fans.close();
    setTimeout(() => process.exit(0), 200).unref();
  });
  send({ type: 'booted' });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
