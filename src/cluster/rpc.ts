import type { DirectMessage } from './cluster-bus.js';

/** What RPC needs of a bus: send to one peer, receive what peers send. */
export interface DirectChannel {
  readonly workerId: string;
  send(to: string, body: unknown): void;
  onDirect(handler: (message: DirectMessage) => void): void;
}

type RpcBody =
  | { rpc: 'call'; id: number; method: string; args: unknown[] }
  | { rpc: 'reply'; id: number; ok: true; value: unknown }
  | { rpc: 'reply'; id: number; ok: false; error: { name: string; message: string; code?: string } };

/** A peer did not answer in time (paused, dead, or overloaded); the caller decides whether to retry. */
export class RpcTimeoutError extends Error {
  override readonly name = 'RpcTimeoutError';
  constructor(to: string, method: string, timeoutMs: number) {
    super(`${to} did not answer ${method} within ${timeoutMs} ms`);
  }
}

/** The remote handler threw; its name, message and code travel back. */
export class RemoteError extends Error {
  constructor(
    override readonly name: string,
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

type Handler = (args: unknown[], from: string) => Promise<unknown>;

/** Request/reply over a cluster bus, with per-call timeouts. */
export class Rpc {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void; timer: NodeJS.Timeout }>();
  private readonly handlers = new Map<string, Handler>();

  constructor(private readonly channel: DirectChannel) {
    channel.onDirect((message) => this.onMessage(message));
  }

  handle(method: string, handler: Handler): void {
    this.handlers.set(method, handler);
  }

  call(to: string, method: string, args: unknown[], timeoutMs: number): Promise<unknown> {
    const id = this.nextId++;
    return new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new RpcTimeoutError(to, method, timeoutMs));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.channel.send(to, { rpc: 'call', id, method, args } satisfies RpcBody);
    });
  }

  /** Fails every call in flight (shutdown). */
  close(): void {
    for (const [id, call] of this.pending) {
      clearTimeout(call.timer);
      call.reject(new Error('rpc closed'));
      this.pending.delete(id);
    }
  }

  private onMessage(message: DirectMessage): void {
    const body = message.body as RpcBody;
    if (typeof body !== 'object' || body === null || !('rpc' in body)) return;
    if (body.rpc === 'reply') {
      const call = this.pending.get(body.id);
      if (call === undefined) return; // timed out already
      this.pending.delete(body.id);
      clearTimeout(call.timer);
      if (body.ok) call.resolve(body.value);
      else call.reject(new RemoteError(body.error.name, body.error.message, body.error.code));
      return;
    }
    const handler = this.handlers.get(body.method);
    const reply = (result: RpcBody): void => this.channel.send(message.from, result);
    if (handler === undefined) {
      reply({ rpc: 'reply', id: body.id, ok: false, error: { name: 'Error', message: `no handler for ${body.method}` } });
      return;
    }
    handler(body.args, message.from).then(
      (value) => reply({ rpc: 'reply', id: body.id, ok: true, value }),
      (error: unknown) => {
        const failure = error instanceof Error ? error : new Error(String(error));
        const code = (failure as { code?: unknown }).code;
        reply({ rpc: 'reply', id: body.id, ok: false, error: { name: failure.name, message: failure.message, ...(typeof code === 'string' ? { code } : {}) } });
      },
    );
  }
}
