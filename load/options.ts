/**
 * The options of a load run: flags (`npm run load -- --scenario onsale --fans 20000 …`, parsed with
 * node:util parseArgs), each with an environment setting (LOAD_*) and a default fit for this
 * 2-core machine. The README's configuration table lists the environment settings.
 */
import { parseArgs } from 'node:util';
import type { Engine } from './server/server-entry.js';

export const scenarioNames = ['onsale', 'hot-seats', 'browse', 'ga', 'hotel'] as const;
export type ScenarioName = (typeof scenarioNames)[number];

export interface LoadOptions {
  scenario: ScenarioName;
  /** Simulated fans (one SDK client and socket each). */
  fans: number;
  /** Seats of the show (GA places for `ga`, rooms per night for `hotel`). */
  seats: number;
  /** Hard bound of the load phase of one engine, in seconds. */
  durationS: number;
  /** Client processes driving the fans. */
  workers: number;
  /** Target an already-running server instead of starting one. */
  url: string | null;
  /** PostgreSQL of the audit (and of the server the harness starts). */
  databaseUrl: string;
  /** With --url: the schema the server writes to (default: the connection's search_path). */
  schema: string | null;
  /** Admin bearer token of the organizer API (with --url: that server's ADMIN_TOKEN). */
  adminToken: string;
  /** Engines to run; `hot-seats` runs holdfast and baseline by default (`gateway`, the floor under both, on request). */
  engines: Engine[];
  /** With holdfast and baseline: rounds of the engines, alternating their order; the comparison takes the median round. */
  rounds: number;
  /** Fans connected per second per worker (the ramp). */
  connectRatePerS: number;
  /** Seconds from setup to on-sale (onsale: fans join the waiting room meanwhile); default from the ramp. */
  leadS: number | null;
  /** Waiting-room admissions per second (onsale); default fans / 10. */
  admitRatePerS: number | null;
  /** Fans that also watch the live seat map (diff delivery latency); browse: every fan. */
  watchers: number | null;
  /** Keep-alive HTTP connections per worker. */
  httpConnections: number;
  /** Shares of purchases: mash Pay (3 confirms in 200 ms, one key), abandon the hold, pay after the window. */
  mashShare: number;
  abandonShare: number;
  lateShare: number;
  /** Share of onsale holds asking for specific seats (picked from the live map) rather than best-available. */
  specificShare: number;
  /** Seats or units one purchase asks for: 1..maxPerPurchase. */
  maxPerPurchase: number;
  /**
   * onsale: each fan wants 1..N tickets (uniform), buys until it has them, then leaves the shop
   * (its socket stays open, as a phone on the confirmation page). null: fans buy until the run stops.
   */
  ticketsPerFan: number | null;
  /** onsale: the waiting room admits at a fixed rate, or adaptively while checkout has room (activeCap holds). */
  admissionMode: 'fixed' | 'adaptive';
  /** onsale, adaptive admission: the target number of active holds (null: the server's default). */
  activeCap: number | null;
  holdTtlS: number;
  paymentWindowS: number;
  /** browse: driver holds per second. */
  driverRatePerS: number;
  /** hot-seats: how many seats everyone wants. */
  hotSeats: number;
  /** Connections of the baseline engine's own pool. */
  baselinePoolSize: number;
  /** Mutating calls per fan per second allowed by the server the harness starts (REST, and socket events per connection). */
  userRatePerS: number;
  /** How fans send holds and releases: REST, or socket events on their live connection (the SDK's `via`). */
  holdsVia: 'http' | 'socket';
  /** Seconds to wait after the load for in-flight work and the outbox to drain before the audit. */
  settleS: number;
  seed: number;
  keepSchema: boolean;
  /** Progress line on stderr every second. */
  progress: boolean;
  /** Name of the results (`bench-results/load-<name>.json|html`); default the scenario. */
  resultName: string;
  serverLogLevel: string;
  /** Worker processes of the server the harness starts (> 1: `npm start`'s primary and workers, sharded). */
  serverWorkers: number;
}

