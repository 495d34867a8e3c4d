/**
 * `npm run bench -- routing`: what sharding costs and buys on this machine.
 *
 * For each worker count in --workers (default 1,2,4) it starts the real server (`src/main.ts`,
 * WORKERS=k, a fresh PostgreSQL database of its own, every limit set in its environment),
 * creates --shows shows through the organizer API, then:
 *   (1) hop: sequential `GET /v1/holds/{id}` over --connections keep-alive connections (the
 *       kernel spreads them over the workers); each reply names the worker that answered
 *       (X-Holdfast-Worker) and the ops API names each show's owner, so requests split into
 *       "answered by the owner" and "forwarded to the owner". The hop's cost is the difference
 *       of their medians (and of their p99s), measured in the same run;
 *   (2) throughput: --concurrency requests in flight for --seconds, each fan holding one
 *       best-available seat of a random show and releasing it: holds/s, hold p50/p99.
 * The load generator is this one process (its CPU share is reported: on 2 cores it competes
 * with the workers and PostgreSQL).
 */
import { randomBytes } from 'node:crypto';
import { Agent, request as httpRequest } from 'node:http';
import { spawn, type ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { connectPostgres } from '../src/persistence/database.js';
import { cpuSample, cpuSince, LatencyHistogram, progress, round, ticker, writeResult } from './support/report.js';

const help = `npm run bench -- routing [flags]
  --workers <list>      worker counts to compare (default 1,2,4)
  --shows <n>           shows (default 16), 4,000 seats each
  --hop-requests <n>    sequential reads for the hop measurement (default 4,000; --quick 1,000)
  --connections <n>     keep-alive connections (default 32)
  --concurrency <n>     requests in flight in the throughput phase (default 128)
  --seconds <n>         throughput phase length (default 15; --quick 5)
  --quick               a short run`;

const adminToken = 'holdfast-routing-bench';

interface Reply {
  status: number;
  worker: string;
  body: unknown;
  ms: number;
}

function call(agent: Agent, port: number, method: string, path: string, token: string, body?: unknown, key?: string): Promise<Reply> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const startedAt = performance.now();
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      { host: '127.0.0.1', port, method, path, agent, headers: { authorization: `Bearer ${token}`, ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}), ...(key ? { 'idempotency-key': key } : {}) } },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          resolve({ status: response.statusCode ?? 0, worker: String(response.headers['x-holdfast-worker'] ?? ''), body: text ? (JSON.parse(text) as unknown) : null, ms: performance.now() - startedAt });
        });
      },
    );
    request.on('error', reject);
    if (payload) request.end(payload);
    else request.end();
  });
}

function venueBody(name: string): unknown {
  const sections = Array.from({ length: 8 }, (_, s) => ({
    id: `S${s + 1}`,
    name: `Section ${s + 1}`,
    rows: Array.from({ length: 20 }, (_, r) => ({ label: String(r + 1), seats: Array.from({ length: 25 }, (_, n) => ({ label: String(n + 1), x: s * 300 + n * 10, y: r * 12, tier: r < 5 ? 'front' : 'back' })) })),
  }));
  return { name, city: 'Benchville', kind: 'arena', seat_map: { sections } };
}

