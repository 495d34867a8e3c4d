/**
 * A lean socket.io client for load generators: Engine.IO v4 framing over a bare `ws` WebSocket
 * and the very packet parsers the server uses (our msgpack parser, or socket.io-parser for the
 * default JSON one, binary attachments included). It speaks the same wire protocol as
 * socket.io-client, without its manager, reconnection and emitter layers, so one process can
 * watch with thousands of sockets while it shares the machine's cores with the server it measures.
 * What it leaves out: long-polling, reconnection, namespaces other than "/".
 */
import WebSocket from 'ws';
import * as jsonParser from 'socket.io-parser';
import * as msgpackParser from '../../src/protocol/msgpack-parser.js';

export type LeanParser = 'msgpack' | 'json';

// socket.io-parser keeps BINARY_EVENT / BINARY_ACK as the type of a packet with attachments.
const packetType = { CONNECT: 0, DISCONNECT: 1, EVENT: 2, ACK: 3, CONNECT_ERROR: 4, BINARY_EVENT: 5, BINARY_ACK: 6 } as const;

interface Packet {
  type: number;
  nsp: string;
  data?: unknown;
  id?: number;
}

interface PacketDecoder {
  add(chunk: unknown): void;
  on(event: 'decoded', listener: (packet: Packet) => void): unknown;
}

export interface LeanSocketOptions {
  /** The server's base URL (http://host:port); the socket.io path is /socket.io/. */
  url: string;
  parser: LeanParser;
  /** Sent in the CONNECT packet, as socket.io-client's `auth` option. */
  auth?: Record<string, unknown>;
  /** Every server event but acks. */
  onEvent(name: string, args: unknown[]): void;
  onClose(reason: string): void;
  connectTimeoutMs: number;
}

export class LeanSocket {
  private readonly encoder: { encode(packet: Packet): (string | Uint8Array)[] };
  private readonly decoder: PacketDecoder;
  private readonly acks = new Map<number, (args: unknown[]) => void>();
  private nextAckId = 0;
  private closed = false;

  private constructor(
    private readonly ws: WebSocket,
    private readonly options: LeanSocketOptions,
  ) {
    if (options.parser === 'msgpack') {
      this.encoder = new msgpackParser.Encoder();
      this.decoder = new msgpackParser.Decoder() as unknown as PacketDecoder;
    } else {
      this.encoder = new jsonParser.Encoder() as unknown as { encode(packet: Packet): (string | Uint8Array)[] };
      this.decoder = new jsonParser.Decoder() as unknown as PacketDecoder;
    }
  }

  /** Opens the WebSocket, completes the Engine.IO and socket.io handshakes; resolves once connected to "/". */
  static connect(options: LeanSocketOptions): Promise<LeanSocket> {
    const url = `${options.url.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`;
    const ws = new WebSocket(url, { perMessageDeflate: false });
    const socket = new LeanSocket(ws, options);
    return new Promise<LeanSocket>((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error('lean socket: connect timeout')), options.connectTimeoutMs);
      let settled = false;
      const fail = (error: Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket.close();
        reject(error);
      };
      socket.decoder.on('decoded', (packet) => {
        if (!settled) {
          if (packet.type === packetType.CONNECT) {
            settled = true;
            clearTimeout(timer);
            resolve(socket);
          } else if (packet.type === packetType.CONNECT_ERROR) fail(new Error(`lean socket: connect refused ${JSON.stringify(packet.data)}`));
          return;
        }
        socket.onPacket(packet);
      });
      ws.on('message', (data: Buffer, isBinary: boolean) => {
        try {
          if (isBinary) socket.decoder.add(data);
          else socket.onEngineText(data.toString());
        } catch (error) {
          fail(error as Error);
          socket.close();
        }
      });
      ws.on('error', (error) => fail(error));
      ws.on('close', () => {
        fail(new Error('lean socket: closed during handshake'));
        socket.onClosed('transport close');
      });
    });
  }

  /** Emits an event with an acknowledgement, as socket.io-client's emitWithAck. */
  emitWithAck(event: string, payload: unknown, timeoutMs: number): Promise<unknown> {
    const id = this.nextAckId++;
    return new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.acks.delete(id);
        reject(new Error(`lean socket: no ack for ${event} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.acks.set(id, (args) => {
        clearTimeout(timer);
        resolve(args[0]);
      });
      this.send({ type: packetType.EVENT, nsp: '/', data: [event, payload], id });
    });
  }

  close(): void {
    if (this.closed) return;
    this.ws.close();
    this.onClosed('client close');
  }

  private onEngineText(frame: string): void {
    switch (frame[0]) {
      case '0': // open: then connect to the "/" namespace
        this.send({ type: packetType.CONNECT, nsp: '/', ...(this.options.auth ? { data: this.options.auth } : {}) });
        return;
      case '2': // ping: answer pong, or the server drops us after pingTimeout
        this.ws.send('3');
        return;
      case '4':
        this.decoder.add(frame.slice(1));
        return;
      case '1':
        this.ws.close();
        return;
      default:
        return; // pong, noop, upgrade: nothing to do on a websocket-only connection
    }
  }

  private onPacket(packet: Packet): void {
    if ((packet.type === packetType.EVENT || packet.type === packetType.BINARY_EVENT) && Array.isArray(packet.data)) {
      const [name, ...args] = packet.data as [string, ...unknown[]];
      this.options.onEvent(name, args);
    } else if ((packet.type === packetType.ACK || packet.type === packetType.BINARY_ACK) && packet.id !== undefined) {
      const ack = this.acks.get(packet.id);
      this.acks.delete(packet.id);
      ack?.(Array.isArray(packet.data) ? packet.data : []);
    } else if (packet.type === packetType.DISCONNECT) {
      this.close();
    }
  }

  private send(packet: Packet): void {
    for (const encoded of this.encoder.encode(packet)) {
      if (typeof encoded === 'string') this.ws.send(`4${encoded}`);
      else this.ws.send(encoded, { binary: true });
    }
  }

  private onClosed(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.options.onClose(reason);
  }
}