const help = `npm run load -- --scenario <onsale|hot-seats|browse|ga|hotel> [flags]
  --fans N              simulated fans, one SDK client + socket each      (LOAD_FANS; default per scenario)
  --seats N             seats (ga: places; hotel: rooms per night)         (LOAD_SEATS; default per scenario)
  --duration S          bound of the load phase per engine, seconds        (LOAD_DURATION_S; default 60)
  --workers K           client processes                                   (LOAD_WORKERS; default 1)
  --url URL             target a running server (no server started)        (LOAD_URL)
  --server-workers K    workers of the server the harness starts (sharded) (LOAD_SERVER_WORKERS; default 1)
  --schema NAME         with --url: the schema that server uses, for the audit (LOAD_SCHEMA)
  --admin-token T       organizer token of the --url server                (ADMIN_TOKEN)
  --engine E            holdfast | baseline | both (hot-seats default both) (LOAD_ENGINE)
                        | gateway (hot-seats: every hold refused before any actor or database,
                        the floor under both) | all (holdfast, baseline and gateway)
  --rounds N            with holdfast and baseline: N rounds, alternating their order; median ratio (LOAD_ROUNDS; default 1)
  --connect-rate N      fans connected per second per worker               (LOAD_CONNECT_RATE; default 1000)
  --lead S              seconds before on-sale (onsale)                    (LOAD_LEAD_S)
  --admit-rate N        waiting-room admissions per second (onsale)        (LOAD_ADMIT_RATE; default fans/10)
  --watchers N          fans that also watch the live seat map             (LOAD_WATCHERS; default min(fans,200), browse: fans)
  --http-connections N  keep-alive connections per worker                  (LOAD_HTTP_CONNECTIONS; default 256)
  --mash-share F --abandon-share F --late-share F --specific-share F      (purchase mix; default 0.1 0.1 0.03 0.3)
  --max-per-purchase N  seats per purchase 1..N                            (default 4)
  --tickets-per-fan N   onsale: a fan wants 1..N tickets, then leaves      (LOAD_TICKETS_PER_FAN; default: buys until the run stops)
  --admission-mode M    onsale: fixed | adaptive waiting-room admission    (LOAD_ADMISSION_MODE; default fixed)
  --active-cap N        onsale, adaptive: target active holds              (LOAD_ACTIVE_CAP; default the server's, 1000)
  --hold-ttl S          show hold TTL, 60..900                             (LOAD_HOLD_TTL_S; default 60)
  --payment-window S    payment window of an order                         (LOAD_PAYMENT_WINDOW_S; default 60)
  --driver-rate N       browse: driver holds per second                    (LOAD_DRIVER_RATE; default 200)
  --hot-seats N         hot-seats: seats everyone wants                    (default 100)
  --baseline-pool N     baseline engine connections                        (LOAD_BASELINE_POOL; default 64)
  --user-rate N         RATE_LIMIT_USER_PER_S and SOCKET_EVENTS_PER_S of the started server (LOAD_USER_RATE; default 1000)
  --holds-via http|socket  holds and releases over REST or the fan's socket (LOAD_HOLDS_VIA; default http)
  --settle S            wait for in-flight work and the outbox before the audit (LOAD_SETTLE_S; default 60)
  --seed N              random seed of the fans' choices                   (default 1)
  --name NAME           result file name (default the scenario)
  --keep-schema         keep the run's schema (debugging)
  --quiet               no progress line`;

const defaults: Record<ScenarioName, { fans: number; seats: number }> = {
  onsale: { fans: 2_000, seats: 5_000 },
  'hot-seats': { fans: 1_000, seats: 1_000 },
  browse: { fans: 1_000, seats: 50_000 },
  ga: { fans: 1_000, seats: 5_000 },
  hotel: { fans: 500, seats: 40 },
};