async function runCluster(workers: number, options: { shows: number; hopRequests: number; connections: number; concurrency: number; seconds: number }): Promise<Record<string, unknown>> {
  const database = `bench_routing_${randomBytes(4).toString('hex')}`;
  const base = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
  const admin = connectPostgres({ connectionString: base, poolSize: 1 });
  await admin.query(`create database ${database}`);
  const url = new URL(base);
  url.pathname = `/${database}`;
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const server: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: {
      ...process.env, DATABASE_URL: url.toString(), WORKERS: String(workers), PORT: String(port), HOST: '127.0.0.1', SEED_DEMO: 'false', LOG_LEVEL: 'warn',
      ADMIN_TOKEN: adminToken, RATE_LIMIT_USER_PER_S: '1000000', RATE_LIMIT_IP_PER_S: '10000000', OUTBOX_ENABLED: 'false', REDIS_URL: '',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const agent = new Agent({ keepAlive: true, maxSockets: options.connections });
  try {
    for (let attempt = 0; ; attempt += 1) {
      const ready = await call(agent, port, 'GET', '/v1/ops/cluster', adminToken).catch(() => null);
      if (ready && (workers === 1 ? ready.status === 404 : ready.status === 200 && (ready.body as { workers: string[] }).workers.length === workers)) break;
      if (attempt > 600) throw new Error('the server did not come up');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    progress(`${workers} worker(s) up on :${port}`);
    const venue = (await call(agent, port, 'POST', '/v1/venues', adminToken, venueBody('Routing Arena'), `v-${database}`)).body as { id: string };
    const event = (await call(agent, port, 'POST', '/v1/events', adminToken, { name: 'Routing Tour', performer: 'The Hops', category: 'concert', venue_id: venue.id }, `e-${database}`)).body as { id: string };
    const showIds: string[] = [];
    for (let index = 0; index < options.shows; index += 1) {
      const show = await call(agent, port, 'POST', `/v1/events/${event.id}/shows`, adminToken, {
        starts_at: new Date(Date.now() + 86_400_000 * (index + 1)).toISOString(), on_sale_at: new Date(Date.now() - 60_000).toISOString(),
        price_tiers: [{ id: 'front', name: 'Front', price_cents: 9_000 }, { id: 'back', name: 'Back', price_cents: 5_000 }], max_items_per_hold: 8, max_holds_per_user: 10,
      }, `s-${database}-${index}`);
      showIds.push((show.body as { id: string }).id);
    }
    const owners = workers === 1 ? null : ((await call(agent, port, 'GET', '/v1/ops/cluster', adminToken)).body as { owners: Record<string, string> }).owners;
    const token = ((await call(agent, port, 'POST', '/v1/sessions', '', {})).body as { token: string }).token;

    // (1) The hop: one hold per show, then sequential reads of them.
    const holdIds: string[] = [];
    for (const showId of showIds) {
      const hold = await call(agent, port, 'POST', `/v1/shows/${showId}/holds`, token, { best_available: { quantity: 1 } }, `hop-${showId}`);
      if (hold.status !== 201) throw new Error(`hold failed: ${JSON.stringify(hold.body)}`);
      holdIds.push((hold.body as { hold_id: string }).hold_id);
    }
    const local = new LatencyHistogram();
    const forwarded = new LatencyHistogram();
    for (let index = 0; index < options.hopRequests; index += 1) {
      const holdId = holdIds[index % holdIds.length]!;
      const reply = await call(agent, port, 'GET', `/v1/holds/${holdId}`, token);
      if (reply.status !== 200) throw new Error(`read failed: ${reply.status}`);
      const owner = owners === null ? reply.worker : owners[holdId.slice(0, holdId.indexOf('.'))];
      (owner === reply.worker ? local : forwarded).recordMs(reply.ms);
    }
    progress(`${workers} worker(s): reads answered by the owner p50 ${local.percentileMs(50).toFixed(3)} ms (n=${local.count}), forwarded p50 ${forwarded.percentileMs(50).toFixed(3)} ms (n=${forwarded.count})`);

    // (2) Throughput: hold one best-available seat of a random show, release it; many fans.
    const fans = await Promise.all(Array.from({ length: Math.min(options.concurrency, 256) }, async () => ((await call(agent, port, 'POST', '/v1/sessions', '', {})).body as { token: string }).token));
    const holdLatency = new LatencyHistogram();
    let holds = 0;
    let refused = 0;
    let errors = 0;
    const errorCodes: Record<string, number> = {};
    const stopTicker = ticker(1_000, () => `${workers} worker(s): ${holds} holds, ${refused} refused, ${errors} errors`);
    const cpu = cpuSample();
    const startedAt = performance.now();
    const deadline = startedAt + options.seconds * 1000;
    let sequence = 0;
    await Promise.all(Array.from({ length: options.concurrency }, async (_, lane) => {
      const fanToken = fans[lane % fans.length]!;
      while (performance.now() < deadline) {
        const showId = showIds[Math.floor(Math.random() * showIds.length)]!;
        const hold = await call(agent, port, 'POST', `/v1/shows/${showId}/holds`, fanToken, { best_available: { quantity: 1 } }, `tput-${lane}-${(sequence += 1)}-${database}`);
        if (hold.status === 201) {
          holds += 1;
          holdLatency.recordMs(hold.ms);
          const holdId = (hold.body as { hold_id: string }).hold_id;
          await call(agent, port, 'DELETE', `/v1/holds/${holdId}`, fanToken, undefined, `release-${holdId}`);
        } else if (hold.status === 409 || hold.status === 429) refused += 1;
        else {
          errors += 1;
          const code = (hold.body as { code?: string } | null)?.code ?? String(hold.status);
          errorCodes[code] = (errorCodes[code] ?? 0) + 1;
        }
      }
    }));
    const elapsedS = (performance.now() - startedAt) / 1000;
    stopTicker();
    const use = cpuSince(cpu);
    return {
      workers,
      hop: {
        ownerAnswered: local.summary(),
        forwarded: forwarded.summary(),
        hopP50Ms: forwarded.count > 0 ? round(forwarded.percentileMs(50) - local.percentileMs(50), 3) : 0,
        hopP99Ms: forwarded.count > 0 ? round(forwarded.percentileMs(99) - local.percentileMs(99), 3) : 0,
      },
      holdsPerS: round(holds / elapsedS, 0),
      hold: holdLatency.summary(),
      refused,
      errors,
      errorCodes,
      loadGeneratorCores: round(use.nodeCores, 2),
      postgresCores: use.postgresCores === null ? null : round(use.postgresCores, 2),
    };
  } finally {
    agent.destroy();
    server.kill('SIGTERM');
    await new Promise((resolve) => server.once('exit', resolve));
    await admin.query(`drop database if exists ${database} with (force)`).catch(() => undefined);
    await admin.close();
  }
}

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      workers: { type: 'string', default: '1,2,4' }, shows: { type: 'string', default: '16' }, 'hop-requests': { type: 'string' },
      connections: { type: 'string', default: '32' }, concurrency: { type: 'string', default: '128' }, seconds: { type: 'string' },
      quick: { type: 'boolean', default: false }, help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.error(help);
    return;
  }
  const options = {
    shows: Number(values.shows), connections: Number(values.connections), concurrency: Number(values.concurrency),
    hopRequests: Number(values['hop-requests'] ?? (values.quick ? 1_000 : 4_000)), seconds: Number(values.seconds ?? (values.quick ? 5 : 15)),
  };
  const runs: Record<string, unknown>[] = [];
  for (const workers of values.workers.split(',').map(Number)) runs.push(await runCluster(workers, options));
  const byWorkers = Object.fromEntries(runs.map((entry) => [String(entry['workers']), entry]));
  const multi = runs.filter((entry) => Number(entry['workers']) > 1);
  writeResult(values.quick ? 'routing-quick' : 'routing', {
    options,
    hopP50Ms: multi.length > 0 ? Math.max(...multi.map((entry) => (entry['hop'] as { hopP50Ms: number }).hopP50Ms)) : null,
    hopP99Ms: multi.length > 0 ? Math.max(...multi.map((entry) => (entry['hop'] as { hopP99Ms: number }).hopP99Ms)) : null,
    holdsPerS: Object.fromEntries(runs.map((entry) => [String(entry['workers']), entry['holdsPerS']])),
    runs: byWorkers,
  });
}
