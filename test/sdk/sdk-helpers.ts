import { connect, createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket as NetSocket } from 'node:net';
import { CatalogService } from '../../src/catalog/catalog-service.js';
import type { SqlDatabase } from '../../src/persistence/database.js';
import type { CreateShowInput } from '../../src/protocol/catalog-schemas.js';
import type { Clock } from '../../src/shared/clock.js';
import { HoldfastClient, type FetchLike, type HoldfastClientOptions, type SeatMapStore } from '../../client-sdk/src/index.js';

/** Shared by the SDK's black-box tests: catalog fixtures, client factories, fetch fault injection. */

export const dayMs = 86_400_000;

/** A venue of two rows of ten seats (A:1:1 … A:2:10, tier std) and a GA pit of 20, one event, and `shows` shows on sale. */
export async function createCatalog(catalog: CatalogService, options: { eventName: string; performer: string; city: string; shows: Record<string, Partial<CreateShowInput>> }): Promise<{ eventId: string; venueId: string; showIds: Record<string, string> }> {
  const venue = await catalog.createVenue({
    name: `${options.eventName} Arena`, city: options.city, kind: 'arena',
    seat_map: {
      sections: [{ id: 'A', name: 'Section A', rows: ['1', '2'].map((row, y) => ({ label: row, seats: Array.from({ length: 10 }, (_, seat) => ({ label: String(seat + 1), x: seat * 10, y: y * 10, tier: 'std' })) })) }],
      ga_areas: [{ id: 'pit', name: 'Pit', capacity: 20, tier: 'std' }],
    },
  });
  const event = await catalog.createEvent({ name: options.eventName, performer: options.performer, category: 'concert', venue_id: venue.id });
  const showIds: Record<string, string> = {};
  let index = 0;
  for (const [name, overrides] of Object.entries(options.shows)) {
    index += 1;
    const show = await catalog.createShow(event.id, {
      starts_at: new Date(Date.now() + (30 + index) * dayMs).toISOString(),
      on_sale_at: new Date(Date.now() - dayMs).toISOString(),
      max_holds_per_user: 20,
      max_items_per_hold: 20,
      price_tiers: [{ id: 'std', name: 'Standard', price_cents: 2_500 }],
      ...overrides,
    });
    showIds[name] = show.id;
  }
  return { eventId: event.id, venueId: venue.id, showIds };
}

export function catalogOf(db: SqlDatabase, clock?: Clock): CatalogService {
  return new CatalogService(db, clock ? { clock } : {});
}

/** Clients made by a test, closed together. */
export class Clients {
  private readonly made: HoldfastClient[] = [];

  constructor(private readonly baseUrl: () => string) {}

  make(options: Partial<HoldfastClientOptions> = {}): HoldfastClient {
    const client = new HoldfastClient({ baseUrl: this.baseUrl(), retry: { baseDelayMs: 20, maxDelayMs: 200 }, live: { reconnectDelayMs: 100, reconnectDelayMaxMs: 500 }, ...options });
    this.made.push(client);
    return client;
  }

  async signedIn(userId: string, options: Partial<HoldfastClientOptions> = {}): Promise<HoldfastClient> {
    const client = this.make(options);
    await client.signIn(userId);
    return client;
  }

  closeAll(): void {
    for (const client of this.made.splice(0)) client.close();
  }
}

/** A fetch that lets the server process the request, then loses the response when `drop` says so. */
export function droppingFetch(drop: (url: string, init: Parameters<FetchLike>[1], attempt: number) => boolean): { fetch: FetchLike; sent: { url: string; method: string; key: string | undefined }[] } {
  const sent: { url: string; method: string; key: string | undefined }[] = [];
  const fetchImpl: FetchLike = async (url, init) => {
    sent.push({ url, method: init.method, key: init.headers['idempotency-key'] });
    const response = await fetch(url, init);
    if (drop(url, init, sent.length)) {
      await response.text(); // the server answered; the answer is lost on the way back
      throw new TypeError('fetch failed (test: response dropped after the server processed the request)');
    }
    return response;
  };
  return { fetch: fetchImpl, sent };
}

/** Resolves when `predicate` holds, polling. */
export async function eventually(predicate: () => boolean | Promise<boolean>, timeoutMs = 5_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The store's state next to a fresh server snapshot, for toEqual. */
export async function storeVsServer(client: HoldfastClient, store: SeatMapStore): Promise<{ store: { version: number; seats: number[]; pools: number[] }; server: { version: number; seats: number[]; pools: number[] } }> {
  const fresh = await client.getAvailability(store.showId);
  return {
    store: { version: store.version, seats: Array.from(store.seatStatus), pools: [...store.poolAvailable] },
    server: { version: fresh.version, seats: Array.from(fresh.seatStatus), pools: fresh.pool_available },
  };
}

/** Held seats and pool units taken, from a fresh snapshot. */
export async function heldCount(client: HoldfastClient, showId: string): Promise<{ heldSeats: number; poolTaken: number }> {
  const fresh = await client.getAvailability(showId);
  return { heldSeats: Array.from(fresh.seatStatus).filter((status) => status === 1).length, poolTaken: 20 - (fresh.pool_available[0] ?? 20) };
}

/**
 * A TCP front door with a stable port (a load balancer, in effect): forwards to the current
 * backend, refuses connections while there is none, and cuts every open connection when the
 * backend goes away — a server restart as clients see it, without waiting for the old port.
 */
export class TcpProxy {
  private server: NetServer | null = null;
  private target: number | null = null;
  private readonly open = new Set<NetSocket>();

  async start(): Promise<string> {
    const server = createNetServer((client) => {
      if (this.target === null) return void client.destroy();
      const backend = connect(this.target, '127.0.0.1');
      for (const socket of [client, backend]) {
        this.open.add(socket);
        socket.on('close', () => this.open.delete(socket));
        socket.on('error', () => undefined);
      }
      client.pipe(backend);
      backend.pipe(client);
      client.on('close', () => backend.destroy());
      backend.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.server = server;
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  /** Points at a backend port, or at none (connections are refused and the open ones cut). */
  route(port: number | null): void {
    this.target = port;
    if (port === null) for (const socket of [...this.open]) socket.destroy();
  }

  async close(): Promise<void> {
    this.route(null);
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