function number(value: string | undefined, fallback: number, name: string, min = 0): number {
  if (value === undefined || value === '') return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < min) throw new Error(`${name} must be a number >= ${min}, got "${value}"`);
  return parsed;
}

/** Defaults for every option of `scenario`, then `overrides` (library use). */
export function loadOptions(scenario: ScenarioName, overrides: Partial<LoadOptions> = {}, env: NodeJS.ProcessEnv = process.env): LoadOptions {
  const base = defaults[scenario];
  const engine = env['LOAD_ENGINE'];
  return {
    scenario,
    fans: number(env['LOAD_FANS'], base.fans, 'LOAD_FANS', 1),
    seats: number(env['LOAD_SEATS'], base.seats, 'LOAD_SEATS', 1),
    durationS: number(env['LOAD_DURATION_S'], 60, 'LOAD_DURATION_S', 1),
    workers: number(env['LOAD_WORKERS'], 1, 'LOAD_WORKERS', 1),
    url: env['LOAD_URL'] || null,
    databaseUrl: env['DATABASE_URL'] || 'postgres://postgres@127.0.0.1:5432/test',
    schema: env['LOAD_SCHEMA'] || null,
    adminToken: env['ADMIN_TOKEN'] || 'holdfast-admin',
    engines: engine ? enginesOf(engine, 'LOAD_ENGINE') : scenario === 'hot-seats' ? ['holdfast', 'baseline'] : ['holdfast'],
    rounds: Math.round(number(env['LOAD_ROUNDS'], 1, 'LOAD_ROUNDS', 1)),
    connectRatePerS: number(env['LOAD_CONNECT_RATE'], 1_000, 'LOAD_CONNECT_RATE', 1),
    leadS: env['LOAD_LEAD_S'] ? number(env['LOAD_LEAD_S'], 0, 'LOAD_LEAD_S', 1) : null,
    admitRatePerS: env['LOAD_ADMIT_RATE'] ? number(env['LOAD_ADMIT_RATE'], 0, 'LOAD_ADMIT_RATE', 1) : null,
    watchers: env['LOAD_WATCHERS'] ? number(env['LOAD_WATCHERS'], 0, 'LOAD_WATCHERS', 0) : null,
    httpConnections: number(env['LOAD_HTTP_CONNECTIONS'], 256, 'LOAD_HTTP_CONNECTIONS', 1),
    mashShare: 0.1,
    abandonShare: 0.1,
    lateShare: 0.03,
    specificShare: 0.3,
    maxPerPurchase: 4,
    ticketsPerFan: env['LOAD_TICKETS_PER_FAN'] ? Math.round(number(env['LOAD_TICKETS_PER_FAN'], 0, 'LOAD_TICKETS_PER_FAN', 1)) : null,
    admissionMode: admissionMode(env['LOAD_ADMISSION_MODE'], 'LOAD_ADMISSION_MODE', 'fixed'),
    activeCap: env['LOAD_ACTIVE_CAP'] ? Math.round(number(env['LOAD_ACTIVE_CAP'], 0, 'LOAD_ACTIVE_CAP', 1)) : null,
    holdTtlS: number(env['LOAD_HOLD_TTL_S'], 60, 'LOAD_HOLD_TTL_S', 60),
    paymentWindowS: number(env['LOAD_PAYMENT_WINDOW_S'], 60, 'LOAD_PAYMENT_WINDOW_S', 1),
    driverRatePerS: number(env['LOAD_DRIVER_RATE'], 200, 'LOAD_DRIVER_RATE', 1),
    hotSeats: 100,
    baselinePoolSize: number(env['LOAD_BASELINE_POOL'], 64, 'LOAD_BASELINE_POOL', 1),
    userRatePerS: number(env['LOAD_USER_RATE'], 1_000, 'LOAD_USER_RATE', 1),
    holdsVia: via(env['LOAD_HOLDS_VIA'], 'LOAD_HOLDS_VIA', 'http'),
    settleS: number(env['LOAD_SETTLE_S'], 60, 'LOAD_SETTLE_S', 1),
    seed: 1,
    keepSchema: false,
    progress: true,
    resultName: scenario,
    serverLogLevel: env['LOAD_SERVER_LOG_LEVEL'] || 'error',
    serverWorkers: number(env['LOAD_SERVER_WORKERS'], 1, 'LOAD_SERVER_WORKERS', 1),
    ...overrides,
  };
}

