/**
 * A loopback TCP proxy for fault injection (node:net): every chunk in either direction is held
 * back a random latency (order kept), and connections are cut at random moments — both ends
 * destroyed, as a dropped network path looks to PostgreSQL and to its client.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface TcpProxyOptions {
  upstreamPort: number;
  upstreamHost?: string;
  /** Each chunk is delayed by a uniform random time in [min, max] ms. */
  latencyMs?: [min: number, max: number];
  /**
   * Mean time between two cuts of a random live connection; 0: never. Each gap is uniform in
   * [½, 1½] × the mean, not exponential: a fault window a few means long then surely sees cuts (an
   * exponential gap left a 10 s window with none about once in 150 runs, and the test failed).
   */
  meanDropIntervalMs?: number;
  /** Start with the faults on (default) or off (`setFaulty(true)` later). */
  faulty?: boolean;
  random?: () => number;
}

export interface TcpProxy {
  port: number;
  readonly figures: { connections: number; dropped: number; chunks: number };
  /** Turns the faults on or off (latency and drops), e.g. once the load is over. */
  setFaulty(faulty: boolean): void;
  close(): Promise<void>;
}

export async function startTcpProxy(options: TcpProxyOptions): Promise<TcpProxy> {
  const random = options.random ?? Math.random;
  const [minMs, maxMs] = options.latencyMs ?? [0, 0];
  const live = new Set<{ client: Socket; upstream: Socket }>();
  const figures = { connections: 0, dropped: 0, chunks: 0 };
  let faulty = options.faulty ?? true;

  /**
   * Forwards `from` → `to` in order, each chunk after its own delay and never before the one ahead of
   * it: one queue and one timer per direction. (A timer per chunk let two chunks due in the same
   * millisecond fire in either order — Node orders timers of different durations by expiry only — and
   * TCP never reorders bytes.)
   */
  const forward = (from: Socket, to: Socket): void => {
    const queue: { dueMs: number; chunk: Buffer }[] = [];
    let timer: NodeJS.Timeout | null = null;
    let ended = false;
    const drain = (): void => {
      timer = null;
      const nowMs = Date.now();
      while (queue.length > 0 && queue[0]!.dueMs <= nowMs) {
        const { chunk } = queue.shift()!;
        if (!to.destroyed) to.write(chunk);
      }
      if (queue.length > 0) timer = setTimeout(drain, queue[0]!.dueMs - nowMs);
      else if (ended && !to.destroyed) to.end();
    };
    from.on('data', (chunk: Buffer) => {
      figures.chunks += 1;
      const delayMs = faulty ? minMs + random() * (maxMs - minMs) : 0;
      const lastDueMs = queue.length > 0 ? queue[queue.length - 1]!.dueMs : 0;
      queue.push({ dueMs: Math.max(lastDueMs, Date.now() + delayMs), chunk });
      if (timer === null) drain();
    });
    from.on('end', () => {
      ended = true;
      if (timer === null) drain();
    });
  };

  const server: Server = createServer((client) => {
    figures.connections += 1;
    const upstream = connect(options.upstreamPort, options.upstreamHost ?? '127.0.0.1');
    const pair = { client, upstream };
    live.add(pair);
    const close = (): void => {
      live.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
    forward(client, upstream);
    forward(upstream, client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;

  let dropTimer: NodeJS.Timeout | null = null;
  const scheduleDrop = (): void => {
    const mean = options.meanDropIntervalMs ?? 0;
    if (mean <= 0) return;
    dropTimer = setTimeout(() => {
      const pairs = [...live];
      if (faulty && pairs.length > 0) {
        const victim = pairs[Math.floor(random() * pairs.length)]!;
        figures.dropped += 1;
        victim.client.destroy();
        victim.upstream.destroy();
      }
      scheduleDrop();
    }, mean * (0.5 + random()));
  };
  scheduleDrop();

  return {
    port,
    figures,
    setFaulty(value) {
      // Faults switched on start their cut schedule afresh: the first cut within 1½ means.
      if (value && !faulty && dropTimer !== null) {
        clearTimeout(dropTimer);
        scheduleDrop();
      }
      faulty = value;
    },
    async close() {
      if (dropTimer !== null) clearTimeout(dropTimer);
      for (const pair of live) {
        pair.client.destroy();
        pair.upstream.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
