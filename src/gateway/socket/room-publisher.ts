import type { Server, Socket } from 'socket.io';
import type { TemplatedApp } from 'uWebSockets.js';

/** socket.io's EVENT packet type (the same number in socket.io-parser and our msgpack parser). */
const eventPacketType = 2;
/** How socket.io names a room's uWebSockets.js topic: namespace, unit separator, room. */
const topicSeparator = '\u001f';

/**
 * Broadcasts one event to a room of this process's sockets the way socket.io's uWebSockets.js
 * fast path does — encode once, one `app.publish` to the room's topic, which uWS writes to every
 * subscribed WebSocket natively — but without that path's walk over every socket of the room,
 * which it makes on each broadcast only to find the long-polling ones (with 5,000 watchers, a
 * tenth of the server's CPU). Long-polling sockets, rare, are tracked here instead.
 */
export class RoomPublisher {
  private readonly polling = new Map<string, Set<Socket>>();
  /** Long-polling sockets whose upgrade and disconnect are already hooked (once per socket, not per join). */
  private readonly hooked = new WeakSet<Socket>();

  constructor(
    private readonly app: TemplatedApp,
    private readonly io: Server,
  ) {}

  /** Call once the socket has joined `room`: a long-polling socket is remembered until it upgrades or leaves. */
  joined(room: string, socket: Socket): void {
    if (socket.conn.transport.name === 'websocket') return;
    let sockets = this.polling.get(room);
    if (sockets === undefined) {
      sockets = new Set();
      this.polling.set(room, sockets);
    }
    sockets.add(socket);
    if (this.hooked.has(socket)) return;
    this.hooked.add(socket);
    // After the upgrade socket.io subscribes the WebSocket to every room's topic itself.
    const forget = (): void => {
      for (const [name] of this.polling) this.left(name, socket);
    };
    socket.conn.once('upgrade', forget);
    socket.once('disconnect', forget);
  }

  left(room: string, socket: Socket): void {
    const sockets = this.polling.get(room);
    if (sockets === undefined) return;
    sockets.delete(socket);
    if (sockets.size === 0) this.polling.delete(room);
  }

  publish(room: string, event: string, payload: unknown): void {
    const packets = this.io.encoder.encode({ type: eventPacketType, nsp: '/', data: [event, payload] }) as (string | Uint8Array)[];
    const topic = `/${topicSeparator}${room}`;
    for (const packet of packets) {
      // "4" is Engine.IO's message type; binary frames carry none.
      if (typeof packet === 'string') this.app.publish(topic, `4${packet}`, false);
      else this.app.publish(topic, packet, true);
    }
    for (const socket of this.polling.get(room) ?? []) {
      if (socket.conn.transport.name !== 'websocket') (socket.emit as (event: string, payload: unknown) => boolean)(event, payload);
    }
  }
}