/** Parses the command line; `null` when --help was asked (the usage is printed). */
function via(value: string | undefined, name: string, fallback: 'http' | 'socket'): 'http' | 'socket' {
  if (value === undefined || value === '') return fallback;
  if (value !== 'http' && value !== 'socket') throw new Error(`${name} must be http or socket`);
  return value;
}

function admissionMode(value: string | undefined, name: string, fallback: 'fixed' | 'adaptive'): 'fixed' | 'adaptive' {
  if (value === undefined || value === '') return fallback;
  if (value !== 'fixed' && value !== 'adaptive') throw new Error(`${name} must be fixed or adaptive`);
  return value;
}

export function parseLoadArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): LoadOptions | null {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      scenario: { type: 'string' },
      fans: { type: 'string' },
      seats: { type: 'string' },
      duration: { type: 'string' },
      workers: { type: 'string' },
      url: { type: 'string' },
      'server-workers': { type: 'string' },
      schema: { type: 'string' },
      'admin-token': { type: 'string' },
      engine: { type: 'string' },
      rounds: { type: 'string' },
      'connect-rate': { type: 'string' },
      lead: { type: 'string' },
      'admit-rate': { type: 'string' },
      watchers: { type: 'string' },
      'http-connections': { type: 'string' },
      'mash-share': { type: 'string' },
      'abandon-share': { type: 'string' },
      'late-share': { type: 'string' },
      'specific-share': { type: 'string' },
      'max-per-purchase': { type: 'string' },
      'tickets-per-fan': { type: 'string' },
      'admission-mode': { type: 'string' },
      'active-cap': { type: 'string' },
      'hold-ttl': { type: 'string' },
      'payment-window': { type: 'string' },
      'driver-rate': { type: 'string' },
      'hot-seats': { type: 'string' },
      'baseline-pool': { type: 'string' },
      'user-rate': { type: 'string' },
      'holds-via': { type: 'string' },
      settle: { type: 'string' },
      seed: { type: 'string' },
      name: { type: 'string' },
      'keep-schema': { type: 'boolean' },
      quiet: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.error(help);
    return null;
  }
  const scenario = values.scenario ?? env['LOAD_SCENARIO'];
  if (scenario === undefined || !(scenarioNames as readonly string[]).includes(scenario)) throw new Error(`--scenario must be one of ${scenarioNames.join(', ')}\n\n${help}`);
  const options = loadOptions(scenario as ScenarioName, {}, env);
  const share = (value: string | undefined, fallback: number, name: string): number => {
    const parsed = number(value, fallback, name);
    if (parsed > 1) throw new Error(`${name} must be within 0..1`);
    return parsed;
  };
  const engine = values.engine;
  const parsed: LoadOptions = {
    ...options,
    fans: Math.round(number(values.fans, options.fans, '--fans', 1)),
    seats: Math.round(number(values.seats, options.seats, '--seats', 1)),
    durationS: number(values.duration, options.durationS, '--duration', 1),
    workers: Math.round(number(values.workers, options.workers, '--workers', 1)),
    url: values.url ?? options.url,
    schema: values.schema ?? options.schema,
    serverWorkers: Math.round(number(values['server-workers'], options.serverWorkers, '--server-workers', 1)),
    adminToken: values['admin-token'] ?? options.adminToken,
    engines: engine === undefined ? ((values.url ?? options.url) !== null ? ['holdfast'] : options.engines) : enginesOf(engine, '--engine'),
    rounds: Math.round(number(values.rounds, options.rounds, '--rounds', 1)),
    connectRatePerS: number(values['connect-rate'], options.connectRatePerS, '--connect-rate', 1),
    leadS: values.lead === undefined ? options.leadS : number(values.lead, 0, '--lead', 1),
    admitRatePerS: values['admit-rate'] === undefined ? options.admitRatePerS : number(values['admit-rate'], 0, '--admit-rate', 1),
    watchers: values.watchers === undefined ? options.watchers : Math.round(number(values.watchers, 0, '--watchers')),
    httpConnections: Math.round(number(values['http-connections'], options.httpConnections, '--http-connections', 1)),
    mashShare: share(values['mash-share'], options.mashShare, '--mash-share'),
    abandonShare: share(values['abandon-share'], options.abandonShare, '--abandon-share'),
    lateShare: share(values['late-share'], options.lateShare, '--late-share'),
    specificShare: share(values['specific-share'], options.specificShare, '--specific-share'),
    maxPerPurchase: Math.round(number(values['max-per-purchase'], options.maxPerPurchase, '--max-per-purchase', 1)),
    ticketsPerFan: values['tickets-per-fan'] === undefined ? options.ticketsPerFan : Math.round(number(values['tickets-per-fan'], 0, '--tickets-per-fan', 1)),
    admissionMode: admissionMode(values['admission-mode'], '--admission-mode', options.admissionMode),
    activeCap: values['active-cap'] === undefined ? options.activeCap : Math.round(number(values['active-cap'], 0, '--active-cap', 1)),
    holdTtlS: number(values['hold-ttl'], options.holdTtlS, '--hold-ttl', 60),
    paymentWindowS: number(values['payment-window'], options.paymentWindowS, '--payment-window', 1),
    driverRatePerS: number(values['driver-rate'], options.driverRatePerS, '--driver-rate', 1),
    hotSeats: Math.round(number(values['hot-seats'], options.hotSeats, '--hot-seats', 2)),
    baselinePoolSize: Math.round(number(values['baseline-pool'], options.baselinePoolSize, '--baseline-pool', 1)),
    userRatePerS: Math.round(number(values['user-rate'], options.userRatePerS, '--user-rate', 1)),
    holdsVia: via(values['holds-via'], '--holds-via', options.holdsVia),
    settleS: number(values.settle, options.settleS, '--settle', 1),
    seed: Math.round(number(values.seed, options.seed, '--seed')),
    keepSchema: values['keep-schema'] ?? false,
    progress: !(values.quiet ?? false),
    resultName: values.name ?? options.resultName,
  };
  if (parsed.mashShare + parsed.abandonShare + parsed.lateShare > 1) throw new Error('--mash-share + --abandon-share + --late-share must not exceed 1');
  if (parsed.url !== null && parsed.engines.some((name) => name !== 'holdfast')) throw new Error(`--engine ${parsed.engines.filter((name) => name !== 'holdfast').join(', ')} needs the harness to start its own server (no --url)`);
  if (parsed.engines.includes('gateway') && parsed.scenario !== 'hot-seats') throw new Error('--engine gateway measures hot-seats only (every hold is refused)');
  return parsed;
}

const engineChoices: Record<string, Engine[]> = {
  holdfast: ['holdfast'],
  baseline: ['baseline'],
  gateway: ['gateway'],
  both: ['holdfast', 'baseline'],
  all: ['holdfast', 'baseline', 'gateway'],
};

function enginesOf(value: string, name: string): Engine[] {
  const engines = Object.hasOwn(engineChoices, value) ? engineChoices[value] : undefined;
  if (engines === undefined) throw new Error(`${name} must be one of ${Object.keys(engineChoices).join(', ')}`);
  return [...engines];
}
