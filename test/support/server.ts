import { io, type Socket } from 'socket.io-client';
import { loadConfig, type Config } from '../../src/config.js';
import * as msgpackParser from '../../src/protocol/msgpack-parser.js';
import type { ClientToServerEvents, ServerToClientEvents } from '../../src/protocol/socket-events.js';
import { startServer, type HoldfastServer, type ServerOverrides } from '../../src/server.js';
import { silentLogger } from '../../src/shared/logger.js';
import type { DatabaseKind } from './databases.js';

export type TestSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

export interface TestServer {
  server: HoldfastServer;
  url: string;
  adminToken: string;
  request(method: string, path: string, options?: { token?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> }): Promise<{ status: number; headers: Headers; body: unknown; text: string }>;
  session(userId: string): Promise<string>;
  /** WebSocket only unless `transports` says otherwise (['polling'] keeps a long-polling connection). */
  socket(token?: string, options?: { transports?: ('websocket' | 'polling')[] }): Promise<TestSocket>;
  close(): Promise<void>;
}

/** REST calls, sessions and sockets (WebSocket, msgpack) against a running server at `url`. */
export function serverClients(url: string): Pick<TestServer, 'request' | 'session' | 'socket'> & { close(): void } {
  const sockets: TestSocket[] = [];
  const request: TestServer['request'] = async (method, path, options = {}) => {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers['authorization'] = `Bearer ${options.token}`;
    let body: string | undefined = options.rawBody;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    const response = await fetch(`${url}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { status: response.status, headers: response.headers, body: parsed, text };
  };
  return {
    request,
    async session(userId) {
      const response = await request('POST', '/v1/sessions', { body: { user_id: userId } });
      return (response.body as { token: string }).token;
    },
    async socket(token, options = {}) {
      const socket: TestSocket = io(url, { transports: options.transports ?? ['websocket'], parser: msgpackParser, auth: token ? { token } : {}, reconnection: false, forceNew: true });
      sockets.push(socket);
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', () => resolve());
        socket.once('connect_error', (error) => reject(error));
      });
      return socket;
    },
    close() {
      for (const socket of sockets) socket.disconnect();
    },
  };
}

/** Starts the real server on a free port over a fresh database of `kind`. */
export async function startTestServer(kind: DatabaseKind, env: Record<string, string> = {}, overrides: ServerOverrides = {}): Promise<TestServer> {
  const db = await kind.open();
  const config: Config = { ...loadConfig({ NODE_ENV: 'test', ...env }), port: 0, host: '127.0.0.1', seedDemo: false };
  const server = await startServer(config, { db, logger: silentLogger, ...overrides });
  const clients = serverClients(server.url);
  return {
    server,
    url: server.url,
    adminToken: config.adminToken,
    request: clients.request,
    session: clients.session,
    socket: clients.socket,
    async close() {
      clients.close();
      await server.close();
      await db.close();
    },
  };
}
