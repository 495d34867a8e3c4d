/**
 * HTTP joiner of the queue bench (forked by bench/queue.ts, one or more processes):
 *   node --import tsx bench/queue-joiner.ts '<json params>'
 * Each fan is a distinct user id whose session token this process mints itself with the
 * server's TOKEN_SECRET (kind 'ses', claims { sub, exp }, exactly what POST /v1/sessions would
 * return), then `POST /v1/shows/{id}/queue` over HTTP/1.1 keep-alive, `connections` sockets with
 * one request in flight each (no pipelining). Two clients: `raw` (default), a minimal HTTP/1.1
 * keep-alive client on net.Socket (one pre-built request string, replies framed by
 * Content-Length), so the load generator takes as little of the 2 cores as it can; and
 * `node-http`, node:http with a keep-alive Agent of `connections` sockets, for comparison.
 * Checks every reply (201, a qtk ticket,
 * phase queued/admitted, a ticket number in range, no number given twice in this process),
 * records latency in an HDR histogram and reports progress every second over IPC.
 */
import http from 'node:http';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { build, encodeIntoCompressedBase64 } from 'hdr-histogram-js';
import { TokenSigner } from '../src/shared/signed-tokens.js';

export interface JoinerParams {
  index: number;
  showId: string;
  tokenSecret: string;
  /** User ids are `<userPrefix><fan index>`; this process joins fans [from, to). */
  userPrefix: string;
  from: number;
  to: number;
  /** Ticket numbers expected in [0, numberBound). */
  numberBound: number;
  connections: number;
  client: 'raw' | 'node-http';
}

export interface JoinerProgress {
  type: 'progress';
  index: number;
  atMs: number;
  joined: number;
  failed: number;
  inFlight: number;
}

export interface JoinerResult {
  index: number;
  attempted: number;
  joined: number;
  /** Failures by problem code, `http_<status>` without one, or the socket error code. */
  errors: Record<string, number>;
  firstError: string | null;
  phases: Record<string, number>;
  /** Replies whose checks failed (not a qtk ticket, number out of range or given twice here). */
  badReplies: number;
  duplicateNumbers: number;
  /** Bitmap of ticket numbers received (bit n = number n), base64, so the parent can check uniqueness across processes. */
  numbers: string;
  latency: string;
  startedAtMs: number;
  finishedAtMs: number;
  /** TCP connections the raw client opened (= connections unless the server closed some); null for node-http. */
  connectionsOpened: number | null;
  cpu: NodeJS.CpuUsage;
  eventLoopUtilization: number;
}

export type JoinerToParent = { type: 'booted' } | JoinerProgress | { type: 'done'; result: JoinerResult } | { type: 'error'; message: string };
export type ParentToJoiner = { type: 'start'; url: string } | { type: 'stop' } | { type: 'close' };

const send = (message: JoinerToParent): void => {
  process.send?.(message);
};

interface Reply {
  status: number;
  body: string;
}

class HttpError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const headerEnd = Buffer.from('\r\n\r\n');

/**
 * One HTTP/1.1 keep-alive connection, one request at a time. Replies must carry Content-Length
 * (uWS's res.end always does); `connection: close` or a dropped socket reconnects on the next request.
 */
class KeepAliveConnection {
  private socket: net.Socket | null = null;
  private buffered: Buffer = Buffer.alloc(0);
  private pending: { resolve: (reply: Reply) => void; reject: (error: Error) => void } | null = null;
  private closeAfter = false;
  connects = 0;

  constructor(
    private readonly host: string,
    private readonly port: number,
  ) {}

  private open(): net.Socket {
    const socket = net.connect({ host: this.host, port: this.port, noDelay: true });
    this.connects += 1;
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    const drop = (error: Error): void => {
      if (this.socket === socket) this.socket = null;
      const pending = this.pending;
      this.pending = null;
      pending?.reject(error);
    };
    socket.on('error', (error: NodeJS.ErrnoException) => drop(new HttpError(error.code ?? 'socket_error', error.message)));
    socket.on('close', () => drop(new HttpError('ECONNRESET', 'connection closed before the reply')));
    return socket;
  }

  request(raw: string): Promise<Reply> {
    if (this.pending !== null) return Promise.reject(new Error('one request at a time'));
    this.socket ??= this.open();
    this.buffered = Buffer.alloc(0);
    return new Promise<Reply>((resolve, reject) => {
      this.pending = { resolve, reject };
      this.socket!.write(raw);
    });
  }

  private onData(chunk: Buffer): void {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const end = this.buffered.indexOf(headerEnd);
    if (end < 0 || this.pending === null) return;
    const head = this.buffered.toString('latin1', 0, end);
    const lengthMatch = /\r\ncontent-length: *(\d+)/i.exec(head);
    const status = Number(head.slice(9, 12));
    if (lengthMatch === null) {
      const pending = this.pending;
      this.pending = null;
      this.socket?.destroy();
      this.socket = null;
      pending.reject(new HttpError('no_content_length', head.slice(0, 200)));
      return;
    }
    const length = Number(lengthMatch[1]);
    if (this.buffered.length < end + 4 + length) return;
    const body = this.buffered.toString('utf8', end + 4, end + 4 + length);
    this.closeAfter = /\r\nconnection: *close/i.test(head);
    this.buffered = Buffer.alloc(0);
    const pending = this.pending;
    this.pending = null;
    if (this.closeAfter) {
      this.socket?.end();
      this.socket = null;
    }
    pending.resolve({ status, body });
  }

  close(): void {
    this.socket?.destroy();
    this.socket = null;
  }
}

