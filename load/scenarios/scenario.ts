/**
 * What a scenario is: a setup in the parent (the show, created through the organizer API) that
 * yields a plan, and a fan — the behaviour of one simulated fan — run by the workers, once per
 * fan, through the client SDK. A scenario may also have a driver (one per run, in worker 0) that
 * makes changes for watchers to see.
 */
import type { HoldfastClient } from '../../client-sdk/src/client.js';
import type { SeatMapStore } from '../../client-sdk/src/seat-map-store.js';
import type { Acknowledged } from '../audit.js';
import type { WorkerMetrics } from '../metrics.js';
import type { LoadOptions, ScenarioName } from '../options.js';
import type { Organizer } from './organizer.js';

export interface ScenarioPlan {
  scenario: ScenarioName;
  /** Random per run: fan user ids are `fan-<runId>-<index>`, so runs against one server never share a fan. */
  runId: string;
  showId: string;
  /** Every show the run writes to (the audit's scope). */
  showIds: string[];
  onSaleAtMs: number;
  waitingRoom: boolean;
  /** Seats plus pool units on sale: a sell-out is reaching it. */
  capacity: number;
  /** Whether the run ends when `capacity` is sold (not only at --duration). */
  endsAtSellOut: boolean;
  /** hot-seats: the groups of seats everyone wants (a group never strands a single seat). */
  hotGroups?: string[][];
  /** ga / hotel: pool ids with their capacity. */
  pools?: { poolId: string; capacity: number }[];
  /** hotel: room types and nights (YYYY-MM-DD) on sale; a pool id is `<type>@<night>`. */
  hotel?: { roomTypes: string[]; nights: string[] };
}

/** What each worker shares between its fans. */
export interface WorkerShared {
  /** Seat ids in seat-index order and each row as an index range [start, end), best rows first. */
  geometry: { seatIds: string[]; rows: [start: number, end: number][] } | null;
  /** A live seat map of the show (this worker's first watcher's), where fans pick specific seats. */
  map: SeatMapStore | null;
}

export interface FanContext {
  /** Global fan number (0-based): user `fan-<run>-<index>`. */
  index: number;
  client: HoldfastClient;
  plan: ScenarioPlan;
  options: LoadOptions;
  metrics: WorkerMetrics;
  ack: Acknowledged;
  random: () => number;
  /** Fires when the run stops: fans leave their loops (calls already sent are let finish). */
  signal: AbortSignal;
  /** Wall-clock ms when the load phase ends at the latest. */
  deadlineMs: number;
  shared: WorkerShared;
  /** This fan also watches the live seat map (its diffs are timed). */
  watcher: boolean;
}

export interface DriverContext extends Omit<FanContext, 'client' | 'index' | 'watcher'> {
  /** A signed-in SDK client for driver user `n`. */
  client(n: number): Promise<HoldfastClient>;
}

export interface Scenario {
  name: ScenarioName;
  summary: string;
  setup(organizer: Organizer, options: LoadOptions): Promise<ScenarioPlan>;
  fan(context: FanContext): Promise<void>;
  driver?(context: DriverContext): Promise<void>;
}