async function main(): Promise<void> {
  if (process.send === undefined) throw new Error('queue-joiner runs as a child of bench/queue.ts (needs an IPC channel)');
  const params = JSON.parse(process.argv[2] ?? '{}') as JoinerParams;
  const signer = new TokenSigner(params.tokenSecret);
  const agent = new http.Agent({ keepAlive: true, maxSockets: params.connections, maxFreeSockets: params.connections, scheduling: 'fifo' });
  const latency = build({ numberOfSignificantValueDigits: 3 });
  const numbers = Buffer.alloc(Math.ceil(params.numberBound / 8));
  const errors: Record<string, number> = {};
  const phases: Record<string, number> = {};
  let firstError: string | null = null;
  let next = params.from;
  let joined = 0;
  let failed = 0;
  let inFlight = 0;
  let badReplies = 0;
  let duplicateNumbers = 0;
  let stopping = false;
  const sessionExpMs = Date.now() + 6 * 3600_000;
  const path = `/v1/shows/${encodeURIComponent(params.showId)}/queue`;
  const body = '{}';

  const fail = (code: string, detail: string): void => {
    failed += 1;
    errors[code] = (errors[code] ?? 0) + 1;
    firstError ??= `${code}: ${detail.slice(0, 300)}`;
  };

  const connectionsOpened: KeepAliveConnection[] = [];
  const postNodeHttp = (host: string, port: number, token: string): Promise<Reply> =>
    new Promise((resolve, reject) => {
      const request = http.request(
        { agent, host, port, method: 'POST', path, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': String(body.length) } },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
          response.on('error', reject);
        },
      );
      request.on('error', reject);
      request.end(body);
    });

  const check = (reply: Reply): void => {
    let parsed: { code?: unknown; ticket?: unknown; phase?: unknown; number?: unknown };
    try {
      parsed = JSON.parse(reply.body) as typeof parsed;
    } catch {
      fail(`http_${reply.status}`, reply.body);
      return;
    }
    if (reply.status !== 201) {
      fail(typeof parsed.code === 'string' ? parsed.code : `http_${reply.status}`, reply.body);
      return;
    }
    joined += 1;
    const phase = String(parsed.phase);
    phases[phase] = (phases[phase] ?? 0) + 1;
    const number = parsed.number;
    if (typeof parsed.ticket !== 'string' || !parsed.ticket.startsWith('qtk.') || typeof number !== 'number' || !Number.isInteger(number) || number < 0 || number >= params.numberBound) {
      badReplies += 1;
      firstError ??= `bad reply: ${reply.body.slice(0, 300)}`;
      return;
    }
    const byte = number >> 3;
    const bit = 1 << (number & 7);
    if ((numbers[byte]! & bit) !== 0) duplicateNumbers += 1;
    else numbers[byte] = numbers[byte]! | bit;
  };

  const runAll = async (url: string): Promise<JoinerResult> => {
    const { hostname, port } = new URL(url);
    const startedAtMs = Date.now();
    const cpuBefore = process.cpuUsage();
    const eluBefore = performance.eventLoopUtilization();
    const host = hostname;
    const portNumber = Number(port);
    const requestHead = `POST ${path} HTTP/1.1\r\nhost: ${host}:${portNumber}\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nauthorization: Bearer `;
    const reporter = setInterval(() => send({ type: 'progress', index: params.index, atMs: Date.now(), joined, failed, inFlight }), 1_000);
    const worker = async (): Promise<void> => {
      const connection = new KeepAliveConnection(host, portNumber);
      connectionsOpened.push(connection);
      const post = params.client === 'raw' ? (token: string) => connection.request(`${requestHead}${token}\r\n\r\n${body}`) : (token: string) => postNodeHttp(host, portNumber, token);
      while (!stopping && next < params.to) {
        const fan = next;
        next += 1;
        const token = signer.sign('ses', { sub: `${params.userPrefix}${fan}`, exp: sessionExpMs });
        inFlight += 1;
        const t0 = performance.now();
        try {
          const reply = await post(token);
          latency.recordValue(Math.max(1, Math.round((performance.now() - t0) * 1000)));
          check(reply);
        } catch (error) {
          const code = (error as { code?: unknown }).code;
          fail(typeof code === 'string' ? code : error instanceof Error ? error.name : 'error', error instanceof Error ? error.message : String(error));
        } finally {
          inFlight -= 1;
        }
      }
    };
    await Promise.all(Array.from({ length: params.connections }, worker));
    clearInterval(reporter);
    send({ type: 'progress', index: params.index, atMs: Date.now(), joined, failed, inFlight });
    return {
      index: params.index,
      attempted: joined + failed,
      joined,
      errors,
      firstError,
      phases,
      badReplies,
      duplicateNumbers,
      numbers: numbers.toString('base64'),
      latency: encodeIntoCompressedBase64(latency),
      startedAtMs,
      finishedAtMs: Date.now(),
      connectionsOpened: params.client === 'raw' ? connectionsOpened.reduce((sum, connection) => sum + connection.connects, 0) : null,
      cpu: process.cpuUsage(cpuBefore),
      eventLoopUtilization: performance.eventLoopUtilization(eluBefore).utilization,
    };
  };

  const failHard = (error: unknown): void => {
    send({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  };
  process.on('message', (message: ParentToJoiner) => {
    if (message.type === 'start') runAll(message.url).then((result) => send({ type: 'done', result }), failHard);
    else if (message.type === 'stop') stopping = true;
    else if (message.type === 'close') {
      agent.destroy();
      for (const connection of connectionsOpened) connection.close();
      process.disconnect?.();
      setTimeout(() => process.exit(0), 100).unref();
    }
  });
  process.on('disconnect', () => {
    agent.destroy();
    for (const connection of connectionsOpened) connection.close();
    setTimeout(() => process.exit(0), 100).unref();
  });
  send({ type: 'booted' });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
